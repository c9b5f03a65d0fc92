"""Kernel templates: warm kernels forked in milliseconds from a jail that has imported torch.

Starting a sandboxed kernel costs ~1 CPU-second (interpreter, ipykernel, ``import torch``),
so a burst of runs drains any pool of pre-started kernels and every refill pays it again. A
template is a fork-server (``template_host.py``) in its own bubblewrap jail, started once per
kernel profile and worker process: it imports the profile's libraries once and then only
forks. Each forked kernel gets everything a jailed kernel gets, before any learner byte runs:
its own user (mapping only the sandbox uid), mount, pid, network, IPC, UTS and cgroup
namespaces; private size-capped tmpfs on /tmp, the work dir, /run/kernel and /dev/shm; a
proc of its own; the execution's cgroup (the worker moves the child in before it unshares);
rlimits; no capabilities, securebits locked, no_new_privs; the seccomp filter. The pages it
shares with the template stay shared (copy-on-write), so ten ready kernels cost little more
than one.

Threat model (see README, "Kernel templates"):

* The template never runs learner code and never receives learner bytes (requests carry
  connection details, limits and environment chosen by the worker), so its memory holds
  nothing of any learner; a kernel cannot reach it (another pid namespace, no signals, no
  ptrace: seccomp; its sockets are the worker's).
* Siblings share the template's address layout (ASLR is per exec, not per fork): a kernel
  learns where libraries sit in its siblings. That matters only to an attacker who can
  already corrupt a sibling's memory, which needs a channel between kernels: none exists
  (no shared files, IPC, network, pid or mount namespace).
* No threads exist in the template at fork time (checked at start: ``threads`` must be 1):
  a thread pool forked mid-operation would deadlock or leak state. Random generators are
  re-seeded in every child (a fork copies their state).
* The template is root of its own user namespace with capabilities, so it can create the
  children's namespaces; on the host it is the unprivileged sandbox uid in its own cgroup.
"""

from __future__ import annotations

import array
import base64
import json
import logging
import os
import shutil
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

from mlrange.sandbox.cgroups import ExecutionCgroup
from mlrange.sandbox.config import SandboxConfig, SandboxLimits
from mlrange.sandbox.errors import SandboxError, SandboxUnavailableError
from mlrange.sandbox.jail import (
    KERNEL_ENV,
    MPLCONFIGDIR,
    WORK_DIR,
    Jail,
    jail_cgroup,
    jail_kill,
    jail_spawn,
    make_private_dir,
    remove_private_dir,
    sandbox_env,
)
from mlrange.sandbox.seccomp import seccomp_filter

logger = logging.getLogger(__name__)

_HOST_SCRIPT = Path(__file__).with_name("template_host.py")
TEMPLATE_DIR = "/run/template"
SERVICES_ALL_DIR = "/run/lab-services-all"
"""Inside the template: the host folder holding every kernel's services folder, read-only.
Each child binds its own at /lab-services and hides this one under an empty tmpfs."""
_CREDS = struct.Struct("3i")


class TemplateError(SandboxError):
    """The template could not fork a kernel (the pool counts it and retries)."""


class KernelTemplate:
    """One fork-server per kernel profile and worker process. Thread-safe."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.services_root = config.run_dir / "services"
        self._lock = threading.Lock()
        self._process: Any = None
        self._control: socket.socket | None = None
        self._folder: Path | None = None
        self._cgroup: ExecutionCgroup | None = None
        self.threads_at_start = 0
        self.start_seconds = 0.0

    def start(self, timeout: float = 120.0) -> None:
        """Start the template and wait until it has imported the preload. Call from a thread
        that outlives it (bwrap ``--die-with-parent``). Raises SandboxUnavailableError."""
        program = seccomp_filter()
        if program is None:
            raise SandboxUnavailableError("kernel templates need the seccomp filter (x86_64)")
        folder = make_private_dir(self.config, "t")
        folder.chmod(0o755)
        shutil.copyfile(_HOST_SCRIPT, folder / "template_host.py")
        (folder / "template_host.py").chmod(0o644)
        (folder / "seccomp.bpf").write_bytes(program)
        (folder / "seccomp.bpf").chmod(0o644)
        self.services_root.mkdir(mode=0o711, exist_ok=True)
        self._folder = folder
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        limits = self.config.limits
        template_limits = SandboxLimits(
            wall_timeout_s=limits.wall_timeout_s,
            cpu_seconds=10**8,  # per process: children set their own lower limit
            memory_mb=limits.memory_mb,
            max_processes=4096,  # counted per user namespace: each child has its own
            max_open_files=limits.max_open_files,
            max_file_mb=limits.max_file_mb,
            tmpfs_mb=1,
            shm_mb=1,
            cpu_cores=limits.cpu_cores,
        )
        jail = Jail(
            command=[
                str(self.config.python),
                "-I",
                "-B",
                f"{TEMPLATE_DIR}/template_host.py",
                str(theirs.fileno()),
                f"{TEMPLATE_DIR}/seccomp.bpf",
                base64.b64encode(self.config.preload.encode()).decode(),
            ],
            limits=template_limits,
            env=KERNEL_ENV,  # matplotlib reads its backend when the preload imports it
            ro_binds={
                **self.config.ro_mounts,
                TEMPLATE_DIR: folder,
                SERVICES_ALL_DIR: self.services_root,
            },
            dirs=("/run/kernel", "/lab-services"),
            chdir="/",
            is_template=True,
        )
        try:
            self._cgroup = jail_cgroup(self.config, template_limits, prefix="t")
            self._process = jail_spawn(self.config, jail, cgroup=self._cgroup, pass_fds=(theirs.fileno(),))
        except BaseException:
            theirs.close()
            ours.close()
            self.stop()
            raise
        theirs.close()
        self._control = ours
        began = time.monotonic()
        ours.settimeout(timeout)
        try:
            hello = json.loads(ours.recv(65536) or b"{}")
        except (OSError, ValueError) as exc:
            self.stop()
            raise SandboxUnavailableError(f"the kernel template did not start: {exc}") from exc
        if not hello.get("ready"):
            self.stop()
            raise SandboxUnavailableError(f"the kernel template failed: {hello.get('error', 'no answer')}")
        self.threads_at_start = int(hello.get("threads", 0))
        self.start_seconds = time.monotonic() - began
        if self.threads_at_start != 1:
            self.stop()
            raise SandboxUnavailableError(
                f"the kernel template has {self.threads_at_start} threads after its preload; forking "
                "it would copy them mid-operation (set OMP/BLAS thread counts to 1)"
            )
        ours.settimeout(None)
        logger.info("kernel template ready in %.2f s", self.start_seconds)

    def is_alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else int(self._process.pid)

    def fork(self, request: dict[str, Any], *, channel_fd: int, log_fd: int) -> None:
        """Ask the template for a kernel; it talks back on ``channel_fd`` (see SandboxedKernel)."""
        control = self._control
        if control is None or not self.is_alive():
            raise TemplateError("the kernel template is not running")
        fds = array.array("i", [channel_fd, log_fd])
        with self._lock:
            try:
                control.sendmsg(
                    [json.dumps(request).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds.tobytes())]
                )
            except OSError as exc:
                raise TemplateError(f"the kernel template is gone: {exc}") from exc

    def stop(self) -> None:
        """Kill the template (its forked kernels live in their own cgroups and die with their
        own kernel objects). Idempotent."""
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            jail_kill(self._process)
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._folder is not None:
            remove_private_dir(self._folder)
            self._folder = None

    def request_for(
        self, *, connection: dict[str, Any], limits: SandboxLimits, services_name: str | None
    ) -> dict[str, Any]:
        """What the template needs to fork one kernel: nothing of any learner."""
        return {
            "connection": connection,
            "limits": {
                "tmpfs_mb": limits.tmpfs_mb,
                "shm_mb": limits.shm_mb,
                "max_open_files": limits.max_open_files,
                "max_file_mb": limits.max_file_mb,
                "cpu_seconds": limits.cpu_limit_s,
                "memory_mb": limits.memory_mb,
                "max_processes": limits.max_processes,
            },
            "paths": {
                "uid": self.config.sandbox_uid if os.geteuid() == 0 else os.geteuid(),
                "work_dir": WORK_DIR,
                "run_dir": "/run/kernel",
                "services": services_name,
                "services_all": SERVICES_ALL_DIR,
                "template_dir": TEMPLATE_DIR,
                "font_cache": str(self.config.font_cache),
                "mplconfigdir": MPLCONFIGDIR,
            },
            "env": sandbox_env(self.config, KERNEL_ENV),
        }


def receive_credentials(channel: socket.socket, timeout: float) -> tuple[dict[str, Any], int | None]:
    """One message from a forked child and the pid it proved (SCM_CREDENTIALS, translated by the
    kernel into this process's pid namespace), or None when it sent none."""
    channel.settimeout(max(timeout, 0.001))
    try:
        data, ancillary, _, _ = channel.recvmsg(65536, socket.CMSG_SPACE(_CREDS.size))
    except TimeoutError:
        raise TemplateError("the forked kernel did not answer in time") from None
    if not data:
        raise TemplateError("the forked kernel closed its channel")
    pid = None
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(payload) >= _CREDS.size:
            pid = _CREDS.unpack(payload[: _CREDS.size])[0]
    try:
        message = json.loads(data)
    except ValueError:
        raise TemplateError("the forked kernel sent garbage") from None
    if not isinstance(message, dict):
        raise TemplateError("the forked kernel sent garbage")
    return message, pid
