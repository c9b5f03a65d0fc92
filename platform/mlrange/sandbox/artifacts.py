"""Artifact transport: files the learner's code wrote in its tmpfs work dir, back to the worker.

After the learner's cells, the kernel runs one more silent execute (``collector_code``) that
opens each requested file with ``O_NOFOLLOW | O_NONBLOCK``, checks it is a regular file within
its size cap, and publishes it base64-encoded in chunks under a private MIME type. The worker
(``ArtifactReceiver``) accepts only chunks answering that execute, only for requested names,
in order, and re-checks every size. Nothing touches the host disk and no path is ever
resolved on the host, so a planted symlink reaches nothing. The kernel is untrusted: it can
forge these messages, but only about its own artifacts, which the grader validates anyway.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from mlrange.sandbox.results import ArtifactSpec

ARTIFACT_MIME = "application/vnd.mlrange.artifact+json"

_COLLECTOR = """
def _mlrange_collect(specs, workdir, chunk, mime):
    import base64, errno, os, stat
    from IPython.display import publish_display_data

    def send(name, **fields):
        publish_display_data({mime: dict(name=name, **fields)})

    for name, limit in specs:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(os.path.join(workdir, name), flags)
        except FileNotFoundError:
            continue
        except OSError as exc:
            symlink = exc.errno == errno.ELOOP
            send(name, error="not a regular file" if symlink else "cannot be opened")
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                send(name, error="not a regular file")
                continue
            if info.st_size > limit:
                send(name, error=f"too large: {info.st_size} bytes, at most {limit}")
                continue
            data = b""
            while len(data) <= limit:
                block = os.read(fd, min(chunk, limit + 1 - len(data)))
                if not block:
                    break
                data += block
            if len(data) > limit:
                send(name, error=f"too large: more than {limit} bytes")
                continue
            pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
            for seq, piece in enumerate(pieces):
                send(name, seq=seq, final=seq == len(pieces) - 1,
                     data=base64.b64encode(piece).decode("ascii"))
        finally:
            os.close(fd)

_mlrange_collect({specs}, {workdir}, {chunk}, {mime})
del _mlrange_collect
"""


def collector_code(specs: Sequence[ArtifactSpec], *, workdir: str, chunk_bytes: int) -> str:
    """The code the kernel runs to publish the artifacts (names are validated by ArtifactSpec)."""
    pairs = [(spec.name, spec.max_bytes) for spec in specs]
    return (
        _COLLECTOR.replace("{specs}", json.dumps(pairs))
        .replace("{workdir}", json.dumps(workdir))
        .replace("{chunk}", str(chunk_bytes))
        .replace("{mime}", json.dumps(ARTIFACT_MIME))
    )


class ArtifactReceiver:
    """Reassembles artifact chunks; refuses anything out of order, unrequested or oversized."""

    def __init__(self, specs: Sequence[ArtifactSpec]) -> None:
        self._limits = {spec.name: spec.max_bytes for spec in specs}
        self._parts: dict[str, list[bytes]] = {}
        self._sizes: dict[str, int] = {}
        self.artifacts: dict[str, bytes] = {}
        self.errors: dict[str, str] = {}

    @property
    def budget_bytes(self) -> int:
        """Most bytes of messages a well-behaved collector can send (base64 plus framing)."""
        return sum(limit * 4 // 3 + 4096 for limit in self._limits.values()) + 65536

    def add(self, content: dict[str, Any]) -> None:
        data = content.get("data")
        payload = data.get(ARTIFACT_MIME) if isinstance(data, dict) else None
        if not isinstance(payload, dict):
            return
        name = payload.get("name")
        if not isinstance(name, str) or name not in self._limits:
            return
        if name in self.artifacts or name in self.errors:
            self._refuse(name, "sent twice")
            return
        if "error" in payload:
            self._refuse(name, str(payload["error"])[:200])
            return
        self._add_chunk(name, payload)

    def finish(self) -> None:
        """Anything started and not finished is refused."""
        for name in list(self._parts):
            self._refuse(name, "transfer incomplete")

    def _add_chunk(self, name: str, payload: dict[str, Any]) -> None:
        parts = self._parts.setdefault(name, [])
        encoded = payload.get("data")
        if payload.get("seq") != len(parts) or not isinstance(encoded, str):
            self._refuse(name, "invalid transfer")
            return
        try:
            piece = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            self._refuse(name, "invalid transfer")
            return
        size = self._sizes.get(name, 0) + len(piece)
        if size > self._limits[name]:
            self._refuse(name, f"too large: more than {self._limits[name]} bytes")
            return
        self._sizes[name] = size
        parts.append(piece)
        if payload.get("final") is True:
            self.artifacts[name] = b"".join(self._parts.pop(name))

    def _refuse(self, name: str, reason: str) -> None:
        self._parts.pop(name, None)
        self.artifacts.pop(name, None)
        self.errors[name] = reason
