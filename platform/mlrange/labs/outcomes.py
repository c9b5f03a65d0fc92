"""What running (and grading) a submission produced: made by the runner, stored by services."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What running (and grading) a submission produced."""

    status: str
    message: str = ""
    outputs: list[dict[str, Any]] = field(default_factory=list)
    score: float | None = None
    passed: bool | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    execution_seconds: float | None = None
    grading_seconds: float | None = None
    service_usage: dict[str, int | None] = field(default_factory=dict)
    """What each metered lab service served (None: unknown); not stored on the submission."""
