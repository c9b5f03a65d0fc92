"""The model-extraction lab: manifest (with its `services` key), notebook, oracle and grader.

The oracle runs here as a plain runtime subprocess on a temporary socket (trusted code: ours);
`manage.py check_labs model-extraction` runs it as a real lab service in its own jail.
"""

import json
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from django.test import override_settings

from mlrange.labs.registry import (
    LabValidationError,
    discover_labs,
    grader_inputs,
    lab_variant,
)
from tests.labs_content.harness import (
    ATLAS_FILE,
    check,
    grade_many,
    lab_spec_in_isolation,
    labs_in_isolation,
    passed_tiers,
    run_python,
    run_solution,
    runtime_env,
    runtime_python,
)

SLUG = "model-extraction"
REAL_ATLAS = ATLAS_FILE
TIERS = {"agreement", "transfer"}
SEED = 4


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    return lab_spec_in_isolation(SLUG, tmp_path_factory.mktemp("labs"))


def test_manifest_validates_with_its_oracle_service(spec):
    assert spec.slug == SLUG
    assert [(s.name, s.script.name, s.report_name) for s in spec.services] == [
        ("oracle", "oracle.py", "service-oracle.json")
    ]
    assert spec.files.grader_modules[-1].name == "oracle.py"
    assert {s.name: (s.expect.passed, set(s.expect.tiers)) for s in spec.solutions} == {
        "reference": (True, TIERS),
        "reference_art": (True, TIERS),
        "noise_queries": (False, set()),
        "starter": (False, set()),
        "noop": (False, set()),
    }


def test_notebook_matches_the_starter(spec):
    from mlrange.labs.assets import notebook_is_current

    assert notebook_is_current(spec)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["files"].update(grader_modules=["surrogate.py"]),
            "list oracle.py in files.grader_modules",
        ),
        (lambda d: d["artifacts"][0].update(name="service-oracle.json"), "reserved for the service's report"),
        (lambda d: d["services"][0].update(name="Oracle!"), "services[0].name"),
        (lambda d: d["services"][0].update(script="../x.py"), "services[0].script"),
        (lambda d: d["services"].append({"name": "oracle", "script": "oracle.py"}), "duplicate service"),
        (lambda d: d["services"][0].update(port=1), "services[0].port: unknown key"),
    ],
)
def test_invalid_services_are_reported(tmp_path, mutate, message):
    with override_settings(ATLAS_DATA_FILE=REAL_ATLAS), pytest.raises(LabValidationError) as error:
        discover_labs(labs_in_isolation(SLUG, tmp_path, mutate=mutate))
    assert message in str(error.value)


def test_service_reports_reach_the_grader_and_override_artifacts():
    inputs = grader_inputs(["x = 1"], {"service-oracle.json": b"forged"}, {"oracle": b'{"queries": 3}'})
    assert inputs["service-oracle.json"] == b'{"queries": 3}'
    assert inputs["submission.py"] == b"x = 1"


def test_variant_is_deterministic_and_differs_between_learners(spec):
    one, again, other = lab_variant(spec, 1), lab_variant(spec, 1), lab_variant(spec, 2)
    assert one == again
    assert one["query_budget"] == 100
    assert len(one["attack_rows"]) == 150
    assert one["attack_rows"] != other["attack_rows"]


# --- the oracle and the grader, with the runtime python (slow) -----------------------------


@pytest.fixture(scope="module")
def built(spec, tmp_path_factory):
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets_dir = tmp_path_factory.mktemp("lab-assets")
    build_lab_assets(spec, assets_dir=assets_dir)
    return lab_asset_dirs(SLUG, assets_dir)


class Oracle:
    """oracle.py as a plain subprocess on a socket in ``root``; ``report()`` reads its count."""

    def __init__(self, dirs, root: Path, variant: dict) -> None:
        self.services, self.out = root / "services", root / "out"
        self.services.mkdir(parents=True)
        self.out.mkdir()
        config = {
            "name": "oracle",
            "socket": str(self.services / "oracle.sock"),
            "report": str(self.out / "report.json"),
            "params": {"variant": variant, "hidden_dir": str(dirs.hidden)},
        }
        (root / "oracle.json").write_text(json.dumps(config))
        self.process = subprocess.Popen(
            [runtime_python(), str(dirs.grader / "oracle.py"), str(root / "oracle.json")],
            env=runtime_env(root),
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not (self.services / "oracle.sock").exists():
            assert self.process.poll() is None, "oracle exited"
            assert time.monotonic() < deadline, "oracle did not start"
            time.sleep(0.05)

    def prelude(self) -> str:
        return f"import os\nos.environ['MLRANGE_LAB_SERVICES'] = {str(self.services)!r}\n"

    def report(self) -> bytes:
        return (self.out / "report.json").read_bytes()

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.fixture(scope="module")
def graded(spec, built, tmp_path_factory):
    """Run the solutions against their own oracle, craft broken cases, grade all in one process."""
    root = tmp_path_factory.mktemp("graded")
    variant = lab_variant(spec, SEED)
    params = {"variant": variant, "grader_seed": 7}
    jobs = {}
    outputs = {}
    for solution in spec.solutions:
        if solution.name == "reference_art":
            continue  # same outcome as the reference; check_labs runs it through the sandbox
        oracle = Oracle(built, root / f"oracle-{solution.name}", variant)
        try:
            code = oracle.prelude() + solution.file.read_text()
            workdir = run_solution(
                spec, code, variant=variant, public_dir=built.public, workdir=root / solution.name
            )
            report = oracle.report()
        finally:
            oracle.stop()
        for name, data in grader_inputs([code], {}, {"oracle": report}).items():
            (workdir / name).write_bytes(data)
        outputs[solution.name] = workdir
        jobs[solution.name] = (workdir, params)
    jobs.update(_broken_cases(outputs["reference"], built, root, params))
    other = lab_variant(spec, SEED + 1)
    jobs["reference_graded_for_another_learner"] = (
        outputs["reference"],
        {"variant": other, "grader_seed": 7},
    )
    names = list(jobs)
    reports = grade_many(
        grader_dir=built.grader,
        public_dir=built.public,
        hidden_dir=built.hidden,
        jobs=[jobs[n] for n in names],
        cwd=root,
    )
    return dict(zip(names, reports, strict=True))


def _broken_cases(reference: Path, dirs, root: Path, params: dict) -> dict:
    cases = [
        "no_report",
        "over_budget",
        "other_session_code",
        "wrong_keys",
        "float64_weights",
        "pickled_surrogate",
        "symlink_surrogate",
        "adv_over_epsilon",
        "adv_nan",
        "adv_wrong_shape",
    ]
    for case in cases:
        shutil.copytree(reference, root / case)
    report = json.loads((reference / "service-oracle.json").read_text())
    (root / "no_report" / "service-oracle.json").unlink()
    (root / "over_budget" / "service-oracle.json").write_text(json.dumps({**report, "queries": 150}))
    code = report["label_code"]
    shifted = code[1:] + code[:1]  # another session's label code
    (root / "other_session_code" / "service-oracle.json").write_text(
        json.dumps({**report, "label_code": shifted})
    )
    (root / "symlink_surrogate" / "surrogate.pt").unlink()
    (root / "symlink_surrogate" / "surrogate.pt").symlink_to(reference / "surrogate.pt")
    run_python(
        textwrap.dedent(
            f"""
            import numpy as np, torch, fractions
            from pathlib import Path
            root = Path({str(root)!r})
            state = torch.load({str(reference / "surrogate.pt")!r}, weights_only=True)
            torch.save({{"layer." + k: v for k, v in state.items()}}, root / "wrong_keys" / "surrogate.pt")
            torch.save({{k: v.double() for k, v in state.items()}}, root / "float64_weights" / "surrogate.pt")
            pickled = {{"state": state, "extra": fractions.Fraction(1, 3)}}
            torch.save(pickled, root / "pickled_surrogate" / "surrogate.pt")
            adv = np.load({str(reference / "adv_transfer.npy")!r})
            x = np.load({str(dirs.public / "x_attack.npy")!r})[{params["variant"]["attack_rows"]!r}]
            np.save(root / "adv_over_epsilon" / "adv_transfer.npy", np.clip(x + 0.3, 0, 1).astype(np.float32))
            bad = adv.copy(); bad[2, 5] = np.nan
            np.save(root / "adv_nan" / "adv_transfer.npy", bad)
            np.save(root / "adv_wrong_shape" / "adv_transfer.npy", adv[:100])
            """
        ),
        cwd=root,
    )
    return {case: (root / case, params) for case in cases}


@pytest.mark.slow
def test_reference_passes_both_tiers_within_the_budget(graded):
    report = graded["reference"]
    assert report["passed"] is True
    assert report["score"] == 100
    assert passed_tiers(report, TIERS) == TIERS
    assert report["metrics"]["queries_used"] == 100
    assert report["metrics"]["agreement"] >= 0.90
    assert report["metrics"]["transfer_success"] >= 0.70


@pytest.mark.slow
def test_noise_queries_fail_both_tiers(graded):
    report = graded["noise_queries"]
    assert report["passed"] is False
    assert report["score"] == 0
    assert report["metrics"]["agreement"] < 0.6
    assert "cluster centres" in check(report, "agreement")["feedback"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["starter", "noop"])
def test_starter_and_noop_score_nothing(graded, name):
    report = graded[name]
    assert report["passed"] is False
    assert report["score"] == 0
    assert check(report, "budget")["passed"] is True


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "check_id", "feedback"),
    [
        ("no_report", "budget", "No report from the oracle"),
        ("over_budget", "budget", "150 queries in all, over your budget of 100"),
        ("wrong_keys", "surrogate-file", "does not match the Surrogate architecture"),
        ("float64_weights", "surrogate-file", "finite float32 tensors"),
        ("pickled_surrogate", "surrogate-file", "weights_only=True"),
        ("symlink_surrogate", "surrogate-file", "symbolic link"),
        ("adv_over_epsilon", "transfer-file", "farther than 0.15"),
        ("adv_nan", "transfer-file", "NaN or infinite"),
        ("adv_wrong_shape", "transfer-file", "has shape (100, 64); expected (150, 64)"),
    ],
)
def test_broken_inputs_fail_their_check_without_crashing(graded, case, check_id, feedback):
    report = graded[case]
    assert check(report, check_id)["passed"] is False
    assert feedback in check(report, check_id)["feedback"]
    assert report["passed"] is False or check_id.startswith("transfer")


@pytest.mark.slow
def test_a_surrogate_from_another_session_or_learner_fails(graded):
    assert check(graded["other_session_code"], "agreement")["passed"] is False
    assert check(graded["reference_graded_for_another_learner"], "transfer-file")["passed"] is False


@pytest.mark.slow
def test_oracle_meters_refuses_and_survives_bad_requests(built, spec, tmp_path):
    oracle = Oracle(built, tmp_path, {"query_budget": 20, "attack_rows": [0]})
    try:
        probe = oracle.prelude() + textwrap.dedent(
            f"""
            import io, json, socket, struct, sys
            import numpy as np
            sys.path.insert(0, {str(built.public)!r})
            from oracle_client import OracleError, query, status, SOCKET
            def refused(x):
                try:
                    query(x)
                    return "answered"
                except OracleError as exc:
                    return str(exc)
            def raw(body):
                with socket.socket(socket.AF_UNIX) as c:
                    c.connect(SOCKET); c.sendall(body)
                    try:
                        return c.recv(200)
                    except OSError as exc:
                        return type(exc).__name__
            pool = np.load({str(built.public / "pool.npy")!r})
            out = {{"first": query(pool[:15]).tolist()}}
            out["nan"] = refused(np.full((1, 64), np.nan, np.float32))
            out["range"] = refused(np.full((1, 64), 2.0, np.float32))
            out["shape"] = refused(np.zeros((2, 8, 8), np.float32))
            buf = io.BytesIO()
            np.save(buf, pool[:1].astype(np.float64))  # the client would convert it: send it raw
            out["float64"] = raw(struct.pack(">I", len(buf.getvalue())) + buf.getvalue()).decode(errors="replace")
            out["too_large"] = raw(struct.pack(">I", 10**7)).decode(errors="replace")
            out["garbage"] = raw(struct.pack(">I", 5) + b"hello").decode(errors="replace")
            out["over_budget"] = refused(pool[:10])
            out["last"] = query(pool[15:20]).tolist()
            out["exhausted"] = refused(pool[:1])
            out["status"] = status()
            print(json.dumps(out))
            """
        )
        result = json.loads(run_python(probe, cwd=tmp_path).strip().splitlines()[-1])
        report = json.loads(oracle.report())
    finally:
        oracle.stop()
    assert len(result["first"]) == 15
    assert len(result["last"]) == 5
    assert "NaN" in result["nan"]
    assert "[0, 1]" in result["range"]
    assert "shape" in result["shape"]
    assert "float32" in result["float64"]
    assert "too large" in result["too_large"]
    assert "not an .npy" in result["garbage"]
    assert "10 rows, 5 of your 20 queries remain" in result["over_budget"]
    assert "0 of your 20 queries remain" in result["exhausted"]
    assert result["status"] == {"used": 20, "budget": 20, "remaining": 0}
    assert report["queries"] == 20
    assert report["budget"] == 20
    assert report["refused"] >= 6
    assert sorted(report["label_code"]) == list(range(10))
