"""A pool of warm sandboxed kernels: one kernel serves one execution and is destroyed.

Long-lived refill threads (at most two) start kernels in the background, run the preload
and park them ready. Kernels must be spawned from threads that outlive them (bwrap
``--die-with-parent`` fires when the spawning *thread* exits), which is why ``execute`` never
starts a kernel itself. A kernel that fails to start is counted and retried with backoff.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from mlrange.sandbox.config import SandboxConfig, SandboxLimits
from mlrange.sandbox.errors import SandboxUnavailableError
from mlrange.sandbox.jail import prepare_run_root
from mlrange.sandbox.kernel import SandboxedKernel
from mlrange.sandbox.results import ArtifactSpec, ExecutionResult
from mlrange.sandbox.services import ServiceSpec
from mlrange.sandbox.template import KernelTemplate

logger = logging.getLogger(__name__)

_MAX_REFILL_THREADS = 2
_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 30.0


class KernelPool:
    """Warm kernels for ``execute``. Thread-safe; create after any fork (Celery: in
    ``worker_process_init``), call ``start()`` once and ``shutdown()`` at exit."""

    def __init__(
        self,
        config: SandboxConfig,
        size: int,
        *,
        max_size: int | None = None,
        start_timeout: float = 60.0,
        acquire_timeout: float = 120.0,
    ) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self.config = config
        self.size = size
        self.max_size = max(max_size or size, size)
        self._target = size
        self.start_timeout = start_timeout
        self.acquire_timeout = acquire_timeout
        self._ready: deque[SandboxedKernel] = deque()
        self._condition = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._is_started = False
        self._is_closed = False
        self._starting = 0
        self._started = 0
        self._served = 0
        self._failed_starts = 0
        self._lost = 0
        self._last_start_error = ""
        self._start_seconds: deque[float] = deque(maxlen=50)
        self._template: KernelTemplate | None = None
        self._template_lock = threading.Lock()

    def start(self) -> None:
        """Start the refill threads; returns at once (kernels warm up in the background)."""
        with self._condition:
            if self._is_started:
                return
            self._is_started = True
        prepare_run_root(self.config)
        for index in range(min(_MAX_REFILL_THREADS, self.size)):
            thread = threading.Thread(
                target=self._refill_loop, name=f"mlrange-kernel-refill-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def set_demand(self, waiting: int) -> None:
        """Size the pool to the work in sight: ``waiting`` executions about to need a kernel.
        The pool keeps between ``size`` and ``max_size`` kernels ready (the operator bounds
        ``max_size`` by the worker's memory); forking from a template makes refills cheap."""
        with self._condition:
            target = min(max(self.size, waiting), self.max_size)
            if target != self._target:
                self._target = target
                self._condition.notify_all()

    def wait_ready(self, count: int | None = None, timeout: float = 120.0) -> bool:
        """Block until ``count`` (default: size) kernels are warm; False on timeout."""
        wanted = self.size if count is None else count
        with self._condition:
            return self._condition.wait_for(lambda: len(self._ready) >= wanted, timeout=timeout)

    def execute(
        self,
        cells: Sequence[str],
        *,
        artifacts: Sequence[ArtifactSpec] = (),
        timeout: float | None = None,
        services: Sequence[ServiceSpec] = (),
        limits: SandboxLimits | None = None,
    ) -> ExecutionResult:
        """Run ``cells`` in a fresh warm kernel (see ``SandboxedKernel.run``), then destroy it.

        ``limits`` are this execution's (memory, processes, CPU of its cgroup, output cap);
        default: the pool's config. ``timeout`` defaults to their wall limit.

        ``services`` (lab services, e.g. a metered oracle) run in their own jails for the
        length of this execution; the kernel reaches them at ``/lab-services/<name>.sock``.

        Waits up to ``acquire_timeout`` for a warm kernel; raises SandboxUnavailableError if
        none comes (the last start error is in the message).
        """
        kernel = self._acquire()
        try:
            limits = limits or self.config.limits
            return kernel.run(
                cells,
                artifacts=artifacts,
                timeout=limits.wall_timeout_s if timeout is None else timeout,
                services=services,
                limits=limits,
            )
        finally:
            kernel.destroy()
            with self._condition:
                self._served += 1
                self._condition.notify_all()

    def shutdown(self) -> None:
        """Stop refilling and destroy every warm kernel and the template. Idempotent."""
        with self._condition:
            self._is_closed = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join(timeout=self.start_timeout + 5)
        with self._condition:
            kernels = list(self._ready)
            self._ready.clear()
        for kernel in kernels:
            kernel.destroy()
        with self._template_lock:
            if self._template is not None:
                self._template.stop()
                self._template = None

    def _running_template(self) -> KernelTemplate:
        """The pool's template, (re)started when needed. Called from refill threads only: the
        template lives as long as the thread that started it (bwrap --die-with-parent)."""
        with self._template_lock:
            if self._template is not None and not self._template.is_alive():
                logger.warning("kernel template died; starting a new one")
                self._template.stop()
                self._template = None
            if self._template is None:
                template = KernelTemplate(self.config)
                template.start(timeout=self.start_timeout * 2)
                self._template = template
            return self._template

    def stats(self) -> dict[str, Any]:
        """Counters: warm, starting, started, served, failed starts, lost warm kernels."""
        with self._condition:
            durations = sorted(self._start_seconds)
            return {
                "size": self.size,
                "target": self._target,
                "warm": len(self._ready),
                "starting": self._starting,
                "started": self._started,
                "served": self._served,
                "failed_starts": self._failed_starts,
                "lost": self._lost,
                "median_start_s": durations[len(durations) // 2] if durations else None,
                "template": self._template is not None and self._template.is_alive(),
                "last_start_error": self._last_start_error,
            }

    def _acquire(self) -> SandboxedKernel:
        deadline = time.monotonic() + self.acquire_timeout
        while True:
            with self._condition:
                if not self._is_started or self._is_closed:
                    raise RuntimeError("kernel pool is not running: call start() first")
                has_kernel = self._condition.wait_for(
                    lambda: bool(self._ready) or self._is_closed,
                    timeout=max(deadline - time.monotonic(), 0),
                )
                if self._is_closed:
                    raise RuntimeError("kernel pool is shut down")
                if not has_kernel:
                    raise SandboxUnavailableError(
                        "no sandboxed kernel became ready in time; last start error: "
                        f"{self._last_start_error or 'none (pool busy)'}"
                    )
                kernel = self._ready.popleft()
                self._condition.notify_all()
            if kernel.is_alive():
                return kernel
            kernel.destroy()
            with self._condition:
                self._lost += 1

    def _refill_loop(self) -> None:
        failures = 0
        while True:
            with self._condition:
                self._condition.wait_for(
                    lambda: self._is_closed or len(self._ready) + self._starting < self._target
                )
                if self._is_closed:
                    return
                self._starting += 1
            began = time.monotonic()
            try:
                template = self._running_template() if self.config.kernel_template else None
                kernel = SandboxedKernel.start(self.config, timeout=self.start_timeout, template=template)
            except Exception as exc:
                failures += 1
                logger.warning("sandbox kernel failed to start (%d in a row): %s", failures, exc)
                backoff = min(_BACKOFF_FIRST_S * 2 ** (failures - 1), _BACKOFF_MAX_S)
                with self._condition:
                    self._starting -= 1
                    self._failed_starts += 1
                    self._last_start_error = str(exc)[:500]
                    self._condition.wait_for(lambda: self._is_closed, timeout=backoff)
                continue
            failures = 0
            with self._condition:
                self._starting -= 1
                if not self._is_closed:
                    self._ready.append(kernel)
                    self._started += 1
                    self._start_seconds.append(time.monotonic() - began)
                    self._condition.notify_all()
                    continue
            kernel.destroy()
            return
