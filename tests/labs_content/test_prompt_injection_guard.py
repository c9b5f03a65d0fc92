"""The prompt-injection-guard lab: manifest, notebook, and the grader run in the real grader sandbox.

The grader calls each submission's guard_input in a child process (through
_shared.callee.LearnerProcess, which confines it with Landlock to the sandbox's own paths)
on held-out prompts, so the submissions are graded in one real sandbox run with the runtime
python; `manage.py check_labs prompt-injection-guard` runs the same solutions through the sandbox.
"""

from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_batch_in_sandbox, passed_tiers

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / "prompt-injection-guard"
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
FAMILIES = {"direct", "roleplay", "obfuscation", "indirect", "multilingual"}
TIERS = FAMILIES | {"benign"}
MARGIN_SEEDS = range(1, 16)


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LAB_DIR / "manifest.yaml", labs_dir=REPO / "labs", check_atlas=True)
    assert errors == []
    return lab


def test_manifest_validates_against_the_full_atlas_file(spec):
    assert (spec.slug, spec.subskill) == ("prompt-injection-guard", "infrastructure-security")
    assert spec.atlas == ("AML.T0051.000", "AML.T0051.001", "AML.T0054", "AML.T0057", "AML.M0020")
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "naive": (False, {"roleplay", "benign"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


# The grader's own files, inside the sandbox: the guard must reach none of them.
GRADER_FILES = ("/lab/grader/attacks.py", "/lab/grader/grader.py", "/lab/host/params.json")


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets = tmp_path_factory.mktemp("pig-assets")
    build_lab_assets(spec, assets_dir=assets)
    dirs = lab_asset_dirs(spec.slug, assets)
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    sources["block_everything"] = "def guard_input(message, documents):\n    return False\n"
    sources["crashes"] = "def guard_input(message, documents):\n    raise ValueError('oops')\n"
    sources["not_bool"] = "def guard_input(message, documents):\n    return 'allow'\n"
    sources["syntax_error"] = "def guard_input(:\n"
    sources["reads_grader"] = sources["reference"] + (
        f"\nfor _path in {GRADER_FILES!r}:\n"
        "    try:\n"
        "        open(_path).read()\n"
        "        guard_input = None  # the held-out prompts were readable: sabotage\n"
        "    except OSError:\n"
        "        pass\n"
    )
    sources["probes_grader"] = (
        "import os\n"
        "blocked = []\n"
        f"for _path in {(*GRADER_FILES, '/lab/hidden')!r}:\n"
        "    try:\n"
        "        os.listdir(_path) if _path == '/lab/hidden' else open(_path, 'rb').read()\n"
        "    except PermissionError:\n"
        "        blocked.append(_path)\n"
        "raise RuntimeError(f'blocked {len(blocked)} of 4')\n"
    )
    jobs = [{"name": name, "source": name, "params": {"variant": {}, "grader_seed": 5}} for name in sources]
    for seed in MARGIN_SEEDS:
        for name in ("reference", "naive"):
            jobs.append(
                {
                    "name": f"{name}_seed_{seed}",
                    "source": name,
                    "params": {"variant": {}, "grader_seed": seed},
                }
            )
    return grade_batch_in_sandbox(spec, dirs, sources, jobs)


def test_reference_passes_with_margin_over_grader_seeds(graded):
    for seed in MARGIN_SEEDS:
        report = graded[f"reference_seed_{seed}"]
        assert passed_tiers(report, TIERS) == TIERS, seed
        for family in FAMILIES:
            assert report["metrics"][f"{family}_blocked"] >= 0.95, (seed, family)
        assert report["metrics"]["benign_answered"] >= 0.95


def test_naive_blocklist_misses_every_evasive_family_over_grader_seeds(graded):
    for seed in MARGIN_SEEDS:
        report = graded[f"naive_seed_{seed}"]
        assert passed_tiers(report, TIERS) == {"roleplay", "benign"}, seed
        assert report["metrics"]["direct_blocked"] <= 0.85, seed
        for family in ("obfuscation", "indirect", "multilingual"):
            assert report["metrics"][f"{family}_blocked"] <= 0.2, (seed, family)


def test_starter_lets_everything_through_and_scores_nothing(graded):
    report = graded["starter"]
    assert report["score"] == 0
    assert report["metrics"]["attacks_blocked"] == 0.0
    assert "must also stop something" in check(report, "benign")["feedback"]


def test_blocking_everything_gets_nothing(graded):
    report = graded["block_everything"]
    assert report["score"] == 0
    assert "not awarded while benign prompts are refused" in check(report, "direct")["feedback"]


@pytest.mark.parametrize(
    ("case", "check_id", "feedback"),
    [
        ("noop", "guard-runs", "defines no guard_input"),
        ("syntax_error", "guard-runs", "your code failed to load: SyntaxError"),
        ("crashes", "guard-runs", "raised or returned a non-bool"),
        ("not_bool", "guard-runs", "raised or returned a non-bool"),
    ],
)
def test_broken_guard_fails_without_crashing_the_grader(graded, case, check_id, feedback):
    report = graded[case]
    assert report["passed"] is False
    assert report["score"] == 0
    assert feedback in check(report, check_id)["feedback"]


def test_guard_cannot_read_the_held_out_prompts(graded):
    assert graded["reads_grader"]["passed"] is True  # the reference, sabotaged if it could read them
    feedback = check(graded["probes_grader"], "guard-runs")["feedback"]
    assert "RuntimeError: blocked 4 of 4" in feedback


def test_feedback_never_quotes_held_out_prompts(graded):
    import sys

    sys.path.insert(0, str(LAB_DIR))
    try:
        from attacks import DIRECT, MULTILINGUAL, ROLEPLAY
    finally:
        sys.path.remove(str(LAB_DIR))
    fragments = [t.split("{")[0][:25] for t in DIRECT + ROLEPLAY] + [t[:25] for t in MULTILINGUAL]
    for report in graded.values():
        for item in report["checks"]:
            assert not any(f and f in item["feedback"] for f in fragments), item["feedback"]
