"""MITRE ATLAS 5.6.0 lookups: validate the ATLAS ids that content cites and show their names.

The vendored file curriculum/reference/mitre-atlas-5.6.0.yaml (settings.ATLAS_DATA_FILE) is
parsed once per process and cached. Other apps use this public API::

    from mlrange.catalog.atlas import atlas_id_exists, atlas_entry, atlas_name

    atlas_id_exists("AML.T0043.000")   # True: tactics, techniques, sub-techniques,
                                       # mitigations and case studies all count
    atlas_name("AML.M0003")            # "Model Hardening"; KeyError if the id is unknown
    atlas_technique("AML.T0024.002")   # AtlasEntry(kind="subtechnique", name="Extract AI Model", ...)
    atlas_mitigation("AML.T0015")      # None: the id exists but is not a mitigation
    validate_atlas_id("AML.T9999")     # "unknown MITRE ATLAS id 'AML.T9999' (not in ATLAS 5.6.0)"

Ids are matched exactly (upper case, as ATLAS writes them). Nothing here touches the network
or the database.
"""

import functools
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

ATLAS_VERSION = "5.6.0"
ATLAS_SITE = "https://atlas.mitre.org"
ATLAS_ID_PATTERN = re.compile(r"^AML\.(TA\d{4}|T\d{4}(\.\d{3})?|M\d{4}|CS\d{4})$")


class AtlasKind(StrEnum):
    TACTIC = "tactic"
    TECHNIQUE = "technique"
    SUBTECHNIQUE = "subtechnique"
    MITIGATION = "mitigation"
    CASE_STUDY = "case-study"


_URL_SECTION = {
    AtlasKind.TACTIC: "tactics",
    AtlasKind.TECHNIQUE: "techniques",
    AtlasKind.SUBTECHNIQUE: "techniques",
    AtlasKind.MITIGATION: "mitigations",
    AtlasKind.CASE_STUDY: "studies",
}


@dataclass(frozen=True)
class AtlasEntry:
    """One ATLAS object. `parent_id` is set for sub-techniques, `tactic_ids` for techniques."""

    id: str
    name: str
    kind: AtlasKind
    description: str = ""
    parent_id: str | None = None
    tactic_ids: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"{ATLAS_SITE}/{_URL_SECTION[self.kind]}/{self.id}"

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"

    @property
    def kind_label(self) -> str:
        return "case study" if self.kind is AtlasKind.CASE_STUDY else self.kind.value


@dataclass(frozen=True)
class AtlasCatalog:
    version: str
    entries: dict[str, AtlasEntry] = field(default_factory=dict)

    def of_kind(self, *kinds: AtlasKind) -> list[AtlasEntry]:
        return [entry for entry in self.entries.values() if entry.kind in kinds]


def _entry(raw: dict[str, Any], kind: AtlasKind) -> AtlasEntry:
    return AtlasEntry(
        id=str(raw["id"]),
        name=str(raw["name"]),
        kind=kind,
        description=str(raw.get("description") or raw.get("summary") or "").strip(),
        parent_id=raw.get("subtechnique-of"),
        tactic_ids=tuple(raw.get("tactics") or ()),
    )


def parse_atlas(path: Path) -> AtlasCatalog:
    """Parse an ATLAS distribution file (dist/ATLAS.yaml layout). Raises ImproperlyConfigured."""
    if not path.is_file():
        raise ImproperlyConfigured(f"MITRE ATLAS data file not found: {path}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=loader)  # noqa: S506 -- a SafeLoader (C or Python)
    version = str(data.get("version", ""))
    if version != ATLAS_VERSION:
        raise ImproperlyConfigured(
            f"{path} holds ATLAS {version or '(no version)'}; MLRange cites ATLAS {ATLAS_VERSION}."
        )
    entries: dict[str, AtlasEntry] = {}
    for matrix in data.get("matrices", []):
        for raw in matrix.get("tactics", []):
            entries[raw["id"]] = _entry(raw, AtlasKind.TACTIC)
        for raw in matrix.get("techniques", []):
            kind = AtlasKind.SUBTECHNIQUE if raw.get("subtechnique-of") else AtlasKind.TECHNIQUE
            entries[raw["id"]] = _entry(raw, kind)
        for raw in matrix.get("mitigations", []):
            entries[raw["id"]] = _entry(raw, AtlasKind.MITIGATION)
    for raw in data.get("case-studies", []):
        entries[raw["id"]] = _entry(raw, AtlasKind.CASE_STUDY)
    return AtlasCatalog(version=version, entries=entries)


@functools.cache
def _catalog_at(path: Path) -> AtlasCatalog:
    return parse_atlas(path)


def atlas_catalog() -> AtlasCatalog:
    """The ATLAS data of settings.ATLAS_DATA_FILE, parsed once per process (~50 ms)."""
    return _catalog_at(Path(settings.ATLAS_DATA_FILE))


def atlas_entry(atlas_id: str) -> AtlasEntry | None:
    """Any ATLAS object by id (tactic, technique, sub-technique, mitigation, case study)."""
    return atlas_catalog().entries.get(atlas_id)


def atlas_id_exists(atlas_id: str) -> bool:
    return atlas_entry(atlas_id) is not None


def atlas_name(atlas_id: str) -> str:
    """The object's name. Raises KeyError for an id that is not in ATLAS 5.6.0."""
    entry = atlas_entry(atlas_id)
    if entry is None:
        raise KeyError(atlas_id)
    return entry.name


def _of_kind(atlas_id: str, *kinds: AtlasKind) -> AtlasEntry | None:
    entry = atlas_entry(atlas_id)
    return entry if entry is not None and entry.kind in kinds else None


def atlas_technique(atlas_id: str) -> AtlasEntry | None:
    """A technique or sub-technique (AML.T0043, AML.T0043.000), else None."""
    return _of_kind(atlas_id, AtlasKind.TECHNIQUE, AtlasKind.SUBTECHNIQUE)


def atlas_tactic(atlas_id: str) -> AtlasEntry | None:
    return _of_kind(atlas_id, AtlasKind.TACTIC)


def atlas_mitigation(atlas_id: str) -> AtlasEntry | None:
    return _of_kind(atlas_id, AtlasKind.MITIGATION)


def atlas_case_study(atlas_id: str) -> AtlasEntry | None:
    return _of_kind(atlas_id, AtlasKind.CASE_STUDY)


def atlas_entries(atlas_ids: list[str]) -> list[AtlasEntry]:
    """Entries for known ids, in the given order; unknown ids are skipped (validate first)."""
    entries = atlas_catalog().entries
    return [entries[atlas_id] for atlas_id in atlas_ids if atlas_id in entries]


def validate_atlas_id(value: object) -> str | None:
    """None when `value` is an ATLAS 5.6.0 id, else a message saying what is wrong with it."""
    if not isinstance(value, str) or not ATLAS_ID_PATTERN.match(value):
        return (
            f"{value!r} is not a MITRE ATLAS id (expected AML.TA0000, AML.T0000, "
            "AML.T0000.000, AML.M0000 or AML.CS0000)"
        )
    if not atlas_id_exists(value):
        return f"unknown MITRE ATLAS id {value!r} (not in ATLAS {ATLAS_VERSION})"
    return None
