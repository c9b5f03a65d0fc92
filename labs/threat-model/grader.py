"""Trusted grader of the threat-model lab.

Checks threat_model.json against the learner's system (the variant in params), validates
every ATLAS id against the ATLAS 5.6.0 data in the hidden assets (techniques in `atlas`,
mitigations in `mitigations`), then scores coverage of the system's required threat
categories (the answer key, categories.json in the hidden assets), STRIDE breadth, whether
each mitigation is one ATLAS maps to the threat's techniques, and the residual-risk
reasoning. Feedback names missed
categories, never the ids that would have covered them. Deterministic: no randomness.
"""

import json
import re
from pathlib import Path

from _shared.artifacts import ArtifactError, read_artifact_bytes
from _shared.grading import Check, grade_result

ARTIFACT = "threat_model.json"
MAX_BYTES = 262_144
TITLES = {
    "structure": "A well-formed threat model of your system with real ATLAS 5.6.0 ids",
    "coverage-core": "Covers all but at most two of the required threat categories",
    "coverage-full": "Covers every required threat category",
    "stride": "Threats span at least four STRIDE categories",
    "mitigations": "Every mapped threat has a mitigation ATLAS ties to its techniques",
    "residual": "Residual risk is rated and justified for every threat",
}
STRIDE = (
    "Spoofing",
    "Tampering",
    "Repudiation",
    "Information Disclosure",
    "Denial of Service",
    "Elevation of Privilege",
)
LEVELS = {"low": 0, "medium": 1, "high": 2}
TECHNIQUE = re.compile(r"^AML\.T\d{4}(\.\d{3})?$")
MITIGATION = re.compile(r"^AML\.M\d{4}$")
OWASP = re.compile(r"^ML(0[1-9]|10)$")
MAX_THREATS = 25
MIN_THREATS = 5
MAX_TECHNIQUES_PER_THREAT = 3
MIN_TEXT = 20
MIN_STRIDE = 4


class ModelError(Exception):
    """The threat model is malformed; the message says what to fix."""


def _text(value: object, where: str, minimum: int = 1) -> str:
    if not isinstance(value, str) or len(value.strip()) < minimum:
        raise ModelError(f"{where} must be a text of at least {minimum} characters")
    return value.strip()


def _items(value: object, where: str, low: int, high: int) -> list:
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise ModelError(f"{where} must be a list of {low} to {high} entries")
    return value


def _entries(model: dict, key: str, low: int) -> dict[str, dict]:
    entries: dict[str, dict] = {}
    for index, item in enumerate(_items(model.get(key), key, low, 50)):
        if not isinstance(item, dict):
            raise ModelError(f"{key}[{index}] must be an object")
        ident = _text(item.get("id"), f"{key}[{index}].id")
        _text(item.get("name"), f"{key}[{index}].name")
        if ident in entries:
            raise ModelError(f"{key}: duplicate id {ident!r}")
        entries[ident] = item
    return entries


def _validate(  # noqa: PLR0912, PLR0915 -- one check per field of the format
    model: object, system: str, atlas: dict
) -> tuple[list[dict], list[str]]:
    """The threats (normalised) and the problems found; raises ModelError on a fatal one."""
    if not isinstance(model, dict):
        raise ModelError(f"{ARTIFACT} must hold one JSON object")
    if model.get("system") != system:
        raise ModelError(
            f'"system" is {model.get("system")!r}, but your system is {system!r} '
            f"(LAB['system']): threat-model the system in systems/{system}.md"
        )
    assets = _entries(model, "assets", 3)
    boundaries = _entries(model, "trust_boundaries", 2)
    problems: list[str] = []
    threats: list[dict] = []
    titles: set[str] = set()
    for index, item in enumerate(_items(model.get("threats"), "threats", MIN_THREATS, MAX_THREATS)):
        where = f"threats[{index}]"
        if not isinstance(item, dict):
            raise ModelError(f"{where} must be an object")
        try:
            ident = _text(item.get("id"), f"{where}.id")
            where = f"threat {ident!r}"
            title = _text(item.get("title"), f"{where}.title")
            if title.lower() in titles:
                raise ModelError(f"{where}: another threat has the same title")
            titles.add(title.lower())
            _text(item.get("description"), f"{where}.description", MIN_TEXT)
            stride = item.get("stride")
            if stride not in STRIDE:
                raise ModelError(f"{where}.stride must be one of: {', '.join(STRIDE)}")
            threat_assets = _items(item.get("assets"), f"{where}.assets", 1, 20)
            unknown = [a for a in threat_assets if a not in assets]
            if unknown:
                raise ModelError(f"{where}.assets names unknown asset ids {unknown}")
            if item.get("boundary") not in boundaries:
                raise ModelError(f"{where}.boundary must be the id of one of your trust boundaries")
            techniques = _items(item.get("atlas"), f"{where}.atlas", 1, MAX_TECHNIQUES_PER_THREAT)
            for tid in techniques:
                if not isinstance(tid, str) or not TECHNIQUE.match(tid):
                    raise ModelError(f"{where}.atlas: {tid!r} is not an ATLAS technique id (AML.Tnnnn[.nnn])")
                if tid not in atlas["techniques"]:
                    raise ModelError(f"{where}.atlas: {tid} is not a technique in MITRE ATLAS 5.6.0")
            for oid in item.get("owasp", []):
                if not isinstance(oid, str) or not OWASP.match(oid):
                    raise ModelError(f"{where}.owasp: {oid!r} is not an OWASP ML Top 10 id (ML01..ML10)")
            mitigations = []
            for m_index, mitigation in enumerate(
                _items(item.get("mitigations"), f"{where}.mitigations", 1, 10)
            ):
                if not isinstance(mitigation, dict):
                    raise ModelError(f"{where}.mitigations[{m_index}] must be an object")
                mid = mitigation.get("atlas")
                if not isinstance(mid, str) or not MITIGATION.match(mid) or mid not in atlas["mitigations"]:
                    raise ModelError(
                        f"{where}.mitigations[{m_index}].atlas: {mid!r} "
                        "is not a mitigation in MITRE ATLAS 5.6.0"
                    )
                _text(mitigation.get("description"), f"{where}.mitigations[{m_index}].description", 10)
                mitigations.append(mid)
            levels = {}
            for key in ("likelihood", "impact", "residual_risk"):
                if item.get(key) not in LEVELS:
                    raise ModelError(f"{where}.{key} must be low, medium or high")
                levels[key] = LEVELS[item[key]]
            rationale = item.get("residual_rationale")
            threats.append(
                {
                    "id": ident,
                    "stride": stride,
                    "techniques": list(techniques),
                    "mitigations": mitigations,
                    "levels": levels,
                    "rationale": rationale.strip() if isinstance(rationale, str) else "",
                }
            )
        except ModelError as exc:
            problems.append(str(exc))
    return threats, problems


def _family(tid: str) -> str:
    return tid[:9]  # AML.Tnnnn


def _matches(tid: str, wanted: str) -> bool:
    """tid is wanted, a sub-technique of it, or its parent."""
    return tid == wanted or _family(tid) == wanted or tid == _family(wanted)


def _covered(threat: dict, category: dict) -> bool:
    return any(_matches(t, w) for t in threat["techniques"] for w in category["techniques"])


def _grounded(threat: dict, atlas: dict) -> bool:
    """A mitigation ATLAS maps to one of the threat's techniques (any real one if ATLAS maps none)."""
    mapped = {
        mid
        for mid, entry in atlas["mitigations"].items()
        if any(_matches(addressed, t) for addressed in entry["techniques"] for t in threat["techniques"])
    }
    return bool(set(threat["mitigations"]) & mapped) if mapped else bool(threat["mitigations"])


def _tier(tier: str, passed: bool, feedback: str) -> Check:
    return Check(tier, TITLES[tier], passed, feedback)


def grade(ctx) -> dict:  # noqa: PLR0915 -- one tier after another
    """Grade threat_model.json for the learner's system."""
    system = ctx.params.get("variant", {}).get("system")
    hidden = Path(ctx.hidden_dir)
    answer_key = json.loads((hidden / "categories.json").read_text())
    if system not in answer_key:
        raise ValueError(f"grader misconfigured: variant.system is {system!r}")
    atlas = json.loads((hidden / "atlas-5.6.0.json").read_text())
    categories = answer_key[system]
    checks: list[Check] = []
    threats: list[dict] = []
    try:
        raw = read_artifact_bytes(Path(ctx.artifacts_dir) / ARTIFACT, max_bytes=MAX_BYTES)
        try:
            model = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ModelError(f"{ARTIFACT} is not valid UTF-8 JSON") from None
        threats, problems = _validate(model, system, atlas)
    except (ArtifactError, ModelError) as exc:
        problems = [str(exc)]
    structure_ok = not problems
    feedback = (
        f"{len(threats)} threats, all ids real ATLAS 5.6.0 ids."
        if structure_ok
        else f"{len(problems)} problem(s); fix these first: " + " | ".join(problems[:5])
    )
    checks.append(_tier("structure", structure_ok, feedback))

    covered = {key for key, category in categories.items() if any(_covered(t, category) for t in threats)}
    missed = [categories[key]["title"] for key in categories if key not in covered]
    core_line = len(categories) - 2
    metrics = {
        "threats": len(threats),
        "categories_required": len(categories),
        "categories_covered": len(covered) if structure_ok else 0,
    }
    if not structure_ok:
        for tier in ("coverage-core", "coverage-full", "stride", "mitigations", "residual"):
            checks.append(_tier(tier, False, "Not scored: fix the structure problems first."))
        return grade_result(checks, metrics)

    missed_text = "; ".join(missed)
    core_ok = len(covered) >= core_line
    feedback = f"Covered {len(covered)} of {len(categories)} required threat categories (line: {core_line})."
    if missed:
        feedback += f" Not covered: {missed_text}."
    checks.append(_tier("coverage-core", core_ok, feedback))
    feedback = (
        "Every required threat category is covered."
        if not missed
        else f"Not covered: {missed_text}. Add a threat for each, mapped to the ATLAS technique "
        "that describes it."
    )
    checks.append(_tier("coverage-full", not missed, feedback))

    strides = {t["stride"] for t in threats}
    stride_ok = len(strides) >= MIN_STRIDE
    feedback = f"Your threats use {len(strides)} STRIDE categories (line: {MIN_STRIDE})."
    if not stride_ok:
        feedback += " Missing: " + ", ".join(s for s in STRIDE if s not in strides) + "."
    checks.append(_tier("stride", stride_ok, feedback))

    mapped = [t for t in threats if any(_covered(t, c) for c in categories.values())]
    ungrounded = [t["id"] for t in mapped if not _grounded(t, atlas)]
    if not core_ok:
        feedback, grounded_ok = "Not scored until the core coverage line is met.", False
    else:
        grounded_ok = not ungrounded
        feedback = (
            f"All {len(mapped)} threats in the required categories have a mitigation ATLAS maps to "
            "their techniques."
            if grounded_ok
            else f"Threats {ungrounded[:8]}: none of their mitigations is one ATLAS 5.6.0 lists for their "
            "techniques. Look up each technique's mitigations (atlas-5.6.0.json: a mitigation's "
            "'techniques') and cite one that really addresses it."
        )
    checks.append(_tier("mitigations", grounded_ok, feedback))

    bad_residual = [
        t["id"]
        for t in threats
        if t["levels"]["residual_risk"] > max(t["levels"]["likelihood"], t["levels"]["impact"])
        or len(t["rationale"]) < MIN_TEXT
    ]
    if not core_ok:
        feedback, residual_ok = "Not scored until the core coverage line is met.", False
    else:
        residual_ok = not bad_residual
        feedback = (
            "Every threat rates its residual risk and says why."
            if residual_ok
            else f"Threats {bad_residual[:8]}: give residual_rationale (at least {MIN_TEXT} characters) "
            "and a "
            "residual_risk no higher than the threat's likelihood or impact."
        )
    checks.append(_tier("residual", residual_ok, feedback))
    metrics["mitigations_grounded"] = float(len(mapped) - len(ungrounded))
    metrics["stride_categories"] = float(len(strides))
    return grade_result(checks, metrics)
