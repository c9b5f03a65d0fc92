"""The bubblewrap jail: the one place that turns a command into a sandboxed process.

Every sandbox (kernel, grader, self-check) is started by ``jail_spawn``:

* as root, the host uid is dropped first to ``sandbox_uid`` with ``setpriv`` (bwrap started as
  root with ``--unshare-user`` still maps to host uid 0);
* bwrap itself starts with a minimal environment (its init, pid 1 inside, keeps the
  environment it was started with, readable in ``/proc/1/environ``);
* new user, pid, net, ipc, uts (and cgroup when possible) namespaces, no nested user
  namespaces, ``--die-with-parent`` (fires when the *thread* that spawned it exits: spawn
  only from threads that outlive the sandbox), ``--new-session``;
* only ``/usr``, the ``/lib*`` links, the runtime virtualenv, synthetic ``/etc`` files and the
  caller's explicit binds are visible; ``/`` is remounted read-only; ``/tmp`` and the work
  dir are private size-capped tmpfs; ``/proc`` is fresh, ``/dev`` minimal;
* a cleared environment, a seccomp filter (x86_64), and rlimits applied inside by ``prlimit``.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from mlrange.sandbox.cgroups import CgroupLimits, CgroupRoot, ExecutionCgroup
from mlrange.sandbox.config import SandboxConfig, SandboxLimits
from mlrange.sandbox.errors import SandboxUnavailableError
from mlrange.sandbox.seccomp import seccomp_filter

WORK_DIR = "/home/learner"
"""The learner's home, working directory and artifact folder inside every kernel."""
MPLCONFIGDIR = "/tmp/matplotlib"
"""matplotlib's config and cache folder in every sandbox: writable (the home is a tmpfs that
learners fill, and /tmp is private), with the runtime's prebuilt font list bound in."""
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
"""What kernels (not graders) add to the sandbox environment: matplotlib draws with Agg and
ipykernel's inline backend sends each figure as an ``image/png`` display (``plt.show()`` or
a figure left open at the end of a cell)."""

_HOST_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
_USERS_FILE = (  # the synthetic /etc/passwd
    "root:x:0:0::/nonexistent:/usr/sbin/nologin\nlearner:x:{uid}:{gid}::{home}:/usr/sbin/nologin\n"
)
_GROUPS_FILE = "root:x:0:\nlearner:x:{gid}:\n"
_HOSTS = "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost\n"
_SYSTEM_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


@dataclass(frozen=True)
class Jail:
    """One sandboxed command: what runs, under which limits, seeing which host folders.

    ``ro_binds`` and ``rw_binds`` map sandbox paths to host paths. A host path must be
    reachable by ``sandbox_uid`` (bwrap resolves it after the uid drop). Never bind a
    learner-controlled path or a folder holding secrets.
    """

    command: Sequence[str]
    limits: SandboxLimits
    ro_binds: Mapping[str, Path] = field(default_factory=dict)
    rw_binds: Mapping[str, Path] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    chdir: str = WORK_DIR
    tmpfs: Mapping[str, int] = field(default_factory=dict)
    """Extra private tmpfs mounts: sandbox path -> size in MiB (mounted before the binds)."""
    dirs: tuple[str, ...] = ()
    """Empty folders to create (mount points for what a kernel template's children mount)."""
    is_template: bool = False
    """A kernel template (mlrange.sandbox.template): root *of its own user namespace* with
    its capabilities, so that it can give each forked kernel fresh namespaces; no seccomp
    filter (each child loads it itself before any learner byte runs). Runs only our code."""


def is_root() -> bool:
    return os.geteuid() == 0


def prepare_run_root(config: SandboxConfig) -> Path:
    """Create ``run_dir`` (0711) and the synthetic /etc files; idempotent. Returns /etc's source.

    ``run_dir`` usually sits in a world-writable folder (/tmp): another local user could have
    put a link or a folder of their own there first. It must be a real folder (no link is
    followed), owned by us, writable by nobody else; otherwise SandboxUnavailableError.
    """
    _ensure_private_folder(config.run_dir, 0o711)
    etc = config.run_dir / "etc"
    _ensure_private_folder(etc, 0o755)
    files = {
        "passwd": _USERS_FILE.format(uid=config.sandbox_uid, gid=config.sandbox_gid, home=WORK_DIR),
        "group": _GROUPS_FILE.format(gid=config.sandbox_gid),
        "hosts": _HOSTS,
    }
    for name, text in files.items():
        path = etc / name
        if not path.exists() or path.is_symlink() or path.read_text() != text:
            partial = etc / f".{name}.new"
            partial.unlink(missing_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            with os.fdopen(fd, "w") as file:
                file.write(text)
            partial.replace(path)
    return etc


def _ensure_private_folder(path: Path, mode: int) -> None:
    """Create ``path`` with ``mode``, or check that the existing one is ours and not a link."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=mode)
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise SandboxUnavailableError(f"{path} exists and is not a plain folder (a link?): remove it")
    if info.st_uid != os.geteuid():
        raise SandboxUnavailableError(
            f"{path} belongs to uid {info.st_uid}, not to this worker (uid {os.geteuid()}): "
            "someone else created it first; remove it or set another sandbox run dir"
        )
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode, follow_symlinks=False)


def make_private_dir(config: SandboxConfig, prefix: str, parent: Path | None = None) -> Path:
    """A fresh folder under ``run_dir`` (or ``parent`` below it), mode 0700, owned by the
    sandbox uid when we are root."""
    prepare_run_root(config)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent or config.run_dir))
    path.chmod(0o700)
    if is_root():
        os.chown(path, config.sandbox_uid, config.sandbox_gid)
    return path


def give_to_sandbox(config: SandboxConfig, path: Path) -> None:
    """Hand a file or folder the worker wrote to the sandbox uid (no-op when not root)."""
    if is_root():
        os.chown(path, config.sandbox_uid, config.sandbox_gid, follow_symlinks=False)


def remove_private_dir(path: Path) -> None:
    """Remove a per-sandbox folder; tolerate it being gone already."""
    shutil.rmtree(path, ignore_errors=True)


def sandbox_env(config: SandboxConfig, extra: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of the sandboxed command: nothing from the worker leaks in."""
    env = {
        "PATH": f"{config.runtime}/bin:/usr/bin:/bin",
        "HOME": WORK_DIR,
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": MPLCONFIGDIR,
        "IPYTHONDIR": "/tmp/ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
        "JUPYTER_DATA_DIR": "/tmp/jupyter",
        "JUPYTER_CONFIG_DIR": "/tmp/jupyter",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }
    env.update(extra)
    return env


def _system_binds(config: SandboxConfig) -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    args += ["--ro-bind", str(config.runtime), str(config.runtime)]
    base = Path(os.path.realpath(config.python)).parent.parent
    if not (base == Path("/usr") or base.is_relative_to("/usr") or base == config.runtime):
        args += ["--ro-bind", str(base), str(base)]
    etc = config.run_dir / "etc"
    args += ["--dir", "/etc"]
    for name in ("passwd", "group", "hosts"):
        args += ["--ro-bind", str(etc / name), f"/etc/{name}"]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _prlimit_argv(config: SandboxConfig, limits: SandboxLimits) -> list[str]:
    mib = 2**20
    return [
        str(config.prlimit),
        f"--nproc={limits.max_processes}",
        f"--nofile={limits.max_open_files}",
        f"--fsize={limits.max_file_mb * mib}",
        "--core=0",
        f"--cpu={limits.cpu_limit_s}",
        f"--as={limits.memory_mb * mib}",
        "--",
    ]


def _font_cache_binds(config: SandboxConfig) -> list[str]:
    """The runtime's prebuilt font list, read-only in MPLCONFIGDIR (itself writable: bwrap
    creates it in the private /tmp). Without one, matplotlib builds its own on first import."""
    try:
        names = sorted(os.listdir(config.font_cache))
    except OSError:
        return []
    args: list[str] = []
    for name in names:
        if name.startswith("fontlist-") and name.endswith(".json"):
            args += ["--ro-bind", str(config.font_cache / name), f"{MPLCONFIGDIR}/{name}"]
    return args


def jail_argv(
    config: SandboxConfig, jail: Jail, *, seccomp_fd: int | None, info_fd: int | None = None
) -> list[str]:
    """The full host command line (setpriv when root, bwrap, prlimit, the command)."""
    limits = jail.limits
    tmpfs_bytes = str(limits.tmpfs_mb * 2**20)
    argv: list[str] = []
    if is_root():
        argv += [
            str(config.setpriv),
            f"--reuid={config.sandbox_uid}",
            f"--regid={config.sandbox_gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
    argv += [
        str(config.bwrap),
        "--unshare-user",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    if jail.is_template:
        # Root of its own user namespace only (host uid: still the unprivileged sandbox uid).
        argv += ["--uid", "0", "--gid", "0", "--cap-add", "ALL"]
    else:
        argv += ["--disable-userns", "--uid", str(config.sandbox_uid), "--gid", str(config.sandbox_gid)]
    argv += [
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    for name, value in sandbox_env(config, jail.env).items():
        argv += ["--setenv", name, value]
    argv += _system_binds(config)
    argv += ["--proc", "/proc", "--dev", "/dev"]
    # bwrap's /dev is a tmpfs with no size: cap /dev/shm, make the rest of /dev read-only.
    argv += ["--size", str(limits.shm_mb * 2**20), "--tmpfs", "/dev/shm"]
    argv += ["--size", tmpfs_bytes, "--tmpfs", "/tmp"]
    argv += _font_cache_binds(config)
    argv += ["--size", tmpfs_bytes, "--tmpfs", WORK_DIR]
    for target, size_mb in jail.tmpfs.items():
        argv += ["--size", str(size_mb * 2**20), "--tmpfs", target]
    for target in jail.dirs:
        argv += ["--dir", target]
    for target, source in jail.ro_binds.items():
        argv += ["--ro-bind", str(source), target]
    for target, source in jail.rw_binds.items():
        argv += ["--bind", str(source), target]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", jail.chdir]
    if seccomp_fd is not None:
        argv += ["--seccomp", str(seccomp_fd)]
    if info_fd is not None:
        argv += ["--info-fd", str(info_fd)]
    argv += ["--", *_prlimit_argv(config, limits), *jail.command]
    return argv


def jail_spawn(
    config: SandboxConfig,
    jail: Jail,
    *,
    stdout: int | IO[bytes] = subprocess.DEVNULL,
    stderr: int | IO[bytes] = subprocess.DEVNULL,
    cgroup: ExecutionCgroup | None = None,
    info_fd: int | None = None,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.Popen[bytes]:
    """Start ``jail`` and return its process (setpriv execs bwrap: same pid).

    With ``cgroup``, the process enters it before bwrap starts, so everything in the sandbox
    is counted there. With ``info_fd`` (the write end of a pipe), bwrap writes its JSON info
    (``child-pid``: the host pid of the sandbox's pid 1) there.

    The sandbox dies with the calling thread (``--die-with-parent``): call this from a thread
    that lives at least as long as the sandbox must. Raises SandboxUnavailableError when no
    seccomp filter exists for this machine and the config asks for one (fail closed).
    """
    prepare_run_root(config)
    program = seccomp_filter() if config.seccomp else None
    if config.seccomp and program is None:
        raise SandboxUnavailableError(
            f"no seccomp filter is defined for this architecture ({os.uname().machine}): labs refuse "
            "to run rather than run with a weaker sandbox"
        )
    seccomp_fd: int | None = None
    if program is not None and not jail.is_template:
        seccomp_fd = os.memfd_create("mlrange-seccomp", 0)
        os.write(seccomp_fd, program)
        os.lseek(seccomp_fd, 0, os.SEEK_SET)
    argv = jail_argv(config, jail, seccomp_fd=seccomp_fd, info_fd=info_fd)
    if cgroup is not None:
        argv = cgroup.wrap_argv(argv)
    fds = tuple(fd for fd in (seccomp_fd, info_fd) if fd is not None) + pass_fds
    try:
        return subprocess.Popen(
            argv,
            env=dict(_HOST_ENV),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            pass_fds=fds,
            close_fds=True,
        )
    finally:
        if seccomp_fd is not None:
            os.close(seccomp_fd)


def jail_cgroup(config: SandboxConfig, limits: SandboxLimits, *, prefix: str) -> ExecutionCgroup | None:
    """A fresh cgroup for one sandbox (kernel, grader, service) with ``limits``; None in the
    operator's single-user mode. Raises CgroupUnavailableError (a SandboxUnavailableError)."""
    if config.isolation == "single-user":
        return None
    if config.isolation != "cgroup":
        raise SandboxUnavailableError(f"unknown sandbox isolation mode {config.isolation!r}")
    return CgroupRoot.for_process().create(cgroup_limits(limits), prefix=prefix)


def cgroup_limits(limits: SandboxLimits) -> CgroupLimits:
    return CgroupLimits(
        memory_mb=limits.memory_mb, max_processes=limits.max_processes, cpu_cores=limits.cpu_cores
    )


class SandboxProcess(Protocol):
    """What the sandbox code needs of a process: a Popen, or a PidfdProcess."""

    pid: int

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


class PidfdProcess:
    """A process this one did not start (a kernel forked by a template), held by a pidfd so
    that signals can never reach a recycled pid. ``returncode`` is -9 once it is gone."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._fd: int | None = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and self._fd is not None and select.select([self._fd], [], [], 0)[0]:
            self._gone()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and self._fd is not None:
            if not select.select([self._fd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            self._gone()
        return -9 if self.returncode is None else self.returncode

    def kill(self) -> None:
        if self.returncode is None and self._fd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._fd, signal.SIGKILL)

    def _gone(self) -> None:
        self.returncode = -9
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def jail_kill(process: SandboxProcess) -> None:
    """SIGKILL the sandbox (its pid 1 dies, and with it every process its namespace holds)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    process.wait()
