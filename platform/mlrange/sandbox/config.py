"""What a sandbox may use: resource limits and where the runtime, run dirs and mounts are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

FONT_CACHE_SUBDIR = "share/mlrange/matplotlib"
"""Below the runtime: matplotlib's font list, built with the runtime (see ``font_cache``)."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandbox (a kernel or a grader run).

    Enforced inside the sandbox with rlimits (``prlimit`` after bwrap, so they count per sandbox),
    except ``wall_timeout_s`` and ``output_limit_bytes`` (the worker kills the sandbox) and
    ``zmq_max_msg_bytes`` (client-side ZMQ limit, so one huge message cannot balloon the worker).
    """

    wall_timeout_s: float = 60.0
    cpu_seconds: int = 0  # RLIMIT_CPU per process; 0: derived, never below the wall limit
    memory_mb: int = 4096  # the execution's memory cgroup limit, and RLIMIT_AS per process
    max_processes: int = 64  # RLIMIT_NPROC and the cgroup's pids.max: threads count too
    max_open_files: int = 256
    max_file_mb: int = 64  # RLIMIT_FSIZE
    tmpfs_mb: int = 256  # size of each private tmpfs (/tmp and the work dir)
    shm_mb: int = 64  # size of /dev/shm
    cpu_cores: float = 1.0  # the execution's CPU quota (cgroup), in cores
    output_limit_bytes: int = 1_000_000
    zmq_max_msg_bytes: int = 8 * 2**20  # the most bytes of one kernel message (all its frames)

    @property
    def cpu_limit_s(self) -> int:
        """RLIMIT_CPU: the explicit value, else enough for the wall limit at the CPU quota."""
        if self.cpu_seconds > 0:
            return self.cpu_seconds
        return int(self.wall_timeout_s * max(self.cpu_cores, 1.0)) + 30


@dataclass(frozen=True)
class SandboxConfig:
    """Where sandboxes find their runtime and what they may see.

    ``runtime`` is a virtualenv readable and executable by ``sandbox_uid`` (kernel and grader
    interpreter). ``run_dir`` holds per-sandbox folders (a kernel's read-only connection file,
    lab services' sockets, grader inputs); nothing in it is writable from a kernel.
    ``ro_mounts`` maps sandbox paths to host paths bound read-only into every kernel; never map
    a secret there.
    """

    runtime: Path
    run_dir: Path
    ro_mounts: Mapping[str, Path] = field(default_factory=dict)
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    preload: str = "import numpy, torch"
    sandbox_uid: int = 65534
    sandbox_gid: int = 65534
    bwrap: Path = Path("/usr/bin/bwrap")
    setpriv: Path = Path("/usr/bin/setpriv")
    prlimit: Path = Path("/usr/bin/prlimit")
    seccomp: bool = True  # a syscall filter on top of namespaces (x86_64; elsewhere labs refuse)
    isolation: str = "cgroup"
    """``cgroup``: every execution in its own cgroup (memory, pids, CPU); labs refuse to run
    where none can be created. ``single-user``: rlimits only, per process: an operator's
    explicit choice for a machine with one learner (one execution can then use
    ``max_processes`` times ``memory_mb``)."""
    kernel_template: bool = False
    """Fork warm kernels from a template that imported the preload once (mlrange.sandbox.template)
    instead of starting each in a fresh jail. Needs cgroup isolation and the seccomp filter."""
    lab_services: bool = False
    """Give every kernel a services folder, read-only at /lab-services, where lab services
    (mlrange.sandbox.services, each in its own jail) put their sockets. Off by default."""

    @property
    def python(self) -> Path:
        """The runtime interpreter, at the same path inside and outside the sandbox."""
        return self.runtime / "bin" / "python"

    @property
    def font_cache(self) -> Path:
        """Where the runtime build leaves matplotlib's font list (``make runtime``): every
        sandbox sees its files in its own ``MPLCONFIGDIR``, so no kernel scans fonts again."""
        return self.runtime / FONT_CACHE_SUBDIR
