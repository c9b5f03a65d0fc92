"""The labs' part of `manage.py load_curriculum`: validate every lab pack, then upsert Lab rows.

Registered with the catalog's content-loader registry in LabsConfig.ready(). A lab whose
folder disappears is deactivated, not deleted: learners' submissions keep pointing at it.
"""

import hashlib
from pathlib import Path

from django.conf import settings
from django.db import transaction

from mlrange.catalog.content import ContentError, LoadReport
from mlrange.catalog.models import Level, SubSkill
from mlrange.labs import registry
from mlrange.labs.models import Lab


def _labs_dir(curriculum_root: Path) -> Path:
    """Lab packs live in settings.LABS_DIR, whatever curriculum folder is being loaded."""
    return Path(settings.LABS_DIR)


def labs_validate(curriculum_root: Path) -> list[ContentError]:
    _, errors = registry.validate_labs(_labs_dir(curriculum_root))
    problems = []
    for error in errors:
        file, _, rest = error.partition(": ")
        field, _, message = rest.partition(": ") if ": " in rest else ("", "", rest)
        problems.append(ContentError(file=file, field=field, message=message))
    return problems


@transaction.atomic
def labs_load(curriculum_root: Path) -> LoadReport:
    specs = registry.discover_labs(_labs_dir(curriculum_root))
    subskills = {s.slug: s for s in SubSkill.objects.all()}
    levels = {lv.slug: lv for lv in Level.objects.all()}
    report = LoadReport()
    seen = set()
    for spec in specs:
        seen.add(spec.slug)
        values = {
            "title": spec.title,
            "summary": spec.summary,
            "subskill": subskills[spec.subskill],
            "level": levels[spec.level],
            "atlas": list(spec.atlas),
            "owasp": list(spec.owasp),
            "time_budget_minutes": spec.time_budget_minutes,
            "pass_points": spec.pass_points,
            "max_points": float(sum(t.points for t in spec.tiers)),
            "content_hash": hashlib.sha256((spec.root / "manifest.yaml").read_bytes()).hexdigest(),
            "is_active": True,
        }
        lab = Lab.objects.filter(slug=spec.slug).first()
        if lab is None:
            Lab.objects.create(slug=spec.slug, **values)
            report.created += 1
            continue
        changed = [k for k, v in values.items() if getattr(lab, k) != v]
        if changed:
            for key in changed:
                setattr(lab, key, values[key])
            lab.save(update_fields=changed)
            report.updated += 1
        else:
            report.unchanged += 1
    report.deleted = Lab.objects.exclude(slug__in=seen).filter(is_active=True).update(is_active=False)
    return report
