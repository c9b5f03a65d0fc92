"""Entry point: `python -m bench.assessment_sim [--learners N] ...` from the repository root."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "platform") not in sys.path:
    sys.path.insert(0, str(ROOT / "platform"))

from bench.assessment_sim.simulate import main  # noqa: E402 -- after the source root is on the path

if __name__ == "__main__":
    sys.exit(main())
