"""The fixed taxonomies, defined once: MLRange's sub-skills and levels, the OWASP Machine
Learning Security Top 10 (2023) and the NIST AI RMF core functions.

Fixed reference lists that curriculum items, questions and labs cite by id (the catalog,
assessments, labs and progress all import them from here). Descriptions are MLRange's own
one-line summaries.
"""

import re
from dataclasses import dataclass

SUBSKILL_SLUGS: tuple[str, ...] = (
    "model-security",
    "data-security",
    "infrastructure-security",
    "privacy-preserving-ml",
    "threat-modeling",
)
"""The five sub-skills, in learning-path order."""
LEVEL_SLUGS: tuple[str, ...] = ("beginner", "intermediate", "advanced", "expert")
"""The four levels, easiest first."""
OWASP_ID_PATTERN = re.compile(r"^ML(0[1-9]|10)$")


@dataclass(frozen=True)
class TaxonomyItem:
    id: str
    name: str
    summary: str

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"


OWASP_ML_TOP_10_VERSION = "2023"
OWASP_ML_TOP_10_URL = "https://owasp.org/www-project-machine-learning-security-top-10/"
OWASP_ML_TOP_10: dict[str, TaxonomyItem] = {
    item.id: item
    for item in (
        TaxonomyItem(
            "ML01",
            "Input Manipulation",
            "Crafted inputs (adversarial examples) make the model return the attacker's chosen output.",
        ),
        TaxonomyItem(
            "ML02",
            "Data Poisoning",
            "Manipulated training data makes the model learn wrong or attacker-chosen behaviour.",
        ),
        TaxonomyItem(
            "ML03",
            "Model Inversion",
            "The model's outputs are used to reconstruct sensitive training data or features.",
        ),
        TaxonomyItem(
            "ML04",
            "Membership Inference",
            "Queries reveal whether a specific person's record was in the training data.",
        ),
        TaxonomyItem(
            "ML05",
            "Model Theft",
            "A model's parameters or behaviour are copied, for example by querying its API.",
        ),
        TaxonomyItem(
            "ML06",
            "AI Supply Chain Attacks",
            "Compromised libraries, pre-trained models, datasets or platforms enter the system.",
        ),
        TaxonomyItem(
            "ML07",
            "Transfer Learning Attack",
            "A malicious pre-trained model passes its hidden behaviour on to models fine-tuned from it.",
        ),
        TaxonomyItem(
            "ML08",
            "Model Skewing",
            "Manipulated feedback data shifts a continuously learning model in the attacker's favour.",
        ),
        TaxonomyItem(
            "ML09",
            "Output Integrity Attack",
            "The model's output is altered after inference, before a user or system acts on it.",
        ),
        TaxonomyItem(
            "ML10",
            "Model Poisoning",
            "The model's parameters are modified directly, for example to plant a backdoor.",
        ),
    )
}

NIST_AI_RMF_FUNCTIONS: dict[str, TaxonomyItem] = {
    item.id: item
    for item in (
        TaxonomyItem(
            "govern",
            "Govern",
            "Policies, accountability and culture for managing AI risk across the organisation.",
        ),
        TaxonomyItem("map", "Map", "Establish the AI system's context and identify the risks it carries."),
        TaxonomyItem(
            "measure",
            "Measure",
            "Analyse, test and track the identified risks with quantitative and qualitative methods.",
        ),
        TaxonomyItem(
            "manage",
            "Manage",
            "Prioritise risks and act on them: treat, monitor, respond and recover.",
        ),
    )
}


def owasp_items(ids: list[str]) -> list[TaxonomyItem]:
    """OWASP ML Top 10 items for the given ids, in the given order; unknown ids are skipped."""
    return [OWASP_ML_TOP_10[i] for i in ids if i in OWASP_ML_TOP_10]


def nist_items(ids: list[str]) -> list[TaxonomyItem]:
    return [NIST_AI_RMF_FUNCTIONS[i] for i in ids if i in NIST_AI_RMF_FUNCTIONS]
