"""Lab services: trusted helper processes a kernel may talk to during one execution.

Some labs need something the learner's code can *use* but must never *hold*: a metered,
label-only oracle in front of a victim model whose weights stay secret. A service is a
trusted Python script that runs, for the length of one execution, in its **own** fresh jail
(the same hardening as graders: unprivileged uid, no network, rlimits, seccomp) with the
hidden files it needs bound read-only. It listens on a Unix path socket in the kernel's
*services folder*:

* every kernel gets a fresh, empty services folder at start, bound **read-only** at
  ``/lab-services`` in the kernel: the kernel can connect to a socket there (connecting needs
  write permission on the socket inode, not on the file system) but cannot create, replace
  or remove anything in it;
* the service's jail binds the same host folder read-write at the same path, so the service
  creates ``/lab-services/<name>.sock`` there;
* the service writes its report (e.g. ``{"queries": n}``) to ``/lab/out/report.json``, a
  private folder that only the service's jail sees. The worker reads it back with
  ``O_NOFOLLOW``, size-capped, after stopping the service; it is trusted because it comes
  from the service, not from the kernel. Services must update the report *before* they
  answer a request, so a killed service never under-reports what it served.

The service process gets ``argv[1]`` = ``/lab/service/params.json``:
``{"name", "socket", "report", "params"}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mlrange.sandbox.cgroups import ExecutionCgroup
from mlrange.sandbox.config import SandboxConfig, SandboxLimits
from mlrange.sandbox.errors import SandboxError, SandboxUnavailableError
from mlrange.sandbox.jail import Jail, jail_kill, jail_spawn, make_private_dir, remove_private_dir

SERVICES_DIR = "/lab-services"
"""Where a kernel (read-only) and its services (read-write) see the kernel's services folder."""

SERVICE_CODE_DIR = "/lab/service"
SERVICE_OUT_DIR = "/lab/out"
REPORT_NAME = "report.json"
REPORT_MAX_BYTES = 64 * 1024
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_RESERVED_TARGETS = ("/lab-services", "/lab/service", "/lab/out")
_STOP_GRACE_S = 1.0
_POLL_S = 0.02


class ServiceError(SandboxError):
    """A lab service failed; ``message`` is fit for logs (it may name hidden paths)."""


class ServiceStartError(ServiceError, SandboxUnavailableError):
    """A lab service did not come up: the learner's code must not run without it."""


def is_valid_service_name(name: str) -> bool:
    """A short lowercase identifier: it names the socket file, ``<name>.sock``."""
    return _NAME.fullmatch(name) is not None


@dataclass(frozen=True)
class ServiceSpec:
    """One service for one execution.

    ``script`` is a trusted Python file (copied into the service's private folder and run with
    the runtime interpreter). ``ro_mounts`` maps sandbox paths to host folders bound read-only
    into the service's jail only (e.g. ``{"/lab/hidden": hidden_dir}``): never into the kernel.
    ``params`` must be JSON. ``limits`` defaults to the sandbox config's limits.
    """

    name: str
    script: Path
    ro_mounts: Mapping[str, Path] = field(default_factory=dict)
    limits: SandboxLimits | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    start_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not is_valid_service_name(self.name):
            raise ValueError(f"invalid service name {self.name!r}: use [a-z][a-z0-9_]{{0,31}}")
        for target in self.ro_mounts:
            if not target.startswith("/") or any(
                target == reserved or target.startswith(reserved + "/") for reserved in _RESERVED_TARGETS
            ):
                raise ValueError(f"service mount target {target!r} is reserved or not absolute")

    @property
    def socket_path(self) -> str:
        """Where the kernel connects: ``/lab-services/<name>.sock``."""
        return f"{SERVICES_DIR}/{self.name}.sock"


class RunningService:
    """A started service; ``stop()`` always (idempotent), then read ``report``/``error``."""

    def __init__(self, spec: ServiceSpec, work: Path, process: subprocess.Popen[bytes], log: IO[bytes]):
        self.spec = spec
        self.work = work
        self.process = process
        self._log = log
        self.report: bytes | None = None
        self.error: str | None = None
        self._stopped = False

    def stop(self) -> None:
        """SIGTERM, a short grace, SIGKILL; then collect the report and remove the private folder."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=_STOP_GRACE_S)
        jail_kill(self.process)
        # Stopped by us: killed by SIGTERM/SIGKILL, or a clean exit. Anything else: it died first
        # (judged by status, not by timing: a crash a moment before stop() must still count).
        code = self.process.returncode
        if code not in (0, -signal.SIGTERM, -signal.SIGKILL, 128 + signal.SIGTERM, 128 + signal.SIGKILL):
            self.error = f"service {self.spec.name} exited early with status {code}"
        self._log.close()
        try:
            self.report = read_report(self.work / "out" / REPORT_NAME)
        except ServiceError as exc:
            self.error = self.error or str(exc)
        finally:
            remove_private_dir(self.work)

    def log_tail(self, size: int = 2000) -> str:
        try:
            with (self.work / "out" / "log").open("rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(log.tell() - size, 0))
                return log.read().decode(errors="replace").strip()
        except OSError:
            return ""


def read_report(path: Path) -> bytes:
    """The service's report: a regular file (no link), at most REPORT_MAX_BYTES."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ServiceError(f"no service report ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > REPORT_MAX_BYTES:
            raise ServiceError("service report is not a regular file within its size cap")
        data = os.read(fd, REPORT_MAX_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > REPORT_MAX_BYTES:
        raise ServiceError("service report too large")
    return data


def _give_tree_to_sandbox(config: SandboxConfig, root: Path) -> None:
    if os.geteuid() == 0:
        os.chown(root, config.sandbox_uid, config.sandbox_gid)


def start_service(
    config: SandboxConfig, spec: ServiceSpec, services_dir: Path, *, cgroup: ExecutionCgroup | None = None
) -> RunningService:
    """Start ``spec`` in its own jail and wait until its socket exists in ``services_dir``.

    Call from a thread that outlives the service (bwrap ``--die-with-parent``). Raises
    ServiceStartError when the script is missing, the service exits, or its socket does not
    appear within ``spec.start_timeout_s``.
    """
    if not spec.script.is_file():
        raise ServiceStartError(f"service script {spec.script} missing")
    params_text = json.dumps(
        {
            "name": spec.name,
            "socket": spec.socket_path,
            "report": f"{SERVICE_OUT_DIR}/{REPORT_NAME}",
            "params": dict(spec.params),
        },
        allow_nan=False,
    )
    work = make_private_dir(config, "v")
    try:
        code = work / "code"
        code.mkdir(mode=0o755)
        shutil.copyfile(spec.script, code / "service.py")
        (code / "params.json").write_text(params_text)
        for path in (code / "service.py", code / "params.json"):
            path.chmod(0o644)
        code.chmod(0o755)
        out = work / "out"
        out.mkdir(mode=0o700)
        _give_tree_to_sandbox(config, out)
        log = (out / "log").open("wb")
    except BaseException:
        remove_private_dir(work)
        raise
    jail = Jail(
        command=[
            str(config.python),
            "-I",
            "-B",
            f"{SERVICE_CODE_DIR}/service.py",
            f"{SERVICE_CODE_DIR}/params.json",
        ],
        limits=spec.limits or config.limits,
        ro_binds={**spec.ro_mounts, SERVICE_CODE_DIR: code},
        rw_binds={SERVICES_DIR: services_dir, SERVICE_OUT_DIR: out},
        chdir="/tmp",
    )
    try:
        process = jail_spawn(config, jail, stderr=log, stdout=log, cgroup=cgroup)
    except BaseException:
        log.close()
        remove_private_dir(work)
        raise
    service = RunningService(spec, work, process, log)
    socket_file = services_dir / f"{spec.name}.sock"
    deadline = time.monotonic() + spec.start_timeout_s
    while True:
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(socket_file).st_mode):
                return service
        if process.poll() is not None or time.monotonic() > deadline:
            why = "exited" if process.poll() is not None else "did not open its socket in time"
            tail = service.log_tail()
            service.stop()
            raise ServiceStartError(f"lab service {spec.name} {why}: {tail[-500:]}")
        time.sleep(_POLL_S)


def start_services(
    config: SandboxConfig,
    specs: Sequence[ServiceSpec],
    services_dir: Path,
    *,
    cgroup: ExecutionCgroup | None = None,
) -> list[RunningService]:
    """Start every service (names must be unique) in ``cgroup`` (the execution's: a service's
    memory counts against the execution); on any failure stop those started, re-raise."""
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate service names in {names}")
    running: list[RunningService] = []
    try:
        for spec in specs:
            running.append(start_service(config, spec, services_dir, cgroup=cgroup))
    except BaseException:
        for service in running:
            service.stop()
        raise
    return running
