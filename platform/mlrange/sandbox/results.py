"""What an execution returns, and the artifacts it may bring back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

ExecutionStatus = Literal["ok", "error", "timeout", "crashed", "output_limit"]

ARTIFACT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def is_valid_artifact_name(name: str) -> bool:
    """A plain file name: no separator, no dot-only name, at most 64 safe characters."""
    return ARTIFACT_NAME.fullmatch(name) is not None and name not in {".", ".."}


@dataclass(frozen=True)
class ArtifactSpec:
    """A file the learner's code must write in its work dir (its cwd), at most ``max_bytes``."""

    name: str
    max_bytes: int

    def __post_init__(self) -> None:
        if not is_valid_artifact_name(self.name):
            raise ValueError(f"invalid artifact name {self.name!r}: use [A-Za-z0-9_.-]{{1,64}}")
        if self.max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")


@dataclass
class ExecutionResult:
    """The outcome of one execution in a fresh kernel.

    ``outputs`` are JSON-serialisable, nbformat-like dicts in arrival order:
    ``{"type": "stream", "name": "stdout"|"stderr", "text": ...}``,
    ``{"type": "display", "data": {"text/plain": ..., "image/png": <base64>}}``,
    ``{"type": "error", "ename": ..., "evalue": ..., "traceback": [...]}`` (ANSI stripped).
    Each also carries ``"cell"``: the index, in ``cells``, of the cell that produced it.
    ``artifacts`` holds the requested files that exist and respect their ``max_bytes``;
    ``artifact_errors`` says why a requested file was refused (a missing file is in neither).
    Every byte here came from learner code: treat it as untrusted.
    """

    status: ExecutionStatus
    outputs: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    artifact_errors: dict[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    cells_run: int = 0
    service_reports: dict[str, bytes] = field(default_factory=dict)
    """Reports of the execution's lab services, read by the worker from folders only the
    services' jails see: trusted, unlike everything above (the kernel cannot write them)."""
    service_errors: dict[str, str] = field(default_factory=dict)
    """Services that crashed or left no readable report (for logs; may name hidden paths)."""
    memory_peak_bytes: int = 0
    """The most memory the execution's cgroup held (kernel, children, services, tmpfs pages)."""
    memory_limit_hit: bool = False
    """The kernel's OOM killer ended a process of this execution at its memory limit."""
