"""Per-execution control groups: one execution's memory, processes and CPU, bounded together.

rlimits count per process (three forked children held 7.1 GiB under a 4 GiB RLIMIT_AS);
only a cgroup bounds everything one execution starts: the kernel, its children, the lab
services, and the tmpfs and shared-memory pages they write (charged to the cgroup of the
process that touched them). Each execution gets its own cgroup with

* a memory limit (the lab's ``memory_mb``; swap included where the host accounts it),
* a process cap (``pids.max``),
* a CPU quota (``cpu_cores`` cores over each 100 ms period).

Cgroups are created only **below the worker's own cgroup** (read from ``/proc/self/cgroup``),
in a folder ``mlrange-<worker pid>`` per worker process, and removed when the execution
ends (processes still in one are killed first). cgroup v1 (these machines: ``memory``,
``pids`` and ``cpu`` hierarchies) and cgroup v2 (a delegated subtree with the ``memory``,
``pids`` and ``cpu`` controllers) are supported; where neither is usable,
``CgroupUnavailableError`` says why, and callers refuse to run labs unless the operator
chose the explicit single-user mode.

A process is placed into its cgroup *before* it execs the sandbox: ``wrap_argv`` prefixes a
command with a tiny shell that writes its own pid into the cgroup and then execs the
command, so no learner byte runs outside it.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlrange.sandbox.errors import SandboxUnavailableError

_CONTROLLERS = ("memory", "pids", "cpu")
_CPU_PERIOD_US = 100_000
_REMOVE_ATTEMPTS = 50
_ENTER_SCRIPT = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"'
)
_SHELL = "/bin/sh"


class CgroupUnavailableError(SandboxUnavailableError):
    """No cgroup can be created here; the message says why and what an operator can do."""


@dataclass(frozen=True)
class CgroupLimits:
    """What one execution may use in total."""

    memory_mb: int
    max_processes: int
    cpu_cores: float

    @property
    def memory_bytes(self) -> int:
        return self.memory_mb * 2**20


def _read(path: Path) -> str:
    with open(path, encoding="ascii") as file:
        return file.read().strip()


def _write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode("ascii"))
    finally:
        os.close(fd)


def _own_cgroups(text: str) -> tuple[dict[str, str], str | None]:
    """(v1 controller -> path, v2 path or None) from the text of /proc/self/cgroup."""
    v1: dict[str, str] = {}
    v2: str | None = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            v2 = path
        for name in controllers.split(","):
            if name:
                v1[name] = path
    return v1, v2


def _cgroup_mounts(text: str) -> tuple[dict[str, Path], Path | None]:
    """(v1 controller -> mount point, cgroup2 mount point) from /proc/self/mountinfo."""
    v1: dict[str, Path] = {}
    v2: Path | None = None
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        mount_point, fs_type, options = Path(fields[4]), tail[0], tail[2].split(",")
        if fs_type == "cgroup2" and v2 is None:
            v2 = mount_point
        elif fs_type == "cgroup":
            for name in options:
                v1.setdefault(name, mount_point)
    return v1, v2


def cgroup_problem() -> str | None:
    """Why no execution cgroup could be made by this process, without creating any; None if
    one can. Cheap: reads /proc and checks folder permissions."""
    own_v1, own_v2 = _own_cgroups(Path("/proc/self/cgroup").read_text())
    mounts_v1, mount_v2 = _cgroup_mounts(Path("/proc/self/mountinfo").read_text())
    if all(name in own_v1 and name in mounts_v1 for name in _CONTROLLERS):
        folders = [mounts_v1[name] / own_v1[name].lstrip("/") for name in _CONTROLLERS]
        if all(os.access(folder, os.W_OK | os.X_OK) for folder in folders):
            return None
    if own_v2 is not None and mount_v2 is not None:
        own = mount_v2 / own_v2.lstrip("/")
        try:
            available = set(_read(own / "cgroup.controllers").split())
        except OSError:
            available = set()
        if all(name in available for name in _CONTROLLERS) and os.access(own, os.W_OK | os.X_OK):
            return None
    return (
        "no writable cgroup with the memory, pids and cpu controllers below this process's own "
        "(cgroup v1 as root, or a delegated cgroup v2 subtree)"
    )


class ExecutionCgroup:
    """The cgroup(s) of one execution. ``wrap_argv`` places a command in it; ``remove`` always."""

    def __init__(self, version: str, dirs: dict[str, Path], limits: CgroupLimits) -> None:
        self.version = version
        self.dirs = dirs  # controller -> folder (v2: one folder under every key)
        self.limits = limits
        self._removed = False

    @property
    def procs_files(self) -> list[Path]:
        return [folder / "cgroup.procs" for folder in dict.fromkeys(self.dirs.values())]

    def wrap_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run by a shell that first moves itself (same pid) into this cgroup."""
        files = [str(path) for path in self.procs_files]
        return [_SHELL, "-c", _ENTER_SCRIPT, "mlrange-cgroup", str(len(files)), *files, *argv]

    def add_pid(self, pid: int) -> None:
        """Move a process (and the children it starts from now on) into this cgroup."""
        for path in self.procs_files:
            _write(path, str(pid))

    def set_limits(self, limits: CgroupLimits) -> None:
        """Apply ``limits`` (e.g. a lab's own, when a warm kernel is handed to an execution)."""
        memory = self.dirs["memory"]
        if self.version == "v1":
            current = int(_read(memory / "memory.limit_in_bytes"))
            names = ["memory.limit_in_bytes"]
            if (memory / "memory.memsw.limit_in_bytes").exists():
                # memsw must stay >= the memory limit: lower memory first, raise memsw first.
                names.append("memory.memsw.limit_in_bytes")
                if limits.memory_bytes > current:
                    names.reverse()
            for name in names:
                _write(memory / name, str(limits.memory_bytes))
            _write(self.dirs["pids"] / "pids.max", str(limits.max_processes))
            _write(self.dirs["cpu"] / "cpu.cfs_period_us", str(_CPU_PERIOD_US))
            _write(self.dirs["cpu"] / "cpu.cfs_quota_us", str(int(limits.cpu_cores * _CPU_PERIOD_US)))
        else:
            _write(memory / "memory.max", str(limits.memory_bytes))
            with contextlib.suppress(FileNotFoundError):
                _write(memory / "memory.swap.max", "0")
            _write(memory / "pids.max", str(limits.max_processes))
            _write(memory / "cpu.max", f"{int(limits.cpu_cores * _CPU_PERIOD_US)} {_CPU_PERIOD_US}")
        self.limits = limits

    def pids(self) -> list[int]:
        """Host pids of every process in this cgroup."""
        found: set[int] = set()
        for path in self.procs_files:
            with contextlib.suppress(OSError):
                found.update(int(pid) for pid in _read(path).split())
        return sorted(found)

    def memory_peak_bytes(self) -> int:
        """The most memory this cgroup has held (v1: max_usage; v2: memory.peak where present)."""
        name = "memory.max_usage_in_bytes" if self.version == "v1" else "memory.peak"
        try:
            return int(_read(self.dirs["memory"] / name))
        except (OSError, ValueError):
            return 0

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer killed a process here for hitting the memory limit."""
        name = "memory.oom_control" if self.version == "v1" else "memory.events"
        try:
            text = _read(self.dirs["memory"] / name)
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value) > 0
        return False

    def kill_all(self) -> None:
        """SIGKILL every process in the cgroup (v2: cgroup.kill where the kernel has it)."""
        if self.version == "v2":
            with contextlib.suppress(OSError):
                _write(self.dirs["memory"] / "cgroup.kill", "1")
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        """Kill what is left and remove the folders. Idempotent; never raises."""
        if self._removed:
            return
        self._removed = True
        for folder in dict.fromkeys(self.dirs.values()):
            for attempt in range(_REMOVE_ATTEMPTS):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        break
                    self.kill_all()
                    time.sleep(0.002 * (attempt + 1))


class CgroupRoot:
    """Where this worker process creates execution cgroups. Use ``CgroupRoot.for_process()``."""

    _instances: dict[int, CgroupRoot] = {}
    _lock = threading.Lock()

    def __init__(self, version: str, parents: dict[str, Path]) -> None:
        self.version = version
        self.parents = parents  # controller -> this worker process's folder
        self._counter = 0
        self._counter_lock = threading.Lock()

    @classmethod
    def for_process(cls) -> CgroupRoot:
        """This process's root (created once per pid: Celery prefork children get their own).
        Raises CgroupUnavailableError."""
        pid = os.getpid()
        with cls._lock:
            root = cls._instances.get(pid)
            if root is None:
                root = cls._discover(pid)
                cls._instances[pid] = root
                atexit.register(root.remove)
            return root

    @classmethod
    def _discover(cls, pid: int) -> CgroupRoot:
        own_v1, own_v2 = _own_cgroups(Path("/proc/self/cgroup").read_text())
        mounts_v1, mount_v2 = _cgroup_mounts(Path("/proc/self/mountinfo").read_text())
        reasons: list[str] = []
        if all(name in own_v1 and name in mounts_v1 for name in _CONTROLLERS):
            try:
                return cls._setup_v1(pid, own_v1, mounts_v1)
            except OSError as exc:
                reasons.append(f"cgroup v1: {exc.strerror or exc} ({exc.filename or ''})")
        else:
            missing = [name for name in _CONTROLLERS if name not in own_v1 or name not in mounts_v1]
            reasons.append(f"cgroup v1: no {', '.join(missing)} hierarchy")
        if own_v2 is not None and mount_v2 is not None:
            try:
                return cls._setup_v2(pid, mount_v2 / own_v2.lstrip("/"))
            except CgroupUnavailableError as exc:
                reasons.append(f"cgroup v2: {exc}")
            except OSError as exc:
                reasons.append(f"cgroup v2: {exc.strerror or exc} ({exc.filename or ''})")
        else:
            reasons.append("cgroup v2: not mounted")
        raise CgroupUnavailableError(
            "no usable cgroup for per-execution limits ("
            + "; ".join(reasons)
            + "). Run the worker as root on a host with cgroup v1 memory/pids/cpu hierarchies, or "
            "give it a delegated cgroup v2 subtree with the memory, pids and cpu controllers "
            "(systemd: Delegate=yes; Docker: --cgroupns=private with a writable /sys/fs/cgroup)"
        )

    @classmethod
    def _setup_v1(cls, pid: int, own: dict[str, str], mounts: dict[str, Path]) -> CgroupRoot:
        parents: dict[str, Path] = {}
        for name in _CONTROLLERS:
            base = mounts[name] / own[name].lstrip("/")
            parent = base / f"mlrange-{pid}"
            _make_cgroup_dir(parent)
            parents[name] = parent
        if (parents["memory"] / "memory.use_hierarchy").exists():
            with contextlib.suppress(OSError):
                _write(parents["memory"] / "memory.use_hierarchy", "1")
        root = cls("v1", parents)
        root.remove_stale()
        return root

    @classmethod
    def _setup_v2(cls, pid: int, own: Path) -> CgroupRoot:
        available = set(_read(own / "cgroup.controllers").split())
        missing = [name for name in _CONTROLLERS if name not in available]
        if missing:
            raise CgroupUnavailableError(f"controllers {', '.join(missing)} not delegated to {own}")
        wanted = " ".join(f"+{name}" for name in _CONTROLLERS)
        try:
            _write(own / "cgroup.subtree_control", wanted)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            # No internal processes: move this worker's processes into a leaf first.
            leaf = own / "mlrange-workers"
            _make_cgroup_dir(leaf)
            for proc in _read(own / "cgroup.procs").split():
                with contextlib.suppress(ProcessLookupError, OSError):
                    _write(leaf / "cgroup.procs", proc)
            _write(own / "cgroup.subtree_control", wanted)
        parent = own / f"mlrange-{pid}"
        _make_cgroup_dir(parent)
        _write(parent / "cgroup.subtree_control", wanted)
        root = cls("v2", dict.fromkeys(_CONTROLLERS, parent))
        root.remove_stale()
        return root

    def create(self, limits: CgroupLimits, *, prefix: str = "x") -> ExecutionCgroup:
        """A fresh execution cgroup with ``limits`` applied. Raises CgroupUnavailableError."""
        with self._counter_lock:
            self._counter += 1
            name = f"{prefix}{self._counter}-{os.urandom(3).hex()}"
        dirs: dict[str, Path] = {}
        for controller, parent in self.parents.items():
            folder = parent / name
            dirs[controller] = folder
        cgroup = ExecutionCgroup(self.version, dirs, limits)
        try:
            for folder in dict.fromkeys(dirs.values()):
                _make_cgroup_dir(folder)
            cgroup.set_limits(limits)
        except OSError as exc:
            cgroup.remove()
            raise CgroupUnavailableError(f"cannot create an execution cgroup: {exc}") from exc
        return cgroup

    def remove_stale(self) -> None:
        """Remove execution cgroups left by dead worker processes (their pid is gone)."""
        for parent in dict.fromkeys(self.parents.values()):
            for sibling in parent.parent.glob("mlrange-*"):
                suffix = sibling.name.removeprefix("mlrange-")
                if not suffix.isdigit() or sibling == parent or pid_alive(int(suffix)):
                    continue
                for child in sibling.iterdir():
                    if child.is_dir():
                        ExecutionCgroup(self.version, {"memory": child}, _NO_LIMITS).remove()
                with contextlib.suppress(OSError):
                    sibling.rmdir()

    def remove(self) -> None:
        """Remove this process's folders (when the worker process exits). Never raises."""
        for parent in dict.fromkeys(self.parents.values()):
            for child in parent.glob("*"):
                if child.is_dir():
                    ExecutionCgroup(self.version, {"memory": child}, _NO_LIMITS).remove()
            with contextlib.suppress(OSError):
                parent.rmdir()


_NO_LIMITS = CgroupLimits(memory_mb=0, max_processes=0, cpu_cores=0)


def _make_cgroup_dir(path: Path) -> None:
    """mkdir that refuses a link in place of the folder (cgroupfs has none, but never follow)."""
    try:
        path.mkdir(mode=0o755)
    except FileExistsError:
        if path.is_symlink() or not path.is_dir():
            raise CgroupUnavailableError(f"{path} exists and is not a cgroup folder") from None


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (as far as signal 0 can tell)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
