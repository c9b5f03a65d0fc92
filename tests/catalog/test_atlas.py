"""The ATLAS 5.6.0 lookups other apps use to validate and name the ids they cite."""

import hashlib
import re
from pathlib import Path

from django.conf import settings

from mlrange.catalog.atlas import (
    ATLAS_VERSION,
    AtlasKind,
    atlas_case_study,
    atlas_catalog,
    atlas_entry,
    atlas_id_exists,
    atlas_mitigation,
    atlas_name,
    atlas_tactic,
    atlas_technique,
    validate_atlas_id,
)


def test_atlas_id_exists_for_every_kind_of_object():
    for atlas_id in ("AML.TA0002", "AML.T0015", "AML.T0043.000", "AML.M0003", "AML.CS0000"):
        assert atlas_id_exists(atlas_id), atlas_id


def test_atlas_id_exists_rejects_unknown_and_malformed_ids():
    for atlas_id in ("AML.T9999", "AML.T0043.999", "aml.t0015", "T0015", ""):
        assert not atlas_id_exists(atlas_id), atlas_id


def test_lookups_return_names_from_the_atlas_data():
    assert atlas_name("AML.M0003") == "Model Hardening"
    assert atlas_technique("AML.T0024.002").name == "Extract AI Model"
    assert atlas_technique("AML.T0024.002").parent_id == "AML.T0024"
    assert atlas_tactic("AML.TA0002").name == "Reconnaissance"
    assert atlas_mitigation("AML.M0015").name == "Adversarial Input Detection"
    assert atlas_case_study("AML.CS0000").kind is AtlasKind.CASE_STUDY


def test_kind_specific_lookups_return_none_for_another_kind():
    assert atlas_mitigation("AML.T0015") is None
    assert atlas_technique("AML.M0003") is None
    assert atlas_tactic("AML.T0015") is None


def test_atlas_name_raises_key_error_for_unknown_id():
    try:
        atlas_name("AML.T9999")
    except KeyError:
        return
    raise AssertionError("atlas_name accepted an unknown id")


def test_entry_url_points_to_the_atlas_site_section_of_its_kind():
    assert atlas_entry("AML.T0043.000").url == "https://atlas.mitre.org/techniques/AML.T0043.000"
    assert atlas_entry("AML.M0003").url == "https://atlas.mitre.org/mitigations/AML.M0003"
    assert atlas_entry("AML.TA0002").url == "https://atlas.mitre.org/tactics/AML.TA0002"


def test_validate_atlas_id_explains_what_is_wrong():
    assert validate_atlas_id("AML.T0015") is None
    assert validate_atlas_id("AML.T9999") == ("unknown MITRE ATLAS id 'AML.T9999' (not in ATLAS 5.6.0)")
    assert "is not a MITRE ATLAS id" in validate_atlas_id("T0015")


def test_catalog_holds_the_whole_5_6_0_matrix():
    catalog = atlas_catalog()
    assert catalog.version == ATLAS_VERSION == "5.6.0"
    assert len(catalog.of_kind(AtlasKind.TACTIC)) == 16
    assert len(catalog.of_kind(AtlasKind.TECHNIQUE, AtlasKind.SUBTECHNIQUE)) == 170
    assert len(catalog.of_kind(AtlasKind.MITIGATION)) == 35


def test_vendored_atlas_file_is_unchanged_from_its_recorded_source():
    data_file = Path(settings.ATLAS_DATA_FILE)
    source = (data_file.parent / "SOURCE").read_text()
    recorded = re.search(r"SHA-256: ([0-9a-f]{64})", source).group(1)
    assert hashlib.sha256(data_file.read_bytes()).hexdigest() == recorded
    assert (data_file.parent / "LICENSE").read_text().startswith("Copyright 2021-2025 MITRE")
