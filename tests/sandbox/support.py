"""Helpers shared by the sandbox and sandbox-escape tests: a real config, or a skip."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from mlrange.sandbox import SandboxConfig, SandboxLimits, SandboxUnavailableError, sandbox_check

RUNTIME = Path(os.environ.get("MLRANGE_RUNTIME", "/opt/mlrange/runtime"))
REPO_ROOT = Path(__file__).resolve().parents[2]


def short_run_dir() -> Path:
    """A short folder for ipc sockets (tmp_path can be too long for the 107-byte limit)."""
    return Path(tempfile.mkdtemp(prefix="mlrs-", dir="/tmp"))


def sandbox_config(
    run_dir: Path, *, preload: str = "import numpy", kernel_template: bool = False, **limits: float
) -> SandboxConfig:
    """A config for tests; skips (or fails with MLRANGE_REQUIRE_SANDBOX=1) when unusable."""
    config = SandboxConfig(
        runtime=RUNTIME,
        run_dir=run_dir,
        limits=SandboxLimits(**{"wall_timeout_s": 20.0, **limits}),  # type: ignore[arg-type]
        preload=preload,
        kernel_template=kernel_template,
    )
    try:
        sandbox_check(config)
    except SandboxUnavailableError as exc:
        if os.environ.get("MLRANGE_REQUIRE_SANDBOX") == "1":
            raise
        pytest.skip(f"sandbox unavailable: {exc}")
    return config


def worker_rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
