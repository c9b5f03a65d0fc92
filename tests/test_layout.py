"""The project's shape: `platform/` is a source root, never a package shadowing the stdlib."""

import importlib
import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_platform_folder_is_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_resolves_to_the_standard_library():
    # Run in a fresh interpreter with the source root first on the path, as manage.py does.
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import platform, uuid; print(platform.__file__); print(platform.python_version())",
        ],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'platform'}:{ROOT}"},
        capture_output=True,
        text=True,
        check=True,
    )
    module_file, version = out.stdout.split()
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    assert Path(module_file).resolve().parent == stdlib
    assert version.startswith("3.11")


def test_mlrange_package_imports_from_the_source_root():
    mlrange = importlib.import_module("mlrange")
    assert Path(mlrange.__file__).resolve().parent == ROOT / "platform" / "mlrange"


def test_required_top_level_files_exist():
    for name in (
        "manage.py",
        "pyproject.toml",
        "Makefile",
        "README.md",
        "docker-compose.yml",
        ".ci/run",
    ):
        assert (ROOT / name).is_file(), name
    for name in ("platform", "labs", "curriculum", "tests", "bench"):
        assert (ROOT / name).is_dir(), name


def test_docker_compose_describes_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker"} <= set(services)
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "celery" in " ".join(services["worker"]["command"])
    for svc in ("web", "worker"):
        env = services[svc]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert env["DEBUG"] == "0"
