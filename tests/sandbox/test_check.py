"""sandbox_check: refuse to run, with install instructions, when the sandbox cannot work."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mlrange.sandbox import SandboxConfig, SandboxUnavailableError, sandbox_check

pytestmark = pytest.mark.sandbox


def test_sandbox_check_passes_on_a_working_host(config: SandboxConfig) -> None:
    sandbox_check(config)


def test_sandbox_check_explains_missing_bwrap(config: SandboxConfig, tmp_path: Path) -> None:
    broken = dataclasses.replace(config, bwrap=tmp_path / "no-bwrap")

    with pytest.raises(SandboxUnavailableError, match="apt-get install bubblewrap"):
        sandbox_check(broken)


def test_sandbox_check_explains_missing_runtime(config: SandboxConfig, tmp_path: Path) -> None:
    broken = dataclasses.replace(config, runtime=tmp_path / "no-runtime")

    with pytest.raises(SandboxUnavailableError, match="make runtime"):
        sandbox_check(broken)


def test_sandbox_check_fails_when_bwrap_does_not_confine(config: SandboxConfig, tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    tmp_path.chmod(0o755)

    with pytest.raises(SandboxUnavailableError, match="user namespaces"):
        sandbox_check(dataclasses.replace(config, bwrap=fake))
