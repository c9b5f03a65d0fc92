"""The question bank's loader: validate curriculum/questions/*.yaml, then load it idempotently.

Registered with the catalog's loader registry (`manage.py load_curriculum`) in
AssessmentsConfig.ready(). Loading is idempotent by item key: a second run creates and
updates nothing; items gone from the files are retired (is_active=False), never deleted,
so past attempts keep their history. ATLAS references are stored with the technique's
name so that review pages need not parse ATLAS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from mlrange.assessments.bank import read_bank
from mlrange.assessments.models import Item
from mlrange.catalog.atlas import atlas_catalog
from mlrange.catalog.content import ContentError, LoadReport, register_content_loader
from mlrange.catalog.models import Level, SubSkill

QUESTIONS_FOLDER = "questions"


def atlas_names() -> dict[str, str]:
    """ATLAS id -> name for every object of ATLAS 5.6.0 (the catalog parses it once)."""
    return {atlas_id: entry.name for atlas_id, entry in atlas_catalog().entries.items()}


def _label_root(root: Path) -> Path:
    """Errors name files relative to the curriculum folder's parent: curriculum/questions/x.yaml."""
    return root.parent


def validate_questions(root: Path) -> list[ContentError]:
    """Every problem in the bank under `root`/questions, each naming file, item and field."""
    _, problems = read_bank(
        root / QUESTIONS_FOLDER, label_root=_label_root(root), atlas_ids=set(atlas_names())
    )
    return problems  # bank problems are ContentErrors already


def _enrich_references(references: list[dict[str, str]]) -> list[dict[str, str]]:
    names = atlas_names()
    enriched = []
    for ref in references:
        if "atlas" in ref:
            enriched.append({"atlas": ref["atlas"], "name": names.get(ref["atlas"], "")})
        else:
            enriched.append(dict(ref))
    return enriched


@transaction.atomic
def load_questions(root: Path) -> LoadReport:
    """Create, update and retire items to match the files. Idempotent by item key.

    Call only after `validate_questions` reported nothing: invalid files load nothing.
    """
    items, problems = read_bank(root / QUESTIONS_FOLDER, label_root=_label_root(root), atlas_ids=None)
    if problems:
        raise ValueError(f"question bank has {len(problems)} problem(s); validate first: {problems[0]}")
    levels = {level.slug: level for level in Level.objects.all()}
    subskills = {s.slug: s for s in SubSkill.objects.all()}
    existing = {item.key: item for item in Item.objects.all()}
    created = updated = unchanged = 0
    for parsed in items:
        fields: dict[str, Any] = {
            "subskill": subskills[parsed.subskill],
            "level": levels[parsed.level],
            "type": parsed.type,
            "stem": parsed.stem,
            "options": parsed.options,
            "answer": parsed.answer,
            "scoring": parsed.scoring,
            "explanation": parsed.explanation,
            "references": _enrich_references(parsed.references),
            "tags": parsed.tags,
            "source": parsed.source,
            "initial_irt_a": parsed.irt_a,
            "initial_irt_b": parsed.irt_b,
            "irt_c": parsed.irt_c,
            "is_active": True,
        }
        item = existing.get(parsed.id)
        # A key once shown in a practice review is out: the item never measures placement again.
        fields["pool"] = (
            Item.Pool.PRACTICE if item is not None and item.pool == Item.Pool.PRACTICE else parsed.pool
        )
        if item is None:
            Item.objects.create(key=parsed.id, irt_a=parsed.irt_a, irt_b=parsed.irt_b, **fields)
            created += 1
            continue
        changed = [name for name, value in fields.items() if getattr(item, name) != value]
        if item.initial_irt_a != parsed.irt_a or item.initial_irt_b != parsed.irt_b or not item.is_calibrated:
            # New parameters in the files win over an earlier recalibration.
            for name, value in (("irt_a", parsed.irt_a), ("irt_b", parsed.irt_b)):
                if getattr(item, name) != value:
                    changed.append(name)
                    setattr(item, name, value)
            if "initial_irt_a" in changed or "initial_irt_b" in changed:
                item.is_calibrated = False
                changed.append("is_calibrated")
        if changed:
            for name in changed:
                if name in fields:
                    setattr(item, name, fields[name])
            item.save(update_fields=sorted(set(changed)))
            updated += 1
        else:
            unchanged += 1
    keys = {parsed.id for parsed in items}
    retired = Item.objects.filter(is_active=True).exclude(key__in=keys).update(is_active=False)

    from mlrange.assessments.services import quiz_catalog_sync

    quiz_catalog_sync()
    return LoadReport(created=created, updated=updated, deleted=retired, unchanged=unchanged)


def register() -> None:
    """Register the bank with the catalog's loader registry (from AppConfig.ready())."""
    register_content_loader("questions", validate=validate_questions, load=load_questions)
