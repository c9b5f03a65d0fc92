"""Fixtures of the lab content tests: the ATLAS data, built assets, graded solutions."""

from pathlib import Path

import pytest
from django.test import override_settings

REPO = Path(__file__).resolve().parents[2]
REAL_LABS_DIR = REPO / "labs"


@pytest.fixture(scope="session")
def atlas_file() -> Path:
    """The vendored ATLAS 5.6.0 data: labs cite real ids, so they are checked against the real file."""
    return REPO / "curriculum" / "reference" / "mitre-atlas-5.6.0.yaml"


@pytest.fixture(autouse=True)
def _atlas_settings(atlas_file):
    with override_settings(ATLAS_DATA_FILE=atlas_file, LABS_DIR=REAL_LABS_DIR):
        yield


@pytest.fixture(scope="session")
def adversarial_lab(atlas_file):
    from mlrange.labs.registry import get_lab

    with override_settings(ATLAS_DATA_FILE=atlas_file):
        return get_lab("adversarial-examples", REAL_LABS_DIR)


@pytest.fixture(scope="session")
def built_assets(tmp_path_factory, adversarial_lab):
    """The adversarial-examples assets, built once per session into a temp assets folder."""
    from mlrange.labs.assets import build_lab_assets, lab_asset_dirs

    assets_dir = tmp_path_factory.mktemp("lab-assets")
    build = build_lab_assets(adversarial_lab, assets_dir=assets_dir)
    return assets_dir, build, lab_asset_dirs(adversarial_lab.slug, assets_dir)
