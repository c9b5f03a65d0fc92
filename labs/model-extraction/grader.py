"""Trusted grader of the model-extraction lab.

Trusts only: its own victim and inputs (/lab/hidden), the learner's variant (params) and the
oracle's report (service-oracle.json), which the platform reads from the oracle's own jail,
never from the learner's kernel. It checks the report proves the query budget was kept,
loads the surrogate state_dict safely, measures agreement with the victim on hidden inputs
plus freshly jittered copies (grader_seed), and the transfer attack on the victim.
"""

import json
from pathlib import Path

import numpy as np
import torch
from surrogate import N_FEATURES, Surrogate

from _shared.artifacts import ArtifactError, load_npy, load_state_dict, read_artifact_bytes
from _shared.grading import Check, grade_result
from _shared.variants import variant_int, variant_int_list

AGREEMENT_LINE = 0.85
TRANSFER_LINE = 0.60
EPS_TRANSFER = 0.15
EPS_TOLERANCE = 1e-6
JITTER_SIGMA = 0.05
MAX_SURROGATE_BYTES = 262_144
MAX_ADV_BYTES = 65_536
REPORT_NAME = "service-oracle.json"


def _variant(params: dict) -> tuple[int, list[int]]:
    return variant_int(params, "query_budget", 1), variant_int_list(params, "attack_rows", high=299)


def _victim(hidden_dir: Path) -> Surrogate:
    model = Surrogate()
    model.load_state_dict(torch.load(hidden_dir / "victim.pt", map_location="cpu", weights_only=True))
    return model.eval()


def _predict(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).argmax(1).numpy()


def _oracle_report(artifacts_dir: Path, budget: int) -> tuple[list[int] | None, int, str]:
    """(label code, queries used, feedback); code is None when the budget is not proven."""
    try:
        report = json.loads(read_artifact_bytes(artifacts_dir / REPORT_NAME, max_bytes=65_536))
    except (ArtifactError, ValueError):
        return (
            None,
            0,
            (
                "No report from the oracle reached the grader, so the query budget cannot be proven. "
                "Query the oracle only through oracle_client in the graded run."
            ),
        )
    code = report.get("label_code") if isinstance(report, dict) else None
    used = report.get("queries") if isinstance(report, dict) else None
    earlier = report.get("previously_used", 0) if isinstance(report, dict) else None
    if (
        not isinstance(used, int)
        or not isinstance(earlier, int)
        or not isinstance(code, list)
        or sorted(code) != list(range(10))
    ):
        return None, 0, "The oracle's report is unreadable (our fault): please submit again."
    total = earlier + used
    if total > budget or report.get("budget") != budget:
        return None, total, f"The oracle served {total} queries in all, over your budget of {budget}."
    return (
        code,
        total,
        f"The oracle served {used} queries in this run and {total} of your {budget} in all of your "
        "runs of this lab: within budget.",
    )


def _load_surrogate(path: Path) -> Surrogate:
    state = load_state_dict(path, max_bytes=MAX_SURROGATE_BYTES)
    model = Surrogate()
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    got = {name: tuple(t.shape) for name, t in state.items()}
    if got != expected:
        missing = sorted(set(expected) - set(got))[:3]
        extra = sorted(set(got) - set(expected))[:3]
        wrong = sorted(n for n in set(expected) & set(got) if expected[n] != got[n])[:3]
        raise ArtifactError(
            f"{path.name} does not match the Surrogate architecture of surrogate.py "
            f"(missing {missing}, unexpected {extra}, wrong shapes {wrong}): save Surrogate().state_dict()."
        )
    if any(t.dtype != torch.float32 or not torch.isfinite(t).all() for t in state.values()):
        raise ArtifactError(f"{path.name} must hold finite float32 tensors.")
    model.load_state_dict(state)
    return model.eval()


def _check(check_id: str, title: str, passed: bool, feedback: str) -> Check:
    return Check(check_id, title, passed, feedback)


def _line_check(  # noqa: PLR0917 -- one tier's wording, in reading order
    check_id: str, title: str, value: float | None, line: float, measured: str, hint: str
) -> Check:
    """A tier measured against its line; None: a check above failed, so it is not scored."""
    if value is None:
        return _check(check_id, title, False, "Not scored: fix the checks above first.")
    ok = value >= line
    return _check(check_id, title, ok, f"{measured} {value:.3f}; the line is {line:.2f}.{'' if ok else hint}")


def grade(ctx) -> dict:
    torch.set_num_threads(1)
    budget, rows = _variant(ctx.params)
    hidden, artifacts = Path(ctx.hidden_dir), Path(ctx.artifacts_dir)
    victim = _victim(hidden)
    x_eval = np.load(hidden / "x_eval.npy", allow_pickle=False)
    rng = np.random.default_rng(int(ctx.params.get("grader_seed", 0)))
    jitter = np.clip(x_eval + rng.normal(0.0, JITTER_SIGMA, x_eval.shape), 0.0, 1.0).astype(np.float32)
    x_check = np.concatenate([x_eval, jitter])
    x_attack = np.load(hidden / "x_attack.npy", allow_pickle=False)[rows]

    checks: list[Check] = []
    metrics: dict[str, float] = {"query_budget": float(budget)}
    code, used, feedback = _oracle_report(artifacts, budget)
    metrics["queries_used"] = float(used)
    checks.append(_check("budget", "The oracle's report proves the query budget", code is not None, feedback))

    agreement = None
    try:
        surrogate = _load_surrogate(artifacts / "surrogate.pt")
        problem = None
    except ArtifactError as exc:
        surrogate, problem = None, str(exc)
    checks.append(
        _check(
            "surrogate-file", "surrogate.pt is valid", problem is None, problem or "Loaded as a Surrogate."
        )
    )
    if surrogate is not None and code is not None:
        victim_labels = np.asarray(code)[_predict(victim, x_check)]
        agreement = float((_predict(surrogate, x_check) == victim_labels).mean())
    checks.append(
        _line_check(
            "agreement",
            f"Agreement >= {AGREEMENT_LINE:.2f}",
            agreement,
            AGREEMENT_LINE,
            "Agreement with the victim on hidden inputs",
            " Query inputs from the victim's own distribution (pool.npy), chosen to cover it "
            "(e.g. cluster centres), and make use of the unlabelled pool beyond the queried rows.",
        )
    )

    transfer = None
    try:
        adversarial = load_npy(
            artifacts / "adv_transfer.npy",
            max_bytes=MAX_ADV_BYTES,
            shape=(len(rows), N_FEATURES),
            dtype="float32",
            value_range=(0.0, 1.0),
        )
        distance = np.abs(adversarial.astype(np.float64) - x_attack).max(axis=1)
        if (distance > EPS_TRANSFER + EPS_TOLERANCE).any():
            raise ArtifactError(
                f"adv_transfer.npy: {int((distance > EPS_TRANSFER + EPS_TOLERANCE).sum())} rows are farther "
                f"than {EPS_TRANSFER:g} (L-infinity) from x_attack[LAB['attack_rows']] (in that order)."
            )
        problem = None
    except ArtifactError as exc:
        adversarial, problem = None, str(exc)
    checks.append(
        _check("transfer-file", "adv_transfer.npy is valid", problem is None, problem or "Well formed.")
    )
    if adversarial is not None and code is not None:
        transfer = float((_predict(victim, adversarial) != _predict(victim, x_attack)).mean())
    checks.append(
        _line_check(
            "transfer",
            f"Transfer attack at epsilon {EPS_TRANSFER:g}",
            transfer,
            TRANSFER_LINE,
            "The victim changed its label on this share of your rows:",
            " Run PGD on a faithful surrogate; a poor surrogate's gradients transfer badly.",
        )
    )
    metrics["agreement"] = agreement if agreement is not None else 0.0
    metrics["transfer_success"] = transfer if transfer is not None else 0.0
    return grade_result(checks, metrics)
