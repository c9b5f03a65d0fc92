"""Template helpers of the guide pages: taxonomy references shown with their names."""

from typing import Any

from django import template

from mlrange.catalog.atlas import AtlasKind, atlas_entries
from mlrange.catalog.taxonomies import nist_items, owasp_items

register = template.Library()


@register.inclusion_tag("catalog/_refs.html")
def taxonomy_refs(
    atlas_ids: list[str] | None = None,
    owasp_ids: list[str] | None = None,
    nist_functions: list[str] | None = None,
    *,
    detailed: bool = False,
) -> dict[str, Any]:
    """ATLAS, OWASP ML Top 10 and NIST AI RMF references as labelled lists.

    `detailed` shows the kind of each ATLAS object and the OWASP summaries (sub-skill pages).
    """
    atlas = atlas_entries(list(atlas_ids or []))
    return {
        "atlas": atlas,
        "atlas_threats": [e for e in atlas if e.kind is not AtlasKind.MITIGATION],
        "atlas_mitigations": [e for e in atlas if e.kind is AtlasKind.MITIGATION],
        "owasp": owasp_items(list(owasp_ids or [])),
        "nist": nist_items(list(nist_functions or [])),
        "detailed": detailed,
    }
