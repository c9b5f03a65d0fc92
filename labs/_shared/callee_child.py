"""Child side of _shared.callee: loads the learner's module and answers calls over a pipe.

Run as `python -I callee_child.py SOURCE LAB_JSON [OPTIONS_JSON]`. Protocol: one JSON object
per line on the original stdout; the learner's own prints go to stderr (which the parent
discards). Everything this process writes is the learner's to forge once their code runs, so
the parent trusts none of it: an error is reported as the nearest builtin exception class and
a message capped at MAX_MESSAGE characters, and the parent decides what of that it shows.

OPTIONS_JSON is chosen by the grader, never by the learner: {"canary": PATH} grants the
learner's code the right to write to that one file (a FIFO the grader reads, see
_shared.canary) and nothing else about it.
"""

import base64
import builtins
import ctypes
import json
import os
import sys
import tempfile
import types

# Landlock (Linux >= 5.13; signal scoping >= 6.12). The learner's code shares the grader's
# sandbox and uid, so without this it could read /lab/hidden, the grader's files and its seed,
# or /proc/<grader>/mem. Landlock is unprivileged, inherited and irreversible.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1, 2, 4, 8
_TRUNCATE, _IOCTL_DEV = 1 << 14, 1 << 15
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV
MAX_MESSAGE = 120
READ_ONLY = [
    "/usr",
    "/lib",
    "/lib64",
    "/bin",
    "/etc",
    "/lab/public",
    "/proc/self",
    "/sys/devices/system/cpu",
    "/dev/urandom",
    "/dev/zero",
]


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def confine(read_only, read_write, write_only=()):  # noqa: PLR0912 -- one linear sequence of kernel calls
    """Allow only these paths from now on, and no signals or ptrace outside; raise if impossible.

    Missing read_only and read_write paths are skipped; a missing write_only file is an error
    (it is where payloads must be able to report). write_only files get WRITE_FILE alone: no
    right to read them, nor any right on their folder (list, remove, rename, replace).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        raise OSError("Landlock is not available in this kernel")
    handled = (1 << 13) - 1
    if abi >= 2:
        handled |= 1 << 13
    if abi >= 3:
        handled |= _TRUNCATE
    if abi >= 5:
        handled |= _IOCTL_DEV
    attr = _RulesetAttr(handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    try:
        reading = _EXECUTE | _READ_FILE | _READ_DIR
        for paths, access in ((read_only, reading), (read_write, handled), (write_only, _WRITE_FILE)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    if access == _WRITE_FILE:
                        raise
                    continue
                try:
                    allowed = access & handled
                    if not os.path.isdir(path):
                        allowed &= _FILE_RIGHTS
                    rule = _PathBeneath(allowed, fd)
                    if libc.syscall(_SYS_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0) != 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
                finally:
                    os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "no_new_privs")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


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


class _MissingNameError(NameError):
    """The grader asked for a function or class the learner's module does not define."""


def _builtin_name(exc):
    """The nearest builtin class in the exception's MRO: a learner's class name can carry data."""
    for klass in type(exc).__mro__:
        if getattr(builtins, klass.__name__, None) is klass:
            return klass.__name__
    return "BaseException"


def _error(exc):
    error = {"type": _builtin_name(exc)}
    if isinstance(exc, _MissingNameError):
        error["missing"] = True
    try:
        error["message"] = str(exc)[:MAX_MESSAGE]
    except BaseException:  # a learner's __str__ may raise anything
        error["message"] = ""
    return error


def main() -> None:
    source_path, lab_json = sys.argv[1], sys.argv[2]
    options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    canary = options.get("canary")
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the learner's prints go to stderr from here on
    sys.stdout = sys.stderr
    module = types.ModuleType("submission")
    module.__dict__["LAB"] = json.loads(lab_json)
    module.__file__ = source_path
    try:
        with open(source_path, encoding="utf-8") as handle:
            code = compile(handle.read(), "submission.py", "exec")
        scratch = tempfile.mkdtemp(prefix="learner-")
        os.chdir(scratch)
        # Everything that writes temporary files (torch's compile cache, tempfile) must land here.
        os.environ["TMPDIR"] = scratch
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(scratch, "torchinductor")
        tempfile.tempdir = scratch
        try:
            write_only = [canary] if canary else []
            confine([*READ_ONLY, sys.prefix, sys.base_prefix], [scratch, "/dev/null"], write_only)
        except OSError:
            channel.write(json.dumps({"loaded": False, "confine_failed": True}) + "\n")
            return
        exec(code, module.__dict__)  # noqa: S102 -- learner code, in the grader's sandbox, in this child only
    except BaseException as exc:  # whatever the learner's code raises
        channel.write(json.dumps({"loaded": False, "error": _error(exc)}) + "\n")
        return

    def grader_new(handle, cls, args, kwargs):
        factory = module.__dict__.get(cls)
        if factory is None:
            raise _MissingNameError(cls)
        module.__dict__[handle] = factory(*args, **kwargs)

    module.__dict__["__grader_new__"] = grader_new
    channel.write(json.dumps({"loaded": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        try:
            target = module.__dict__.get(request["fn"])
            if target is None:
                raise _MissingNameError(request["fn"])
            if request.get("method"):
                target = getattr(target, request["method"])
            reply = {
                "ok": _encode(target(*_decode(request.get("args", [])), **_decode(request.get("kwargs", {}))))
            }
        except BaseException as exc:  # whatever the learner's code raises
            reply = {"error": _error(exc)}
        try:
            answer = json.dumps(reply)
        except BaseException as exc:  # a returned value json cannot write
            answer = json.dumps({"error": _error(exc)})
        channel.write(answer + "\n")


if __name__ == "__main__":
    main()
