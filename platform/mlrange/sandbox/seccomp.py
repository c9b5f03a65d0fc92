"""A classic-BPF seccomp filter for sandboxes, built without libseccomp.

Namespaces already deny most of what the filter denies; the filter is a second wall against
kernel attack surface that namespaces do not cover: sockets of other families than Unix,
IPv4/6 and netlink (AF_VSOCK reaches the hypervisor host on VMs, AF_ALG the kernel crypto
API), new namespaces, io_uring, bpf, userfaultfd, perf, keyrings, module loading, mounts,
ptrace, ``modify_ldt`` and the like; netlink sockets only for NETLINK_ROUTE (what libzmq's
getifaddrs needs). Only x86_64 is described; ``seccomp_filter()`` returns None elsewhere and
the sandbox refuses to start (``jail_spawn`` fails closed).
"""

from __future__ import annotations

import errno
import os
import struct

_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000

_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

_OFFSET_NR = 0
_OFFSET_ARCH = 4
_OFFSET_ARG0_LOW = 16  # little-endian: the low 32 bits of args[0]
_OFFSET_ARG2_LOW = 32

# x86_64 numbers, from asm/unistd_64.h.
_DENIED_X86_64: dict[str, int] = {
    "ptrace": 101,
    "syslog": 103,
    "uselib": 134,
    "personality": 135,
    "ustat": 136,
    "sysfs": 139,
    "vhangup": 153,
    "pivot_root": 155,
    "_sysctl": 156,
    "adjtimex": 159,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "modify_ldt": 154,
    "iopl": 172,
    "ioperm": 173,
    "create_module": 174,
    "init_module": 175,
    "delete_module": 176,
    "get_kernel_syms": 177,
    "query_module": 178,
    "quotactl": 179,
    "nfsservctl": 180,
    "lookup_dcookie": 212,
    "clock_settime": 227,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "unshare": 272,
    "perf_event_open": 298,
    "fanotify_init": 300,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "mount_setattr": 442,
}
_SOCKET_X86_64 = (41, 53)  # socket, socketpair: the address family is args[0]
_CLONE_X86_64 = 56
_CLONE3_X86_64 = 435  # flags live behind a pointer: answer ENOSYS, glibc falls back to clone
_ALLOWED_FAMILIES = (1, 2, 10)  # AF_UNIX, AF_INET, AF_INET6
_AF_NETLINK = 16
_NETLINK_ROUTE = 0  # the only netlink protocol needed: libzmq's getifaddrs
_CLONE_NEW_NAMESPACES = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET


class _Program:
    """A tiny assembler: forward jumps to labels, resolved when the program is packed."""

    def __init__(self) -> None:
        self._code: list[tuple[int, int | str, int | str, int]] = []
        self._labels: dict[str, int] = {}

    def load(self, offset: int) -> None:
        self._code.append((_LD_W_ABS, 0, 0, offset))

    def jump(self, op: int, value: int, *, true: int | str = 0, false: int | str = 0) -> None:
        self._code.append((op, true, false, value))

    def ret(self, value: int) -> None:
        self._code.append((_RET_K, 0, 0, value))

    def label(self, name: str) -> None:
        self._labels[name] = len(self._code)

    def pack(self) -> bytes:
        out = bytearray()
        for index, (code, true, false, k) in enumerate(self._code):
            out += struct.pack("<HBBI", code, self._offset(index, true), self._offset(index, false), k)
        return bytes(out)

    def _offset(self, index: int, target: int | str) -> int:
        if isinstance(target, int):
            return target
        offset = self._labels[target] - index - 1
        if not 0 <= offset <= 255:
            raise ValueError(f"seccomp jump to {target} out of range")
        return offset


def seccomp_filter() -> bytes | None:
    """The filter as a ``struct sock_filter`` array for ``bwrap --seccomp FD``, or None."""
    if os.uname().machine != "x86_64":
        return None
    program = _Program()
    program.load(_OFFSET_ARCH)
    program.jump(_JEQ_K, _AUDIT_ARCH_X86_64, false="kill")
    program.load(_OFFSET_NR)
    program.jump(_JGE_K, _X32_SYSCALL_BIT, true="kill")
    for number in _DENIED_X86_64.values():
        program.jump(_JEQ_K, number, true="eperm")
    program.jump(_JEQ_K, _CLONE3_X86_64, true="enosys")
    program.jump(_JEQ_K, _CLONE_X86_64, true="clone")
    for number in _SOCKET_X86_64:
        program.jump(_JEQ_K, number, true="socket")
    program.ret(_RET_ALLOW)
    program.label("socket")
    program.load(_OFFSET_ARG0_LOW)
    for family in _ALLOWED_FAMILIES:
        program.jump(_JEQ_K, family, true="allow")
    program.jump(_JEQ_K, _AF_NETLINK, true="netlink")
    program.ret(_RET_ERRNO | errno.EAFNOSUPPORT)
    program.label("netlink")
    program.load(_OFFSET_ARG2_LOW)
    program.jump(_JEQ_K, _NETLINK_ROUTE, true="allow")
    program.ret(_RET_ERRNO | errno.EPROTONOSUPPORT)
    program.label("clone")
    program.load(_OFFSET_ARG0_LOW)
    program.jump(_JSET_K, _CLONE_NEW_NAMESPACES, true="eperm")
    program.label("allow")
    program.ret(_RET_ALLOW)
    program.label("eperm")
    program.ret(_RET_ERRNO | errno.EPERM)
    program.label("enosys")
    program.ret(_RET_ERRNO | errno.ENOSYS)
    program.label("kill")
    program.ret(_RET_KILL_PROCESS)
    return program.pack()
