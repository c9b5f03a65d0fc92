"""Lab assets: built by the recipe, installed world-readable, deterministic and cached."""

import json
import shutil
import stat

import pytest

from mlrange.labs.assets import build_lab_assets, verify_lab_assets

pytestmark = pytest.mark.slow


def test_build_installs_public_hidden_and_grader_files(built_assets):
    assets_dir, build, dirs = built_assets
    assert build.built
    assert sorted(p.name for p in dirs.public.iterdir()) == [
        "README.txt",
        "_shared",
        "model.py",
        "victim.pt",
        "x_eval.npy",
        "y_eval.npy",
    ]
    # The public model.py imports the shared CNN: only that module (code, no data) comes along.
    assert sorted(p.name for p in (dirs.public / "_shared").iterdir()) == ["__init__.py", "nets.py"]
    assert sorted(p.name for p in dirs.hidden.iterdir()) == [
        "meta.json",
        "victim.pt",
        "x_eval.npy",
        "y_eval.npy",
    ]
    assert {p.name for p in dirs.grader.iterdir()} == {"grader.py", "model.py", "_shared"}
    assert {p.name for p in (dirs.grader / "_shared").iterdir()} >= {"artifacts.py", "grading.py"}
    manifest = json.loads((assets_dir / "manifests" / "adversarial-examples.json").read_text())
    assert manifest["files"] == build.checksums
    assert "hidden/victim.pt" in build.checksums


def test_installed_assets_are_world_readable_and_not_writable(built_assets):
    _assets_dir, _build, dirs = built_assets
    for root in (dirs.public, dirs.hidden, dirs.grader):
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o755 if path.is_dir() else 0o644), path


def test_victim_meets_the_documented_accuracy(built_assets):
    _assets_dir, _build, dirs = built_assets
    meta = json.loads((dirs.hidden / "meta.json").read_text())
    assert meta["test_accuracy"] >= 0.97
    assert meta["eval_size"] == 300


def test_second_build_is_skipped_when_sources_are_unchanged(built_assets, adversarial_lab):
    assets_dir, build, _dirs = built_assets
    again = build_lab_assets(adversarial_lab, assets_dir=assets_dir)
    assert not again.built
    assert again.checksums == build.checksums


def test_forced_rebuild_gives_the_same_checksums(built_assets, adversarial_lab, tmp_path):
    _assets_dir, build, _dirs = built_assets
    rebuilt = build_lab_assets(adversarial_lab, assets_dir=tmp_path, force=True)
    assert rebuilt.built
    assert rebuilt.checksums == build.checksums


def test_tampered_asset_fails_verification_and_is_rebuilt(built_assets, adversarial_lab, tmp_path):
    assets_dir, build, _dirs = built_assets
    shutil.copytree(assets_dir, tmp_path, dirs_exist_ok=True)
    assert verify_lab_assets(adversarial_lab, assets_dir=tmp_path)
    target = tmp_path / "hidden" / "adversarial-examples" / "y_eval.npy"
    target.chmod(0o644)
    target.write_bytes(b"tampered")
    assert not verify_lab_assets(adversarial_lab, assets_dir=tmp_path)
    repaired = build_lab_assets(adversarial_lab, assets_dir=tmp_path)
    assert repaired.built
    assert repaired.checksums == build.checksums
