"""The federated-secure-aggregation lab: manifest, variant, notebook, and its grader run in the real
grader sandbox on the lab's own solutions and on broken submissions.

The grader calls the learner's functions through _shared.callee, so every graded folder only
needs `submission.py`; `manage.py check_labs` runs the same solutions through the real sandbox.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_in_sandbox, passed_tiers, run_solution

SLUG = "federated-secure-aggregation"
REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / SLUG
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"fedavg", "secure-sum", "hiding", "dropout"}
SEED = 4  # learner seed of these tests: 10 clients


@pytest.fixture(autouse=True)
def _full_atlas():
    """This lab cites ids beyond the conftest's small ATLAS subset: validate against the real file."""
    with override_settings(ATLAS_DATA_FILE=ATLAS):
        yield


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import get_lab

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        return get_lab(SLUG, REPO / "labs")


def test_manifest_validates_and_says_what_the_brief_says(spec):
    assert (spec.subskill, spec.level) == ("privacy-preserving-ml", "advanced")
    assert spec.atlas == ("AML.M0012", "AML.T0024.001", "AML.T0024.000")
    assert spec.owasp == ("ML03", "ML04")
    assert [t.id for t in spec.tiers] == ["fedavg", "secure-sum", "hiding", "dropout"]
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference": (True, TIERS),
        "naive": (False, {"fedavg", "secure-sum"}),
        "starter": (False, set()),
        "noop": (False, set()),
    }
    brief = spec.files.brief.read_text()
    for line in ("0.60", "1e-3", "0.10", "99%"):
        assert line in brief


def test_committed_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


def test_variant_is_deterministic_and_covers_every_federation_size(spec):
    from mlrange.labs.registry import lab_variant

    variants = [lab_variant(spec, seed) for seed in range(60)]
    assert {v["num_clients"] for v in variants} == {8, 10, 12}
    assert len({v["partition_seed"] for v in variants}) == 60
    assert lab_variant(spec, 123) == lab_variant(spec, 123)
    assert lab_variant(spec, SEED)["num_clients"] == 10


# Broken submissions: the reference with one function redefined at the end of the module.
OVERRIDES = {
    "update_wrong_shape": "def local_update(weights, x, y):\n    return weights[:100]\n",
    "update_nan": "def local_update(weights, x, y):\n    return weights * np.nan\n",
    "update_from_scratch": (
        "_trained = local_update\n"
        "def local_update(weights, x, y):\n"
        "    from fedlab import initial_weights\n"
        "    return _trained(initial_weights(0), x, y)\n"
    ),
    "mask_float": "def mask_update(update, client_id, pair_keys, round_index):\n    return update\n",
    "mask_from_id_only": (
        "def mask_update(update, client_id, pair_keys, round_index):\n"
        "    masked = encode(update)\n"
        "    for peer, _key in pair_keys:\n"
        "        pair = min(client_id, peer) * 1000 + max(client_id, peer)\n"
        "        mask = prg_mask(pair.to_bytes(32, 'little'), round_index, masked.size)\n"
        "        masked = masked + mask if client_id < peer else masked - mask\n"
        "    return masked\n"
    ),
    "hard_coded_eight_clients": (
        "_aggregate = unmask_aggregate\n"
        "def unmask_aggregate(masked, client_ids, dropped, revealed_keys, round_index):\n"
        "    return _aggregate(masked, client_ids, dropped, revealed_keys, round_index) * len(client_ids) / 8\n"
    ),
}


@pytest.fixture(scope="module")
def workspace():
    """A private folder under MLRANGE_VAR_DIR: pytest's shared basetemp is pruned by concurrent runs."""
    from django.conf import settings

    path = Path(tempfile.mkdtemp(prefix="fsa-tests-", dir=settings.VAR_DIR))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def graded(spec, workspace):
    """Build the assets, run the starter, and grade every case in one runtime process."""
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs
    from mlrange.labs.registry import lab_variant

    assets_dir = workspace / "assets"
    build_lab_assets(spec, assets_dir=assets_dir)
    dirs = lab_asset_dirs(SLUG, assets_dir)
    root = workspace / "graded"
    root.mkdir()
    variant = lab_variant(spec, SEED)
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    reference = sources["reference"]
    sources.update({name: f"{reference}\n\n{code}" for name, code in OVERRIDES.items()})
    sources["syntax_error"] = "def local_update(:\n"

    folders = {}
    for name, code in sources.items():
        folder = root / name
        folder.mkdir()
        (folder / "submission.py").write_text(code)
        folders[name] = folder
    # The starter must run end to end in a kernel-like process (its demo is under __main__).
    run_solution(
        spec, sources["starter"], variant=variant, public_dir=dirs.public, workdir=root / "starter-run"
    )
    assert (root / "starter-run" / "selfcheck.json").is_file()

    params = {"variant": variant, "grader_seed": 11}
    jobs = {name: (folder, params) for name, folder in folders.items()}
    jobs["hard_coded_eight_clients_own_variant"] = (
        folders["hard_coded_eight_clients"],
        {"variant": {**variant, "num_clients": 8}, "grader_seed": 12},
    )
    names = list(jobs)
    reports = grade_in_sandbox(spec, dirs, [jobs[n] for n in names])
    shutil.rmtree(root / "starter-run", ignore_errors=True)
    return dict(zip(names, reports, strict=True))


pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


def test_reference_passes_every_tier(graded):
    report = graded["reference"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert report["metrics"]["fedavg_accuracy"] >= 0.65
    assert report["metrics"]["secure_sum_max_error"] < 1e-4
    assert report["metrics"]["num_clients"] == 10


def test_naive_reuses_masks_and_ignores_dropouts(graded):
    report = graded["naive"]
    assert report["passed"] is False
    assert passed_tiers(report, TIERS) == {"fedavg", "secure-sum"}
    assert "repeat in the next round" in check(report, "hiding")["feedback"]
    assert "revealed keys" in check(report, "dropout")["feedback"]


def test_starter_and_noop_score_nothing(graded):
    for name in ("starter", "noop"):
        assert graded[name]["score"] == 0, name
        assert passed_tiers(graded[name], TIERS) == set(), name
    assert "defines no 'local_update'" in check(graded["noop"], "fedavg")["feedback"]
    assert "not uniform" in check(graded["starter"], "hiding")["feedback"]


@pytest.mark.parametrize(
    ("case", "tier", "feedback"),
    [
        ("update_wrong_shape", "fedavg", "expected (2410,)"),
        ("update_nan", "fedavg", "NaN or infinite"),
        ("update_from_scratch", "fedavg", "not from scratch"),
        ("mask_float", "secure-sum", "expected uint32"),
        ("mask_from_id_only", "hiding", "when one pair key changes"),
        ("syntax_error", "dropout", "failed to load"),
    ],
)
def test_broken_submission_fails_its_tier_with_feedback_not_a_crash(graded, case, tier, feedback):
    report = graded[case]
    assert report["passed"] is False
    assert check(report, tier)["passed"] is False
    assert feedback in check(report, tier)["feedback"]


def test_broken_secure_aggregation_keeps_the_fedavg_tier(graded):
    for case in ("mask_float", "mask_from_id_only"):
        assert check(graded[case], "fedavg")["passed"] is True, case
    assert passed_tiers(graded["mask_from_id_only"], TIERS) == {"fedavg", "secure-sum"}


def test_code_written_for_another_federation_fails_for_this_one(graded):
    """The grader uses the variant in params: a server that assumes 8 clients fails with 10."""
    assert check(graded["hard_coded_eight_clients"], "secure-sum")["passed"] is False
    own = graded["hard_coded_eight_clients_own_variant"]
    assert check(own, "secure-sum")["passed"] is True
    assert own["metrics"]["num_clients"] == 8


def test_feedback_reveals_no_hidden_data(graded):
    for report in graded.values():
        for item in report["checks"]:
            assert "x_test" not in item["feedback"]
            assert "y_test" not in item["feedback"]
