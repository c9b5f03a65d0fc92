"""The model-file-scanner lab: manifest, notebook, corpus and the grader (runtime python).

The grader calls each submission's scan() in a child process (_shared.callee) on a fresh
corpus; `manage.py check_labs model-file-scanner` runs the same solutions through the sandbox.
"""

import json
import textwrap
from pathlib import Path

import pytest
from django.test import override_settings

from tests.labs_content.harness import check, grade_many, passed_tiers, run_python, run_solution, scored

REPO = Path(__file__).resolve().parents[2]
LAB_DIR = REPO / "labs" / "model-file-scanner"
ATLAS = REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
TIERS = {"known-families", "held-out-families", "benign", "no-execution"}
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def spec():
    from mlrange.labs.registry import _validate_manifest

    with override_settings(ATLAS_DATA_FILE=ATLAS):
        lab, errors = _validate_manifest(LAB_DIR / "manifest.yaml", labs_dir=REPO / "labs", check_atlas=True)
    assert errors == []
    return lab


def test_manifest_validates_against_the_full_atlas_file(spec):
    assert (spec.slug, spec.subskill, spec.level) == (
        "model-file-scanner",
        "infrastructure-security",
        "intermediate",
    )
    assert spec.owasp == ("ML06",)
    expected = {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions}
    assert expected == {
        "reference_allowlist": (True, TIERS),
        "naive_denylist": (False, {"known-families", "no-execution"}),
        "unsafe_loader": (False, set()),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


@pytest.fixture(scope="module")
def dirs(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets = tmp_path_factory.mktemp("mfs-assets")
    build_lab_assets(spec, assets_dir=assets)
    return lab_asset_dirs(spec.slug, assets)


def _folder(root: Path, name: str, source: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "submission.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def graded(spec, dirs, tmp_path_factory):
    root = tmp_path_factory.mktemp("mfs-graded")
    sources = {s.name: s.file.read_text() for s in spec.solutions}
    run_solution(
        spec, sources["reference_allowlist"], variant={}, public_dir=dirs.public, workdir=root / "ref-run"
    )
    sources["syntax_error"] = "def scan(data, filename:\n"
    sources["not_bool"] = "def scan(data, filename):\n    return 'malicious'\n"
    sources["crashes"] = "def scan(data, filename):\n    raise ValueError('oops')\n"
    sources["dies"] = "import os\n\ndef scan(data, filename):\n    os._exit(3)\n"
    sources["rejects_everything"] = "def scan(data, filename):\n    return True\n"
    folders = {name: _folder(root, name, code) for name, code in sources.items()}
    jobs = {
        f"{name}@{seed}": (folder, {"variant": {}, "grader_seed": seed})
        for name, folder in folders.items()
        for seed in (SEEDS if name in ("reference_allowlist", "naive_denylist") else (1,))
    }
    jobs["missing_submission"] = (root / "ref-run", {"variant": {}, "grader_seed": 1})
    names = list(jobs)
    reports = grade_many(
        grader_dir=dirs.grader,
        public_dir=dirs.public,
        hidden_dir=dirs.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    return {"reports": dict(zip(names, reports, strict=True)), "ref_run": root / "ref-run"}


@pytest.mark.slow
def test_reference_run_in_the_kernel_scores_the_samples(graded):
    verdicts = json.loads((graded["ref_run"] / "scan_report.json").read_text())
    assert len(verdicts) == 9
    assert sum(verdicts.values()) == 3


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_reference_passes_every_tier(graded, seed):
    report = graded["reports"][f"reference_allowlist@{seed}"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    metrics = report["metrics"]
    assert metrics["malicious_caught"] == metrics["malicious_total"] == 16
    assert metrics["benign_flagged"] == 0
    assert metrics["payloads_executed"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_naive_deny_list_misses_held_out_families_and_raises_false_alarms(graded, seed):
    report = graded["reports"][f"naive_denylist@{seed}"]
    assert report["passed"] is False
    assert report["score"] == 40
    assert passed_tiers(report, TIERS) == {"known-families", "no-execution"}
    assert report["metrics"]["held_out_caught"] <= 11  # at least two held-out files missed
    assert report["metrics"]["benign_flagged"] >= 2
    feedback = check(report, "held-out-families")["feedback"]
    assert "Missed files by format" in feedback
    for family in ("timeit", "runpy", "npy-object", "getattr"):
        assert family not in feedback


@pytest.mark.slow
def test_loading_scanner_runs_payloads_and_gets_nothing(graded):
    report = graded["reports"]["unsafe_loader@1"]
    assert report["score"] == 0
    assert passed_tiers(report, TIERS) == set()
    assert report["metrics"]["payloads_executed"] >= 10
    assert "ran inside your scanner" in check(report, "no-execution")["feedback"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["starter@1", "noop@1", "rejects_everything@1"])
def test_starter_noop_and_reject_all_fail(graded, name):
    report = graded["reports"][name]
    assert report["passed"] is False
    assert passed_tiers(report, TIERS) <= {"known-families", "held-out-families", "no-execution"}
    if name != "rejects_everything@1":
        assert report["score"] == 0
    else:
        assert check(report, "benign")["passed"] is False


@pytest.mark.parametrize(
    ("name", "feedback"),
    [
        ("syntax_error@1", "your code failed to load: SyntaxError"),
        ("missing_submission", "submission.py missing"),
    ],
)
@pytest.mark.slow
def test_code_that_does_not_load_fails_with_feedback(graded, name, feedback):
    report = graded["reports"][name]
    assert report["score"] == 0
    assert check(report, "scanner")["passed"] is False
    assert feedback in check(report, "scanner")["feedback"]


@pytest.mark.parametrize(
    ("name", "feedback"),
    [
        ("not_bool@1", "scan() returned str, not True or False"),
        ("crashes@1", "scan() raised ValueError."),  # never the learner's message: it may carry data
        ("dies@1", "ended the process"),
    ],
)
@pytest.mark.slow
def test_misbehaving_scanners_fail_without_crashing_the_grader(graded, name, feedback):
    report = graded["reports"][name]
    assert report["score"] == 0
    assert report["passed"] is False
    assert feedback in check(report, "known-families")["feedback"]


@pytest.mark.slow
def test_grader_never_unpickles(spec, dirs, tmp_path):
    """Grading works with every unpickling entry point of the grader's process disabled."""
    folder = _folder(tmp_path, "ref", (LAB_DIR / "solutions" / "reference_allowlist.py").read_text())
    script = textwrap.dedent(
        f"""
        import json, pickle, sys, types, _pickle
        from pathlib import Path
        def refuse(*args, **kwargs):
            raise AssertionError("the grader unpickled something")
        import numpy, torch
        for module, name in [(pickle, "loads"), (pickle, "load"), (pickle, "Unpickler"),
                             (_pickle, "loads"), (_pickle, "load"), (_pickle, "Unpickler"),
                             (torch, "load"), (numpy, "load")]:
            setattr(module, name, refuse)
        sys.path.insert(0, {str(dirs.grader)!r})
        import grader
        ctx = types.SimpleNamespace(artifacts_dir=Path({str(folder)!r}), public_dir=Path({str(dirs.public)!r}),
                                    hidden_dir=Path({str(dirs.hidden)!r}), params={{"variant": {{}}, "grader_seed": 7}})
        print(json.dumps(grader.grade(ctx)))
        """
    )
    report = scored(spec, json.loads(run_python(script, cwd=tmp_path).strip().splitlines()[-1]))
    assert report["score"] == 100


@pytest.mark.slow
def test_every_malicious_file_really_runs_its_payload_and_no_benign_one_does(tmp_path):
    """The canary proof means something: loading each file the way its format invites reports
    to the grader's canary FIFO, and only then."""
    script = textwrap.dedent(
        f"""
        import io, json, pickle, random, sys
        from pathlib import Path
        sys.path.insert(0, {str(LAB_DIR)!r})
        sys.path.insert(0, {str(LAB_DIR.parent)!r})
        import numpy as np, torch
        from corpus import build_corpus, stem
        from _shared.canary import CanaryPipe
        pipe = CanaryPipe()
        wrong = []
        for seed in (11, 12):
            for f in build_corpus(random.Random(seed), pipe.target):
                try:
                    if f.data[:6] == b"\\x93NUMPY":
                        np.load(io.BytesIO(f.data), allow_pickle=True)
                    elif f.data[:4] == b"PK\\x03\\x04" or "torch" in f.family:
                        torch.load(io.BytesIO(f.data), weights_only=False)
                    else:
                        pickle.loads(f.data)
                except Exception:
                    pass
                pipe.drain()
                ran = stem(f) in pipe.fired([stem(f)])
                if ran != f.malicious:
                    wrong.append(f.family)
        print(json.dumps(wrong))
        """
    )
    assert json.loads(run_python(script, cwd=tmp_path).strip().splitlines()[-1]) == []
