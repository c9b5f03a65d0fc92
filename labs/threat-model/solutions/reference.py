"""Reference solution: full threat models of both systems, every id checked against ATLAS 5.6.0.

Picks the model for LAB["system"], checks every technique and mitigation id against the
public atlas-5.6.0.json and that each mitigation is one ATLAS lists for the threat's
techniques, then writes threat_model.json.
"""

# ruff: noqa: F821, E501 -- long prose lines; LAB is defined by the lab's trusted setup cell before this code runs

import json
from pathlib import Path


def threat(  # noqa: PLR0917 -- one row of the table, in column order
    ident, title, description, stride, assets, boundary, atlas, owasp, mitigations, levels, rationale
):
    likelihood, impact, residual = levels
    return {
        "id": ident,
        "title": title,
        "description": description,
        "stride": stride,
        "assets": assets,
        "boundary": boundary,
        "atlas": atlas,
        "owasp": owasp,
        "mitigations": [{"atlas": m, "description": d} for m, d in mitigations],
        "likelihood": likelihood,
        "impact": impact,
        "residual_risk": residual,
        "residual_rationale": rationale,
    }


FRAUD = {
    "system": "fraud-detection",
    "assets": [
        {
            "id": "A1",
            "name": "fraud model artifact",
            "description": "ensemble weights in the model registry and serving cluster",
        },
        {
            "id": "A2",
            "name": "transaction data lake",
            "description": "five years of cardholder transactions and features",
        },
        {
            "id": "A3",
            "name": "labels",
            "description": "analyst decisions, chargebacks and merchant disputes used for retraining",
        },
        {
            "id": "A4",
            "name": "scoring API",
            "description": "real-time endpoint used by checkouts and partner banks",
        },
        {
            "id": "A5",
            "name": "training pipeline",
            "description": "weekly retraining job, its dependencies and the pre-trained base model",
        },
    ],
    "trust_boundaries": [
        {
            "id": "TB1",
            "name": "internet and partners to scoring API",
            "description": "untrusted callers send transactions and read scores",
        },
        {
            "id": "TB2",
            "name": "external label sources to training data",
            "description": "chargebacks and merchant disputes enter the label store",
        },
        {
            "id": "TB3",
            "name": "public hubs and registries to training pipeline",
            "description": "third-party model and packages enter the build",
        },
    ],
    "threats": [
        threat(
            "T1",
            "Fraudsters shape transactions to evade the model",
            "Attackers probe which amounts, merchants and device features keep scores low and craft fraudulent transactions below the threshold.",
            "Tampering",
            ["A1", "A4"],
            "TB1",
            ["AML.T0015", "AML.T0043.001"],
            ["ML01"],
            [
                ("AML.M0003", "adversarial training on known evasion patterns"),
                ("AML.M0015", "flag transactions far from normal behaviour"),
            ],
            ("high", "high", "medium"),
            "Hardening and detection raise the cost, but adaptive fraud rings keep trying new patterns.",
        ),
        threat(
            "T2",
            "Poisoned labels through disputes and chargebacks",
            "Colluding merchants or mule accounts file disputes so fraudulent patterns are relabelled legitimate and learned as benign in the weekly retraining.",
            "Tampering",
            ["A3", "A1"],
            "TB2",
            ["AML.T0020", "AML.T0059"],
            ["ML02"],
            [
                ("AML.M0007", "sanitize and cap the influence of dispute labels"),
                ("AML.M0025", "keep provenance of every label source"),
            ],
            ("medium", "high", "medium"),
            "Provenance and sanitization catch bulk manipulation; slow, low-volume poisoning may still pass.",
        ),
        threat(
            "T3",
            "Partner probes the scoring API to copy the model",
            "A partner bank with API access sends many crafted queries and trains a surrogate on the returned scores, then uses it to plan evasion.",
            "Information Disclosure",
            ["A4", "A1"],
            "TB1",
            ["AML.T0024.002", "AML.T0005"],
            ["ML05"],
            [
                ("AML.M0004", "per-key query quotas"),
                ("AML.M0002", "return coarse decisions instead of raw scores"),
            ],
            ("medium", "medium", "low"),
            "Quotas and coarse outputs make a faithful copy expensive; a patient insider could still approximate it.",
        ),
        threat(
            "T4",
            "Membership inference on cardholder data",
            "Attackers use score confidence to infer whether a specific card's transactions were in the training data, revealing customer relationships.",
            "Information Disclosure",
            ["A2", "A4"],
            "TB1",
            ["AML.T0024.000"],
            ["ML04"],
            [
                ("AML.M0002", "coarsen returned scores"),
                ("AML.M0019", "authenticate and restrict who may query"),
            ],
            ("low", "high", "low"),
            "Only coarse decisions leave the system and callers are authenticated; residual leakage is small.",
        ),
        threat(
            "T5",
            "Backdoored pre-trained model or dependency",
            "The pre-trained tabular model from a public hub or a compromised package contains a backdoor or malicious code that runs in the pipeline.",
            "Elevation of Privilege",
            ["A5", "A1"],
            "TB3",
            ["AML.T0010.003", "AML.T0011.000"],
            ["ML06"],
            [
                ("AML.M0014", "verify hashes and signatures of the base model"),
                ("AML.M0023", "maintain an AI bill of materials"),
            ],
            ("medium", "high", "medium"),
            "Verification catches tampering in transit but not a backdoor planted by the publisher itself.",
        ),
        threat(
            "T6",
            "Flood of scoring requests degrades checkout",
            "Bots send bursts of expensive requests so scoring slows down and checkouts fail open or time out.",
            "Denial of Service",
            ["A4"],
            "TB1",
            ["AML.T0029", "AML.T0034"],
            ["ML01"],
            [("AML.M0004", "rate limits per API key"), ("AML.M0019", "authenticate callers in production")],
            ("medium", "high", "low"),
            "Rate limits and autoscaling absorb bursts; a large distributed attack remains possible.",
        ),
        threat(
            "T7",
            "Analyst denies a mislabelled case decision",
            "Without signed audit logs an analyst or merchant can deny having labelled a case, hiding deliberate relabelling.",
            "Repudiation",
            ["A3"],
            "TB2",
            ["AML.T0059"],
            ["ML02"],
            [("AML.M0025", "provenance records tie every label to an identity")],
            ("low", "medium", "low"),
            "Signed provenance makes denial hard; collusion among reviewers remains.",
        ),
        threat(
            "T8",
            "Stolen partner API key used to test stolen cards",
            "A leaked partner key lets criminals pre-screen stolen cards against the model before using them.",
            "Spoofing",
            ["A4"],
            "TB1",
            ["AML.T0040"],
            ["ML05"],
            [
                ("AML.M0019", "bind keys to partner networks and rotate them"),
                ("AML.M0024", "log and review unusual key usage"),
            ],
            ("medium", "medium", "low"),
            "Key binding and monitoring limit the window; detection is not instant.",
        ),
    ],
}

CHATBOT = {
    "system": "healthcare-chatbot",
    "assets": [
        {
            "id": "A1",
            "name": "patient records and lab results",
            "description": "returned by the record lookup tool",
        },
        {
            "id": "A2",
            "name": "system prompt",
            "description": "assistant rules and internal escalation number",
        },
        {
            "id": "A3",
            "name": "knowledge base",
            "description": "leaflets, web pages and CMS uploads used for retrieval",
        },
        {"id": "A4", "name": "scheduling API", "description": "books, moves and cancels appointments"},
        {"id": "A5", "name": "conversation logs", "description": "90 days of chats kept for review"},
        {"id": "A6", "name": "LLM provider account", "description": "billed per token with a monthly cap"},
    ],
    "trust_boundaries": [
        {
            "id": "TB1",
            "name": "patients and the public to chat front end",
            "description": "anyone can type anything",
        },
        {
            "id": "TB2",
            "name": "retrieved content to the LLM context",
            "description": "CMS uploads and linked web pages enter the prompt",
        },
        {
            "id": "TB3",
            "name": "LLM to internal tools",
            "description": "model output becomes calls to scheduling and records",
        },
        {
            "id": "TB4",
            "name": "hospital to third-party LLM provider",
            "description": "prompts and data leave the hospital",
        },
    ],
    "threats": [
        threat(
            "T1",
            "Direct prompt injection overrides the assistant's rules",
            "A user tells the assistant to ignore its instructions and act as an unrestricted model, to get dangerous dosing advice or hidden data.",
            "Elevation of Privilege",
            ["A2", "A1"],
            "TB1",
            ["AML.T0051.000", "AML.T0054"],
            ["ML01"],
            [
                ("AML.M0020", "input and output guardrails"),
                ("AML.M0022", "use an aligned, instruction-hierarchy model"),
            ],
            ("high", "high", "medium"),
            "Guardrails block known patterns; novel jailbreaks keep appearing.",
        ),
        threat(
            "T2",
            "Indirect injection through a linked web page",
            "A patient links a web page whose hidden text instructs the assistant to cancel appointments or reveal records.",
            "Tampering",
            ["A4", "A1"],
            "TB2",
            ["AML.T0051.001"],
            ["ML01"],
            [
                ("AML.M0020", "treat retrieved text as data and filter instructions"),
                ("AML.M0033", "validate inputs and outputs between components"),
            ],
            ("medium", "high", "medium"),
            "Filtering reduces but does not eliminate instructions hidden in retrieved text.",
        ),
        threat(
            "T3",
            "System prompt and patient data leak in answers",
            "Attackers coax the assistant into revealing its system prompt, the escalation number, or another patient's results.",
            "Information Disclosure",
            ["A2", "A1", "A5"],
            "TB1",
            ["AML.T0056", "AML.T0057"],
            ["ML03"],
            [
                ("AML.M0020", "output filters for personal data and prompt content"),
                ("AML.M0021", "guidelines that keep secrets out of prompts"),
            ],
            ("medium", "high", "medium"),
            "Secrets removed from the prompt; residual risk from records the tool legitimately returns.",
        ),
        threat(
            "T4",
            "Poisoned documents in the knowledge base",
            "A staff account or compromised CMS uploads a leaflet with false medication advice that the assistant retrieves and repeats.",
            "Tampering",
            ["A3"],
            "TB2",
            ["AML.T0070", "AML.T0020"],
            ["ML02"],
            [
                ("AML.M0025", "provenance and review of every uploaded document"),
                ("AML.M0007", "sanitize content before indexing"),
            ],
            ("medium", "high", "medium"),
            "Review catches most edits; a careful insider can still slip plausible errors through.",
        ),
        threat(
            "T5",
            "Dangerous or false medical answers reach patients",
            "Hallucinated or manipulated answers give wrong dosing or triage advice that harms a patient.",
            "Tampering",
            ["A3", "A1"],
            "TB1",
            ["AML.T0048.003", "AML.T0062"],
            ["ML09"],
            [
                ("AML.M0020", "clinical safety guardrails on outputs"),
                ("AML.M0021", "escalate symptom questions to clinicians"),
            ],
            ("medium", "high", "medium"),
            "Guardrails and escalation reduce harm but cannot guarantee correct medical content.",
        ),
        threat(
            "T6",
            "Assistant tricked into booking or cancelling appointments",
            "Injected instructions make the model call the scheduling tool for another patient or mass-cancel appointments.",
            "Elevation of Privilege",
            ["A4"],
            "TB3",
            ["AML.T0053", "AML.T0101"],
            ["ML01"],
            [
                ("AML.M0029", "patient confirmation before any booking change"),
                ("AML.M0028", "tools limited to the logged-in patient"),
            ],
            ("medium", "high", "low"),
            "Confirmation and per-patient scoping stop silent abuse; social engineering of the patient remains.",
        ),
        threat(
            "T7",
            "Compromised orchestration library or plug-in",
            "A malicious release of an open-source plug-in exfiltrates conversations or tool credentials.",
            "Elevation of Privilege",
            ["A5", "A4"],
            "TB4",
            ["AML.T0010.001"],
            ["ML06"],
            [
                ("AML.M0023", "AI bill of materials and pinned versions"),
                ("AML.M0014", "verify artifacts before deployment"),
            ],
            ("low", "high", "medium"),
            "Pinning and verification slow attackers; a compromised upstream release could still land.",
        ),
        threat(
            "T8",
            "Token flooding exhausts the monthly budget",
            "Bots send long prompts in a loop until the provider cap is reached and the assistant stops for everyone.",
            "Denial of Service",
            ["A6"],
            "TB1",
            ["AML.T0034.000", "AML.T0029"],
            ["ML01"],
            [("AML.M0004", "per-user and per-IP quotas"), ("AML.M0019", "require login for long sessions")],
            ("high", "medium", "low"),
            "Quotas cap the damage per user; a botnet could still raise costs.",
        ),
        threat(
            "T9",
            "Impersonating a patient to read their records",
            "Someone with a patient's stolen app session asks for lab results and prescriptions.",
            "Spoofing",
            ["A1"],
            "TB1",
            ["AML.T0012"],
            ["ML03"],
            [
                ("AML.M0019", "strong authentication before record lookups"),
                ("AML.M0024", "log and alert on unusual lookups"),
            ],
            ("low", "high", "medium"),
            "Authentication and alerts limit abuse; a stolen unlocked phone still works.",
        ),
        threat(
            "T10",
            "No audit trail of tool calls",
            "Without logging of the model's tool calls, staff cannot tell who cancelled an appointment.",
            "Repudiation",
            ["A4", "A5"],
            "TB3",
            ["AML.T0053"],
            ["ML09"],
            [("AML.M0024", "log every tool call with user and prompt")],
            ("medium", "medium", "low"),
            "Complete logs make disputes resolvable.",
        ),
    ],
}


if __name__ == "__main__":
    model = FRAUD if LAB["system"] == "fraud-detection" else CHATBOT
    atlas = json.loads((Path(LAB["assets"]) / "atlas-5.6.0.json").read_text())
    for item in model["threats"]:
        assert all(t in atlas["techniques"] for t in item["atlas"]), item["id"]
        assert all(m["atlas"] in atlas["mitigations"] for m in item["mitigations"]), item["id"]
    Path("threat_model.json").write_text(json.dumps(model, indent=1))
    print(f"{len(model['threats'])} threats written for {model['system']}")
