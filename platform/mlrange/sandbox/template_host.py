"""Runs INSIDE the template jail with the runtime Python: a fork-server for sandboxed kernels.

Stand-alone on purpose (no mlrange import, no Django): it is bound read-only into the
template's jail. The template is started by the worker in a bubblewrap jail where it is root
*of its own user namespace only* (host uid: the unprivileged sandbox uid), imports the
profile's libraries once (``PRELOAD``), and then only ever forks. It never runs learner code
and never receives learner bytes: a request carries the kernel's connection details, limits
and environment, chosen by the worker.

Per request (``{"connection": {...}, "limits": {...}, "env": {...}}`` plus two fds over the
control socket: the kernel's private channel to the worker and its log memfd), the template
forks a *keeper*, which:

1. sends its credentials on the channel (the kernel translates its pid into the worker's pid
   namespace) and waits until the worker has placed it in the execution's cgroup;
2. unshares fresh user, mount, pid, network, IPC, UTS and cgroup namespaces (the new user
   namespace maps only the sandbox uid, onto this template's root) and forks an init, pid 1
   of the new pid namespace, then waits for it.

The init makes its mounts private; mounts its own size-capped tmpfs on /tmp, the work dir,
/run/kernel and /dev/shm and a proc for its pid namespace; hides the template's folders;
brings its loopback up; writes the connection file; forks the kernel (pid 2); then drops its
capabilities, loads the seccomp filter, ignores signals and reaps orphans until the kernel
exits. The kernel, before anything else runs: re-seeds every random generator (a fork copies
their state); sets rlimits; drops every capability (bounding, ambient, permitted, effective,
inheritable) with securebits locked; sets no_new_privs; loads the seccomp filter; replaces
its environment; closes every other fd; sends ``ok``; then starts ipykernel in process
(already imported: nothing is loaded again).
"""

from __future__ import annotations

import array
import base64
import contextlib
import ctypes
import fcntl
import gc
import importlib
import json
import os
import random
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

_libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_REC, MS_PRIVATE = 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
PR_SET_SECUREBITS, PR_SET_NAME = 28, 15
SECBITS_LOCKED_NOROOT = 0x3F  # NOROOT, NO_SETUID_FIXUP, KEEP_CAPS: each set or cleared, and locked
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
MAX_FDS = 4
_KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.completer",
    "IPython.core.interactiveshell",
    "pdb",
    "faulthandler",
    "tornado.ioloop",
    "tornado.platform.asyncio",
)


class _SockFilterProg(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _send(chan: socket.socket, message: dict[str, Any]) -> None:
    chan.send(json.dumps(message).encode())


def _send_credentials(chan: socket.socket, role: str) -> None:
    creds = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
    chan.sendmsg([json.dumps({"role": role}).encode()], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)])


def _recv(chan: socket.socket) -> dict[str, Any]:
    data = chan.recv(65536)
    if not data:
        raise ConnectionError("the worker closed the channel")
    message: dict[str, Any] = json.loads(data)
    return message


def _mount_tmpfs(path: str, size_mb: int, mode: str) -> None:
    options = f"size={size_mb * 2**20},mode={mode}".encode()
    _check(_libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options), f"tmpfs {path}")


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def _drop_capabilities() -> None:
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:
            break  # EINVAL: past the last capability this kernel knows
    _check(_libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient caps")
    _check(_libc.prctl(PR_SET_SECUREBITS, SECBITS_LOCKED_NOROOT, 0, 0, 0), "securebits")
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_libc.syscall(126, header, data), "capset")  # x86_64 capset: empty sets


def _load_seccomp(program: bytes) -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFilterProg(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    # Variadic: a bare Python int would be passed as a 32-bit C int, not a pointer.
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")


def _reseed() -> None:
    """A fork copies every generator's state: each kernel gets fresh seeds from the kernel."""
    random.seed()
    with contextlib.suppress(ImportError):
        import numpy

        numpy.random.seed(int.from_bytes(os.urandom(4), "little"))
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(int.from_bytes(os.urandom(8), "little") >> 1)


def _set_rlimits(limits: dict[str, Any]) -> None:
    import resource

    mib = 2**20
    for name, value in (
        ("RLIMIT_NOFILE", limits["max_open_files"]),
        ("RLIMIT_FSIZE", limits["max_file_mb"] * mib),
        ("RLIMIT_CORE", 0),
        ("RLIMIT_CPU", limits["cpu_seconds"]),
        ("RLIMIT_AS", limits["memory_mb"] * mib),
        ("RLIMIT_NPROC", limits["max_processes"]),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))


def _close_other_fds(keep: set[int]) -> None:
    for fd in range(3, 1024):
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _init(chan: socket.socket, log_fd: int, request: dict[str, Any], seccomp: bytes) -> None:
    """pid 1 of the new namespaces: set up what the namespaces share (mounts, hostname,
    loopback, the connection file), fork the kernel (pid 2), then confine itself and reap
    orphans until the kernel exits; then everything in the namespaces dies with it. Like
    bwrap's init, it keeps the kernel from being pid 1 (which ignores its own SIGKILL)."""
    limits, paths = request["limits"], request["paths"]
    _check(_libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "private mounts")
    _mount_tmpfs("/tmp", limits["tmpfs_mb"], "1777")
    _bind_font_cache(paths.get("font_cache"), paths.get("mplconfigdir"))
    _mount_tmpfs(paths["work_dir"], limits["tmpfs_mb"], "0700")
    _mount_tmpfs(paths["run_dir"], 1, "0700")
    _mount_tmpfs("/dev/shm", limits["shm_mb"], "1777")
    services = paths.get("services")
    if services:
        if "/" in services or services.startswith("."):
            raise ValueError("bad services folder name")
        source = f"{paths['services_all']}/{services}".encode()
        _check(_libc.mount(source, b"/lab-services", None, MS_BIND | MS_REC, None), "bind services")
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        _check(_libc.mount(None, b"/lab-services", None, flags, None), "services read-only")
    # Every kernel's services folder is below one, the template's own files in the other.
    for hidden in (paths["services_all"], paths["template_dir"]):
        _mount_tmpfs_hidden(hidden)
    _check(_libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "proc")
    socket.sethostname("sandbox")
    _loopback_up()
    connection_file = f"{paths['run_dir']}/c.json"
    with open(connection_file, "w") as file:
        json.dump(request["connection"], file)
    kernel = os.fork()
    if kernel == 0:
        try:
            _kernel(chan, log_fd, request, seccomp, connection_file)
        except BaseException:
            with contextlib.suppress(OSError):
                _send(chan, {"error": traceback.format_exc(limit=3)[-1500:]})
        os._exit(1)
    chan.close()
    os.close(log_fd)
    _close_other_fds(set())
    _set_name(b"mlrange-init")
    _drop_capabilities()
    _load_seccomp(seccomp)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, signal.SIG_IGN)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if pid == kernel:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _bind_font_cache(source_dir: str | None, target_dir: str | None) -> None:
    """The runtime's prebuilt matplotlib font list, read-only in the kernel's own (writable)
    MPLCONFIGDIR on the fresh /tmp, as bwrap binds it for jailed kernels."""
    if not source_dir or not target_dir:
        return
    try:
        names = sorted(os.listdir(source_dir))
    except OSError:
        return
    names = [name for name in names if name.startswith("fontlist-") and name.endswith(".json")]
    if names:
        os.mkdir(target_dir, 0o755)
    for name in names:
        target = f"{target_dir}/{name}"
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444))
        source = f"{source_dir}/{name}".encode()
        _check(_libc.mount(source, target.encode(), None, MS_BIND, None), "bind fonts")
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
        _check(_libc.mount(None, target.encode(), None, flags, None), "fonts read-only")


def _mount_tmpfs_hidden(path: str) -> None:
    _check(
        _libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"size=4096,mode=0"),
        f"hide {path}",
    )


def _kernel(
    chan: socket.socket, log_fd: int, request: dict[str, Any], seccomp: bytes, connection_file: str
) -> None:
    """pid 2: confine, then become the ipykernel (never returns)."""
    os.chdir(request["paths"]["work_dir"])
    _reseed()
    _set_rlimits(request["limits"])
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    _drop_capabilities()
    _set_name(b"mlrange-kernel")  # only now: a process by this name is fully confined
    _load_seccomp(seccomp)
    _send(chan, {"ok": True})
    _close_other_fds(set())
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["ipykernel", "-f", connection_file, "--HistoryManager.enabled=False"]
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.start()
    os._exit(0)


def _set_name(name: bytes) -> None:
    _libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


def _keeper(chan: socket.socket, log_fd: int, request: dict[str, Any], seccomp: bytes) -> None:
    """The forked child of the template: into the cgroup, new namespaces, fork the kernel."""
    _set_name(b"mlrange-keeper")
    try:
        _send_credentials(chan, "keeper")
        if _recv(chan).get("placed") is not True:
            os._exit(1)
        flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
        _check(_libc.unshare(flags | CLONE_NEWCGROUP), "unshare")
        uid = request["paths"]["uid"]
        with open("/proc/self/setgroups", "w") as file:
            file.write("deny")
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/self/{name}", "w") as file:
                file.write(f"{uid} 0 1")
        pid = os.fork()
        if pid == 0:
            try:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                _send_credentials(chan, "kernel")
                _init(chan, log_fd, request, seccomp)
            except BaseException:
                with contextlib.suppress(OSError):
                    _send(chan, {"error": traceback.format_exc(limit=3)[-1500:]})
                os._exit(1)
        chan.close()
        os.close(log_fd)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    except BaseException:
        with contextlib.suppress(OSError):
            _send(chan, {"error": traceback.format_exc(limit=3)[-1500:]})
        os._exit(1)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def main() -> int:
    control = socket.socket(fileno=int(sys.argv[1]))
    with open(sys.argv[2], "rb") as file:
        seccomp = file.read()
    preload = base64.b64decode(sys.argv[3]).decode()
    _set_name(b"mlrange-template")
    started = time.monotonic()
    try:
        exec(compile(preload, "<preload>", "exec"), {})  # noqa: S102 -- the operator's preload, trusted
        for module in _KERNEL_MODULES:  # what IPKernelApp.initialize would import in every child
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
    except BaseException:
        _send(control, {"error": traceback.format_exc(limit=3)[-1500:]})
        return 1
    # Move every object made so far out of the garbage collector's reach: a collection in a
    # child would otherwise write to (and so copy) every page holding a tracked object.
    gc.collect()
    gc.freeze()
    threads = len(os.listdir("/proc/self/task"))
    _send(control, {"ready": True, "seconds": time.monotonic() - started, "threads": threads})
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        fds = array.array("i")
        try:
            data, ancillary, _, _ = control.recvmsg(65536, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
        except InterruptedError:
            _reap()
            continue
        _reap()
        if not data:
            return 0
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        chan_fd, log_fd = fds
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            control.close()
            _keeper(socket.socket(fileno=chan_fd), log_fd, request, seccomp)
            os._exit(1)
        os.close(chan_fd)
        os.close(log_fd)


if __name__ == "__main__":
    sys.exit(main())
