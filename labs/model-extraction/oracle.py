"""The lab service of model-extraction: a metered, label-only oracle in front of the victim.

Runs as a TRUSTED lab service (mlrange.sandbox.services) in its own jail, never in the
learner's kernel: the victim's weights in /lab/hidden stay out of the learner's reach.
Protocol over the Unix socket: one request per connection, a 4-byte big-endian length then
the body: either an .npy file (float32, shape (n, 64) or (64,), values in [0, 1], finite,
1 <= n <= 256) or b"status". The reply has the same framing and a JSON body:
{"labels": [...], "used": u, "budget": b} or {"error": "...", "used": u, "budget": b}.

Metering: the budget is the learner's for this variant across ALL their executions. The
platform passes ``params.meter`` = {"budget", "previously_used", "allowance"}: what earlier
executions used, and what this one may use (everything left, reserved for it). The report
(/lab/out/report.json, seen only by the worker) is rewritten BEFORE each answer, so every
label that left the oracle is counted even if the oracle is killed; the platform adds this
execution's ``queries`` to the learner's total. A request that would go over the allowance is
refused whole. Without ``params.meter`` (check_labs, tests) the whole budget is allowed.
Labels are returned in a fresh per-session code (a random permutation of 0..9 chosen at
start and written in the report): answers from another session must be re-decoded.
"""

import io
import json
import os
import secrets
import socket
import struct
import sys
from pathlib import Path

import numpy as np

MAX_BATCH = 256
MAX_BODY = 128 * 1024
CONN_TIMEOUT_S = 10.0
N_FEATURES = 64


class RefusedError(Exception):
    pass


def load_victim(path: Path):
    import torch
    from torch import nn

    torch.set_num_threads(1)
    model = nn.Sequential(
        nn.Linear(N_FEATURES, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)
    )
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
    model.eval()

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).argmax(1).numpy()

    return predict


def parse_inputs(body: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except Exception:
        raise RefusedError("the request is not an .npy array (send float32 rows with np.save)") from None
    if not isinstance(array, np.ndarray) or array.dtype != np.float32:
        raise RefusedError(f"send float32 values, not {getattr(array, 'dtype', type(array).__name__)}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != N_FEATURES:
        raise RefusedError(f"send an array of shape (n, {N_FEATURES}), not {array.shape}")
    if not 1 <= len(array) <= MAX_BATCH:
        raise RefusedError(f"send between 1 and {MAX_BATCH} rows per request")
    if not np.isfinite(array).all():
        raise RefusedError("the request contains NaN or infinite values")
    if array.min() < 0.0 or array.max() > 1.0:
        raise RefusedError("values must lie in [0, 1]")
    return np.ascontiguousarray(array)


class Oracle:
    def __init__(self, config: dict) -> None:
        params = config["params"]
        self.budget = int(params["variant"]["query_budget"])
        meter = params.get("meter") or {}
        self.previously_used = int(meter.get("previously_used", 0))
        self.allowance = int(meter.get("allowance", self.budget))
        self.report_path = Path(config["report"])
        self.predict = load_victim(Path(params.get("hidden_dir", "/lab/hidden")) / "victim.pt")
        self.code = list(range(10))
        secrets.SystemRandom().shuffle(self.code)
        self.used = 0
        self.refused = 0
        self.requests = 0
        self.write_report()

    def write_report(self) -> None:
        report = {
            "service": "oracle",
            "queries": self.used,
            "previously_used": self.previously_used,
            "allowance": self.allowance,
            "budget": self.budget,
            "refused": self.refused,
            "requests": self.requests,
            "label_code": self.code,
        }
        partial = self.report_path.with_name("report.json.tmp")
        partial.write_text(json.dumps(report))
        os.replace(partial, self.report_path)

    def answer(self, body: bytes) -> dict:
        self.requests += 1
        if body == b"status":
            return {"used": self.total_used, "budget": self.budget, "remaining": self.remaining}
        try:
            x = parse_inputs(body)
            if len(x) > self.remaining:
                raise RefusedError(
                    f"query budget exhausted: this request has {len(x)} rows, "
                    f"{self.remaining} of your {self.budget} queries remain "
                    f"({self.previously_used} were used by your earlier runs of this lab)"
                )
        except RefusedError as exc:
            self.refused += 1
            self.write_report()
            return {"error": str(exc), "used": self.total_used, "budget": self.budget}
        labels = [self.code[int(label)] for label in self.predict(x)]
        self.used += len(x)
        self.write_report()  # counted before it leaves
        return {"labels": labels, "used": self.total_used, "budget": self.budget}

    @property
    def total_used(self) -> int:
        return self.previously_used + self.used

    @property
    def remaining(self) -> int:
        return max(min(self.allowance, self.budget - self.previously_used) - self.used, 0)


def recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(min(size - len(data), 65536))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return bytes(data)


def serve(oracle: Oracle, path: str) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)  # same host uid as the kernel: the owner's write bit lets it connect
    server.listen(8)
    while True:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(CONN_TIMEOUT_S)
            try:
                (size,) = struct.unpack(">I", recv_exactly(conn, 4))
                if size > MAX_BODY:
                    reply = {"error": f"request too large (over {MAX_BODY} bytes)"}
                else:
                    reply = oracle.answer(recv_exactly(conn, size))
                data = json.dumps(reply).encode()
                conn.sendall(struct.pack(">I", len(data)) + data)
            except (OSError, ConnectionError, struct.error):
                continue


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    oracle = Oracle(config)
    serve(oracle, config["socket"])


if __name__ == "__main__":
    main()
