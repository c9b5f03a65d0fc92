"""The curriculum as files: schema, validation with file + field errors, and the loader registry.

Contract for content apps
=========================
`manage.py load_curriculum [--path DIR]` loads everything under curriculum/ in two phases:

1. **Validate.** It calls the catalog's own validator (the YAML files at the top of the
   folder, see `CATALOG_FILES`) and then every validator registered here. A validator takes
   the curriculum folder and returns a list of `ContentError(file, field, message)`: every
   problem it finds, not the first one. It must not write anything.
2. **Load.** Only when no validator returned an error, the command opens ONE database
   transaction and calls the catalog's loader and then each registered loader in
   registration order. A loader takes the same folder, upserts its rows by slug and returns
   a `LoadReport` (created / updated / deleted / unchanged). It must be idempotent: a
   second run with unchanged files reports "0 created, 0 updated, 0 deleted". Any exception
   rolls the whole load back.

A content app registers its pair once, from its AppConfig.ready()::

    from mlrange.catalog.content import register_content_loader

    class AssessmentsConfig(AppConfig):
        def ready(self) -> None:
            from mlrange.assessments import content
            register_content_loader("questions", validate=content.validate, load=content.load)

Registered loaders run after the catalog's, so levels and sub-skills already exist in the
database when they load; while validating, check references against `LEVEL_SLUGS` and
`SUBSKILL_SLUGS` (fixed) and ATLAS ids with `mlrange.catalog.atlas.validate_atlas_id`.

Error messages name the file relative to the folder's parent and the field as a path, e.g.
``curriculum/levels.yaml: levels[2].can_do: expected a list of strings``. The helpers
`read_yaml` (YAML syntax errors with line numbers, duplicate keys rejected) and the spec
classes (`Obj`, `ListOf`, `Text`, `Slug`, ...) are defined once in
`mlrange.common.validation` (also used by the lab manifests) and re-exported here; the
catalog adds its references (`AtlasId`, `level_ref`, `subskill_ref`, ...).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.text import slugify

from mlrange.catalog.atlas import validate_atlas_id
from mlrange.catalog.taxonomies import LEVEL_SLUGS, NIST_AI_RMF_FUNCTIONS, OWASP_ML_TOP_10, SUBSKILL_SLUGS
from mlrange.common.validation import (
    SLUG_PATTERN,
    Boolean,
    Checker,
    Choice,
    ContentError,
    F,
    Integer,
    ListOf,
    Obj,
    Slug,
    Spec,
    Text,
    Url,
    file_label,
    read_yaml,
    strings,
)

__all__ = [  # the DSL, re-exported for content apps that imported it from here
    "SLUG_PATTERN",
    "Boolean",
    "Checker",
    "Choice",
    "ContentError",
    "F",
    "Integer",
    "ListOf",
    "Obj",
    "Slug",
    "Spec",
    "Text",
    "Url",
    "file_label",
    "read_yaml",
    "strings",
]


# --- The contract shared with other content apps -----------------------------------------


@dataclass
class LoadReport:
    """What one loader changed in the database."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __add__(self, other: "LoadReport") -> "LoadReport":
        return LoadReport(
            created=self.created + other.created,
            updated=self.updated + other.updated,
            deleted=self.deleted + other.deleted,
            unchanged=self.unchanged + other.unchanged,
        )

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.deleted} deleted "
            f"({self.unchanged} unchanged)"
        )


ValidateFn = Callable[[Path], list[ContentError]]
LoadFn = Callable[[Path], LoadReport]


@dataclass(frozen=True)
class ContentLoader:
    name: str
    validate: ValidateFn
    load: LoadFn


_loaders: dict[str, ContentLoader] = {}


def register_content_loader(name: str, validate: ValidateFn, load: LoadFn) -> None:
    """Register a content app's validator and loader (call from AppConfig.ready()).

    Registering the same functions under the same name again is a no-op; registering
    different ones under a taken name is a programming error (ValueError).
    """
    loader = ContentLoader(name=name, validate=validate, load=load)
    existing = _loaders.get(name)
    if existing is not None and existing != loader:
        raise ValueError(f"A content loader named {name!r} is already registered.")
    _loaders[name] = loader


def unregister_content_loader(name: str) -> None:
    """Remove a registered loader (for tests)."""
    _loaders.pop(name, None)


def registered_content_loaders() -> list[ContentLoader]:
    """Registered loaders in registration order (the catalog's own is not among them)."""
    return list(_loaders.values())


# --- Catalog references (the DSL itself: mlrange.common.validation) -----------------------


class AtlasId(Spec):
    noun, plural = "a MITRE ATLAS id", "MITRE ATLAS ids"

    def check(self, value: Any, at: str, checker: Checker) -> None:
        problem = validate_atlas_id(value)
        if problem:
            checker.error(at, problem)


def level_ref() -> Choice:
    return Choice(LEVEL_SLUGS, what="level")


def subskill_ref() -> Choice:
    return Choice(SUBSKILL_SLUGS, what="sub-skill")


def owasp_id() -> Choice:
    return Choice(OWASP_ML_TOP_10, what="OWASP ML Top 10 (2023) id")


def nist_function() -> Choice:
    return Choice(NIST_AI_RMF_FUNCTIONS, what="NIST AI RMF function")


def refs() -> dict[str, F]:
    """The optional taxonomy references an item may carry."""
    return {
        "atlas_ids": F(ListOf(AtlasId(), unique_by=""), required=False),
        "owasp_ids": F(ListOf(owasp_id(), unique_by=""), required=False),
    }


def subskill_refs(*, min_items: int = 1) -> ListOf:
    return ListOf(subskill_ref(), min_items=min_items, unique_by="")


# --- The catalog's files ------------------------------------------------------------------

OVERVIEW = Obj(
    {
        "slug": Slug(),
        "title": Text(max_length=120),
        "tagline": Text(max_length=300),
        "what_is": Text(),
        "why_it_matters": strings(),
        "outcomes": strings(),
    }
)
LEVELS = Obj(
    {
        "levels": ListOf(
            Obj(
                {
                    "slug": level_ref(),
                    "name": Text(max_length=64),
                    "order": Integer(minimum=1, maximum=len(LEVEL_SLUGS)),
                    "summary": Text(),
                    "can_do": strings(),
                    "next_step": F(Text(), required=False),
                }
            ),
            exact=len(LEVEL_SLUGS),
            unique_by="slug",
        )
    }
)
SUBSKILLS = Obj(
    {
        "subskills": ListOf(
            Obj(
                {
                    "slug": subskill_ref(),
                    "name": Text(max_length=120),
                    "order": Integer(minimum=1, maximum=len(SUBSKILL_SLUGS)),
                    "weight": Integer(minimum=1, maximum=100),
                    "weight_rationale": F(Text(), required=False),
                    "description": Text(),
                    "example_tasks": strings(),
                    "nist_functions": F(ListOf(nist_function(), unique_by=""), required=False),
                    **refs(),
                }
            ),
            exact=len(SUBSKILL_SLUGS),
            unique_by="slug",
        )
    }
)
KEY_TOPIC = Obj(
    {
        "title": Text(max_length=200),
        "detail": Text(),
        "nist_functions": F(ListOf(nist_function(), unique_by=""), required=False),
        **refs(),
    }
)
PATH = Obj(
    {
        "stages": ListOf(
            Obj(
                {
                    "slug": Slug(),
                    "order": Integer(minimum=1),
                    "title": Text(max_length=200),
                    "level": level_ref(),
                    "summary": Text(),
                    "goals": strings(),
                    "key_topics": ListOf(KEY_TOPIC, min_items=1, unique_by="title"),
                    "recommended_actions": strings(),
                    "deliverables": strings(),
                }
            ),
            min_items=1,
            unique_by="slug",
        )
    }
)
MISCONCEPTIONS = Obj(
    {
        "misconceptions": ListOf(
            Obj(
                {
                    "slug": Slug(),
                    "misconception": Text(),
                    "correction": Text(),
                    "detail": F(Text(), required=False),
                    "subskills": subskill_refs(),
                    **refs(),
                }
            ),
            min_items=1,
            unique_by="slug",
        )
    }
)
USE_CASES = Obj(
    {
        "use_cases": ListOf(
            Obj(
                {
                    "slug": Slug(),
                    "title": Text(max_length=200),
                    "difficulty": level_ref(),
                    "description": Text(),
                    "key_controls": F(strings(), required=False),
                    "subskills": subskill_refs(),
                    **refs(),
                }
            ),
            min_items=1,
            unique_by="slug",
        )
    }
)
PROJECTS = Obj(
    {
        "projects": ListOf(
            Obj(
                {
                    "slug": Slug(),
                    "title": Text(max_length=200),
                    "difficulty": level_ref(),
                    "summary": Text(),
                    "suggested_stack": strings(),
                    "recruiters_notice": strings(),
                    "subskills": subskill_refs(),
                    **refs(),
                }
            ),
            min_items=1,
            unique_by="slug",
        ),
        "tips": strings(),
    }
)
QUIZ_CHOICE = Obj({"text": Text(), "is_correct": Boolean(), "explanation": Text()})
SELF_ASSESSMENT = Obj(
    {
        "self_check": ListOf(
            Obj({"slug": Slug(), "text": Text(), "subskills": subskill_refs()}),
            min_items=1,
            unique_by="slug",
        ),
        "quiz": ListOf(
            Obj(
                {
                    "slug": Slug(),
                    "question": Text(),
                    "subskills": subskill_refs(),
                    "choices": ListOf(QUIZ_CHOICE, min_items=2, unique_by="text"),
                    **refs(),
                }
            ),
            min_items=1,
            unique_by="slug",
        ),
    }
)
RED_FLAGS = Obj(
    {
        "red_flags": ListOf(
            Obj(
                {
                    "slug": Slug(),
                    "text": Text(),
                    "subskill": subskill_ref(),
                    "remedy": F(Text(), required=False),
                }
            ),
            min_items=1,
            unique_by="slug",
        )
    }
)
RESOURCE = Obj(
    {
        "slug": Slug(),
        "title": Text(max_length=300),
        "url": F(Url(max_length=500), required=False),
        "kind": Choice(
            ("course", "book", "framework", "tool", "community", "guide", "certification"),
            what="resource kind",
        ),
        "description": Text(),
        "subskills": subskill_refs(min_items=0),
    }
)
RESOURCES = Obj(
    {
        "free": ListOf(RESOURCE, min_items=1, unique_by="slug"),
        "paid": ListOf(RESOURCE, min_items=1, unique_by="slug"),
        "tips": strings(),
    }
)
ROLE = Obj(
    {
        "slug": Slug(),
        "title": Text(max_length=200),
        "description": Text(),
        "subskills": subskill_refs(),
    }
)
CAREERS = Obj(
    {
        "primary_roles": ListOf(ROLE, min_items=1, unique_by="slug"),
        "secondary_roles": ListOf(ROLE, min_items=1, unique_by="slug"),
        "industries": ListOf(
            Obj({"slug": Slug(), "name": Text(max_length=200), "description": Text()}),
            min_items=1,
            unique_by="slug",
        ),
        "ats": Obj(
            {
                "must_have": ListOf(Text(max_length=200), min_items=1, unique_by=""),
                "good_to_have": ListOf(Text(max_length=200), min_items=1, unique_by=""),
                "tips": strings(),
            }
        ),
        "resume_phrases": ListOf(
            Obj({"slug": Slug(), "text": Text(), "subskill": subskill_ref()}),
            min_items=1,
            unique_by="slug",
        ),
    }
)
FAQ = Obj(
    {
        "faq": ListOf(
            Obj({"slug": Slug(), "question": Text(max_length=300), "answer": Text()}),
            min_items=1,
            unique_by="slug",
        )
    }
)

CATALOG_FILES: dict[str, Obj] = {
    "overview.yaml": OVERVIEW,
    "levels.yaml": LEVELS,
    "subskills.yaml": SUBSKILLS,
    "path.yaml": PATH,
    "misconceptions.yaml": MISCONCEPTIONS,
    "use_cases.yaml": USE_CASES,
    "projects.yaml": PROJECTS,
    "self_assessment.yaml": SELF_ASSESSMENT,
    "red_flags.yaml": RED_FLAGS,
    "resources.yaml": RESOURCES,
    "careers.yaml": CAREERS,
    "faq.yaml": FAQ,
}


def _check_fixed_order(items: Any, key: str, expected: tuple[str, ...], checker: Checker) -> None:
    """Levels and sub-skills keep their fixed slugs and order 1..n: other apps depend on them."""
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        slug, order = item.get("slug"), item.get("order")
        if slug in expected and isinstance(order, int) and order != expected.index(slug) + 1:
            checker.error(
                f"{key}[{index}].order",
                f"{slug!r} must have order {expected.index(slug) + 1} (the order is fixed)",
            )
    present = {item.get("slug") for item in items if isinstance(item, dict)}
    missing = [slug for slug in expected if slug not in present]
    if missing:
        checker.error(key, f"missing {', '.join(repr(slug) for slug in missing)}")


def _check_rules(name: str, data: dict[str, Any], checker: Checker) -> None:
    """Rules that span several fields of one file."""
    if name == "levels.yaml":
        _check_fixed_order(data.get("levels"), "levels", LEVEL_SLUGS, checker)
    elif name == "subskills.yaml":
        items = data.get("subskills")
        _check_fixed_order(items, "subskills", SUBSKILL_SLUGS, checker)
        if isinstance(items, list):
            weights = [i.get("weight") for i in items if isinstance(i, dict)]
            numbers = [w for w in weights if isinstance(w, int) and not isinstance(w, bool)]
            if len(numbers) == len(weights):
                total = sum(numbers)
                if total != 100:
                    checker.error("subskills", f"weights sum to {total}, expected 100")
    elif name == "self_assessment.yaml":
        for index, question in enumerate(data.get("quiz") or []):
            choices = question.get("choices") if isinstance(question, dict) else None
            if isinstance(choices, list):
                correct = sum(1 for c in choices if isinstance(c, dict) and c.get("is_correct") is True)
                if correct != 1:
                    checker.error(
                        f"quiz[{index}].choices",
                        f"expected exactly one correct choice, found {correct}",
                    )
    elif name in ("resources.yaml", "careers.yaml"):
        _check_shared_slugs(name, data, checker)


def _check_shared_slugs(name: str, data: dict[str, Any], checker: Checker) -> None:
    """Lists stored in one table share its slug space: free/paid resources, primary/secondary
    roles, must-have/good-to-have keywords (whose slug is derived from the term)."""
    groups = {
        "resources.yaml": [("free", "slug"), ("paid", "slug")],
        "careers.yaml": [("primary_roles", "slug"), ("secondary_roles", "slug")],
    }[name]
    pairs: list[tuple[str, Any]] = []
    for key, slug_key in groups:
        for index, item in enumerate(data.get(key) or []):
            if isinstance(item, dict):
                pairs.append((f"{key}[{index}].{slug_key}", item.get(slug_key)))
    if name == "careers.yaml" and isinstance(data.get("ats"), dict):
        for tier in ("must_have", "good_to_have"):
            for index, term in enumerate(data["ats"].get(tier) or []):
                if isinstance(term, str):
                    pairs.append((f"ats.{tier}[{index}]", keyword_slug(term)))
    first: dict[Any, str] = {}
    for at, slug in pairs:
        if not isinstance(slug, str):
            continue
        if slug in first and first[slug].split("[")[0] != at.split("[")[0]:
            checker.error(at, f"duplicate slug {slug!r} (first used at {first[slug]})")
        first.setdefault(slug, at)


def keyword_slug(term: str) -> str:
    """The stable slug of an ATS keyword: derived from its term."""
    return slugify(term.replace("/", " ").replace("+", " plus "))[:50].strip("-")


def read_catalog(root: Path) -> tuple[dict[str, Any], list[ContentError]]:
    """Read and validate the catalog's files under `root`; returns {file name: data}, errors.

    The data is only safe to load when the error list is empty.
    """
    documents: dict[str, Any] = {}
    errors: list[ContentError] = []
    if not root.is_dir():
        return {}, [ContentError(str(root), "", "curriculum folder not found")]
    known = set(CATALOG_FILES)
    for path in sorted(root.glob("*.y*ml")):
        if path.name not in known:
            errors.append(
                ContentError(
                    file_label(root, path),
                    "",
                    f"unknown content file (expected one of: {', '.join(CATALOG_FILES)})",
                )
            )
    for name, spec in CATALOG_FILES.items():
        label = file_label(root, root / name)
        data, read_errors = read_yaml(root / name, label)
        if read_errors:
            errors.extend(read_errors)
            continue
        checker = Checker(label)
        if not isinstance(data, dict):
            checker.error("", "expected a mapping at the top level")
        else:
            spec.check(data, "", checker)
            _check_rules(name, data, checker)
            documents[name] = data
        errors.extend(checker.errors)
    return documents, errors


def validate_catalog(root: Path) -> list[ContentError]:
    """Every error in the catalog's files under `root` (an empty list means loadable)."""
    return read_catalog(root)[1]


def validate_all(root: Path) -> list[ContentError]:
    """The catalog's errors followed by those of every registered content loader."""
    errors = validate_catalog(root)
    for loader in registered_content_loaders():
        errors.extend(loader.validate(root))
    return errors
