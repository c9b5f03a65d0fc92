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
"""

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CHILD = Path(__file__).with_name("callee_child.py")
MAX_REPLY_BYTES = 64 * 1024 * 1024


class LearnerCodeError(Exception):
    """The learner's code failed, hung or misbehaved; the message says what happened."""


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
            dtype = np.dtype(value["dtype"])
            if dtype.hasobject:
                raise LearnerCodeError("your function returned an object array; return numbers")
            raw = base64.b64decode(value["__ndarray__"])
            return np.frombuffer(raw, dtype=dtype).reshape(value["shape"]).copy()
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
    ) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._tempdir: str | None = None
        if not source.is_file() or source.is_symlink():
            raise LearnerCodeError("your code was not handed to the grader (submission.py missing)")
        try:
            self._start(source, lab, load_timeout, epilogue)
        except BaseException:
            self.close()
            raise

    def _start(self, source: Path, lab: dict[str, Any] | None, load_timeout: float, epilogue: str) -> None:
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
        self._proc = subprocess.Popen(  # noqa: S603 -- fixed argv: our own child script and interpreter
            [sys.executable, "-I", str(CHILD), str(source), json.dumps(lab or {})],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/tmp",
        )
        self._handles = 0
        hello = self._read(load_timeout, what="loading your code")
        if not hello.get("loaded"):
            raise LearnerCodeError(f"your code failed to load: {hello.get('error', 'unknown error')}")

    def __enter__(self) -> "LearnerProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
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
        except ValueError as exc:
            raise LearnerCodeError("your code's reply could not be read") from exc
        if not isinstance(reply, dict):
            raise LearnerCodeError("your code's reply could not be read")
        return reply

    def _request(self, payload: dict[str, Any], timeout: float, what: str) -> Any:
        assert self._proc is not None
        assert self._proc.stdin is not None
        if self._proc.poll() is not None:
            raise LearnerCodeError("your code's process is no longer running")
        try:
            self._proc.stdin.write((json.dumps(payload) + "\n").encode())
            self._proc.stdin.flush()
        except BrokenPipeError as exc:
            raise LearnerCodeError(f"your code ended the process before {what}") from exc
        reply = self._read(timeout, what=what)
        if "error" in reply:
            raise LearnerCodeError(f"{what} raised {reply['error']}")
        return _decode(reply.get("ok"))

    def call(self, fn: str, *args: Any, timeout: float = 10.0, **kwargs: Any) -> Any:
        """Call a top-level function of the learner's module and return its (decoded) result."""
        return self._request(
            {"fn": fn, "args": _encode(list(args)), "kwargs": _encode(kwargs)}, timeout, f"{fn}()"
        )

    def call_method(self, obj: str, method: str, *args: Any, timeout: float = 10.0, **kwargs: Any) -> Any:
        """Call a method of an object that lives in the child (see `new`)."""
        payload = {"fn": obj, "method": method, "args": _encode(list(args)), "kwargs": _encode(kwargs)}
        return self._request(payload, timeout, f"{method}()")

    def new(self, cls: str, *args: Any, timeout: float = 10.0, **kwargs: Any) -> str:
        """Instantiate a class of the learner's module inside the child; returns a handle name."""
        self._handles += 1
        handle = f"_grader_handle_{self._handles}"
        code = {"fn": "__grader_new__", "args": [handle, cls, _encode(list(args)), _encode(kwargs)]}
        self._request(code, timeout, f"{cls}()")
        return handle
