"""Naive solution: a classic IT STRIDE threat model with two ML threats bolted on.

Well formed, real ids, but it misses most ML-specific threat categories. Expected: the
structure and STRIDE tiers only.
"""

# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs

import json
from pathlib import Path

ML_THREATS = {
    "fraud-detection": [
        ("AML.T0015", "Fraudsters evade the model"),
        ("AML.T0020", "Training data is poisoned"),
    ],
    "healthcare-chatbot": [("AML.T0051", "Users inject prompts"), ("AML.T0057", "The chatbot leaks data")],
    "face-access-control": [
        ("AML.T0015", "Intruders fool the camera"),
        ("AML.T0024.001", "Faces are reconstructed from the model"),
    ],
    "malware-detection": [
        ("AML.T0015", "Malware evades the model"),
        ("AML.T0020", "Training samples are poisoned"),
    ],
}
IT_THREATS = [
    ("Spoofing", "Stolen credentials used to log in", "AML.T0012", "AML.M0019"),
    ("Tampering", "Attacker edits the database", "AML.T0031", "AML.M0005"),
    ("Repudiation", "Admins deny configuration changes", "AML.T0031", "AML.M0024"),
    ("Denial of Service", "Servers overwhelmed", "AML.T0029", "AML.M0004"),
]


def entry(ident, title, stride, technique, mitigation):
    return {
        "id": ident,
        "title": title,
        "description": f"{title}; a generic threat that applies to any web application.",
        "stride": stride,
        "assets": ["A1"],
        "boundary": "TB1",
        "atlas": [technique],
        "mitigations": [{"atlas": mitigation, "description": "standard security control"}],
        "likelihood": "medium",
        "impact": "medium",
        "residual_risk": "low",
        "residual_rationale": "Standard controls are in place for this.",
    }


threats = [entry(f"T{i + 1}", t, s, tech, mit) for i, (s, t, tech, mit) in enumerate(IT_THREATS)]
for i, (technique, title) in enumerate(ML_THREATS[LAB["system"]]):
    threats.append(entry(f"M{i + 1}", title, "Tampering", technique, "AML.M0003"))
model = {
    "system": LAB["system"],
    "assets": [
        {"id": "A1", "name": "application"},
        {"id": "A2", "name": "database"},
        {"id": "A3", "name": "servers"},
    ],
    "trust_boundaries": [{"id": "TB1", "name": "internet"}, {"id": "TB2", "name": "internal network"}],
    "threats": threats,
}
Path("threat_model.json").write_text(json.dumps(model, indent=1))
