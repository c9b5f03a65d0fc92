"""Fixtures of the catalog tests: the real curriculum, a writable copy of it, a loaded database."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings

from mlrange.catalog import content
from mlrange.catalog.services import catalog_content_load


@pytest.fixture(autouse=True)
def only_catalog_loader(monkeypatch):
    """Other apps' registered loaders (work in progress elsewhere) stay out of these tests."""
    monkeypatch.setattr(content, "_loaders", {})


@pytest.fixture
def curriculum_root() -> Path:
    return Path(settings.CURRICULUM_DIR)


@pytest.fixture
def curriculum_copy(tmp_path, curriculum_root) -> Path:
    """A copy of the catalog's YAML files in tmp_path/curriculum, free to break."""
    root = tmp_path / "curriculum"
    root.mkdir()
    for path in curriculum_root.glob("*.yaml"):
        shutil.copy(path, root / path.name)
    return root


@pytest.fixture
def loaded_curriculum(db, curriculum_root):
    return catalog_content_load(root=curriculum_root)


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count))
