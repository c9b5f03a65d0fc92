"""The sandbox: bubblewrap-confined Jupyter kernels and graders. Imports no Django."""

from mlrange.sandbox.check import sandbox_check
from mlrange.sandbox.config import SandboxConfig, SandboxLimits
from mlrange.sandbox.errors import GraderError, SandboxError, SandboxUnavailableError
from mlrange.sandbox.grader import run_grader
from mlrange.sandbox.pool import KernelPool
from mlrange.sandbox.results import ArtifactSpec, ExecutionResult, ExecutionStatus
from mlrange.sandbox.services import ServiceError, ServiceSpec, ServiceStartError

__all__ = [
    "ArtifactSpec",
    "ExecutionResult",
    "ExecutionStatus",
    "GraderError",
    "KernelPool",
    "SandboxConfig",
    "SandboxError",
    "SandboxLimits",
    "SandboxUnavailableError",
    "ServiceError",
    "ServiceSpec",
    "ServiceStartError",
    "run_grader",
    "sandbox_check",
]
