"""Trusted grader of the api-hardening lab.

Loads the learner's FastAPI app (the `app` of submission.py) in a child process through
_shared.callee.LearnerProcess (which confines it with Landlock, so the app cannot read the
grader's files) with DRIVER as its epilogue, and replays a mix of requests generated here
from the hidden benign rows and the secret grader_seed through FastAPI's in-process
TestClient. The child only ever sees the requests, and the driver's results are validated
here, where every verdict is made: benign requests must be served with the hidden model's
predictions, malicious ones refused with the right 4xx, and no error response may crash
(5xx) or leak internals or echo the payload. Feedback quotes no text of the app's (only a
builtin exception name, and at most a few of the HTTP statuses it answered with).
"""

import builtins
import json
import re
import time
from pathlib import Path

import numpy as np
from model import load_model

from _shared.callee import LearnerCodeError, LearnerProcess
from _shared.grading import Check, grade_result

MAX_BODY_BYTES = 32_768
MAX_ERROR_BODY = 1024
WINDOW_S = 60
KEYS_BENIGN, KEYS_ATTACK, KEY_BURST = range(0, 6), range(6, 15), 15
REPLAY_TIMEOUT_S = 40.0

# Substrings that must never appear in an error response: stack traces, paths, framework
# and library internals. A regex catches exception class names (ValueError, ...).
LEAK_MARKERS = (
    "Traceback",
    'File "',
    ".py",
    "/lab/",
    "/usr/",
    "/opt/",
    "site-packages",
    "pydantic",
    "starlette",
    "fastapi",
    "numpy",
)
EXCEPTION_NAME = re.compile(r"\b[A-Za-z]*(Error|Exception)\b")
MAX_STATUSES_SHOWN = 3  # statuses are the learner's to choose: feedback quotes only a few

# Runs in the learner's process after their code: its results are validated in grade(), and
# a crashed request is reported by the nearest builtin exception class (never a learner's
# class name, which could carry what the app saw).
DRIVER = '''
def _mlrange_replay(requests):
    """Grader's driver: replay requests against `app` with the in-process TestClient."""
    import builtins
    import warnings
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
    target = globals().get("app")
    if target is None:
        return "missing"
    results = []
    with TestClient(target, raise_server_exceptions=False) as client:
        for r in requests:
            body = r["body"]
            if r["chunked"]:
                chunks = [body[i : i + 4096] for i in range(0, len(body), 4096)]
                body = iter(chunks)
            try:
                response = client.request("POST", "/predict", content=body, headers=r["headers"])
                content = response.content
                results.append({"status": response.status_code, "length": len(content),
                                "body": content[:4096]})
            except BaseException as exc:
                builtin = next(k for k in type(exc).__mro__ if getattr(builtins, k.__name__, None) is k)
                results.append({"status": 0, "length": 0, "body": builtin.__name__.encode()})
    return results
'''


def _variant(params: dict) -> tuple[list[str], int, int]:
    variant = params.get("variant", {})
    keys, limit, batch = variant.get("api_keys"), variant.get("rate_limit"), variant.get("max_batch")
    if not (isinstance(keys, list) and len(keys) == 16 and all(isinstance(k, str) for k in keys)):
        raise ValueError("grader misconfigured: variant.api_keys must be 16 strings")
    if not (isinstance(limit, int) and 10 <= limit <= 60 and isinstance(batch, int) and 2 <= batch <= 32):
        raise ValueError("grader misconfigured: variant.rate_limit / max_batch out of range")
    return keys, limit, batch


class Plan:
    """The replayed requests (in order) and what each must get."""

    def __init__(self) -> None:
        self.requests: list[dict] = []

    def add(self, tier: str, kind: str, key: str | None, body: bytes, **extra) -> None:
        headers = {"content-type": extra.pop("content_type", "application/json")}
        if key is not None:
            headers["x-api-key"] = key
        self.requests.append(
            {"tier": tier, "kind": kind, "headers": headers, "body": body, "chunked": False, **extra}
        )


def _dump(value) -> bytes:
    return json.dumps(value).encode()


def _build_plan(
    rows: np.ndarray, keys16: list[str], limit: int, batch: int, rng: np.random.Generator
) -> Plan:
    plan = Plan()
    canary = "zq" + "".join(rng.choice(list("0123456789abcdef"), size=10))

    def pick(n: int) -> list[list[float]]:
        idx = rng.choice(len(rows), size=n, replace=False)
        return [[int(v) for v in rows[i]] for i in idx]

    per_key = limit // 2 - 1
    benign_keys = [keys16[i] for i in KEYS_BENIGN for _ in range(per_key)]
    rng.shuffle(benign_keys)
    attack_keys = [keys16[i] for i in KEYS_ATTACK for _ in range(per_key)]
    rng.shuffle(attack_keys)

    # Benign traffic: every request must be served with the model's predictions.
    benign_kinds = [
        "a single row of integers",
        f"a batch of exactly {batch} rows (the maximum)",
        "rows with fractional values",
        "rows touching the range bounds 0 and 16",
        "pretty-printed JSON with a charset in the content type",
        "a small batch of 2 to 5 rows",
    ]
    for i, key in enumerate(benign_keys[: 6 * 6]):
        kind = benign_kinds[i % len(benign_kinds)]
        content_type = "application/json"
        if kind.startswith("a single"):
            features = pick(1)
        elif kind.startswith("a batch of exactly"):
            features = pick(batch)
        elif kind.startswith("rows with fractional"):
            base = np.asarray(pick(3), dtype=np.float64) + rng.uniform(-0.5, 0.5, size=(3, 64))
            features = np.round(np.clip(base, 0.0, 16.0), 3).tolist()
        elif kind.startswith("rows touching"):
            base = np.asarray(pick(2), dtype=np.float64)
            base[:, rng.choice(64, size=6, replace=False)] = 16.0
            base[:, rng.choice(64, size=6, replace=False)] = 0.0
            features = base.tolist()
        elif kind.startswith("pretty"):
            features = pick(min(batch, 6))
            content_type = "application/json; charset=utf-8"
        else:
            features = pick(int(rng.integers(2, 6)))
        body = json.dumps({"features": features}, indent=2 if kind.startswith("pretty") else None).encode()
        plan.add("benign", kind, key, body, content_type=content_type, rows=features)

    def row() -> list[float]:
        return pick(1)[0]

    def with_value(value_text: str) -> bytes:
        values = [str(v) for v in row()]
        values[int(rng.integers(64))] = value_text
        return b'{"features": [[' + ",".join(values).encode() + b"]]}"

    attacks: list[tuple[str, str, bytes, dict]] = [
        ("validation", "NaN in a row", with_value("NaN"), {}),
        ("validation", "Infinity in a row", with_value(str(rng.choice(["Infinity", "-Infinity"]))), {}),
        ("validation", "a number that overflows to infinity", with_value("1e999"), {}),
        ("validation", "a negative pixel value", with_value(str(-int(rng.integers(1, 50)))), {}),
        ("validation", "a pixel value above 16", with_value(f"{16 + rng.uniform(0.01, 1e6):.3f}"), {}),
        ("validation", "a number given as a string", with_value(json.dumps(f"7 {canary}")), {}),
        ("validation", "a boolean instead of a number", with_value("true"), {}),
        ("validation", "null instead of a number", with_value("null"), {}),
        ("validation", "an object instead of a number", with_value('{"$gt": 0}'), {}),
        ("validation", "a row of 63 values", _dump({"features": [row()[:63]]}), {}),
        ("validation", "a row of 65 values", _dump({"features": [[*row(), 0]]}), {}),
        ("validation", "a flat list instead of a list of rows", _dump({"features": row()}), {}),
        ("validation", "an empty list of rows", _dump({"features": []}), {}),
        ("validation", "an empty row", _dump({"features": [[]]}), {}),
        ("validation", "rows nested one level too deep", _dump({"features": [[row()]]}), {}),
        (
            "validation",
            "more rows than the batch limit",
            _dump({"features": pick(batch + int(rng.integers(1, 6)))}),
            {},
        ),
        ("validation", "an unknown extra field", _dump({"features": [row()], "debug": canary}), {}),
        ("validation", "the features field missing", _dump({"rows": [row()]}), {}),
        ("validation", "features given as a string", _dump({"features": f"1,2,3 {canary}"}), {}),
        ("validation", "a JSON array at the top level", _dump([row()]), {}),
        ("validation", "truncated JSON", _dump({"features": [row()]})[: -int(rng.integers(3, 30))], {}),
        ("validation", "an empty body", b"", {}),
        (
            "validation",
            "a non-JSON body",
            f"features=1,2,3&x={canary}".encode(),
            {"content_type": "text/plain"},
        ),
        (
            "limits",
            "an oversized body (many rows)",
            _dump({"features": [row() for _ in range(int(rng.integers(300, 600)))]}),
            {},
        ),
        (
            "limits",
            "an oversized body (whitespace padding)",
            b'{"features": ' + b" " * int(rng.integers(40_000, 200_000)) + _dump([row()]) + b"}",
            {},
        ),
        (
            "limits",
            "an oversized body sent in chunks without Content-Length",
            b'{"features": ' + b" " * int(rng.integers(40_000, 120_000)) + _dump([row()]) + b"}",
            {"chunked": True},
        ),
        ("limits", "deeply nested arrays", b'{"features": ' + b"[" * 4000 + b"]" * 4000 + b"}", {}),
        (
            "limits",
            "deeply nested objects",
            b'{"features": ' + b'{"a":' * 3000 + b"1" + b"}" * 3000 + b"}",
            {},
        ),
        ("limits", "a number with 20,000 digits", with_value("9" * 20_000), {}),
    ]
    for (tier, kind, body, extra), key in zip(attacks * 2, attack_keys, strict=False):
        plan.add(tier, kind, key, body, **dict(extra))

    good = _dump({"features": [row()]})
    plan.add("access", "no API key", None, good)
    plan.add("access", "no API key", None, good)
    fake = "mlr_" + "".join(rng.choice(list("0123456789abcdef"), size=24))
    plan.add("access", "an unknown API key", fake, good)
    plan.add("access", "an unknown API key", fake.upper(), good)
    plan.add("access", "an empty API key", "", good)
    for _ in range(2 * limit + 5):
        plan.add("burst", "a burst from one key", keys16[KEY_BURST], _dump({"features": [row()]}))
    order = rng.permutation(len(plan.requests))
    plan.requests = [plan.requests[i] for i in order]
    plan.canary = canary
    return plan


EXPECTED = {"validation": {400, 422}, "limits": {400, 413, 422}, "access": {401, 403}}
OVERSIZED_EXPECTED = {413}


def _leak(result: dict, canary: str) -> str | None:
    status = result["status"]
    if 200 <= status < 300:
        return None
    if result["length"] > MAX_ERROR_BODY:
        return f"an error body of {result['length']} bytes (the limit is {MAX_ERROR_BODY})"
    text = result["body"].decode("utf-8", "replace")
    if canary in text:
        return "an error body that echoes part of the request"
    for marker in LEAK_MARKERS:
        if marker.lower() in text.lower():
            return f"an error body that mentions {marker!r}"
    found = EXCEPTION_NAME.search(text)
    if found:
        name = found.group(0)
        builtin = isinstance(getattr(builtins, name, None), type)  # else the name is the app's text
        return (
            f"an error body that names an exception ({name})"
            if builtin
            else "an error body that names an exception"
        )
    return None


def _prediction_ok(result: dict, rows: list, model) -> bool:
    if result["status"] != 200:
        return False
    try:
        payload = json.loads(result["body"])
        predictions = payload["predictions"]
    except (ValueError, KeyError, TypeError):
        return False
    if not isinstance(predictions, list) or len(predictions) != len(rows):
        return False
    logits = model.logits(np.asarray(rows, dtype=np.float64))
    for label, row_logits in zip(predictions, logits, strict=True):
        if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label <= 9:
            return False
        if row_logits[label] < row_logits.max() - 1e-6:
            return False
    return True


def _statuses(statuses: list[int]) -> str:
    shown = sorted(set(statuses))
    more = ", ..." if len(shown) > MAX_STATUSES_SHOWN else ""
    return ", ".join(str(s) for s in shown[:MAX_STATUSES_SHOWN]) + more


def _summary(failures: dict[str, list[int]]) -> str:
    parts = [f"{kind} (got {_statuses(statuses)})" for kind, statuses in failures.items()]
    return "; ".join(parts[:6]) + ("; ..." if len(parts) > 6 else "")


def _status_word(status: int) -> int | str:
    return status if status else "no response (the app crashed the client)"


def grade(ctx) -> dict:
    """Replay the hidden request mix against the learner's app and score it."""
    params = ctx.params
    keys, limit, batch = _variant(params)
    rng = np.random.default_rng([int(params.get("grader_seed", 0)), 0xA91])
    model = load_model(Path(ctx.hidden_dir))
    rows = np.load(Path(ctx.hidden_dir) / "benign_rows.npy", allow_pickle=False)
    plan = _build_plan(rows, keys, limit, batch, rng)
    metrics: dict[str, float] = {"requests": float(len(plan.requests)), "rate_limit": float(limit)}

    source = Path(ctx.artifacts_dir) / "submission.py"
    lab = {"slug": "api-hardening", "assets": str(ctx.public_dir), **params.get("variant", {})}
    results = None
    problem = None
    started = time.monotonic()
    try:
        wire = [{"headers": r["headers"], "body": r["body"], "chunked": r["chunked"]} for r in plan.requests]
        with LearnerProcess(source, lab=lab, load_timeout=30.0, epilogue=DRIVER) as learner:
            results = learner.call("_mlrange_replay", wire, timeout=REPLAY_TIMEOUT_S)
        if results == "missing":  # the driver's own words: an error's text would not be shown
            raise LearnerCodeError("your code defines no `app` (a FastAPI application) at module level")
        if not isinstance(results, list) or len(results) != len(plan.requests):
            raise LearnerCodeError("the replay returned an unexpected result")
        for r in results:
            if not (
                isinstance(r, dict) and isinstance(r.get("status"), int) and isinstance(r.get("body"), bytes)
            ):
                raise LearnerCodeError("the replay returned an unexpected result")
            if not isinstance(r.get("length"), int):
                raise LearnerCodeError("the replay returned an unexpected result")
            if not 100 <= r["status"] <= 599:
                r["status"] = 0  # not an HTTP status: a broken response, counted as a crash
    except LearnerCodeError as exc:
        problem = str(exc)
    metrics["replay_seconds"] = round(time.monotonic() - started, 3)

    if problem is not None:
        checks = [Check("app-runs", "Your app loads and answers requests", False, f"{problem}.")]
        checks += [
            Check(t, title, False, "Not scored: your app did not run (see above).")
            for t, title in _TITLES.items()
        ]
        return grade_result(checks, metrics)
    return _score(plan, results, model, limit, metrics)


_TITLES = {
    "validation": "Request validation: bad values, types and shapes get 400/422",
    "limits": "Payload limits: oversized bodies get 413, deep nesting and huge numbers a 4xx",
    "access": "Access control: unknown keys get 401, bursts get 429",
    "errors": "Error hygiene: no 5xx, no stack traces, no internals, no echoed input",
}


class Tally:
    """Per-tier outcomes of one replay."""

    def __init__(self) -> None:
        self.benign_total = 0
        self.benign_failed: dict[str, list[int]] = {}
        self.failed: dict[str, dict[str, list[int]]] = {"validation": {}, "limits": {}, "access": {}}
        self.total = {"validation": 0, "limits": 0, "access": 0}
        self.leaks: dict[str, int] = {}
        self.crashes = 0
        self.burst: list[int] = []


def _tally(plan: Plan, results: list[dict], model) -> Tally:
    tally = Tally()
    for request, result in zip(plan.requests, results, strict=True):
        status = result["status"]
        tier, kind = request["tier"], request["kind"]
        if status == 0 or status >= 500:
            tally.crashes += 1
        if tier == "benign":
            tally.benign_total += 1
            if not _prediction_ok(result, request["rows"], model):
                tally.benign_failed.setdefault(kind, []).append(status)
            continue
        leak = _leak(result, plan.canary)
        if leak:
            tally.leaks[leak] = tally.leaks.get(leak, 0) + 1
        if tier == "burst":
            tally.burst.append(status)
            continue
        tally.total[tier] += 1
        expected = OVERSIZED_EXPECTED if kind.startswith("an oversized") else EXPECTED[tier]
        if status not in expected:
            tally.failed[tier].setdefault(kind, []).append(status)
    return tally


def _tier(tier: str, ok: bool, feedback: str) -> Check:
    return Check(tier, _TITLES[tier], ok, feedback)


def _tier_unless(tier: str, problems: list[str], benign_ok: bool, praise: str) -> Check:
    """The tier passes with no problems (and benign requests served); else the problems are its feedback."""
    return _tier(tier, not problems and benign_ok, "; ".join(problems) + "." if problems else praise)


def _access_messages(tally: Tally, limit: int) -> list[str]:
    burst = tally.burst
    served = burst.count(200)
    messages = []
    if tally.failed["access"]:
        messages.append("missing or unknown API keys must get 401: " + _summary(tally.failed["access"]))
    if not (limit - 2 <= served <= limit and all(s in (200, 429) for s in burst) and burst[-1] == 429):
        counts = {s: burst.count(s) for s in sorted(set(burst))[:MAX_STATUSES_SHOWN]}
        more = " and others" if len(set(burst)) > MAX_STATUSES_SHOWN else ""
        messages.append(
            f"a burst of {len(burst)} valid requests from one key within a few seconds got statuses "
            f"{counts}{more}; the first {limit} must be served and the rest refused with 429"
        )
    return messages


def _score(plan: Plan, results: list[dict], model, limit: int, metrics: dict) -> dict:
    tally = _tally(plan, results, model)
    benign_ok = not tally.benign_failed
    benign_bad = sum(len(v) for v in tally.benign_failed.values())
    metrics["benign_served"] = (tally.benign_total - benign_bad) / max(tally.benign_total, 1)
    for tier, failed in tally.failed.items():
        bad = sum(len(v) for v in failed.values())
        metrics[f"{tier}_refused"] = (tally.total[tier] - bad) / max(tally.total[tier], 1)
    metrics["burst_served"] = float(tally.burst.count(200))
    metrics["server_errors"] = float(tally.crashes)
    metrics["leaky_errors"] = float(sum(tally.leaks.values()))

    checks = [
        Check(
            "benign",
            "Benign requests are served with the model's predictions",
            benign_ok,
            f"All {tally.benign_total} benign requests were served correctly."
            if benign_ok
            else 'Benign requests must get 200 and {"predictions": [one label per row]}; these were not: '
            + _summary(tally.benign_failed)
            + ". No tier is awarded while good requests are refused.",
        )
    ]
    gate = "" if benign_ok else " (but benign requests were refused: see above)"
    for tier in ("validation", "limits"):
        failed = tally.failed[tier]
        feedback = (
            f"All {tally.total[tier]} requests refused with the right status{gate}."
            if not failed
            else "Not refused with the right status: " + _summary(failed) + "."
        )
        if tier == "limits" and failed:
            feedback += f" Bodies over {MAX_BODY_BYTES} bytes need 413, also without a Content-Length header."
        checks.append(_tier(tier, not failed and benign_ok, feedback))

    access = _access_messages(tally, limit)
    served = tally.burst.count(200)
    checks.append(
        _tier_unless(
            "access",
            access,
            benign_ok,
            f"Unknown keys refused and the burst throttled after {served} requests{gate}.",
        )
    )
    errors = []
    if tally.crashes:
        errors.append(
            f"{tally.crashes} requests got a 5xx (or crashed the app): turn every failure into a 4xx"
        )
    if tally.leaks:
        worst = sorted(tally.leaks.items(), key=lambda item: -item[1])[:3]
        errors.append("error responses leak: " + "; ".join(f"{n}x {what}" for what, n in worst))
    checks.append(
        _tier_unless("errors", errors, benign_ok, f"No 5xx and every error body is short and clean{gate}.")
    )
    return grade_result(checks, metrics)
