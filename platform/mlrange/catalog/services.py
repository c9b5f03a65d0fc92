"""Writes of the catalog: load the validated curriculum files into the database, by slug."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import models, transaction
from django.db.models import ProtectedError

from mlrange.catalog.content import (
    ContentError,
    LoadReport,
    keyword_slug,
    read_catalog,
    registered_content_loaders,
    validate_all,
)
from mlrange.catalog.models import (
    AtsKeyword,
    FaqEntry,
    Guide,
    Industry,
    Level,
    Misconception,
    PathStage,
    PortfolioProject,
    QuickQuizQuestion,
    RedFlag,
    Resource,
    ResumePhrase,
    Role,
    SelfCheckQuestion,
    SubSkill,
    UseCase,
)
from mlrange.common.exceptions import ApplicationError


class CurriculumInvalidError(ApplicationError):
    """The curriculum has errors; nothing was written. `errors` lists every one of them."""

    def __init__(self, errors: list[ContentError]) -> None:
        super().__init__(
            f"{len(errors)} error(s) in the curriculum; nothing was written.",
            extra={"errors": [str(error) for error in errors]},
        )
        self.errors = errors


@dataclass
class CurriculumLoadResult:
    """Per-loader reports of one load, the catalog's first."""

    reports: dict[str, LoadReport] = field(default_factory=dict)

    @property
    def total(self) -> LoadReport:
        total = LoadReport()
        for report in self.reports.values():
            total = total + report
        return total


@dataclass
class _Row:
    slug: str
    values: dict[str, Any]
    subskills: list[str] | None = None


def _sync(model: type[models.Model], rows: list[_Row], report: LoadReport) -> None:
    """Make the table hold exactly `rows`: create, update changed, delete missing (by slug).

    Ids of existing rows never change.
    """
    manager: Any = model._default_manager
    existing: dict[str, Any] = {obj.slug: obj for obj in manager.all()}
    wanted = {row.slug for row in rows}
    stale = [slug for slug in existing if slug not in wanted]
    if stale:
        try:
            report.deleted += manager.filter(slug__in=stale).delete()[1].get(model._meta.label, 0)
        except ProtectedError as exc:
            raise ApplicationError(
                f"Cannot remove {model._meta.verbose_name} {', '.join(sorted(stale))}: "
                "other records still refer to it."
            ) from exc
    _move_changed_orders_aside(model, rows, existing)
    subskill_ids = dict(SubSkill.objects.values_list("slug", "id"))
    for row in rows:
        obj = existing.get(row.slug)
        if obj is None:
            obj = manager.create(slug=row.slug, **row.values)
            report.created += 1
            if row.subskills is not None:
                _set_subskills(obj, row.subskills, subskill_ids)
            continue
        dirty = [name for name, value in row.values.items() if getattr(obj, name) != value]
        for name in dirty:
            setattr(obj, name, row.values[name])
        if dirty:
            obj.save(update_fields=dirty)
        relinked = row.subskills is not None and _set_subskills(obj, row.subskills, subskill_ids)
        if dirty or relinked:
            report.updated += 1
        else:
            report.unchanged += 1


def _move_changed_orders_aside(model: type[models.Model], rows: list[_Row], existing: dict[str, Any]) -> None:
    """Levels and sub-skills have a unique `order`: park the rows whose order changes on free
    values first, so that a permutation never collides half-way."""
    order_fields = [f for f in model._meta.fields if f.name == "order"]
    if not order_fields or not order_fields[0].unique:
        return
    moving = [
        existing[row.slug]
        for row in rows
        if row.slug in existing and existing[row.slug].order != row.values["order"]
    ]
    for offset, obj in enumerate(moving, start=1):
        obj.order = 30000 + offset
        obj.save(update_fields=["order"])


def _set_subskills(obj: Any, slugs: list[str], subskill_ids: dict[str, int]) -> bool:
    """Point the row's sub-skills M2M at exactly `slugs`; True if it changed."""
    wanted_ids = {subskill_ids[slug] for slug in slugs}
    if set(obj.subskills.values_list("id", flat=True)) == wanted_ids:
        return False
    obj.subskills.set(wanted_ids)
    return True


def _ordered(items: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(items, start=1))


@transaction.atomic
def catalog_content_load(*, root: Path) -> LoadReport:
    """Upsert the catalog's files under `root` into the database. Idempotent.

    Validates first and raises CurriculumInvalidError (writing nothing) on any error.
    """
    documents, errors = read_catalog(root)
    if errors:
        raise CurriculumInvalidError(errors)
    report = LoadReport()
    overview = documents["overview.yaml"]
    projects_doc = documents["projects.yaml"]
    resources_doc = documents["resources.yaml"]
    careers = documents["careers.yaml"]

    _sync(
        Level,
        [
            _Row(
                item["slug"],
                {
                    "name": item["name"],
                    "order": item["order"],
                    "summary": item["summary"],
                    "can_do": item["can_do"],
                    "next_step": item.get("next_step") or "",
                },
            )
            for item in documents["levels.yaml"]["levels"]
        ],
        report,
    )
    _sync(
        SubSkill,
        [
            _Row(
                item["slug"],
                {
                    "name": item["name"],
                    "order": item["order"],
                    "weight": item["weight"],
                    "weight_rationale": item.get("weight_rationale") or "",
                    "description": item["description"],
                    "example_tasks": item["example_tasks"],
                    "atlas_ids": item.get("atlas_ids") or [],
                    "owasp_ids": item.get("owasp_ids") or [],
                    "nist_functions": item.get("nist_functions") or [],
                },
            )
            for item in documents["subskills.yaml"]["subskills"]
        ],
        report,
    )
    level_ids = dict(Level.objects.values_list("slug", "id"))
    subskill_ids = dict(SubSkill.objects.values_list("slug", "id"))

    _sync(
        Guide,
        [
            _Row(
                overview["slug"],
                {
                    "title": overview["title"],
                    "tagline": overview["tagline"],
                    "what_is": overview["what_is"],
                    "why_it_matters": overview["why_it_matters"],
                    "outcomes": overview["outcomes"],
                    "portfolio_tips": projects_doc["tips"],
                    "learning_tips": resources_doc["tips"],
                    "ats_tips": careers["ats"]["tips"],
                },
            )
        ],
        report,
    )
    _sync(
        PathStage,
        [
            _Row(
                item["slug"],
                {
                    "order": item["order"],
                    "title": item["title"],
                    "level_id": level_ids[item["level"]],
                    "summary": item["summary"],
                    "goals": item["goals"],
                    "key_topics": [
                        {
                            "title": topic["title"],
                            "detail": topic["detail"],
                            "atlas_ids": topic.get("atlas_ids") or [],
                            "owasp_ids": topic.get("owasp_ids") or [],
                            "nist_functions": topic.get("nist_functions") or [],
                        }
                        for topic in item["key_topics"]
                    ],
                    "recommended_actions": item["recommended_actions"],
                    "deliverables": item["deliverables"],
                },
            )
            for item in documents["path.yaml"]["stages"]
        ],
        report,
    )
    _sync(
        Misconception,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "misconception": item["misconception"],
                    "correction": item["correction"],
                    "detail": item.get("detail") or "",
                    "atlas_ids": item.get("atlas_ids") or [],
                    "owasp_ids": item.get("owasp_ids") or [],
                },
                item["subskills"],
            )
            for order, item in _ordered(documents["misconceptions.yaml"]["misconceptions"])
        ],
        report,
    )
    _sync(
        UseCase,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "title": item["title"],
                    "difficulty_id": level_ids[item["difficulty"]],
                    "description": item["description"],
                    "key_controls": item.get("key_controls") or [],
                    "atlas_ids": item.get("atlas_ids") or [],
                    "owasp_ids": item.get("owasp_ids") or [],
                },
                item["subskills"],
            )
            for order, item in _ordered(documents["use_cases.yaml"]["use_cases"])
        ],
        report,
    )
    _sync(
        PortfolioProject,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "title": item["title"],
                    "difficulty_id": level_ids[item["difficulty"]],
                    "summary": item["summary"],
                    "suggested_stack": item["suggested_stack"],
                    "recruiters_notice": item["recruiters_notice"],
                    "atlas_ids": item.get("atlas_ids") or [],
                    "owasp_ids": item.get("owasp_ids") or [],
                },
                item["subskills"],
            )
            for order, item in _ordered(projects_doc["projects"])
        ],
        report,
    )
    self_assessment = documents["self_assessment.yaml"]
    _sync(
        SelfCheckQuestion,
        [
            _Row(item["slug"], {"order": order, "text": item["text"]}, item["subskills"])
            for order, item in _ordered(self_assessment["self_check"])
        ],
        report,
    )
    _sync(
        QuickQuizQuestion,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "question": item["question"],
                    "choices": [
                        {
                            "text": choice["text"],
                            "is_correct": choice["is_correct"],
                            "explanation": choice["explanation"],
                        }
                        for choice in item["choices"]
                    ],
                    "atlas_ids": item.get("atlas_ids") or [],
                    "owasp_ids": item.get("owasp_ids") or [],
                },
                item["subskills"],
            )
            for order, item in _ordered(self_assessment["quiz"])
        ],
        report,
    )
    _sync(
        RedFlag,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "text": item["text"],
                    "subskill_id": subskill_ids[item["subskill"]],
                    "remedy": item.get("remedy") or "",
                },
            )
            for order, item in _ordered(documents["red_flags.yaml"]["red_flags"])
        ],
        report,
    )
    resources = [(True, item) for item in resources_doc["free"]]
    resources += [(False, item) for item in resources_doc["paid"]]
    _sync(
        Resource,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "title": item["title"],
                    "url": item.get("url") or "",
                    "is_free": is_free,
                    "kind": item["kind"],
                    "description": item["description"],
                },
                item["subskills"],
            )
            for order, (is_free, item) in enumerate(resources, start=1)
        ],
        report,
    )
    roles = [(Role.Kind.PRIMARY, item) for item in careers["primary_roles"]]
    roles += [(Role.Kind.SECONDARY, item) for item in careers["secondary_roles"]]
    _sync(
        Role,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "title": item["title"],
                    "kind": kind.value,
                    "description": item["description"],
                },
                item["subskills"],
            )
            for order, (kind, item) in enumerate(roles, start=1)
        ],
        report,
    )
    _sync(
        Industry,
        [
            _Row(item["slug"], {"order": order, "name": item["name"], "description": item["description"]})
            for order, item in _ordered(careers["industries"])
        ],
        report,
    )
    keywords = [(AtsKeyword.Tier.MUST_HAVE, term) for term in careers["ats"]["must_have"]]
    keywords += [(AtsKeyword.Tier.GOOD_TO_HAVE, term) for term in careers["ats"]["good_to_have"]]
    _sync(
        AtsKeyword,
        [
            _Row(keyword_slug(term), {"order": order, "term": term, "tier": tier.value})
            for order, (tier, term) in enumerate(keywords, start=1)
        ],
        report,
    )
    _sync(
        ResumePhrase,
        [
            _Row(
                item["slug"],
                {
                    "order": order,
                    "text": item["text"],
                    "subskill_id": subskill_ids[item["subskill"]],
                },
            )
            for order, item in _ordered(careers["resume_phrases"])
        ],
        report,
    )
    _sync(
        FaqEntry,
        [
            _Row(item["slug"], {"order": order, "question": item["question"], "answer": item["answer"]})
            for order, item in _ordered(documents["faq.yaml"]["faq"])
        ],
        report,
    )
    return report


@transaction.atomic
def curriculum_load(*, root: Path) -> CurriculumLoadResult:
    """Validate the whole curriculum (catalog + registered loaders), then load it all in one
    transaction. Raises CurriculumInvalidError listing every error, and then writes nothing.
    """
    errors = validate_all(root)
    if errors:
        raise CurriculumInvalidError(errors)
    result = CurriculumLoadResult()
    result.reports["catalog"] = catalog_content_load(root=root)
    for loader in registered_content_loaders():
        result.reports[loader.name] = loader.load(root)
    return result
