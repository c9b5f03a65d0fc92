# ruff: noqa: F821 -- LAB is defined by the lab's trusted setup cell before this code runs
# %% [markdown]
# # Scan untrusted model files
#
# Write `scan(data, filename)`: given the bytes of a model file someone sent you, return
# `True` when it is unsafe to load (reject it) and `False` when it holds only tensors and
# arrays. Read the brief first. `LAB["assets"]` is the read-only folder with sample files and
# their labels. **Never load the samples** (`pickle.load`, `torch.load`, `np.load` with
# `allow_pickle=True`): inspect their bytes. The grader imports your code in a separate
# process and calls `scan` on files you have not seen, so keep demo code under
# `if __name__ == "__main__":`.

# %%
import io
import json
import pickletools
import zipfile
from pathlib import Path


def pickle_opcodes(data: bytes) -> list[tuple[str, object]]:
    """(opcode name, argument) of the first pickle in `data`, without running it."""
    return [(op.name, arg) for op, arg, _pos in pickletools.genops(io.BytesIO(data))]


def scan(data: bytes, filename: str) -> bool:
    """True: unsafe, reject the file. False: only data, safe to load."""
    # TODO: your scanner. Accepting everything runs, but scores nothing.
    return False


# %%
if __name__ == "__main__":
    samples = Path(LAB["assets"]) / "samples"
    labels = json.loads((samples / "labels.json").read_text())
    verdicts = {}
    for name in sorted(labels):
        data = (samples / name).read_bytes()
        kind = "zip" if data[:4] == b"PK\x03\x04" else "npy" if data[:6] == b"\x93NUMPY" else "pickle"
        verdicts[name] = scan(data, name)
        print(f"{name:24} {labels[name]:9} {kind:6} scan -> {verdicts[name]}")
    first_zip = next(n for n in sorted(labels) if (samples / n).read_bytes()[:4] == b"PK\x03\x04")
    with zipfile.ZipFile(samples / first_zip) as archive:
        print(first_zip, "members:", archive.namelist())
    right = sum(verdicts[n] == (labels[n] == "malicious") for n in verdicts)
    print(f"{right}/{len(verdicts)} samples classified correctly")
    Path("scan_report.json").write_text(json.dumps(verdicts, indent=1))
