"""Deterministic asset recipe of the threat-model lab.

Usage: python recipe.py PUBLIC_DIR HIDDEN_DIR (run with the sandbox runtime).
Reads the vendored MITRE ATLAS 5.6.0 data (curriculum/reference/mitre-atlas-5.6.0.yaml) with
a small line parser (the runtime has no YAML library) and writes a compact JSON of every
technique and mitigation id, name, parent and the techniques each mitigation addresses.
public/  atlas-5.6.0.json, systems/*.md, example_threat_model.json, README.txt
hidden/  atlas-5.6.0.json (the grader's copy), categories.json (the answer key: the threat
         categories each system's model must cover), meta.json
"""

import json
import re
import shutil
import sys
from pathlib import Path

from _shared.recipes import finish, run, write_json

HERE = Path(__file__).resolve().parent

ATLAS_YAML = HERE.parent.parent / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"
ENTRY = re.compile(r"^  - id: (AML\.[TM]\d{4}(?:\.\d{3})?)$")
NAME = re.compile(r"^    name: (.+)$")
PARENT = re.compile(r"^    subtechnique-of: (AML\.T\d{4})$")
MAPPED = re.compile(r"^    - id: (AML\.T\d{4}(?:\.\d{3})?)$")
KEY = re.compile(r"^    ([a-z][a-z-]*):")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1].replace("''", "'") if value[0] == "'" else json.loads(value)
    return value


def parse_atlas(text: str) -> dict:  # noqa: PLR0912 -- a line-by-line state machine
    """{"version", "techniques": {id: {name, parent}}, "mitigations": {id: {name, techniques}}}."""
    version = re.search(r"^version: (\S+)$", text, re.M)
    section = None
    current: dict | None = None
    techniques: dict[str, dict] = {}
    mitigations: dict[str, dict] = {}
    for line in text.splitlines():
        if line in ("  techniques:", "  mitigations:", "  tactics:"):
            section = line.strip().rstrip(":")
            current = None
            continue
        if line and not line.startswith(" "):  # blank lines occur inside multi-line strings
            section = None if line.startswith("case-studies") else section
            current = None
        if section not in ("techniques", "mitigations"):
            continue
        match = ENTRY.match(line)
        if match:
            current = {"name": None}
            if section == "techniques":
                current["parent"] = None
                techniques[match.group(1)] = current
            else:
                current["techniques"] = []
                mitigations[match.group(1)] = current
            continue
        if current is None:
            continue
        if match := KEY.match(line):
            current["_key"] = match.group(1)
        if (match := NAME.match(line)) and current["name"] is None:
            current["name"] = _unquote(match.group(1))
        elif section == "techniques" and (match := PARENT.match(line)):
            current["parent"] = match.group(1)
        elif (
            section == "mitigations" and current.get("_key") == "techniques" and (match := MAPPED.match(line))
        ):
            current["techniques"].append(match.group(1))
    for entry in [*techniques.values(), *mitigations.values()]:
        entry.pop("_key", None)
    return {
        "version": version.group(1) if version else None,
        "techniques": dict(sorted(techniques.items())),
        "mitigations": dict(sorted(mitigations.items())),
    }


EXAMPLE = {
    "system": "image-moderation",
    "assets": [
        {"id": "A1", "name": "moderation model weights", "description": "CNN that flags abusive images"},
        {
            "id": "A2",
            "name": "labelled training images",
            "description": "user reports reviewed by moderators",
        },
        {"id": "A3", "name": "moderation API", "description": "public endpoint apps call per upload"},
    ],
    "trust_boundaries": [
        {"id": "TB1", "name": "internet to moderation API", "description": "uploads from any user"},
        {"id": "TB2", "name": "report queue to training set", "description": "user reports become labels"},
    ],
    "threats": [
        {
            "id": "T1",
            "title": "Perturbed images slip past the filter",
            "description": "Uploaders add small perturbations so abusive images are scored as benign.",
            "stride": "Tampering",
            "assets": ["A1", "A3"],
            "boundary": "TB1",
            "atlas": ["AML.T0015", "AML.T0043.003"],
            "owasp": ["ML01"],
            "mitigations": [
                {"atlas": "AML.M0003", "description": "adversarial training on perturbed uploads"},
                {"atlas": "AML.M0015", "description": "detect inputs far from the data distribution"},
            ],
            "likelihood": "high",
            "impact": "medium",
            "residual_risk": "medium",
            "residual_rationale": "Hardening raises the cost, but adaptive attacks remain possible.",
        }
    ],
}


def main(public_dir: Path, hidden_dir: Path) -> None:
    atlas = parse_atlas(ATLAS_YAML.read_text(encoding="utf-8"))
    if atlas["version"] != "5.6.0" or len(atlas["techniques"]) < 100 or len(atlas["mitigations"]) < 30:
        sys.exit(f"unexpected ATLAS data: version {atlas['version']}, {len(atlas['techniques'])} techniques")
    text = json.dumps(atlas, indent=1, sort_keys=True) + "\n"
    public_dir.mkdir(parents=True, exist_ok=True)
    hidden_dir.mkdir(parents=True, exist_ok=True)
    for out in (public_dir, hidden_dir):
        (out / "atlas-5.6.0.json").write_text(text)
    shutil.copytree(HERE / "systems", public_dir / "systems")
    shutil.copyfile(HERE / "categories.json", hidden_dir / "categories.json")
    write_json(public_dir / "example_threat_model.json", EXAMPLE, indent=1, sort_keys=False)
    (public_dir / "README.txt").write_text(
        "Lab assets of 'Threat model an ML system'.\n"
        "systems/<system>.md          the systems to threat-model; LAB['system'] says which is yours\n"
        "atlas-5.6.0.json             every MITRE ATLAS 5.6.0 technique and mitigation: id, name,\n"
        "                             parent technique, techniques each mitigation addresses\n"
        "example_threat_model.json    the format, for another system (one threat only)\n"
    )
    meta = {
        "atlas_version": atlas["version"],
        "techniques": len(atlas["techniques"]),
        "mitigations": len(atlas["mitigations"]),
    }
    finish(hidden_dir, meta)


if __name__ == "__main__":
    run(main)
