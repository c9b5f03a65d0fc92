"""Module-scoped real kernel pools: kernels start once per test file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlrange.sandbox import KernelPool, SandboxConfig
from tests.sandbox.support import sandbox_config, short_run_dir


@pytest.fixture(scope="module")
def run_dir() -> Iterator[Path]:
    path = short_run_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def config(run_dir: Path) -> SandboxConfig:
    return sandbox_config(run_dir)


@pytest.fixture(scope="module")
def pool(config: SandboxConfig) -> Iterator[KernelPool]:
    kernel_pool = KernelPool(config, size=2, acquire_timeout=60)
    kernel_pool.start()
    assert kernel_pool.wait_ready(count=1, timeout=60), kernel_pool.stats()
    yield kernel_pool
    kernel_pool.shutdown()
