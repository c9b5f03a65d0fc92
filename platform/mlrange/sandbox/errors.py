"""Errors the sandbox raises to its callers."""

from __future__ import annotations


class SandboxError(Exception):
    """Base class of the sandbox's errors."""


class SandboxUnavailableError(SandboxError):
    """The sandbox cannot run here; the message says what is missing and how to install it.

    Callers must refuse to run learner code: there is no unsandboxed fallback.
    """


class GraderError(SandboxError):
    """A trusted grader failed (exception, timeout, crash or unparseable result).

    ``message`` is short and fit to show as a submission error; ``details`` (the grader's
    stderr tail) is for logs only, it may mention hidden data.
    """

    def __init__(self, message: str, *, details: str = "", memory_limit_hit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.memory_limit_hit = memory_limit_hit
        """The grader's cgroup hit its memory limit (learner functions it called count there)."""
