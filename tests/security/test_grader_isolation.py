"""Code a learner hands in as a function is called by the grader from a child process
(_shared.callee). It shares the grader's sandbox, so it is confined further with Landlock:
these attacks run for real inside a real grader sandbox and must all fail."""

import json
import shutil
from pathlib import Path

import pytest

from mlrange.sandbox import run_grader
from tests.sandbox.support import REPO_ROOT, sandbox_config, short_run_dir

pytestmark = pytest.mark.sandbox

GRADER = """
import json
from _shared.callee import LearnerProcess, LearnerCodeError

def grade(ctx):
    with LearnerProcess(ctx.artifacts_dir / "submission.py", lab={"slug": "t"}) as learner:
        probes = learner.call("attack", timeout=20)
        alive = learner.call("attack", timeout=20) is not None
    return {"probes": probes, "grader_alive_after": alive}
"""

ATTACK = """
import os, signal, glob

def _try(fn):
    try:
        fn()
        return "ALLOWED"
    except Exception as exc:
        return type(exc).__name__

def attack():
    ppid = os.getppid()
    return {
        "read hidden answer": _try(lambda: open("/lab/hidden/answer.txt").read()),
        "list hidden": _try(lambda: os.listdir("/lab/hidden")),
        "read grader source": _try(lambda: open("/lab/grader/grader.py").read()),
        "read grader params": _try(lambda: [open(p).read() for p in glob.glob("/lab/*/params.json")] or open("/nonexistent")),
        "read grader memory": _try(lambda: open(f"/proc/{ppid}/mem", "rb").read(1)),
        "read grader environ": _try(lambda: open(f"/proc/{ppid}/environ").read()),
        "signal grader": _try(lambda: os.kill(ppid, signal.SIGSTOP)),
        "write outside scratch": _try(lambda: open("/tmp/planted.py", "w").write("x")),
        "read public assets": _try(lambda: os.listdir("/lab/public")),
    }
"""


def test_learner_function_cannot_reach_grader_secrets(tmp_path: Path) -> None:
    config = sandbox_config(short_run_dir())
    grader_dir = tmp_path / "grader"
    grader_dir.mkdir()
    (grader_dir / "grader.py").write_text(GRADER)
    shutil.copytree(REPO_ROOT / "labs" / "_shared", grader_dir / "_shared")
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "answer.txt").write_text("the hidden answer")
    public = tmp_path / "public"
    public.mkdir()
    (public / "data.txt").write_text("public")

    result = run_grader(
        config,
        grader_dir=grader_dir,
        public_dir=public,
        hidden_dir=hidden,
        artifacts={"submission.py": ATTACK.encode()},
        params={"grader_seed": 1234},
        timeout=60,
    )

    probes = result["probes"]
    assert probes.pop("read public assets") == "ALLOWED"
    assert all(outcome != "ALLOWED" for outcome in probes.values()), json.dumps(probes, indent=1)
    assert result["grader_alive_after"] is True
