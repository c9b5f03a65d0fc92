"""What lab pages and the API show of a lab pack (brief, starter, notebook, scoring), read from labs/."""

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class LabPack:
    slug: str
    brief_markdown: str
    starter_code: str
    notebook_json: str
    artifacts: list[dict[str, Any]]
    tiers: list[dict[str, Any]]


@lru_cache(maxsize=64)
def lab_pack(slug: str) -> LabPack:
    """The learner-facing files of a lab pack. Never includes graders, solutions or hidden assets."""
    from mlrange.labs import registry

    spec = registry.get_lab(slug)
    notebook = spec.notebook_path.read_text()
    json.loads(notebook)  # a committed notebook that is not JSON is a content bug: fail loudly here
    return LabPack(
        slug=spec.slug,
        brief_markdown=spec.brief_path.read_text(),
        starter_code=spec.starter_path.read_text(),
        notebook_json=notebook,
        artifacts=[
            {"name": a.name, "max_bytes": a.max_bytes, "description": a.description} for a in spec.artifacts
        ],
        tiers=[
            {"id": t.id, "title": t.title, "points": t.points, "description": t.description}
            for t in spec.tiers
        ],
    )
