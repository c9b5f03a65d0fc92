"""Safe loading of learner artifacts: never follow links, never unpickle, cap every size.

Every failure raises ArtifactError with a message a learner can act on; graders turn it
into a failing check instead of crashing.
"""

import errno
import io
import os
import stat
from pathlib import Path

import numpy as np


class ArtifactError(Exception):
    """A handed-in file cannot be used; the message says what to fix."""


def read_artifact_bytes(path: Path, *, max_bytes: int) -> bytes:
    """Read a regular file opened without following links, refusing anything over max_bytes."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ArtifactError(f"{path.name} was not handed in: write it into the working folder.") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArtifactError(f"{path.name} is a symbolic link; hand in a regular file.") from None
        raise ArtifactError(f"{path.name} cannot be opened ({exc.strerror}).") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactError(f"{path.name} is not a regular file.")
        if info.st_size > max_bytes:
            raise ArtifactError(f"{path.name} is {info.st_size} bytes; the limit is {max_bytes} bytes.")
        chunks = []
        remaining = max_bytes + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise ArtifactError(f"{path.name} is over the limit of {max_bytes} bytes.")
    return data


def load_npy(
    path: Path,
    *,
    max_bytes: int,
    shape: tuple[int, ...],
    dtype: str,
    value_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Load a plain numeric .npy (no pickles) and check shape, dtype, finiteness and range."""
    data = read_artifact_bytes(path, max_bytes=max_bytes)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise ArtifactError(
                f"{path.name} holds pickled Python objects, which are refused: "
                "save a plain numeric array with np.save(..., allow_pickle=False)."
            ) from None
        raise ArtifactError(f"{path.name} is not a valid .npy file ({exc}).") from None
    except Exception as exc:
        raise ArtifactError(f"{path.name} is not a valid .npy file ({type(exc).__name__}).") from None
    if not isinstance(array, np.ndarray):
        raise ArtifactError(f"{path.name} is not a single array saved with np.save.")
    if array.dtype != np.dtype(dtype):
        raise ArtifactError(
            f"{path.name} has dtype {array.dtype}; expected {dtype} (use .astype(np.{dtype}))."
        )
    if array.shape != shape:
        raise ArtifactError(f"{path.name} has shape {array.shape}; expected {shape}.")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        count = int((~np.isfinite(array)).sum())
        raise ArtifactError(f"{path.name} contains {count} NaN or infinite values.")
    if value_range is not None:
        low, high = value_range
        below, above = int((array < low).sum()), int((array > high).sum())
        if below or above:
            raise ArtifactError(
                f"{path.name} has {below + above} values outside [{low:g}, {high:g}] "
                f"(min {float(array.min()):.4f}, max {float(array.max()):.4f}): "
                "clip to the valid pixel range."
            )
    return array


def load_state_dict(path: Path, *, max_bytes: int) -> dict:
    """Load a torch state_dict with weights_only=True (no arbitrary unpickling)."""
    import torch

    data = read_artifact_bytes(path, max_bytes=max_bytes)
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ArtifactError(
            f"{path.name} is not a plain state_dict loadable with weights_only=True ({type(exc).__name__})."
        ) from None
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise ArtifactError(f"{path.name} must hold a dict of tensors (model.state_dict()).")
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ArtifactError(f"{path.name} must hold only tensors.")
    return state


def npy_length(path: Path, *, max_bytes: int) -> int:
    """Length of a 1-D .npy, read from its header only (no data is parsed)."""
    data = read_artifact_bytes(path, max_bytes=max_bytes)
    try:
        stream = io.BytesIO(data)
        version = np.lib.format.read_magic(stream)
        reader = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        shape, _fortran, _dtype = reader(stream)
    except Exception:
        raise ArtifactError(f"{path.name} is not a valid .npy file.") from None
    if len(shape) != 1:
        raise ArtifactError(f"{path.name} has shape {shape}; expected a 1-D array of indices.")
    return int(shape[0])


def load_indices(path: Path, *, max_bytes: int) -> np.ndarray:
    """A 1-D int64 .npy of any length (e.g. chosen row indices), with every check of load_npy."""
    return load_npy(path, max_bytes=max_bytes, shape=(npy_length(path, max_bytes=max_bytes),), dtype="int64")
