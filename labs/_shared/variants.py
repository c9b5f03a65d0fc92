"""Reading the learner's variant in a grader: `params["variant"]`, checked.

The variant comes from the lab's variant.py through the platform, never from the learner, so
a bad value is the lab's bug: it raises ValueError (the grading fails and is logged) instead
of becoming a check.
"""


def variant_int(params: dict, key: str, low: int | None = None, high: int | None = None) -> int:
    """variant[key] as an int (not a bool) in low..high (either bound may be None)."""
    value = params.get("variant", {}).get(key)
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        bounds = f" in {'' if low is None else low}..{'' if high is None else high}"
        raise ValueError(f"grader misconfigured: variant.{key} must be an integer{bounds}, not {value!r}")
    return value


def variant_int_list(
    params: dict, key: str, *, length: int | None = None, low: int = 0, high: int | None = None
) -> list[int]:
    """variant[key] as a non-empty list of ints in low..high (of exactly `length` items if given)."""
    value = params.get("variant", {}).get(key)
    if (
        not isinstance(value, list)
        or not value
        or (length is not None and len(value) != length)
        or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= low and (high is None or v <= high)
            for v in value
        )
    ):
        raise ValueError(f"grader misconfigured: variant.{key} must be a list of integers, not {value!r}")
    return value
