"""Runs INSIDE the grader sandbox with the runtime Python: imports the lab's grader, calls
``grade(ctx)`` and prints its result as one JSON object on the last stdout line.

Stand-alone on purpose (no mlrange import, no Django): it is copied into each grader run.
The grader's own prints go to stderr so they cannot be mistaken for the result.
Exit status 0 with the JSON line on success, 1 with a traceback on stderr otherwise.
"""

from __future__ import annotations

import json
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GRADER_DIR = "/lab/grader"
PARAMS_FILE = Path("/lab/host/params.json")


@dataclass(frozen=True)
class GradingContext:
    """What ``grade(ctx)`` receives. The artifacts come from learner code: validate them."""

    artifacts_dir: Path
    public_dir: Path
    hidden_dir: Path
    params: dict[str, Any]


def main() -> int:
    sys.path.insert(0, GRADER_DIR)
    ctx = GradingContext(
        artifacts_dir=Path("/lab/submission"),
        public_dir=Path("/lab/public"),
        hidden_dir=Path("/lab/hidden"),
        params=json.loads(PARAMS_FILE.read_text()),
    )
    result_stream = sys.stdout
    sys.stdout = sys.stderr
    try:
        import grader  # lives in /lab/grader, one per lab

        result = grader.grade(ctx)
        if not isinstance(result, dict):
            raise TypeError(f"grade() must return a dict, not {type(result).__name__}")
        line = json.dumps(result, allow_nan=False)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    finally:
        sys.stdout = result_stream
    result_stream.write("\n" + line + "\n")
    result_stream.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
