"""Child side of _shared.callee: loads the learner's module and answers calls over a pipe.

Run as `python -I callee_child.py SOURCE LAB_JSON`. Protocol: one JSON object per line on
the original stdout; the learner's own prints go to stderr so they cannot forge a reply.
"""

import base64
import json
import os
import sys
import traceback
import types


def _decode(value):
    if isinstance(value, dict):
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__ndarray__" in value:
            import numpy as np

            raw = base64.b64decode(value["__ndarray__"])
            return np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _encode(value):
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is in the runtime
        np = None
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    if np is not None and isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype == object:
            raise TypeError("object arrays cannot be returned; return numbers")
        return {
            "__ndarray__": base64.b64encode(array.tobytes()).decode(),
            "dtype": array.dtype.str,
            "shape": list(array.shape),
        }
    if np is not None and isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"cannot return a {type(value).__name__}; return numbers, strings, lists, dicts or arrays"
    )


def main() -> None:
    source_path, lab_json = sys.argv[1], sys.argv[2]
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the learner's prints go to stderr from here on
    sys.stdout = sys.stderr
    module = types.ModuleType("submission")
    module.__dict__["LAB"] = json.loads(lab_json)
    module.__file__ = source_path
    try:
        with open(source_path, encoding="utf-8") as handle:
            code = compile(handle.read(), "submission.py", "exec")
        exec(code, module.__dict__)  # noqa: S102 -- learner code, in the grader's sandbox, in this child only
    except BaseException as exc:
        channel.write(json.dumps({"loaded": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return

    def grader_new(handle, cls, args, kwargs):
        module.__dict__[handle] = module.__dict__[cls](*args, **kwargs)

    module.__dict__["__grader_new__"] = grader_new
    channel.write(json.dumps({"loaded": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            target = module.__dict__.get(request["fn"])
            if target is None:
                raise NameError(f"your code defines no {request['fn']!r}")
            if request.get("method"):
                target = getattr(target, request["method"])
            reply = {
                "ok": _encode(target(*_decode(request.get("args", [])), **_decode(request.get("kwargs", {}))))
            }
        except BaseException as exc:
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            reply = {"error": tb[:500]}
        channel.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
