# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Threat model an ML system
#
# Threat-model the system `LAB["system"]` described in `systems/<system>.md` and write a
# structured threat model to `threat_model.json`: assets, trust boundaries, STRIDE threats
# mapped to MITRE ATLAS 5.6.0 technique ids, mitigations as ATLAS mitigation ids, and
# residual risk. Read the brief first: it gives the exact format.

# %%
import json
from pathlib import Path

ASSETS = Path(LAB["assets"])
SYSTEM = LAB["system"]
print((ASSETS / "systems" / f"{SYSTEM}.md").read_text())
atlas = json.loads((ASSETS / "atlas-5.6.0.json").read_text())
example = json.loads((ASSETS / "example_threat_model.json").read_text())


def find(word: str) -> None:
    """Print the ATLAS techniques and mitigations whose name contains `word`."""
    for kind in ("techniques", "mitigations"):
        for ident, entry in atlas[kind].items():
            if word.lower() in entry["name"].lower():
                print(f"{ident:16} {entry['name']}")


def mitigations_for(technique: str) -> list[str]:
    """ATLAS mitigation ids that ATLAS lists for a technique (or its parent)."""
    parent = atlas["techniques"][technique]["parent"] or technique
    return [
        m
        for m, e in atlas["mitigations"].items()
        if technique in e["techniques"] or parent in e["techniques"]
    ]


find("poison")

# %%
# TODO: your threat model. This one is well formed but has no threats, so it scores nothing.
model = {
    "system": SYSTEM,
    "assets": [],  # {"id", "name", "description"}: at least 3
    "trust_boundaries": [],  # {"id", "name", "description"}: at least 2
    "threats": [],  # see example["threats"][0] and the brief: 5 to 25 threats
}
Path("threat_model.json").write_text(json.dumps(model, indent=1))
print("example threat:", json.dumps(example["threats"][0], indent=1))
