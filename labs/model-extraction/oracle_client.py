"""Client of the lab's metered, label-only oracle (public: learners import it).

    from oracle_client import query, status
    labels = query(x)          # x: float32 (n, 64) in [0, 1], n <= 256 per call -> int64 (n,)
    status()                   # {"used": ..., "budget": ..., "remaining": ...}

Every row you send costs one query. A call that would go
over the budget is refused as a whole (OracleError) and costs nothing. The oracle runs
outside your sandbox, for the length of one execution: a new execution gets a fresh oracle,
with fresh label codes.
"""

import io
import json
import os
import socket
import struct

import numpy as np

SOCKET = os.path.join(os.environ.get("MLRANGE_LAB_SERVICES", "/lab-services"), "oracle.sock")
MAX_BATCH = 256
_TIMEOUT_S = 30.0


class OracleError(Exception):
    """The oracle refused the request; the message says why."""


def _exchange(body: bytes) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(_TIMEOUT_S)
        try:
            conn.connect(SOCKET)
        except OSError as exc:
            raise OracleError(
                f"cannot reach the oracle at {SOCKET} ({exc.strerror}): it runs only inside the lab's "
                "sandbox, during an execution"
            ) from None
        conn.sendall(struct.pack(">I", len(body)) + body)
        header = _recv_exactly(conn, 4)
        (size,) = struct.unpack(">I", header)
        if size > 1 << 20:
            raise OracleError("oracle reply too large")
        reply = json.loads(_recv_exactly(conn, size))
    if "error" in reply:
        raise OracleError(reply["error"])
    return reply


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OracleError("the oracle closed the connection")
        data += chunk
    return data


def query(x) -> np.ndarray:
    """Labels (int64, shape (n,)) of the victim for the rows of x (float32, (n, 64), [0, 1])."""
    array = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    if array.ndim == 1:
        array = array[None, :]
    out = []
    for start in range(0, len(array), MAX_BATCH):
        buffer = io.BytesIO()
        np.save(buffer, array[start : start + MAX_BATCH], allow_pickle=False)
        out.extend(_exchange(buffer.getvalue())["labels"])
    return np.asarray(out, dtype=np.int64)


def status() -> dict:
    """How many queries you have used, and your budget."""
    return _exchange(b"status")
