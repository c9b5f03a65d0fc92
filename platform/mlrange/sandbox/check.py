"""Self-check: is the sandbox usable on this host? Says what is missing and how to fix it."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from mlrange.sandbox.config import SandboxConfig
from mlrange.sandbox.errors import SandboxUnavailableError
from mlrange.sandbox.jail import Jail, is_root, jail_kill, jail_spawn

_MARKER = "mlrange-sandbox-ok"
_CHECK_TIMEOUT_S = 30.0


def sandbox_check(config: SandboxConfig) -> None:
    """Raise SandboxUnavailableError unless bwrap exists and really confines a Python run by
    the sandbox uid from the runtime. Starts one sandbox (~0.2 s)."""
    if not _is_executable_file(config.bwrap):
        raise SandboxUnavailableError(
            f"bubblewrap not found at {config.bwrap}: install it "
            "(Debian/Ubuntu: apt-get install bubblewrap) or set the bwrap path"
        )
    if is_root() and not _is_executable_file(config.setpriv):
        raise SandboxUnavailableError(
            f"setpriv not found at {config.setpriv}: install util-linux "
            "(apt-get install util-linux); as root it drops to the sandbox uid"
        )
    if not _is_executable_file(config.prlimit):
        raise SandboxUnavailableError(f"prlimit not found at {config.prlimit}: apt-get install util-linux")
    if not _is_executable_file(config.python):
        raise SandboxUnavailableError(
            f"sandbox runtime not found at {config.runtime}: build it with `make runtime`"
        )
    if is_root() and config.sandbox_uid != 0:
        _check_world_usable(config)
    for target, source in config.ro_mounts.items():
        if not source.exists():
            raise SandboxUnavailableError(f"read-only mount source {source} (for {target}) missing")
    _check_trial_run(config)


def _is_executable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _check_world_usable(config: SandboxConfig) -> None:
    """The sandbox uid is 'other' to root-owned files: each folder up to the interpreter needs
    o+x, the interpreter o+rx (a Python under /root, mode 0700, fails here)."""
    for path in (config.python, Path(os.path.realpath(config.python))):
        for folder in path.parents:
            if not os.stat(folder).st_mode & stat.S_IXOTH:
                raise SandboxUnavailableError(
                    f"{folder} is not searchable by the sandbox uid {config.sandbox_uid}: the "
                    "runtime must live in a world-readable path and come from a system Python "
                    "outside any home folder (`make runtime`, then chmod -R a+rX on it)"
                )
    mode = os.stat(config.python).st_mode
    if mode & (stat.S_IROTH | stat.S_IXOTH) != stat.S_IROTH | stat.S_IXOTH:
        raise SandboxUnavailableError(
            f"{config.python} is not executable by the sandbox uid {config.sandbox_uid}: "
            f"run chmod -R a+rX {config.runtime}"
        )


def _check_trial_run(config: SandboxConfig) -> None:
    code = f"import os; print({_MARKER!r}, os.getuid())"
    jail = Jail(command=[str(config.python), "-I", "-c", code], limits=config.limits, chdir="/tmp")
    try:
        process = jail_spawn(config, jail, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise SandboxUnavailableError(f"cannot start bubblewrap: {exc}") from exc
    try:
        stdout, stderr = process.communicate(timeout=_CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        jail_kill(process)
        raise SandboxUnavailableError("a trivial sandboxed Python did not finish in time") from None
    if process.returncode != 0 or stdout.decode().split() != [_MARKER, str(config.sandbox_uid)]:
        raise SandboxUnavailableError(
            "bubblewrap is installed but cannot run a sandboxed Python "
            f"(exit {process.returncode}: {stderr.decode(errors='replace').strip()[-500:]}). "
            "It needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; "
            "in Docker, a seccomp/AppArmor profile that allows them) and a runtime readable by "
            "the sandbox uid (`make runtime`)"
        )
