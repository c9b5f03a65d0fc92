"""Runs a trusted lab grader in its own fresh jail, on the artifacts of one submission.

The grader sees, read-only: its own folder at /lab/grader (first on sys.path), the lab's
public assets at /lab/public, the hidden data at /lab/hidden (never mounted in a kernel) and
the submission's artifacts at /lab/submission. No network, unprivileged uid, same hardening
and rlimits as kernels (``limits`` may raise them). The worker writes the artifacts itself,
as regular files with validated names, into a fresh private folder.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import stat
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlrange.sandbox.config import SandboxConfig, SandboxLimits
from mlrange.sandbox.errors import GraderError
from mlrange.sandbox.jail import (
    Jail,
    is_root,
    jail_cgroup,
    jail_kill,
    jail_spawn,
    make_private_dir,
    remove_private_dir,
)
from mlrange.sandbox.results import is_valid_artifact_name

_HOST_SCRIPT = Path(__file__).with_name("grader_host.py")
_STDOUT_CAP = 1_000_000
_STDERR_TAIL = 8192
_MESSAGE_MAX = 300


def run_grader(
    config: SandboxConfig,
    *,
    grader_dir: Path,
    public_dir: Path,
    hidden_dir: Path,
    artifacts: Mapping[str, bytes],
    params: dict[str, Any],
    timeout: float,
    limits: SandboxLimits | None = None,
) -> dict[str, Any]:
    """Run ``grader_dir/grader.py``'s ``grade(ctx)`` and return its dict.

    ``public_dir`` and ``hidden_dir`` are bound read-only when the sandbox uid can reach them
    (a world-readable asset folder), else copied into the run's private folder, so hidden
    data may stay readable by the worker alone; ``grader_dir`` is always copied.
    Raises GraderError on a grader
    exception, crash, timeout (``timeout`` seconds of wall time), oversized output or a
    result that is not one JSON object; raises ValueError on an invalid artifact name.
    """
    for name in artifacts:
        if not is_valid_artifact_name(name):
            raise ValueError(f"invalid artifact name {name!r}")
    params_text = json.dumps(params, allow_nan=False)
    if not (grader_dir / "grader.py").is_file():
        raise GraderError(f"no grader.py in {grader_dir}")
    work = make_private_dir(config, "g")
    try:
        host = work / "host"
        host.mkdir(mode=0o755)
        shutil.copyfile(_HOST_SCRIPT, host / "grader_host.py")
        (host / "params.json").write_text(params_text)
        submission = work / "submission"
        submission.mkdir(mode=0o755)
        for name, data in artifacts.items():
            _write_new_file(submission / name, data)
        grader_copy = work / "grader"
        shutil.copytree(grader_dir, grader_copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        public_source = _reachable_or_copy(config, public_dir, work / "public")
        hidden_source = _reachable_or_copy(config, hidden_dir, work / "hidden")
        _make_world_readable(work)
        jail = Jail(
            command=[str(config.python), "-I", "-B", "/lab/host/grader_host.py"],
            limits=limits or config.limits,
            ro_binds={
                "/lab/grader": grader_copy,
                "/lab/public": public_source,
                "/lab/hidden": hidden_source,
                "/lab/submission": submission,
                "/lab/host": host,
            },
        )
        returncode, stdout, stderr = _run(config, jail, timeout)
    finally:
        remove_private_dir(work)
    return _parse(returncode, stdout, stderr)


def _reachable_or_copy(config: SandboxConfig, source: Path, copy: Path) -> Path:
    """``source`` itself if the sandbox uid can read it, else a private copy at ``copy``."""
    if not is_root() or _is_world_readable_tree(source):
        return source
    shutil.copytree(source, copy)
    return copy


def _is_world_readable_tree(root: Path) -> bool:
    if any(not os.stat(folder).st_mode & stat.S_IXOTH for folder in root.parents):
        return False
    for folder, _, files in os.walk(root):
        if os.stat(folder).st_mode & 0o005 != 0o005:
            return False
        if any(not os.stat(Path(folder) / name).st_mode & stat.S_IROTH for name in files):
            return False
    return True


def _write_new_file(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def _make_world_readable(root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            (Path(folder) / name).chmod(0o755)
        for name in files:
            (Path(folder) / name).chmod(0o644)


def _run(config: SandboxConfig, jail: Jail, timeout: float) -> tuple[int, bytes, str]:
    # The grader runs learner functions in child processes: its own cgroup bounds them all.
    cgroup = jail_cgroup(config, jail.limits, prefix="g")
    try:
        process = jail_spawn(config, jail, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cgroup=cgroup)
    except BaseException:
        if cgroup is not None:
            cgroup.remove()
        raise
    oom = False
    try:
        returncode, stdout, stderr = _collect(process, timeout)
    except GraderError as exc:
        exc.memory_limit_hit = cgroup is not None and cgroup.oom_killed()
        raise
    finally:
        if cgroup is not None:
            oom = cgroup.oom_killed()
            cgroup.remove()
    if oom and returncode != 0:
        raise GraderError(
            f"grading used more than its memory limit ({jail.limits.memory_mb} MB)",
            details=stderr,
            memory_limit_hit=True,
        )
    return returncode, stdout, stderr


def _collect(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, bytes, str]:
    if process.stdout is None or process.stderr is None:
        raise GraderError("grader pipes missing")
    deadline = time.monotonic() + timeout
    stdout = bytearray()
    stderr = bytearray()
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            selector.register(process.stderr, selectors.EVENT_READ)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise GraderError(f"grader timed out after {timeout:g} s")
                for key, _ in selector.select(min(remaining, 0.5)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                    elif key.fileobj is process.stdout:
                        stdout += chunk
                        if len(stdout) > _STDOUT_CAP:
                            raise GraderError("grader output too large")
                    else:
                        stderr += chunk
                        del stderr[:-_STDERR_TAIL]
        try:
            returncode = process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise GraderError(f"grader timed out after {timeout:g} s") from None
    finally:
        jail_kill(process)
        process.stdout.close()
        process.stderr.close()
    return returncode, bytes(stdout), stderr.decode(errors="replace")


def _parse(returncode: int, stdout: bytes, stderr: str) -> dict[str, Any]:
    if returncode != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {returncode}"
        raise GraderError(f"grader failed: {reason[:_MESSAGE_MAX]}", details=stderr)
    lines = [line for line in stdout.decode(errors="replace").splitlines() if line.strip()]
    try:
        result = json.loads(lines[-1]) if lines else None
    except ValueError:
        result = None
    if not isinstance(result, dict):
        raise GraderError("grader returned no JSON object", details=stderr)
    return result
