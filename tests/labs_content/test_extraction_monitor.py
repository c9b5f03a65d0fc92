"""The extraction-monitor lab: manifest, notebook, variant, and the grader run with the runtime python.

Solutions run in a plain runtime subprocess (trusted code: ours) to write monitor_config.json;
the grader then calls each submission's Monitor in a confined child process (through
_shared.callee.LearnerProcess) on fresh streams. `manage.py check_labs extraction-monitor`
runs the same solutions through the sandbox.
"""

import ast
import json
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers, run_solution

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / "extraction-monitor"
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
FAMILIES = {"noise", "jacobian", "synthetic", "knockoff", "boundary", "sybil"}
TIERS = FAMILIES | {"benign"}
LEARNER_SEED = 2  # profile "post"
MARGIN_SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LAB_DIR / "manifest.yaml", labs_dir=REPO / "labs", check_atlas=True)
    assert errors == []
    return lab


def test_manifest_validates_against_the_full_atlas_file(spec):
    assert (spec.slug, spec.subskill, spec.level) == (
        "extraction-monitor",
        "infrastructure-security",
        "advanced",
    )
    assert spec.atlas == ("AML.T0024.002", "AML.T0040", "AML.M0004", "AML.M0015")
    assert sum(t.points for t in spec.tiers) == 100
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "naive_count": (False, set()),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_profiles_match_the_traffic_generator(spec):
    from mlrange.labs.registry import lab_variant

    def profiles(path: Path) -> dict:
        tree = ast.parse(path.read_text())
        node = next(n for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "PROFILES")
        return ast.literal_eval(node.value)

    expected = profiles(LAB_DIR / "traffic.py")
    assert profiles(LAB_DIR / "variant.py") == expected
    for seed in range(8):
        profile = dict(lab_variant(spec, seed)["profile"])
        assert expected[profile.pop("name")] == profile
    assert {lab_variant(spec, seed)["profile"]["name"] for seed in range(4)} == set(expected)
    assert lab_variant(spec, LEARNER_SEED)["profile"]["name"] == "post"


def _submission(folder: Path, source: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "submission.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def graded(spec, tmp_path_factory):
    """Run the solutions, craft broken configs and monitors, then grade everything in one process."""
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs
    from mlrange.labs.registry import lab_variant

    assets = tmp_path_factory.mktemp("em-assets")
    build_lab_assets(spec, assets_dir=assets)
    dirs = lab_asset_dirs(spec.slug, assets)
    root = tmp_path_factory.mktemp("em-graded")
    variant = lab_variant(spec, LEARNER_SEED)
    clinic, school = lab_variant(spec, 0), lab_variant(spec, 3)
    assert (clinic["profile"]["name"], school["profile"]["name"]) == ("clinic", "school")
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    folders = {}
    for name, code in sources.items():
        folders[name] = _submission(
            run_solution(spec, code, variant=variant, public_dir=dirs.public, workdir=root / name), code
        )
    folders["reference_for_clinic"] = _submission(
        run_solution(
            spec, sources["reference"], variant=clinic, public_dir=dirs.public, workdir=root / "clinic"
        ),
        sources["reference"],
    )
    good_config = (folders["reference"] / "monitor_config.json").read_text()
    broken_configs = {
        "config_not_json": "{'prada_w': 0.8}",
        "config_nan": good_config.replace('"prada_w": 0.8', '"prada_w": NaN'),
        "config_list": "[1, 2, 3]",
        "config_too_big": json.dumps({"pad": "x" * 70_000}),
        "config_deep": "[" * 30_000 + "]" * 30_000,
    }
    for case, text in broken_configs.items():
        folder = _submission(root / case, sources["reference"])
        (folder / "monitor_config.json").write_text(text)
    folder = _submission(root / "config_symlink", sources["reference"])
    (folder / "monitor_config.json").symlink_to(folders["reference"] / "monitor_config.json")
    monitors = {
        "syntax_error": "class Monitor(:\n",
        "no_monitor_class": "x = 1\n",
        "not_bool": (
            "class Monitor:\n    def __init__(self, config, x_train):\n        pass\n"
            "    def observe(self, client_id, inputs, probs):\n        return 'alarm'\n"
        ),
        "crashes": (
            "class Monitor:\n    def __init__(self, config, x_train):\n        pass\n"
            "    def observe(self, client_id, inputs, probs):\n        raise ValueError('oops')\n"
        ),
        "reads_hidden": (
            "import numpy as np\n"
            f"try:\n    np.load({str(dirs.hidden / 'benign_x.npy')!r})\n    LEAKED = True\n"
            "except OSError:\n    LEAKED = False\n"
            "class Monitor:\n    def __init__(self, config, x_train):\n        pass\n"
            "    def observe(self, client_id, inputs, probs):\n        return 'leaked' if LEAKED else True\n"
        ),
    }
    for case, code in monitors.items():
        folder = _submission(root / case, code)
        (folder / "monitor_config.json").write_text(good_config)
    for case in [*broken_configs, "config_symlink", *monitors]:
        folders[case] = root / case
    params = {"variant": variant, "grader_seed": 11}
    jobs = {name: (folder, params) for name, folder in folders.items() if not name.startswith("reference")}
    for seed in MARGIN_SEEDS:
        jobs[f"reference_seed_{seed}"] = (folders["reference"], {"variant": variant, "grader_seed": seed})
    jobs["clinic_config_graded_as_school"] = (
        folders["reference_for_clinic"],
        {"variant": school, "grader_seed": 4},
    )
    names = list(jobs)
    reports = grade_many(
        grader_dir=dirs.grader,
        public_dir=dirs.public,
        hidden_dir=dirs.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    return dict(zip(names, reports, strict=True))


@pytest.mark.slow
def test_reference_passes_every_tier_with_margin_over_grader_seeds(graded):
    for seed in MARGIN_SEEDS:
        report = graded[f"reference_seed_{seed}"]
        assert report["passed"] is True, seed
        assert passed_tiers(report, TIERS) == TIERS, seed
        assert report["metrics"]["benign_streams_flagged"] == 0.0, seed
        for family in FAMILIES:
            assert report["metrics"][f"{family}_detected"] == 5.0, (seed, family)
            assert report["metrics"][f"{family}_median_queries"] <= 60, (seed, family)
        assert report["metrics"]["monitor_seconds"] < 30, seed


@pytest.mark.slow
def test_naive_quota_flags_customers_and_scores_nothing(graded):
    report = graded["naive_count"]
    assert report["score"] == 0
    assert report["metrics"]["benign_streams_flagged"] >= 8
    assert "do not alarm on volume alone" in check(report, "benign")["feedback"]
    assert report["metrics"]["sybil_detected"] <= 1  # each id stays under the quota
    assert "count only while benign streams are not flagged" in check(report, "noise")["feedback"]


@pytest.mark.slow
def test_starter_never_alarms_and_scores_nothing(graded):
    report = graded["starter"]
    assert report["score"] == 0
    assert check(report, "monitor-runs")["passed"] is True
    assert report["metrics"]["attack_streams_detected"] == 0.0
    assert "must also catch something" in check(report, "benign")["feedback"]


@pytest.mark.slow
def test_noop_fails_with_missing_file_feedback(graded):
    report = graded["noop"]
    assert report["score"] == 0
    assert check(report, "config-file")["feedback"] == (
        "monitor_config.json was not handed in: write it into the working folder."
    )


@pytest.mark.slow
def test_config_for_another_profile_fails_the_false_alarm_line(graded):
    report = graded["clinic_config_graded_as_school"]
    assert report["passed"] is False
    assert report["metrics"]["benign_streams_flagged"] >= 2
    assert passed_tiers(report, TIERS) == set()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "check_id", "feedback"),
    [
        ("config_not_json", "config-file", "is not valid UTF-8 JSON"),
        ("config_nan", "config-file", "no NaN or Infinity"),
        ("config_list", "config-file", "must hold a JSON object (a dict), not a list"),
        ("config_too_big", "config-file", "the limit is 65536 bytes"),
        ("config_deep", "config-file", "is not valid UTF-8 JSON"),
        ("config_symlink", "config-file", "is a symbolic link"),
        ("syntax_error", "monitor-runs", "your code failed to load: SyntaxError"),
        ("no_monitor_class", "monitor-runs", "defines no 'Monitor'"),
        ("crashes", "monitor-runs", "observe() raised ValueError."),
        ("not_bool", "monitor-runs", "other than True/False"),
    ],
)
def test_broken_submission_fails_without_crashing_the_grader(graded, case, check_id, feedback):
    report = graded[case]
    assert report["passed"] is False
    assert report["score"] == 0
    assert check(report, check_id)["passed"] is False
    assert feedback in check(report, check_id)["feedback"]


@pytest.mark.slow
def test_monitor_cannot_read_the_hidden_streams(graded):
    report = graded["reads_hidden"]
    assert check(report, "monitor-runs")["passed"] is True  # LEAKED stayed False
    assert report["metrics"]["non_bool_answers"] == 0.0
    assert report["metrics"]["benign_streams_flagged"] == 10.0  # flagging everyone: no tier counts
    assert report["score"] == 0


@pytest.mark.slow
def test_feedback_never_reveals_client_ids_or_hidden_data(graded):
    for report in graded.values():
        for item in report["checks"]:
            assert "c-" not in item["feedback"], item["feedback"]
            assert "hidden" not in item["feedback"].lower(), item["feedback"]
