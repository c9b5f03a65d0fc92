"""Evidence that a test file's payload ran, which the learner's processes cannot take back.

The grader creates a FIFO in a fresh private folder (random names) and holds its read end
open for the whole grading. Every payload in the grader's test files, if anything ever runs
it, appends one line (the file's identifier) to that FIFO's *absolute* path, so it does not
matter which process, working folder or daemon runs it. The learner's child process gets the
path through `LearnerProcess(..., canary=pipe.path)`, which grants Landlock WRITE_FILE on that
one file and no right at all on its folder: the learner's code can write to it, but cannot
read, list, remove, rename or replace it. Bytes written into a pipe cannot be taken back by
the writer, so forking, loading in a subfolder that is deleted afterwards, chdir, daemons
and deleting files change nothing. The grader drains the pipe after every call and once more
after a short grace at the end (`settle`).

Any byte at all is evidence: nothing but a payload (or code hunting for the canary) writes
there. What no canary can see is a loader that denies its payloads every effect (no free file
descriptors, rlimits, a stacked Landlock domain, replaced functions): the payload still runs,
but cannot report. Graders state the rule ("never load") in their briefs for that case.

    with CanaryPipe() as pipe:
        files = build_corpus(rng, pipe.target)     # payloads write pipe.path, "<stem>\n"
        with LearnerProcess(source, lab=lab, canary=pipe.path) as learner:
            for file in files:
                learner.call("scan", file.data, file.name)
                pipe.drain()
        pipe.settle()
        ran = pipe.fired(stems)                     # or pipe.tripped: any byte arrived

Grader-side only; never handed to learner code.
"""

import os
import secrets
import shutil
import tempfile
import time

MAX_LINE = 200
MAX_DRAIN_BYTES = 1 << 20  # per drain: a learner flooding the pipe cannot stall the grader
MAX_IDENTIFIERS = 10_000


class CanaryPipe:
    """A FIFO the grader reads for the whole grading; use as a context manager."""

    def __init__(self) -> None:
        self._folder = tempfile.mkdtemp(prefix=f"canary-{secrets.token_hex(8)}-")
        self.path = os.path.join(self._folder, secrets.token_hex(8))
        os.mkfifo(self.path, 0o600)
        # Non-blocking: opening never waits for a writer and reading never blocks.
        self._fd: int | None = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self._partial = b""
        self._seen: set[str] = set()
        self.bytes_read = 0

    def __enter__(self) -> "CanaryPipe":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def target(self, identifier: str) -> tuple[str, str]:
        """Where a payload writes and the line it writes: (absolute FIFO path, identifier)."""
        if not identifier or len(identifier) > MAX_LINE or not identifier.isprintable():
            raise ValueError(f"canary identifier {identifier!r} is not one short printable line")
        return self.path, identifier

    def drain(self) -> None:
        """Read whatever payloads wrote since the last drain (at most MAX_DRAIN_BYTES)."""
        if self._fd is None:
            return
        budget = MAX_DRAIN_BYTES
        while budget > 0:
            try:
                chunk = os.read(self._fd, min(65536, budget))
            except BlockingIOError:  # writers hold it open, nothing written right now
                return
            if not chunk:  # no writer at the moment
                return
            budget -= len(chunk)
            self.bytes_read += len(chunk)
            self._take(chunk)

    def _take(self, chunk: bytes) -> None:
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        self._partial = self._partial[-MAX_LINE:]
        for line in lines:
            if len(self._seen) < MAX_IDENTIFIERS and 0 < len(line) <= MAX_LINE:
                self._seen.add(line.decode("utf-8", "replace").strip())

    def settle(self, grace: float = 0.3) -> None:
        """Give payloads started in the background a moment to report, then drain."""
        time.sleep(grace)
        self.drain()

    @property
    def tripped(self) -> bool:
        """True when anything at all was written to the pipe."""
        return self.bytes_read > 0

    def fired(self, identifiers) -> set[str]:
        """Which of these identifiers some payload reported."""
        return self._seen & set(identifiers)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        shutil.rmtree(self._folder, ignore_errors=True)
