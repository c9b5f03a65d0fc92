"""Reading and validating the question bank, curriculum/questions/<subskill>.yaml. Pure Python.

No Django here, so that bench/assessment_sim reads the very same bank the app loads.
`read_bank` returns every item it could parse and every problem it found, each problem
naming the file, the item (index and id) and the field. The format is documented in
curriculum/questions/_schema.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from mlrange.catalog.taxonomies import OWASP_ID_PATTERN, SUBSKILL_SLUGS
from mlrange.common.validation import ContentError, read_yaml

LEVEL_LETTERS: dict[str, str] = {
    "beginner": "b",
    "intermediate": "i",
    "advanced": "a",
    "expert": "e",
}
ITEM_TYPES: tuple[str, ...] = ("single", "multiple", "true_false", "numeric", "ordering")
TYPES_WITH_OPTIONS = frozenset({"single", "multiple", "ordering"})
SCORING_RULES: tuple[str, ...] = ("all_or_nothing", "partial")
OPTION_IDS: tuple[str, ...] = ("a", "b", "c", "d", "e", "f")

ITEM_KEYS = frozenset(
    {
        "id",
        "level",
        "type",
        "stem",
        "options",
        "answer",
        "scoring",
        "explanation",
        "references",
        "irt",
        "tags",
        "source",
        "pool",
    }
)
REQUIRED_KEYS: tuple[str, ...] = ("id", "level", "type", "stem", "answer", "explanation", "irt")
ITEM_ID_RE = re.compile(r"^[a-z]{2,4}-([biae])-(\d{3})$")
SOURCE_RE = re.compile(r"^(misconception-[1-4]|self-check-[1-8]|quick-quiz-[1-3])$")
NIST_RE = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) \d+(\.\d+)?$")
BANNED_PHRASES = ("all of the above", "none of the above")
# Two pools, never mixed: placement items measure (their keys are never shown, anywhere);
# practice items teach (their reviews show the key and why). Items the guide itself answers
# (those with a `source`) are public already and always practise. The rest split by id order
# within each sub-skill and level, every PRACTICE_EVERY-th item practising, unless the file
# says `pool:`; so a new item joins a pool without moving the others much.
POOLS: tuple[str, ...] = ("placement", "practice")
PRACTICE_EVERY = 3


# One validation problem: which file, which field (with the item), what is wrong. The same
# error type as every content file's (the validation DSL's, mlrange.common.validation).
Problem = ContentError


@dataclass(frozen=True)
class ParsedItem:
    """One valid item as read from YAML, in the app's vocabulary."""

    id: str
    subskill: str
    level: str
    type: str
    stem: str
    answer: Any
    explanation: str
    irt_a: float
    irt_b: float
    options: list[dict[str, str]] = field(default_factory=list)
    irt_c: float = 0.0
    scoring: str = ""
    references: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    source: str = ""
    pool: str = ""
    file: str = ""
    index: int = 0


def guessing_floor(item_type: str, n_options: int) -> float:
    """The chance that a learner who does not know picks the right answer anyway (IRT's c).

    Fixed by the format, never estimated: 1/options for single choice, 1/2 for true/false.
    Numeric answers cannot be guessed; multiple select and ordering are taken as 0 too (a
    blind guess is right with 1/(2^k - 1) or 1/k!, and partial credit is not a guess)."""
    if item_type == "single" and n_options > 0:
        return round(1.0 / n_options, 4)
    if item_type == "true_false":
        return 0.5
    return 0.0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


class _ItemChecker:
    def __init__(self, file: str, where: str, atlas_ids: Collection[str] | None, index: int = 0) -> None:
        self.file = file
        self.index = index
        self.where = where
        self.atlas_ids = atlas_ids
        self.problems: list[Problem] = []

    def fail(self, fld: str, message: str) -> None:
        self.problems.append(Problem(self.file, f"{self.where}.{fld}" if fld else self.where, message))

    def check(self, raw: Any, subskill: str) -> ParsedItem | None:  # noqa: PLR0912 -- one flat list of rules reads best
        if not isinstance(raw, Mapping):
            self.fail("", "an item must be a mapping of fields")
            return None
        for key in sorted(set(raw) - ITEM_KEYS, key=str):
            self.fail(str(key), f"unknown field; allowed: {', '.join(sorted(ITEM_KEYS))}")
        for key in REQUIRED_KEYS:
            if key not in raw:
                self.fail(key, "is required")
        item_id, level, item_type = raw.get("id"), raw.get("level"), raw.get("type")
        if "level" in raw and level not in LEVEL_LETTERS:
            self.fail("level", f"{level!r} is not one of {', '.join(LEVEL_LETTERS)}")
        if "id" in raw:
            match = ITEM_ID_RE.match(item_id) if isinstance(item_id, str) else None
            if not match:
                self.fail("id", f"{item_id!r} is not <prefix>-<b|i|a|e>-<3 digits>, e.g. ms-b-001")
            elif level in LEVEL_LETTERS and match.group(1) != LEVEL_LETTERS[level]:
                self.fail("id", f"level letter {match.group(1)!r} does not match level {level!r}")
        if "type" in raw and item_type not in ITEM_TYPES:
            self.fail("type", f"{item_type!r} is not one of {', '.join(ITEM_TYPES)}")
        for key in ("stem", "explanation"):
            if key in raw and not _text(raw[key]):
                self.fail(key, "must be non-empty Markdown text")
        stem = raw.get("stem") if _text(raw.get("stem")) else ""
        if any(p in str(stem).lower() for p in BANNED_PHRASES):
            self.fail("stem", "must not use 'all of the above' / 'none of the above'")
        option_ids = self._check_options(raw, item_type)
        self._check_answer(raw, item_type, option_ids)
        scoring = raw.get("scoring", "")
        if "scoring" in raw:
            if item_type != "multiple":
                self.fail("scoring", "is only for type multiple")
            elif scoring not in SCORING_RULES:
                self.fail("scoring", f"{scoring!r} is not one of {', '.join(SCORING_RULES)}")
        irt_a, irt_b = self._check_irt(raw.get("irt")) if "irt" in raw else (None, None)
        references = self._check_references(raw.get("references", []))
        tags = raw.get("tags", [])
        if not isinstance(tags, list) or not all(_text(t) for t in tags):
            self.fail("tags", "must be a list of short strings")
            tags = []
        source = raw.get("source", "")
        if "source" in raw and not (isinstance(source, str) and SOURCE_RE.match(source)):
            self.fail(
                "source",
                f"{source!r} is not misconception-1..4, self-check-1..8 or quick-quiz-1..3",
            )
        pool = raw.get("pool", "")
        if "pool" in raw and pool not in POOLS:
            self.fail("pool", f"{pool!r} is not one of {', '.join(POOLS)}")
        elif pool == "placement" and source:
            self.fail("pool", f"a {source} item is answered in the guide itself: it can only practise")
        if self.problems or irt_a is None or irt_b is None:
            return None
        return ParsedItem(
            id=str(item_id),
            subskill=subskill,
            level=str(level),
            type=str(item_type),
            stem=str(raw["stem"]).strip(),
            answer=_canonical_answer(str(item_type), raw["answer"]),
            explanation=str(raw["explanation"]).strip(),
            irt_a=float(irt_a),
            irt_b=float(irt_b),
            irt_c=guessing_floor(str(item_type), len(raw.get("options", []))),
            options=[
                {"id": o["id"], "text": str(o["text"]).strip(), "why": str(o["why"]).strip()}
                for o in raw.get("options", [])
            ],
            scoring=("all_or_nothing" if item_type == "multiple" and not scoring else str(scoring)),
            references=references,
            tags=[str(t) for t in tags],
            source=str(source),
            pool=str(pool),
            file=self.file,
            index=self.index,
        )

    def _check_options(self, raw: Mapping[str, Any], item_type: Any) -> list[str]:
        if item_type not in TYPES_WITH_OPTIONS:
            if "options" in raw and item_type in ITEM_TYPES:
                self.fail("options", f"must be absent for type {item_type}")
            return []
        options = raw.get("options")
        if not isinstance(options, list) or not 3 <= len(options) <= 6:
            self.fail("options", f"type {item_type} needs a list of 3 to 6 options")
            return []
        ids: list[str] = []
        for i, option in enumerate(options):
            where = f"options[{i}]"
            if not isinstance(option, Mapping):
                self.fail(where, "must be a mapping with id, text, why")
                continue
            extra = set(option) - {"id", "text", "why"}
            if extra:
                self.fail(
                    where,
                    f"unknown field(s) {', '.join(sorted(map(str, extra)))}; allowed: id, text, why",
                )
            oid = option.get("id")
            if oid not in OPTION_IDS:
                self.fail(f"{where}.id", f"{oid!r} is not a lowercase letter a..f")
            elif oid in ids:
                self.fail(f"{where}.id", f"{oid!r} is used twice")
            else:
                ids.append(oid)
            for key in ("text", "why"):
                if not _text(option.get(key)):
                    self.fail(f"{where}.{key}", "is required and must be non-empty text")
            if any(p in str(option.get("text", "")).lower() for p in BANNED_PHRASES):
                self.fail(f"{where}.text", "must not be 'all of the above' / 'none of the above'")
        return ids

    def _check_answer(self, raw: Mapping[str, Any], item_type: Any, ids: list[str]) -> None:  # noqa: PLR0912 -- one branch per item type
        if "answer" not in raw:
            return
        answer = raw["answer"]
        listing = ", ".join(ids)
        if item_type == "single":
            if answer not in ids:
                self.fail("answer", f"{answer!r} is not one of the option ids {listing}")
        elif item_type == "multiple":
            if not isinstance(answer, list) or not answer:
                self.fail("answer", "type multiple needs a non-empty list of option ids, e.g. [a, c]")
            elif len(set(map(str, answer))) != len(answer):
                self.fail("answer", "lists an option id twice")
            else:
                for value in answer:
                    if value not in ids:
                        self.fail("answer", f"{value!r} is not one of the option ids {listing}")
        elif item_type == "true_false":
            if not isinstance(answer, bool):
                self.fail("answer", f"{answer!r} must be true or false")
        elif item_type == "numeric":
            if not isinstance(answer, Mapping) or set(answer) != {"value", "tolerance"}:
                self.fail("answer", "type numeric needs {value: <number>, tolerance: <number > 0>}")
            elif not _is_number(answer["value"]):
                self.fail("answer.value", f"{answer['value']!r} is not a number")
            elif not _is_number(answer["tolerance"]) or answer["tolerance"] <= 0:
                self.fail("answer.tolerance", f"{answer['tolerance']!r} must be a number > 0")
        elif item_type == "ordering" and (
            not isinstance(answer, list) or len(answer) != len(ids) or sorted(map(str, answer)) != sorted(ids)
        ):
            self.fail("answer", f"must list every option id exactly once in the right order ({listing})")

    def _check_irt(self, irt: Any) -> tuple[float | None, float | None]:
        if not isinstance(irt, Mapping) or set(irt) != {"a", "b"}:
            self.fail("irt", "must be {b: <difficulty>, a: <discrimination>}")
            return None, None
        a, b = irt["a"], irt["b"]
        ok = True
        if not _is_number(b) or not -4 <= b <= 4:
            self.fail("irt.b", f"{b!r} must be a number in [-4, 4]")
            ok = False
        if not _is_number(a) or not 0 < a <= 4:
            self.fail("irt.a", f"{a!r} must be a number in (0, 4]")
            ok = False
        return (float(a), float(b)) if ok else (None, None)

    def _check_references(self, references: Any) -> list[dict[str, str]]:
        if not isinstance(references, list):
            self.fail("references", "must be a list of {atlas|owasp|nist|paper: ...}")
            return []
        result: list[dict[str, str]] = []
        for i, ref in enumerate(references):
            where = f"references[{i}]"
            if not isinstance(ref, Mapping) or len(ref) != 1:
                self.fail(where, "must be one of {atlas: id}, {owasp: MLnn}, {nist: ...}, {paper: ...}")
                continue
            ((kind, value),) = ref.items()
            value_text = str(value).strip() if value is not None else ""
            if kind == "atlas":
                if self.atlas_ids is not None and value_text not in self.atlas_ids:
                    self.fail(f"{where}.atlas", f"{value!r} is not an id in MITRE ATLAS 5.6.0")
            elif kind == "owasp":
                if not OWASP_ID_PATTERN.match(value_text):
                    self.fail(f"{where}.owasp", f"{value!r} is not an OWASP ML Top 10 id ML01..ML10")
            elif kind == "nist":
                if not NIST_RE.match(value_text):
                    self.fail(
                        f"{where}.nist",
                        f"{value!r} is not a NIST AI RMF subcategory like 'MEASURE 2.7'",
                    )
            elif kind == "paper":
                if not value_text:
                    self.fail(f"{where}.paper", "must be a full citation")
            else:
                self.fail(where, f"unknown reference kind {kind!r}; use atlas, owasp, nist or paper")
                continue
            result.append({str(kind): value_text})
        return result


def _canonical_answer(item_type: str, answer: Any) -> Any:
    if item_type == "multiple":
        return sorted(answer)
    if item_type == "numeric":
        return {"value": float(answer["value"]), "tolerance": float(answer["tolerance"])}
    return answer


def question_files(questions_dir: Path) -> list[Path]:
    """The bank's files: every *.yaml in the folder except those starting with '_'."""
    if not questions_dir.is_dir():
        return []
    return sorted(p for p in questions_dir.glob("*.yaml") if not p.name.startswith("_"))


def read_bank(
    questions_dir: Path,
    *,
    label_root: Path | None = None,
    atlas_ids: Collection[str] | None = None,
) -> tuple[list[ParsedItem], list[Problem]]:
    """Parse and validate every bank file. atlas_ids=None skips the ATLAS id check.

    Items are only returned from files with no problems at all; ids must be unique
    across files.
    """
    items: list[ParsedItem] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for path in question_files(questions_dir):
        label = str(path.relative_to(label_root)) if label_root else path.name
        file_items, file_problems = _read_file(path, label, atlas_ids)
        for item in file_items:
            if item.id in first_seen:
                file_problems.append(
                    Problem(
                        label,
                        f"items[{item.index}] ({item.id}).id",
                        f"id already used in {first_seen[item.id]}",
                    )
                )
            else:
                first_seen[item.id] = label
        problems.extend(file_problems)
        if not file_problems:
            items.extend(file_items)
    return assign_pools(items), problems


def assign_pools(items: list[ParsedItem]) -> list[ParsedItem]:
    """Each item with its pool: the file's `pool:`, else practice for an item with a source,
    else every PRACTICE_EVERY-th item by id within its sub-skill and level (see POOLS)."""
    groups: dict[tuple[str, str], list[ParsedItem]] = {}
    for item in items:
        if not item.pool and not item.source:
            groups.setdefault((item.subskill, item.level), []).append(item)
    split: dict[str, str] = {}
    for group in groups.values():
        for position, item in enumerate(sorted(group, key=lambda i: i.id)):
            split[item.id] = "practice" if position % PRACTICE_EVERY == PRACTICE_EVERY - 1 else "placement"
    return [
        item if item.pool else replace(item, pool="practice" if item.source else split[item.id])
        for item in items
    ]


def _read_file(
    path: Path, label: str, atlas_ids: Collection[str] | None
) -> tuple[list[ParsedItem], list[Problem]]:
    data, read_problems = read_yaml(path, label)  # syntax errors with their line, repeated keys
    if read_problems:
        return [], read_problems
    if not isinstance(data, Mapping):
        return [], [Problem(label, "", "must be a mapping with keys subskill and items")]
    problems: list[Problem] = []
    for key in sorted(set(data) - {"subskill", "items"}, key=str):
        problems.append(Problem(label, str(key), "unknown top-level field; allowed: subskill, items"))
    subskill = data.get("subskill")
    if subskill not in SUBSKILL_SLUGS:
        problems.append(Problem(label, "subskill", f"{subskill!r} is not one of {', '.join(SUBSKILL_SLUGS)}"))
    elif path.stem != subskill:
        problems.append(Problem(label, "subskill", f"{subskill!r} must match the file name {path.stem}.yaml"))
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        problems.append(Problem(label, "items", "must be a non-empty list of items"))
        return [], problems
    items: list[ParsedItem] = []
    ids_in_file: set[str] = set()
    for index, raw in enumerate(raw_items):
        raw_id = raw.get("id") if isinstance(raw, Mapping) else None
        where = f"items[{index}] ({raw_id})" if raw_id else f"items[{index}]"
        checker = _ItemChecker(label, where, atlas_ids, index)
        item = checker.check(raw, str(subskill))
        problems.extend(checker.problems)
        if isinstance(raw_id, str):
            if raw_id in ids_in_file:
                problems.append(Problem(label, f"{where}.id", f"{raw_id!r} is used twice in this file"))
            ids_in_file.add(raw_id)
        if item is not None:
            items.append(item)
    return items, problems


def load_atlas_names(path: Path) -> dict[str, str]:
    """Map every named ATLAS object id (tactics, techniques, mitigations, ...) to its name."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    names: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            node_id, name = node.get("id"), node.get("name")
            if isinstance(node_id, str) and node_id.startswith("AML.") and isinstance(name, str):
                names[node_id] = name
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    return names
