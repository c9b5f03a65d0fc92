"""run_grader: a trusted grader in its own jail, on the artifacts of one submission."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from mlrange.sandbox import GraderError, SandboxConfig, SandboxLimits, run_grader

pytestmark = pytest.mark.sandbox


def write_grader(folder: Path, body: str, *, helper: str = "") -> Path:
    grader_dir = folder / "grader"
    grader_dir.mkdir()
    (grader_dir / "grader.py").write_text(textwrap.dedent(body))
    if helper:
        (grader_dir / "helpers.py").write_text(textwrap.dedent(helper))
    return grader_dir


@pytest.fixture
def lab(tmp_path: Path) -> dict[str, Path]:
    public = tmp_path / "public"
    hidden = tmp_path / "hidden"
    for folder in (public, hidden):
        folder.mkdir()
        folder.chmod(0o755)
    (public / "labels.json").write_text("[1, 0, 1]")
    (hidden / "answer.json").write_text('{"expected": 7}')
    (hidden / "answer.json").chmod(0o600)  # readable by the worker alone: copied in for the run
    return {"root": tmp_path, "public": public, "hidden": hidden}


def grade(config: SandboxConfig, lab: dict[str, Path], grader_dir: Path, **kwargs: object) -> dict:
    arguments: dict = {"artifacts": {"answer.json": b'{"value": 7}'}, "params": {"epsilon": 0.1}}
    arguments.update(kwargs)
    return run_grader(
        config,
        grader_dir=grader_dir,
        public_dir=lab["public"],
        hidden_dir=lab["hidden"],
        timeout=arguments.pop("timeout", 30),
        **arguments,
    )


def test_grader_round_trip_sees_artifacts_public_hidden_and_params(
    config: SandboxConfig, lab: dict[str, Path]
) -> None:
    grader_dir = write_grader(
        lab["root"],
        """
        import json
        from helpers import load

        def grade(ctx):
            print("noise from the grader")
            value = load(ctx.artifacts_dir / "answer.json")["value"]
            expected = load(ctx.hidden_dir / "answer.json")["expected"]
            labels = load(ctx.public_dir / "labels.json")
            return {"score": 100 if value == expected else 0, "labels": len(labels),
                    "epsilon": ctx.params["epsilon"]}
        """,
        helper="""
        import json

        def load(path):
            return json.loads(path.read_text())
        """,
    )

    result = grade(config, lab, grader_dir)

    assert result == {"score": 100, "labels": 3, "epsilon": 0.1}


def test_grader_cannot_write_its_inputs_or_reach_the_network(
    config: SandboxConfig, lab: dict[str, Path]
) -> None:
    grader_dir = write_grader(
        lab["root"],
        """
        import socket

        def grade(ctx):
            outcomes = {}
            for path in (ctx.hidden_dir / "x", ctx.artifacts_dir / "answer.json"):
                try:
                    open(path, "w").write("tampered")
                    outcomes[str(path)] = "written"
                except OSError:
                    outcomes[str(path)] = "refused"
            try:
                socket.create_connection(("127.0.0.1", 8000), timeout=1)
                outcomes["net"] = "connected"
            except OSError:
                outcomes["net"] = "refused"
            return outcomes
        """,
    )

    result = grade(config, lab, grader_dir)

    assert set(result.values()) == {"refused"}
    assert not (lab["hidden"] / "x").exists()


def test_grader_exception_raises_grader_error(config: SandboxConfig, lab: dict[str, Path]) -> None:
    grader_dir = write_grader(lab["root"], "def grade(ctx):\n    raise ValueError('bad shape')\n")

    with pytest.raises(GraderError, match="ValueError: bad shape"):
        grade(config, lab, grader_dir)


def test_grader_crash_raises_grader_error(config: SandboxConfig, lab: dict[str, Path]) -> None:
    grader_dir = write_grader(lab["root"], "import os\ndef grade(ctx):\n    os._exit(9)\n")

    with pytest.raises(GraderError, match="grader failed"):
        grade(config, lab, grader_dir)


def test_grader_timeout_raises_grader_error(config: SandboxConfig, lab: dict[str, Path]) -> None:
    grader_dir = write_grader(lab["root"], "def grade(ctx):\n    while True:\n        pass\n")

    with pytest.raises(GraderError, match="timed out"):
        grade(config, lab, grader_dir, timeout=1.5)


def test_grader_returning_a_non_dict_raises_grader_error(config: SandboxConfig, lab: dict[str, Path]) -> None:
    grader_dir = write_grader(lab["root"], "def grade(ctx):\n    return [1, 2]\n")

    with pytest.raises(GraderError, match="must return a dict"):
        grade(config, lab, grader_dir)


def test_grader_limits_override_applies(config: SandboxConfig, lab: dict[str, Path]) -> None:
    grader_dir = write_grader(
        lab["root"],
        "import resource\ndef grade(ctx):\n    return {'as': resource.getrlimit(resource.RLIMIT_AS)[0]}\n",
    )

    result = grade(config, lab, grader_dir, limits=SandboxLimits(memory_mb=6144))

    assert result == {"as": 6144 * 2**20}


def test_grader_refuses_artifact_names_with_paths(config: SandboxConfig, lab: dict[str, Path]) -> None:
    grader_dir = write_grader(lab["root"], "def grade(ctx):\n    return {}\n")

    with pytest.raises(ValueError, match="invalid artifact name"):
        grade(config, lab, grader_dir, artifacts={"../escape": b"x"})


def test_grader_result_is_json_round_trippable(config: SandboxConfig, lab: dict[str, Path]) -> None:
    grader_dir = write_grader(
        lab["root"], "def grade(ctx):\n    return {'feedback': 'ok \\u2713', 'score': 0.5}\n"
    )

    result = grade(config, lab, grader_dir)

    assert json.loads(json.dumps(result)) == {"feedback": "ok \u2713", "score": 0.5}
