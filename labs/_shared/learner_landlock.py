"""Landlock filesystem isolation for learner code run by graders of the deployment labs.

Used by the api-hardening and prompt-injection-guard graders. `_shared.callee.LearnerProcess`
runs the learner's module in a child of the grader, inside the grader's sandbox, where
/lab/hidden, /lab/grader and /lab/host (params.json: the grader seed) are readable too. These
graders therefore hand LearnerProcess a copy of the learner's source whose first line applies
a Landlock ruleset before any learner statement runs: only the Python runtime, system
libraries, the public assets and a private scratch folder stay reachable, and (Landlock ABI 6+)
the child cannot signal the grader. Landlock is unprivileged and irreversible for the process
and its descendants. Where the kernel has no Landlock, the prelude records "unavailable" and
the code runs with the grader sandbox alone; graders report this as a metric.

Only the standard library is used: `SOURCE` (this file's text) is inlined into the prelude,
because the child runs with `python -I` and cannot import `_shared`.
"""

import ctypes
import os
from pathlib import Path

_SYS_CREATE_RULESET = 444
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1, 2, 4, 8
_TRUNCATE, _IOCTL_DEV = 1 << 14, 1 << 15
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _add_rules(libc, ruleset: int, handled: int, read_only: list[str], read_write: list[str]) -> None:
    reading = _EXECUTE | _READ_FILE | _READ_DIR
    for paths, access in ((read_only, reading), (read_write, handled)):
        for path in paths:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                allowed = access & handled
                if not os.path.isdir(path):
                    allowed &= _FILE_RIGHTS
                rule = _PathBeneath(allowed, fd)
                if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
            finally:
                os.close(fd)


def restrict(read_only: list[str], read_write: list[str]) -> str:
    """Allow only these paths (and below) from now on; returns a status string."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return "unavailable"
    handled = (1 << 13) - 1
    if abi >= 2:
        handled |= 1 << 13  # REFER
    if abi >= 3:
        handled |= _TRUNCATE
    if abi >= 5:
        handled |= _IOCTL_DEV
    attr = _RulesetAttr(handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return "unavailable"
    try:
        _add_rules(libc, ruleset, handled, read_only, read_write)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "no_new_privs")
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return f"landlock-abi-{abi}"


SOURCE = Path(__file__).read_text(encoding="utf-8") if "__file__" in globals() else ""
SYSTEM_READ_ONLY = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/dev/urandom", "/dev/zero"]


def isolated_source(
    learner_source: str, *, read_only: list[str], read_write: list[str], epilogue: str = ""
) -> str:
    """The learner's source with a one-line Landlock prelude (line numbers shift by one) and
    the grader's own epilogue (driver functions the grader calls through LearnerProcess).

    The prelude stores the status in the module global `__mlrange_isolation__`.
    """
    import sys

    allowed = sorted({*SYSTEM_READ_ONLY, sys.prefix, sys.base_prefix, *read_only})
    writable = sorted({"/dev/null", *read_write})
    prelude = (
        f"__mlrange_isolation__ = (lambda _n: (exec({SOURCE!r}, _n), "
        f"_n['restrict']({allowed!r}, {writable!r}))[1])({{'__name__': 'mlrange_isolation'}})"
    )
    return prelude + "\n" + learner_source + "\n\n" + epilogue
