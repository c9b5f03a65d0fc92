"""One sandboxed ipykernel: started in its jail, used for one execution, then destroyed.

The kernel binds its ZMQ ipc sockets in ``/run/kernel``, a private 1 MiB tmpfs inside its
own jail: no host folder is writable from the sandbox. The worker reaches those Unix path
sockets through ``/proc/<sandbox pid 1>/root/run/kernel/`` (path sockets cross network
namespaces; the magic link crosses the mount namespace), and speaks ZMTP itself
(``mlrange.sandbox.zmtp``), checking every frame header against per-message and
per-execution byte caps before reading the frame, so nothing the kernel sends can balloon
the worker. The connection file is bound read-only; the kernel's stderr goes to a memfd
(size-capped by RLIMIT_FSIZE, charged to the kernel's cgroup).

Everything the kernel and its lab services start lives in one cgroup (memory, processes,
CPU); a warm kernel waits under the profile's limits and gets the execution's own (the
lab's ``memory_mb``) when it is handed over. Messages are parsed as JSON only
(jupyter-client's default packer) after their HMAC is checked.
Not thread-safe: one thread at a time (the pool hands a kernel over under its lock).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import select
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from jupyter_client.session import Session

from mlrange.sandbox.artifacts import ARTIFACT_MIME, ArtifactReceiver, collector_code
from mlrange.sandbox.cgroups import ExecutionCgroup
from mlrange.sandbox.config import SandboxConfig, SandboxLimits
from mlrange.sandbox.errors import SandboxError
from mlrange.sandbox.jail import (
    KERNEL_ENV,
    WORK_DIR,
    Jail,
    PidfdProcess,
    SandboxProcess,
    cgroup_limits,
    give_to_sandbox,
    jail_cgroup,
    jail_kill,
    jail_spawn,
    make_private_dir,
    remove_private_dir,
)
from mlrange.sandbox.outputs import OutputCollector, OutputLimitExceededError
from mlrange.sandbox.results import ArtifactSpec, ExecutionResult, ExecutionStatus
from mlrange.sandbox.services import SERVICES_DIR, RunningService, ServiceSpec, start_services
from mlrange.sandbox.template import KernelTemplate, TemplateError, receive_credentials
from mlrange.sandbox.zmtp import (
    ConnectionClosedError,
    MessageTooLargeError,
    ZmtpError,
    ZmtpPeer,
    wait_readable,
)

logger = logging.getLogger(__name__)

KERNEL_RUN_DIR = "/run/kernel"
"""Inside the jail: a private 1 MiB tmpfs with the kernel's sockets and its connection file."""
_KERNEL_RUN_DIR_MB = 1
_PORTS = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5}
_ARTIFACT_CHUNK_MAX = 4 * 2**20
_ARTIFACT_MIN_SECONDS = 10.0
_ARTIFACT_BYTES_PER_SECOND = 20 * 2**20
_START_BYTES = 4 * 2**20  # what a kernel may send while starting and preloading
_CHANNEL_OVERHEAD_BYTES = 2 * 2**20  # protocol chatter (status, headers) around an execution
_MESSAGE_OVERHEAD = 1024  # per IOPub message: headers and signature, outside the output cap
_LOG_TAIL = 2000

WaitOutcome = Literal["ok", "timeout", "crashed", "output_limit"]
IopubHandler = Callable[[str, dict[str, Any], bool], None]


class KernelStartError(SandboxError):
    """A kernel did not start or its preload failed; the pool counts it and retries."""


class SandboxedKernel:
    """A warm kernel in its jail. Create with ``SandboxedKernel.start``; ``destroy`` always."""

    def __init__(self, config: SandboxConfig, run_dir: Path, services_dir: Path | None = None) -> None:
        self.config = config
        self.run_dir = run_dir  # host folder holding only the connection file (bound read-only)
        # Bound read-only at /lab-services: lab services (own jails) put their sockets here.
        self.services_dir = services_dir
        self.process: SandboxProcess | None = None
        self.cgroup: ExecutionCgroup | None = None
        self.sandbox_pid: int | None = None
        self._log_fd: int | None = None
        self._session = Session(key=secrets.token_hex(32).encode(), signature_scheme="hmac-sha256")
        caps = {"max_message_bytes": config.limits.zmq_max_msg_bytes, "max_total_bytes": _START_BYTES}
        self._shell = ZmtpPeer("", b"DEALER", **caps)
        self._iopub = ZmtpPeer("", b"SUB", **caps)
        self._destroyed = False

    # Life cycle ---------------------------------------------------------------------------

    @classmethod
    def start(
        cls, config: SandboxConfig, *, timeout: float = 60.0, template: KernelTemplate | None = None
    ) -> SandboxedKernel:
        """Start a kernel in its own cgroup, wait until it answers, run ``config.preload``
        (or fork it from ``template``, which has imported the preload already).
        Call from a thread that outlives the kernel (bwrap ``--die-with-parent``).
        Raises KernelStartError, or SandboxUnavailableError when no sandbox can be made."""
        run_dir = make_private_dir(config, "k")
        services_dir = None
        if config.lab_services:
            try:
                parent = template.services_root if template is not None else None
                services_dir = make_private_dir(config, "s", parent=parent)
            except BaseException:
                remove_private_dir(run_dir)
                raise
        kernel = cls(config, run_dir, services_dir)
        try:
            kernel.cgroup = jail_cgroup(config, config.limits, prefix="k")
            deadline = time.monotonic() + timeout
            if template is not None:
                kernel._fork_from(template, deadline)
            else:
                kernel._launch(deadline)
            kernel._wait_ready(deadline)
            if template is None:
                kernel._preload(time.monotonic() + timeout)
        except BaseException:
            kernel.destroy()
            raise
        return kernel

    def _fork_from(self, template: KernelTemplate, deadline: float) -> None:
        """Fork from the template: place the child in this kernel's cgroup before it unshares,
        learn the host pid of the kernel (pid 1 of its namespaces) from its credentials."""
        self._log_fd = os.memfd_create("mlrange-kernel-log", os.MFD_CLOEXEC)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            request = template.request_for(
                connection=self._connection(),
                limits=self.config.limits,
                services_name=None if self.services_dir is None else self.services_dir.name,
            )
            template.fork(request, channel_fd=theirs.fileno(), log_fd=self._log_fd)
            theirs.close()
            message, keeper = receive_credentials(ours, deadline - time.monotonic())
            if keeper is None or "error" in message:
                raise KernelStartError(f"the template's child failed: {message.get('error', 'no pid')}")
            if self.cgroup is not None:
                self.cgroup.add_pid(keeper)
            ours.send(b'{"placed": true}')
            message, kernel_pid = receive_credentials(ours, deadline - time.monotonic())
            if kernel_pid is None or "error" in message:
                raise KernelStartError(f"the forked kernel failed: {message.get('error', 'no pid')}")
            self.sandbox_pid = kernel_pid
            self.process = PidfdProcess(kernel_pid)
            message, _ = receive_credentials(ours, deadline - time.monotonic())
            if not message.get("ok"):
                raise KernelStartError(f"the forked kernel failed to confine itself: {message.get('error')}")
        except (OSError, TemplateError) as exc:
            raise KernelStartError(f"forking a kernel from the template failed: {exc}") from exc
        finally:
            theirs.close()
            ours.close()
        self._set_socket_paths()

    def _connection(self) -> dict[str, Any]:
        return {
            **_PORTS,
            "transport": "ipc",
            "ip": f"{KERNEL_RUN_DIR}/s",
            "key": self._session.key.decode(),
            "signature_scheme": "hmac-sha256",
            "kernel_name": "mlrange",
        }

    def _set_socket_paths(self) -> None:
        sockets = f"/proc/{self.sandbox_pid}/root{KERNEL_RUN_DIR}/s"
        self._shell.path = f"{sockets}-{_PORTS['shell_port']}"
        self._iopub.path = f"{sockets}-{_PORTS['iopub_port']}"

    def _launch(self, deadline: float) -> None:
        connection = self._connection()
        connection_file = self.run_dir / "c.json"
        connection_file.write_text(json.dumps(connection))
        connection_file.chmod(0o400)
        give_to_sandbox(self.config, connection_file)
        self._log_fd = os.memfd_create("mlrange-kernel-log", os.MFD_CLOEXEC)
        jail = Jail(
            command=[
                str(self.config.python),
                "-I",
                "-m",
                "ipykernel_launcher",
                "-f",
                f"{KERNEL_RUN_DIR}/c.json",
                "--HistoryManager.enabled=False",
            ],
            limits=self.config.limits,
            env=KERNEL_ENV,
            tmpfs={KERNEL_RUN_DIR: _KERNEL_RUN_DIR_MB},
            ro_binds={
                **self.config.ro_mounts,
                **({SERVICES_DIR: self.services_dir} if self.services_dir is not None else {}),
                f"{KERNEL_RUN_DIR}/c.json": connection_file,
            },
        )
        info_read, info_write = os.pipe2(os.O_CLOEXEC)
        try:
            self.process = jail_spawn(
                self.config, jail, stderr=self._log_fd, cgroup=self.cgroup, info_fd=info_write
            )
            os.close(info_write)
            info_write = -1
            self.sandbox_pid = self._read_child_pid(info_read, deadline)
        finally:
            os.close(info_read)
            if info_write >= 0:
                os.close(info_write)
        self._set_socket_paths()

    def _read_child_pid(self, fd: int, deadline: float) -> int:
        data = b""
        while b"}" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise KernelStartError(f"bubblewrap did not start in time: {self._log_tail()}")
            chunk = os.read(fd, 4096)
            if not chunk:
                raise KernelStartError(f"bubblewrap failed to start the kernel: {self._log_tail()}")
            data += chunk
        try:
            return int(json.loads(data[: data.index(b"}") + 1])["child-pid"])
        except (ValueError, KeyError, TypeError) as exc:
            raise KernelStartError(f"bubblewrap gave no child pid ({data[:200]!r})") from exc

    def _wait_ready(self, deadline: float) -> None:
        try:
            self._shell.connect(deadline)
            self._iopub.connect(deadline)
            self._iopub.subscribe_all(deadline)
        except ZmtpError as exc:
            if not self.is_alive():
                raise KernelStartError(f"kernel exited while starting: {self._log_tail()}") from exc
            raise KernelStartError(f"kernel did not answer: {exc}; {self._log_tail()}") from exc
        has_reply = has_iopub = False
        next_probe = 0.0
        while not (has_reply and has_iopub):
            if not self.is_alive():
                raise KernelStartError(f"kernel exited while starting: {self._log_tail()}")
            now = time.monotonic()
            if now > deadline:
                raise KernelStartError(f"kernel did not answer in time: {self._log_tail()}")
            if now >= next_probe:
                self._send("kernel_info_request", {}, deadline)
                next_probe = now + 0.2
            try:
                for peer in wait_readable([self._shell, self._iopub], 0.05):
                    for msg in self._receive(peer):
                        if peer is self._shell:
                            has_reply = has_reply or msg["msg_type"] == "kernel_info_reply"
                        else:
                            has_iopub = True
            except ZmtpError as exc:
                raise KernelStartError(f"kernel channel failed while starting: {exc}") from exc

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
            raise KernelStartError(f"preload failed ({outcome}): {'; '.join(errors)} {self._log_tail()}")

    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def destroy(self) -> None:
        """Kill the jail and everything in its cgroup, close the channel, remove the run dir.
        Idempotent."""
        if self._destroyed:
            return
        self._destroyed = True
        if self.process is not None:
            jail_kill(self.process)
        if self.cgroup is not None:
            self.cgroup.remove()
        self._shell.close()
        self._iopub.close()
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
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
        limits: SandboxLimits | None = None,
    ) -> ExecutionResult:
        """Run ``cells`` in order, stop at the first error, then collect ``artifacts``.

        ``limits`` (default: the config's) are this execution's: the cgroup gets its memory,
        process and CPU limits before any cell runs, and its output cap applies. ``timeout``
        covers the cells; collecting artifacts gets its own budget (at least 10 s, more for
        large files). On timeout, crash or output overflow the kernel is killed and no
        artifacts are collected. The kernel must be destroyed afterwards.

        ``services`` are started first, each in its own jail inside this execution's cgroup
        (their start-up is not charged to ``timeout``; ServiceStartError if one does not come
        up, and then no cell runs), and stopped after the cells and the artifacts; their
        reports are in ``service_reports``, their failures in ``service_errors``.
        """
        limits = limits or self.config.limits
        if self.cgroup is not None:
            self.cgroup.set_limits(cgroup_limits(limits))
        receiver = ArtifactReceiver(artifacts)
        channel_budget = limits.output_limit_bytes * 2 + receiver.budget_bytes + _CHANNEL_OVERHEAD_BYTES
        for peer in (self._shell, self._iopub):
            peer.received_bytes = 0
            peer.max_total_bytes = channel_budget
        running: list[RunningService] = []
        if services:
            if self.services_dir is None:
                raise SandboxError("lab services need a pool whose SandboxConfig has lab_services=True")
            running = start_services(self.config, services, self.services_dir, cgroup=self.cgroup)
        try:
            result = self._run_cells(
                cells, artifacts=artifacts, receiver=receiver, timeout=timeout, limits=limits
            )
        finally:
            for service in running:
                service.stop()
        for service in running:
            if service.report is not None:
                result.service_reports[service.spec.name] = service.report
            if service.error is not None:
                result.service_errors[service.spec.name] = service.error
        if self.cgroup is not None:
            result.memory_peak_bytes = self.cgroup.memory_peak_bytes()
            result.memory_limit_hit = self.cgroup.oom_killed()
        return result

    def _run_cells(
        self,
        cells: Sequence[str],
        *,
        artifacts: Sequence[ArtifactSpec],
        receiver: ArtifactReceiver,
        timeout: float,
        limits: SandboxLimits,
    ) -> ExecutionResult:
        started = time.monotonic()
        deadline = started + timeout
        collector = OutputCollector(limits.output_limit_bytes)
        status: ExecutionStatus = "ok"
        cells_run = 0

        def on_iopub(msg_type: str, content: dict[str, Any], is_ours: bool) -> None:
            collector.add(msg_type if is_ours else "foreign", content)

        try:
            for cell in cells:
                collector.start_cell(cells_run)
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
        if artifacts and status in {"ok", "error"}:
            self._collect(artifacts, receiver)
        elif status not in {"ok", "error"}:
            self._kill()
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
            self._kill()
            for spec in specs:
                if spec.name not in receiver.artifacts:
                    receiver.errors.setdefault(spec.name, f"collection failed ({outcome})")

    def _send(self, msg_type: str, content: dict[str, Any], deadline: float) -> str:
        msg = self._session.msg(msg_type, content)
        try:
            self._shell.send(self._session.serialize(msg), deadline)
        except ZmtpError as exc:
            raise KernelStartError(f"could not send to the kernel: {exc}") from exc
        return str(msg["header"]["msg_id"])

    def _send_execute(self, code: str, *, store_history: bool) -> str:
        content = {
            "code": code,
            "silent": False,
            "store_history": store_history,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        return self._send("execute_request", content, time.monotonic() + 10)

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
            try:
                readable = wait_readable([self._iopub, self._shell], min(remaining, 0.1))
                for peer in readable:
                    for msg in self._receive(peer):
                        is_ours = msg["parent_header"].get("msg_id") == msg_id
                        if peer is self._shell:
                            if is_ours:
                                reply = msg["content"]
                            continue
                        if is_ours and msg["msg_type"] == "status":
                            is_idle = is_idle or msg["content"].get("execution_state") == "idle"
                        on_iopub(msg["msg_type"], msg["content"], is_ours)
            except MessageTooLargeError as exc:
                logger.info("sandbox kernel: %s; killing it", exc)
                return "output_limit", None
            except ConnectionClosedError:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process().wait(timeout=0.3)
                return "crashed", None
        return "ok", reply

    def _receive(self, peer: ZmtpPeer) -> list[dict[str, Any]]:
        """Complete, correctly signed messages from ``peer``; others are dropped and logged.
        Raises MessageTooLargeError or ConnectionClosedError (see ZmtpPeer.read_available)."""
        messages: list[dict[str, Any]] = []
        for frames in peer.read_available():
            try:
                _, parts = self._session.feed_identities(frames, copy=True)
                msg = self._session.deserialize(parts, content=True, copy=True)
            except (ValueError, KeyError, TypeError, UnicodeDecodeError, IndexError):
                logger.warning("sandbox kernel: dropped an invalid message")
                continue
            if isinstance(msg.get("content"), dict) and isinstance(msg.get("parent_header"), dict):
                messages.append(msg)
        return messages

    # Helpers ------------------------------------------------------------------------------

    def _kill(self) -> None:
        jail_kill(self._process())
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def _process(self) -> SandboxProcess:
        if self.process is None:
            raise KernelStartError("kernel not launched")
        return self.process

    def _log_tail(self, size: int = _LOG_TAIL) -> str:
        if self._log_fd is None:
            return "(no log)"
        try:
            end = os.fstat(self._log_fd).st_size
            data = os.pread(self._log_fd, size, max(end - size, 0))
        except OSError:
            return "(no log)"
        return data.decode(errors="replace").strip() or "(no output)"
