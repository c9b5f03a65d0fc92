"""The api-hardening lab: manifest, notebook, and the grader run in the real grader sandbox.

The grader loads each submission's FastAPI app in a child process (through
_shared.callee.LearnerProcess, which confines it with Landlock to the sandbox's own paths,
such as /lab/public, that only exist inside the jail) and replays its request mix, so the
submissions are graded in the real sandbox with the runtime python, all in one sandbox run;
`manage.py check_labs api-hardening` runs the same solutions through the sandbox too.
"""

import re
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_batch_in_sandbox, passed_tiers

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / "api-hardening"
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"validation", "limits", "access", "errors"}
SEED = 7


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LAB_DIR / "manifest.yaml", labs_dir=REPO / "labs", check_atlas=True)
    assert errors == []
    return lab


def test_manifest_validates_against_the_full_atlas_file(spec):
    assert (spec.slug, spec.subskill, spec.level) == (
        "api-hardening",
        "infrastructure-security",
        "intermediate",
    )
    assert spec.atlas == ("AML.T0029", "AML.T0040", "AML.T0049", "AML.M0004", "AML.M0019")
    assert sum(t.points for t in spec.tiers) == 100
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "naive": (False, {"validation", "errors"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_and_per_learner(spec):
    from mlrange.labs.registry import lab_variant

    one, again, other = lab_variant(spec, SEED), lab_variant(spec, SEED), lab_variant(spec, SEED + 1)
    assert one == again
    assert len(set(one["api_keys"])) == 16
    assert set(one["api_keys"]).isdisjoint(other["api_keys"])
    values = {(lab_variant(spec, s)["rate_limit"], lab_variant(spec, s)["max_batch"]) for s in range(60)}
    assert {r for r, _ in values} == {20, 24, 30}
    assert {b for _, b in values} == {8, 12, 16}


# The grader's own files, inside the sandbox: learner code must reach none of them.
GRADER_FILES = ("/lab/hidden/benign_rows.npy", "/lab/grader/grader.py", "/lab/host/params.json")


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    """Build the assets, then grade the solutions and broken submissions in one sandbox run."""
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs
    from mlrange.labs.registry import lab_variant

    assets = tmp_path_factory.mktemp("api-assets")
    build_lab_assets(spec, assets_dir=assets)
    dirs = lab_asset_dirs(spec.slug, assets)
    variant = lab_variant(spec, SEED)
    params = {"variant": variant, "grader_seed": 11}
    reference = (LAB_DIR / "solutions" / "reference.py").read_text()
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    sources["syntax_error"] = "app = (\n"
    sources["crash_on_import"] = "raise RuntimeError('boom')\n"
    sources["not_an_app"] = "app = 42\n"
    sources["reads_hidden"] = reference + (
        f"\nfor _path in {GRADER_FILES!r}:\n"
        "    try:\n"
        "        open(_path, 'rb').read()\n"
        "        app = None  # the grader's files were readable: sabotage the app\n"
        "    except OSError:\n"
        "        pass\n"
    )
    sources["probes_hidden"] = (
        "import os\n"
        "blocked = []\n"
        f"for _path in {(*GRADER_FILES, '/lab/hidden')!r}:\n"
        "    try:\n"
        "        os.listdir(_path) if _path == '/lab/hidden' else open(_path, 'rb').read()\n"
        "    except PermissionError:\n"
        "        blocked.append(_path)\n"
        "raise RuntimeError(f'blocked {len(blocked)} of 4')\n"
    )
    # An app copied from another learner: their keys and limits hard-coded over this LAB.
    sources["copied"] = f"LAB = {{**LAB, **{lab_variant(spec, SEED + 1)!r}}}\n" + reference
    jobs = [{"name": name, "source": name, "params": params} for name in sources if name != "copied"]
    jobs.append({"name": "missing", "params": params})
    jobs.append({"name": "symlink", "link": "reference", "params": params})
    jobs.append({"name": "reference_other_variant", "source": "copied", "params": params})
    for seed in (1, 2, 3):
        jobs.append(
            {
                "name": f"reference_seed_{seed}",
                "source": "reference",
                "params": {**params, "grader_seed": seed},
            }
        )
    return grade_batch_in_sandbox(spec, dirs, sources, jobs)


def test_reference_passes_every_tier_over_grader_seeds(graded):
    for name in ("reference", "reference_seed_1", "reference_seed_2", "reference_seed_3"):
        report = graded[name]
        assert report["passed"] is True, name
        assert passed_tiers(report, TIERS) == TIERS, name
        assert report["metrics"]["benign_served"] == 1.0


def test_naive_schema_only_gets_validation_and_errors(graded):
    report = graded["naive"]
    assert report["passed"] is False
    assert report["score"] == 55
    assert passed_tiers(report, TIERS) == {"validation", "errors"}
    assert "413" in check(report, "limits")["feedback"]
    assert "429" in check(report, "access")["feedback"]


def test_vulnerable_starter_scores_nothing(graded):
    report = graded["starter"]
    assert report["score"] == 0
    assert check(report, "benign")["passed"] is True
    errors = check(report, "errors")["feedback"]
    assert "5xx" in errors
    assert "Traceback" in errors


def test_noop_fails_with_a_clear_message(graded):
    report = graded["noop"]
    assert report["score"] == 0
    assert "defines no `app`" in check(report, "app-runs")["feedback"]


@pytest.mark.parametrize(
    ("case", "feedback"),
    [
        ("syntax_error", "your code failed to load: SyntaxError"),
        ("crash_on_import", "your code failed to load: RuntimeError: boom"),
        ("not_an_app", "raised TypeError"),
        ("missing", "submission.py missing"),
        ("symlink", "submission.py missing"),
    ],
)
def test_broken_submission_fails_without_crashing_the_grader(graded, case, feedback):
    report = graded[case]
    assert report["passed"] is False
    assert report["score"] == 0
    assert feedback in check(report, "app-runs")["feedback"]


def test_app_built_for_another_learner_fails(graded):
    report = graded["reference_other_variant"]
    assert report["passed"] is False
    assert check(report, "benign")["passed"] is False
    assert "401" in check(report, "benign")["feedback"]


def test_learner_code_cannot_read_the_grader_files(graded):
    assert graded["reads_hidden"]["passed"] is True  # the reference, sabotaged if it could read them
    feedback = check(graded["probes_hidden"], "app-runs")["feedback"]
    assert "RuntimeError: blocked 4 of 4" in feedback


def test_feedback_never_contains_the_grader_canary_or_keys(graded, spec):
    from mlrange.labs.registry import lab_variant

    keys = lab_variant(spec, SEED)["api_keys"]
    for report in graded.values():
        for item in report["checks"]:
            assert re.search(r"zq[0-9a-f]{10}", item["feedback"]) is None  # the grader's canary
            assert not any(key in item["feedback"] for key in keys)
