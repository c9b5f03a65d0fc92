"""Fixtures of the lab content tests: a small ATLAS file, built assets, graded solutions."""

from pathlib import Path

import pytest
from django.test import override_settings

ATLAS_SUBSET = """\
id: ATLAS
name: Adversarial Threat Landscape for AI Systems
version: 5.6.0
matrices:
- id: ATLAS
  name: ATLAS Matrix
  tactics:
  - id: AML.TA0004
    name: Initial Access
  techniques:
  - id: AML.T0015
    name: Evade AI Model
  - id: AML.T0043
    name: Craft Adversarial Data
  - id: AML.T0043.000
    name: White-Box Optimization
    subtechnique-of: AML.T0043
  mitigations:
  - id: AML.M0003
    name: Model Hardening
"""

REPO = Path(__file__).resolve().parents[2]
REAL_LABS_DIR = REPO / "labs"


@pytest.fixture(scope="session")
def atlas_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("atlas") / "mitre-atlas-5.6.0.yaml"
    path.write_text(ATLAS_SUBSET)
    return path


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
