"""One sandboxed ipykernel: started in its jail, used for one execution, then destroyed.

The kernel talks to the worker over ZMQ ipc sockets in a per-kernel run dir (mode 0700, owned
by the sandbox uid) that is bind-mounted at the same absolute path inside the jail: Unix path
sockets cross the network namespace, TCP loopback would not. The worker side of every socket
caps message size (MAXMSGSIZE) and queue length (RCVHWM), so nothing the kernel sends can
balloon the worker; messages are parsed as JSON only (jupyter-client's default packer).
Not thread-safe: one thread at a time (the pool hands a kernel over under its lock).
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, Literal

import zmq
from jupyter_client.session import Session

from mlrange.sandbox.artifacts import ARTIFACT_MIME, ArtifactReceiver, collector_code
from mlrange.sandbox.config import SandboxConfig
from mlrange.sandbox.errors import SandboxError, SandboxUnavailableError
from mlrange.sandbox.jail import (
    WORK_DIR,
    Jail,
    give_to_sandbox,
    jail_kill,
    jail_spawn,
    make_private_dir,
    remove_private_dir,
)
from mlrange.sandbox.outputs import OutputCollector, OutputLimitExceededError
from mlrange.sandbox.results import ArtifactSpec, ExecutionResult, ExecutionStatus
from mlrange.sandbox.services import SERVICES_DIR, RunningService, ServiceSpec, start_services

logger = logging.getLogger(__name__)

_SOCKET_PATH_MAX = 107
_RCVHWM = 64
_PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
_ARTIFACT_CHUNK_MAX = 4 * 2**20
_ARTIFACT_MIN_SECONDS = 10.0
_ARTIFACT_BYTES_PER_SECOND = 20 * 2**20
_DRAIN_BATCH = 256

WaitOutcome = Literal["ok", "timeout", "crashed", "output_limit"]
IopubHandler = Callable[[str, dict[str, Any], bool], None]


class KernelStartError(SandboxError):
    """A kernel did not start or its preload failed; the pool counts it and retries."""


class SandboxedKernel:
    """A warm kernel in its jail. Create with ``SandboxedKernel.start``; ``destroy`` always."""

    def __init__(self, config: SandboxConfig, run_dir: Path, services_dir: Path | None = None) -> None:
        self.config = config
        self.run_dir = run_dir
        # Bound read-only at /lab-services: lab services (own jails) put their sockets here.
        # A sibling of run_dir, never inside it: the kernel has run_dir read-write.
        self.services_dir = services_dir
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._context = zmq.Context(io_threads=1)
        self._session = Session(key=secrets.token_hex(32).encode(), signature_scheme="hmac-sha256")
        self._shell = self._socket(zmq.DEALER)
        self._iopub = self._socket(zmq.SUB)
        self._iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self._monitor = self._iopub.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self._poller = zmq.Poller()
        for socket in (self._shell, self._iopub, self._monitor):
            self._poller.register(socket, zmq.POLLIN)
        self._destroyed = False

    # Life cycle ---------------------------------------------------------------------------

    @classmethod
    def start(cls, config: SandboxConfig, *, timeout: float = 60.0) -> SandboxedKernel:
        """Start a kernel, wait until it answers, run ``config.preload``. Call from a thread
        that outlives the kernel (bwrap ``--die-with-parent``). Raises KernelStartError."""
        run_dir = make_private_dir(config, "k")
        prefix = f"{run_dir}/s"
        if len(f"{prefix}-{max(_PORTS.values())}") >= _SOCKET_PATH_MAX:
            remove_private_dir(run_dir)
            raise SandboxUnavailableError(
                f"run dir {config.run_dir} is too long for ZMQ ipc socket paths "
                f"(limit {_SOCKET_PATH_MAX} bytes): use a short path such as /tmp/mlrange-sandbox"
            )
        services_dir = None
        if config.lab_services:
            try:
                services_dir = make_private_dir(config, "s")
            except BaseException:
                remove_private_dir(run_dir)
                raise
        kernel = cls(config, run_dir, services_dir)
        try:
            kernel._launch(prefix)
            kernel._wait_ready(time.monotonic() + timeout)
            kernel._preload(time.monotonic() + timeout)
        except BaseException:
            kernel.destroy()
            raise
        return kernel

    def _launch(self, prefix: str) -> None:
        connection = {
            **_PORTS,
            "transport": "ipc",
            "ip": prefix,
            "key": self._session.key.decode(),
            "signature_scheme": "hmac-sha256",
            "kernel_name": "mlrange",
        }
        connection_file = self.run_dir / "c.json"
        connection_file.touch(mode=0o600)
        connection_file.write_text(json.dumps(connection))
        give_to_sandbox(self.config, connection_file)
        self._log = (self.run_dir / "log").open("wb")
        jail = Jail(
            command=[
                str(self.config.python),
                "-I",
                "-m",
                "ipykernel_launcher",
                "-f",
                str(connection_file),
                "--HistoryManager.enabled=False",
            ],
            limits=self.config.limits,
            ro_binds={
                **self.config.ro_mounts,
                **({SERVICES_DIR: self.services_dir} if self.services_dir is not None else {}),
            },
            rw_binds={str(self.run_dir): self.run_dir},
        )
        self.process = jail_spawn(self.config, jail, stderr=self._log)
        self._shell.connect(f"ipc://{prefix}-{_PORTS['shell_port']}")
        self._iopub.connect(f"ipc://{prefix}-{_PORTS['iopub_port']}")

    def _wait_ready(self, deadline: float) -> None:
        has_reply = has_iopub = False
        next_probe = 0.0
        while not (has_reply and has_iopub):
            if not self.is_alive():
                raise KernelStartError(f"kernel exited while starting: {self._log_tail()}")
            now = time.monotonic()
            if now > deadline:
                raise KernelStartError(f"kernel did not answer in time: {self._log_tail()}")
            if now >= next_probe:
                self._session.send(self._shell, "kernel_info_request", {})
                next_probe = now + 0.2
            events = dict(self._poller.poll(50))
            if self._shell in events:
                for _, msg in self._drain(self._shell):
                    has_reply = has_reply or msg["msg_type"] == "kernel_info_reply"
            if self._iopub in events:
                has_iopub = has_iopub or bool(self._drain(self._iopub))
        self._drain(self._monitor)

    def _preload(self, deadline: float) -> None:
        if not self.config.preload.strip():
            return
        errors: list[str] = []

        def on_iopub(msg_type: str, content: dict[str, Any], is_ours: bool) -> None:
            if is_ours and msg_type == "error":
                errors.append(f"{content.get('ename')}: {content.get('evalue')}")

        msg_id = self._send_execute(self.config.preload, store_history=False)
        outcome, reply = self._await(msg_id, deadline, on_iopub)
        if outcome != "ok" or reply is None or reply.get("status") != "ok":
            raise KernelStartError(f"preload failed ({outcome}): {'; '.join(errors)}")

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def destroy(self) -> None:
        """Kill the jail and everything in it, close sockets, remove the run dir. Idempotent."""
        if self._destroyed:
            return
        self._destroyed = True
        if self.process is not None:
            jail_kill(self.process)
        for socket in (self._monitor, self._shell, self._iopub):
            socket.close(linger=0)
        self._context.term()
        if self._log is not None:
            self._log.close()
        remove_private_dir(self.run_dir)
        if self.services_dir is not None:
            remove_private_dir(self.services_dir)

    # Execution ----------------------------------------------------------------------------

    def run(
        self,
        cells: Sequence[str],
        *,
        artifacts: Sequence[ArtifactSpec],
        timeout: float,
        services: Sequence[ServiceSpec] = (),
    ) -> ExecutionResult:
        """Run ``cells`` in order, stop at the first error, then collect ``artifacts``.

        ``timeout`` covers the cells; collecting artifacts gets its own budget (at least 10 s,
        more for large files). On timeout, crash or output overflow the kernel is killed and
        no artifacts are collected. The kernel must be destroyed afterwards.

        ``services`` are started first, each in its own jail (their start-up is not charged to
        ``timeout``; ServiceStartError if one does not come up, and then no cell runs), and
        stopped after the cells and the artifacts; their reports are in
        ``service_reports``, their failures in ``service_errors``.
        """
        running: list[RunningService] = []
        if services:
            if self.services_dir is None:
                raise SandboxError("lab services need a pool whose SandboxConfig has lab_services=True")
            running = start_services(self.config, services, self.services_dir)
        try:
            result = self._run_cells(cells, artifacts=artifacts, timeout=timeout)
        finally:
            for service in running:
                service.stop()
        for service in running:
            if service.report is not None:
                result.service_reports[service.spec.name] = service.report
            if service.error is not None:
                result.service_errors[service.spec.name] = service.error
        return result

    def _run_cells(
        self, cells: Sequence[str], *, artifacts: Sequence[ArtifactSpec], timeout: float
    ) -> ExecutionResult:
        started = time.monotonic()
        deadline = started + timeout
        collector = OutputCollector(self.config.limits.output_limit_bytes)
        status: ExecutionStatus = "ok"
        cells_run = 0
        self._drain(self._monitor)

        def on_iopub(msg_type: str, content: dict[str, Any], is_ours: bool) -> None:
            collector.add(msg_type if is_ours else "foreign", content)

        try:
            for cell in cells:
                cells_run += 1
                msg_id = self._send_execute(cell, store_history=True)
                outcome, reply = self._await(msg_id, deadline, on_iopub)
                if outcome != "ok":
                    status = outcome
                    break
                if reply is None or reply.get("status") != "ok":
                    if not collector.has_error():
                        on_iopub("error", reply or {}, True)
                    status = "error"
                    break
        except OutputLimitExceededError:
            status = "output_limit"
        receiver = ArtifactReceiver(artifacts)
        if artifacts and status in {"ok", "error"}:
            self._collect(artifacts, receiver)
        elif status not in {"ok", "error"}:
            jail_kill(self._process())
        return ExecutionResult(
            status=status,
            outputs=collector.outputs,
            artifacts=receiver.artifacts,
            artifact_errors=receiver.errors,
            duration_s=time.monotonic() - started,
            cells_run=cells_run,
        )

    def _collect(self, specs: Sequence[ArtifactSpec], receiver: ArtifactReceiver) -> None:
        total = sum(spec.max_bytes for spec in specs)
        deadline = time.monotonic() + max(_ARTIFACT_MIN_SECONDS, total / _ARTIFACT_BYTES_PER_SECOND)
        chunk = min(_ARTIFACT_CHUNK_MAX, self.config.limits.zmq_max_msg_bytes // 2)
        budget = receiver.budget_bytes
        received = 0

        def on_iopub(msg_type: str, content: dict[str, Any], is_ours: bool) -> None:
            nonlocal received
            data = content.get("data")
            payload = data.get(ARTIFACT_MIME) if isinstance(data, dict) else None
            received += len(json.dumps(payload)) if payload is not None else 100
            if received > budget:
                raise OutputLimitExceededError
            if is_ours and msg_type == "display_data":
                receiver.add(content)

        code = collector_code(specs, workdir=WORK_DIR, chunk_bytes=chunk)
        msg_id = self._send_execute(code, store_history=False)
        try:
            outcome, _ = self._await(msg_id, deadline, on_iopub)
        except OutputLimitExceededError:
            outcome = "output_limit"
        receiver.finish()
        if outcome != "ok":
            jail_kill(self._process())
            for spec in specs:
                if spec.name not in receiver.artifacts:
                    receiver.errors.setdefault(spec.name, f"collection failed ({outcome})")

    def _send_execute(self, code: str, *, store_history: bool) -> str:
        content = {
            "code": code,
            "silent": False,
            "store_history": store_history,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = self._session.send(self._shell, "execute_request", content)
        if msg is None:
            raise KernelStartError("could not send to the kernel")
        return str(msg["header"]["msg_id"])

    def _await(
        self, msg_id: str, deadline: float, on_iopub: IopubHandler
    ) -> tuple[WaitOutcome, dict[str, Any] | None]:
        """Wait for the reply to ``msg_id`` and its ``idle`` status (all outputs arrived)."""
        reply: dict[str, Any] | None = None
        is_idle = False
        while reply is None or not is_idle:
            if not self.is_alive():
                return "crashed", None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout", None
            events = dict(self._poller.poll(int(min(remaining, 0.1) * 1000) + 1))
            if self._iopub in events:
                for _, msg in self._drain(self._iopub):
                    is_ours = msg["parent_header"].get("msg_id") == msg_id
                    if is_ours and msg["msg_type"] == "status":
                        is_idle = is_idle or msg["content"].get("execution_state") == "idle"
                    on_iopub(msg["msg_type"], msg["content"], is_ours)
            if self._shell in events:
                for _, msg in self._drain(self._shell):
                    if msg["parent_header"].get("msg_id") == msg_id:
                        reply = msg["content"]
            if self._monitor in events and self._drain(self._monitor):
                # The kernel dropped the connection: it died, or sent a message over
                # MAXMSGSIZE (libzmq disconnects the peer rather than buffer it).
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process().wait(timeout=0.3)
                return ("output_limit" if self.is_alive() else "crashed"), None
        return "ok", reply

    def _drain(self, socket: zmq.Socket[bytes]) -> list[tuple[Any, dict[str, Any]]]:
        """Read what is queued on ``socket`` (bounded batch); drop messages that fail to parse."""
        messages: list[tuple[Any, dict[str, Any]]] = []
        for _ in range(_DRAIN_BATCH):
            try:
                if socket is self._monitor:
                    frames = socket.recv_multipart(zmq.NOBLOCK)
                    messages.append((None, {"frames": len(frames)}))
                    continue
                idents, msg = self._session.recv(socket, mode=zmq.NOBLOCK)
            except zmq.Again:
                break
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                logger.warning("sandbox kernel: dropped an invalid message")
                continue
            if msg is None:
                break
            if isinstance(msg.get("content"), dict) and isinstance(msg.get("parent_header"), dict):
                messages.append((idents, msg))
        return messages

    # Helpers ------------------------------------------------------------------------------

    def _socket(self, kind: int) -> zmq.Socket[bytes]:
        socket: zmq.Socket[bytes] = self._context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.MAXMSGSIZE, self.config.limits.zmq_max_msg_bytes)
        socket.setsockopt(zmq.RCVHWM, _RCVHWM)
        return socket

    def _process(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            raise KernelStartError("kernel not launched")
        return self.process

    def _log_tail(self, size: int = 2000) -> str:
        try:
            with (self.run_dir / "log").open("rb") as log:
                log.seek(0, 2)
                log.seek(max(log.tell() - size, 0))
                return log.read().decode(errors="replace").strip() or "(no output)"
        except OSError:
            return "(no log)"
