"""Reference solution: a static allow-list scanner built on the standard library's pickletools.

Never unpickles anything. Walks every pickle a loader could read from the file (raw pickles,
every .pkl member of a zip, the consecutive pickles of legacy torch files, the pickle inside an
object-dtype .npy), resolves every import (GLOBAL, INST, STACK_GLOBAL through the memo) and
rejects the file when one is not on a short allow-list of what tensors and arrays need.
Anything it cannot parse is rejected too: fail closed.
"""

import ast
import io
import pickletools
import zipfile

SAFE_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch", "Size"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # how protocol 2 pickles bytes
}
TORCH_STORAGES = {
    f"{kind}Storage"
    for kind in ("Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool")
}
STRING_OPS = {
    "STRING",
    "BINSTRING",
    "SHORT_BINSTRING",
    "UNICODE",
    "BINUNICODE",
    "SHORT_BINUNICODE",
    "BINUNICODE8",
}
NEVER_BENIGN = {"EXT1", "EXT2", "EXT4"}  # the copyreg extension registry imports by number


class UnsafeError(Exception):
    """The file must not be loaded; the message says why."""


class MalformedError(UnsafeError):
    """Not a pickle that parses: unsafe as a whole file, the end of the pickles after the first."""


def _allowed(module: str, name: str) -> bool:
    if module == "torch" and name in TORCH_STORAGES:
        return True
    return (module, name) in SAFE_GLOBALS


def scan_pickle(data: bytes, start: int = 0) -> int:  # noqa: PLR0912 -- one branch per opcode kind
    """Check one pickle starting at `start`; return where it ends. Raise UnsafeError on a bad import."""
    stream = io.BytesIO(data)
    stream.seek(start)
    memo: dict[int, object] = {}
    recent: list[object] = []  # values pushed lately: enough to resolve STACK_GLOBAL
    end = start
    try:
        for opcode, arg, pos in pickletools.genops(stream):
            name = opcode.name
            end = pos
            if name in NEVER_BENIGN:
                raise UnsafeError(f"{name} opcode (extension registry import)")
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                if not _allowed(module, attr):
                    raise UnsafeError(f"imports {module}.{attr}")
            elif name == "STACK_GLOBAL":
                if len(recent) < 2 or not all(isinstance(v, str) for v in recent[-2:]):
                    raise UnsafeError("STACK_GLOBAL whose module and name cannot be resolved")
                module, attr = recent[-2], recent[-1]
                if not _allowed(module, attr):
                    raise UnsafeError(f"imports {module}.{attr}")
                recent.append(object())
            elif name in STRING_OPS:
                value = arg.decode("latin-1") if isinstance(arg, bytes) else arg
                recent.append(value)
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[int(arg)] = recent[-1] if recent else None
            elif name == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                recent.append(memo.get(int(arg)))
            elif name == "POP" and recent:
                recent.pop()
            elif name not in ("FRAME", "PROTO", "MARK", "STOP"):
                recent.append(object())
    except UnsafeError:
        raise
    except Exception as exc:
        raise MalformedError(f"not a well-formed pickle ({type(exc).__name__})") from None
    return end + 1


def scan_pickles(data: bytes) -> None:
    """Every pickle in a row (legacy torch files hold five, then raw storage bytes)."""
    position = scan_pickle(data, 0)
    while position < len(data) and data[position : position + 1] == b"\x80":  # PROTO: another pickle
        try:
            position = scan_pickle(data, position)
        except MalformedError:
            return  # raw bytes after the pickles (legacy torch storages): nothing unpickles them


def scan_npy(data: bytes) -> None:
    header_len_size = 2 if data[6] == 1 else 4
    header_len = int.from_bytes(data[8 : 8 + header_len_size], "little")
    header_end = 8 + header_len_size + header_len
    header = ast.literal_eval(data[8 + header_len_size : header_end].decode("latin-1"))
    if "O" in str(header.get("descr")):
        scan_pickle(data, header_end)  # object arrays are pickles


def scan_zip(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.file_size > 64 * 2**20:
                raise UnsafeError(f"{info.filename} is too large to scan")
            member = archive.read(info)
            if info.filename.endswith(".pkl"):
                scan_pickles(member)
            elif member[:6] == b"\x93NUMPY":
                scan_npy(member)


def scan(data: bytes, filename: str) -> bool:
    """True when the file is unsafe to load (reject it), False when it holds only data."""
    try:
        if data[:4] == b"PK\x03\x04":
            scan_zip(data)
        elif data[:6] == b"\x93NUMPY":
            scan_npy(data)
        else:
            scan_pickles(data)
    except UnsafeError:
        return True
    except Exception:
        return True  # cannot parse it: fail closed
    return False


if __name__ == "__main__":
    import json
    from pathlib import Path

    samples = Path(LAB["assets"]) / "samples"  # noqa: F821 -- LAB comes from the setup cell
    labels = json.loads((samples / "labels.json").read_text())
    verdicts = {name: scan((samples / name).read_bytes(), name) for name in sorted(labels)}
    right = sum(verdicts[n] == (labels[n] == "malicious") for n in verdicts)
    print(f"{right}/{len(verdicts)} sample files classified correctly")
    Path("scan_report.json").write_text(json.dumps(verdicts, indent=1))
