"""Call functions the learner wrote, from a grader, without letting them touch the grader.

The learner's code (`submission.py`, the cells they submitted, handed to every grader by
the platform) is loaded in a separate child process inside the grader's sandbox. The grader
talks to it over a pipe with JSON (numpy arrays and bytes travel as base64, never pickle),
so nothing the learner's code does can patch the grader's own functions or fake its
results. Each call has a timeout; a child that hangs, dies or answers garbage becomes a
LearnerCodeError whose message the grader can show.

    with LearnerProcess(ctx.artifacts_dir / "submission.py", lab=lab) as learner:
        noisy = learner.call("laplace_mechanism", values, epsilon=1.0, sensitivity=1.0)
        monitor = learner.new("QueryMonitor")          # instance kept in the child
        flagged = learner.call_method(monitor, "observe", batch)

A grader may pass `epilogue=DRIVER`: trusted grader code (source text) that runs in the
learner's module right after the learner's code. It defines driver functions (for example
one that replays a whole batch of requests against the learner's app) that the grader then
calls like any learner function. The parent writes the learner's source followed by the
epilogue into a fresh private temporary folder and loads that file instead; line numbers of
the learner's code are unchanged. The epilogue runs in the learner's process, under the same
confinement, after the learner's code had the chance to patch anything it uses, so its
results are only as trustworthy as the learner's code: graders must validate them.

What comes back is the learner's to forge (their code can write to the child's reply pipe),
so no learner-controlled text reaches the grader's feedback through this module:
- an exception is named by the nearest *builtin* class in its MRO, checked here against this
  interpreter's builtins (a learner-defined class name can carry data);
- its message is shown only while the learner's code has seen no held-out input: at load time
  (capped at MAX_MESSAGE characters), or for a call the grader marks `public_inputs=True`
  (inputs the learner already has) made before any held-out call. Held-out is the default:
  once one call without public_inputs was made on a submission, no message of that
  submission is shown again in this grader process, not even the load error of a restarted
  child (a daemon left by the first child could relay what it saw);
- the learner's stdout and stderr are discarded;
- returned arrays must be plain numbers with small dimensions (a shape is text too).

`canary=PATH` (grader-side only) lets the learner's process write to that one FIFO, which
the payloads of the grader's test files report to (see _shared.canary).
"""

import base64
import builtins
import contextlib
import json
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CHILD = Path(__file__).with_name("callee_child.py")
MAX_REPLY_BYTES = 64 * 1024 * 1024
MAX_MESSAGE = 120
MAX_NDIM = 8
ARRAY_KINDS = "biufc"  # bool, integers, floats, complex: no strings, bytes, objects or records

# Sources (resolved paths) whose code has been handed held-out inputs in this process.
_EXPOSED: set[str] = set()


class LearnerCodeError(Exception):
    """The learner's code failed, hung or misbehaved; the message says what happened.

    The message holds no learner-controlled text beyond a builtin exception name and, where
    callee allows it, a short message. `raised` is True when the learner's code raised an
    exception and its process is still usable (not when it hung, died or answered garbage).
    """

    def __init__(self, message: str, *, raised: bool = False) -> None:
        super().__init__(message)
        self.raised = raised


def _exception_name(value: Any) -> str:
    """A builtin exception class name, or a neutral word for anything else the child claims."""
    klass = getattr(builtins, value, None) if isinstance(value, str) else None
    if isinstance(klass, type) and issubclass(klass, BaseException):
        return value
    return "an exception"


def _short_message(value: Any) -> str:
    """Printable, one line, at most MAX_MESSAGE characters."""
    if not isinstance(value, str):
        return ""
    text = " ".join("".join(c if c.isprintable() else " " for c in value[: MAX_MESSAGE * 4]).split())
    return text[:MAX_MESSAGE]


def _describe_error(error: Any, *, with_message: bool) -> str:
    """'TypeName' or 'TypeName: message', from an error the child reported."""
    if not isinstance(error, dict):
        return "an exception"
    name = _exception_name(error.get("type"))
    message = _short_message(error.get("message")) if with_message else ""
    return f"{name}: {message}" if message else name


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return {
            "__ndarray__": base64.b64encode(array.tobytes()).decode(),
            "dtype": array.dtype.str,
            "shape": list(array.shape),
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "__bytes__" in value:
            return base64.b64decode(value["__bytes__"])
        if "__ndarray__" in value:
            try:
                dtype = np.dtype(str(value["dtype"]))
                shape = [int(n) for n in value["shape"]]
            except (TypeError, ValueError, KeyError) as exc:
                raise LearnerCodeError("your function returned an array the grader cannot read") from exc
            if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
                raise LearnerCodeError("your function returned an array of non-numbers; return numbers")
            if len(shape) > MAX_NDIM or any(not 0 <= n <= MAX_REPLY_BYTES for n in shape):
                raise LearnerCodeError("your function returned an array of an implausible shape")
            raw = base64.b64decode(value["__ndarray__"])
            try:
                return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
            except ValueError as exc:
                raise LearnerCodeError("your function returned an array the grader cannot read") from exc
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class LearnerProcess:
    """The learner's module, loaded in a child process; use as a context manager."""

    def __init__(
        self,
        source: Path,
        *,
        lab: dict[str, Any] | None = None,
        load_timeout: float = 60.0,
        epilogue: str = "",
        canary: str | None = None,
    ) -> None:
        """canary: absolute path of a FIFO the grader reads (_shared.canary.CanaryPipe.path)."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._tempdir: str | None = None
        if not source.is_file() or source.is_symlink():
            raise LearnerCodeError("your code was not handed to the grader (submission.py missing)")
        self._key = str(source.resolve())
        if canary is not None and not (os.path.isabs(canary) and stat.S_ISFIFO(os.lstat(canary).st_mode)):
            raise ValueError(f"grader misconfigured: canary {canary!r} is not the absolute path of a FIFO")
        try:
            self._start(source, lab, load_timeout, epilogue, canary)
        except BaseException:
            self.close()
            raise

    @property
    def _exposed(self) -> bool:
        return self._key in _EXPOSED

    def _start(
        self, source: Path, lab: dict[str, Any] | None, load_timeout: float, epilogue: str, canary: str | None
    ) -> None:
        if epilogue:
            # Bytes as handed in: the child decodes (and reports bad encodings) as without one.
            text = source.read_bytes()
            self._tempdir = tempfile.mkdtemp(prefix="learner-src-")
            source = Path(self._tempdir) / "submission.py"
            source.write_bytes(text + b"\n\n" + epilogue.encode("utf-8"))
        env = {
            "PATH": "/usr/bin:/bin",
            "OMP_NUM_THREADS": "1",
            "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONHASHSEED": "random",
        }
        options = {"canary": canary} if canary else {}
        self._proc = subprocess.Popen(  # noqa: S603 -- fixed argv: our own child script and interpreter
            [sys.executable, "-I", str(CHILD), str(source), json.dumps(lab or {}), json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the learner's prints never reach feedback
            env=env,
            cwd="/tmp",
            start_new_session=True,  # close() kills the child's process group with it
        )
        self._handles = 0
        hello = self._read(load_timeout, what="loading your code")
        if hello.get("confine_failed"):
            raise LearnerCodeError("the grader cannot isolate your code on this host (Landlock unavailable)")
        if not hello.get("loaded"):
            error = _describe_error(hello.get("error"), with_message=not self._exposed)
            raise LearnerCodeError(f"your code failed to load: {error}")

    def __enter__(self) -> "LearnerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):  # the group may be gone already
                os.killpg(self._proc.pid, signal.SIGKILL)
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=10)
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None

    def _read(self, timeout: float, *, what: str) -> dict[str, Any]:
        assert self._proc is not None
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        line = b""
        fd = self._proc.stdout.fileno()
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise LearnerCodeError(f"your code took longer than {timeout:.0f} s while {what}")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise LearnerCodeError(f"your code ended the process while {what}")
            line += chunk
            if len(line) > MAX_REPLY_BYTES:
                self.close()
                raise LearnerCodeError("your code returned more data than the grader accepts")
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise LearnerCodeError("your code's reply could not be read") from exc
        if not isinstance(reply, dict):
            raise LearnerCodeError("your code's reply could not be read")
        return reply

    def _request(
        self, payload: dict[str, Any], timeout: float, what: str, *, name: str, public_inputs: bool
    ) -> Any:
        assert self._proc is not None
        assert self._proc.stdin is not None
        if self._proc.poll() is not None:
            raise LearnerCodeError("your code's process is no longer running")
        with_message = public_inputs and not self._exposed
        if not public_inputs:
            _EXPOSED.add(self._key)
        try:
            self._proc.stdin.write((json.dumps(payload) + "\n").encode())
            self._proc.stdin.flush()
        except BrokenPipeError as exc:
            raise LearnerCodeError(f"your code ended the process before {what}") from exc
        reply = self._read(timeout, what=what)
        if "error" in reply:
            error = reply["error"]
            if isinstance(error, dict) and error.get("missing"):
                raise LearnerCodeError(f"{what} raised NameError: your code defines no {name!r}", raised=True)
            described = _describe_error(error, with_message=with_message)
            raise LearnerCodeError(f"{what} raised {described}", raised=True)
        try:
            return _decode(reply.get("ok"))
        except (ValueError, TypeError, KeyError, RecursionError) as exc:  # a forged reply
            raise LearnerCodeError("your code's reply could not be read") from exc

    def call(
        self, fn: str, *args: Any, timeout: float = 10.0, public_inputs: bool = False, **kwargs: Any
    ) -> Any:
        """Call a top-level function of the learner's module and return its (decoded) result.

        public_inputs=True only when every argument is something the learner already has (public
        assets, constants of the grader's source): then an exception's message may be shown.
        """
        payload = {"fn": fn, "args": _encode(list(args)), "kwargs": _encode(kwargs)}
        return self._request(payload, timeout, f"{fn}()", name=fn, public_inputs=public_inputs)

    def call_method(
        self,
        obj: str,
        method: str,
        *args: Any,
        timeout: float = 10.0,
        public_inputs: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Call a method of an object that lives in the child (see `new`)."""
        payload = {"fn": obj, "method": method, "args": _encode(list(args)), "kwargs": _encode(kwargs)}
        return self._request(payload, timeout, f"{method}()", name=obj, public_inputs=public_inputs)

    def new(
        self, cls: str, *args: Any, timeout: float = 10.0, public_inputs: bool = False, **kwargs: Any
    ) -> str:
        """Instantiate a class of the learner's module inside the child; returns a handle name."""
        self._handles += 1
        handle = f"_grader_handle_{self._handles}"
        code = {"fn": "__grader_new__", "args": [handle, cls, _encode(list(args)), _encode(kwargs)]}
        self._request(code, timeout, f"{cls}()", name=cls, public_inputs=public_inputs)
        return handle
