"""Configuration comes from the environment, with safe refusals in production."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    base.update({"MLRANGE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "mlrange.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        check=False,
    )


def test_debug_off_without_secret_key_refuses_to_start(tmp_path):
    result = _manage("check", env={"DEBUG": "0"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_set(tmp_path):
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env={"SECRET_KEY": "k" * 50},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_without_debug_or_secret_key_settings_refuse_to_load(tmp_path):
    result = _manage("check", env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_make_targets_run_with_debug_on():
    makefile = (ROOT / "Makefile").read_text()
    assert "export DEBUG ?= 1" in makefile


def test_local_run_generates_secret_key_once(tmp_path):
    first = _manage("check", env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    _manage("check", env={"DEBUG": "1"}, tmp_path=tmp_path)
    assert (tmp_path / "secret_key").read_text() == key


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 30 + "A1b2C3d4E5f6G7h8I9j0K!@#$%^&*()",
        "ALLOWED_HOSTS": "mlrange.example.org",
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_selects_postgresql():
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert engine == "django.db.backends.postgresql"
    else:
        assert engine == "django.db.backends.sqlite3"


def test_every_test_has_a_time_limit(pytestconfig):
    # pytest-timeout: a hung test fails with its stack instead of holding CI to its own limit.
    assert float(pytestconfig.getini("timeout")) == 600


def test_cache_url_shares_throttle_counts_through_redis(tmp_path):
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        env={"DEBUG": "1", "CACHE_URL": "redis://127.0.0.1:6379/2"},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "django.core.cache.backends.redis.RedisCache"
