"""Lab services (mlrange.sandbox.services) against real jails: a kernel queries a service in
its own jail through /lab-services; the service's hidden files stay out of the kernel's
reach; its trusted report reaches the caller; a hung or crashing service cannot hang the
execution."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlrange.sandbox import KernelPool, SandboxConfig, SandboxError, ServiceSpec, ServiceStartError

pytestmark = pytest.mark.sandbox

HIDDEN_MARKER = "service-only-secret-4b1d"

# A tiny trusted service: answers one length-prefixed line per connection with the secret's
# length (never the secret) and counts requests, updating its report BEFORE each answer.
COUNTER = textwrap.dedent(
    """
    import json, os, socket, sys
    cfg = json.load(open(sys.argv[1]))
    secret = open("/lab/hidden/secret.txt").read()
    mode = cfg["params"].get("mode", "ok")
    def report(n):
        tmp = cfg["report"] + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"requests": n, "mode": mode}, f)
        os.replace(tmp, cfg["report"])
    report(0)
    if mode == "hang_before_socket":
        import time; time.sleep(3600)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(cfg["socket"])
    os.chmod(cfg["socket"], 0o666)
    server.listen(4)
    if mode == "ignore_term":
        import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)
    count = 0
    while True:
        conn, _ = server.accept()
        conn.settimeout(5)
        data = conn.recv(1024)
        if mode == "crash":
            os._exit(3)
        count += 1
        report(count)
        conn.sendall(json.dumps({"n": count, "len": len(secret), "echo": data.decode()}).encode())
        conn.close()
    """
)

CLIENT = textwrap.dedent(
    """
    import json, socket
    def ask(text):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect("/lab-services/counter.sock")
        s.sendall(text.encode())
        reply = s.recv(4096)
        s.close()
        return json.loads(reply)
    """
)


@pytest.fixture(scope="module")
def service_files() -> Iterator[tuple[Path, Path]]:
    # world-traversable (pytest's tmp folders are 0700): bwrap resolves binds as the sandbox uid
    root = Path(tempfile.mkdtemp(prefix="mlrsvc-", dir="/tmp"))
    root.chmod(0o755)
    script = root / "counter.py"
    script.write_text(COUNTER)
    hidden = root / "hidden"
    hidden.mkdir(mode=0o755)
    (hidden / "secret.txt").write_text(HIDDEN_MARKER)
    (hidden / "secret.txt").chmod(0o644)
    yield script, hidden
    shutil.rmtree(root, ignore_errors=True)


def counter(service_files: tuple[Path, Path], **params: Any) -> ServiceSpec:
    script, hidden = service_files
    return ServiceSpec(
        name="counter",
        script=script,
        ro_mounts={"/lab/hidden": hidden},
        params=params,
        start_timeout_s=5.0,
    )


def stdout_of(result: Any) -> str:
    return "".join(o["text"] for o in result.outputs if o["type"] == "stream" and o["name"] == "stdout")


def last_json(result: Any) -> Any:
    return json.loads(stdout_of(result).strip().splitlines()[-1])


@pytest.fixture(scope="module")
def services_pool(config: SandboxConfig) -> Iterator[KernelPool]:
    kernel_pool = KernelPool(dataclasses.replace(config, lab_services=True), size=1, acquire_timeout=60)
    kernel_pool.start()
    assert kernel_pool.wait_ready(count=1, timeout=60), kernel_pool.stats()
    yield kernel_pool
    kernel_pool.shutdown()


def test_kernel_queries_a_service_and_its_report_reaches_the_caller(
    services_pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    code = CLIENT + "print(json.dumps([ask('a'), ask('b'), ask('c')]))"

    result = services_pool.execute([code], services=[counter(service_files)])

    assert result.status == "ok", result.outputs
    answers = last_json(result)
    assert [a["n"] for a in answers] == [1, 2, 3]
    assert answers[0]["len"] == len(HIDDEN_MARKER)
    assert json.loads(result.service_reports["counter"]) == {"requests": 3, "mode": "ok"}
    assert result.service_errors == {}


def test_without_services_the_folder_is_empty_and_reports_are_empty(services_pool: KernelPool) -> None:
    result = services_pool.execute(["import os, json; print(json.dumps(os.listdir('/lab-services')))"])

    assert last_json(result) == []
    assert result.service_reports == {}


def test_service_files_and_report_are_out_of_the_kernels_reach(
    services_pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    _script, hidden = service_files
    code = textwrap.dedent(
        f"""
        import glob, json, os
        found = {{}}
        for path in ["/lab/hidden/secret.txt", "/lab/out/report.json", "/lab/service/params.json",
                     {str(hidden / "secret.txt")!r}]:
            try:
                found[path] = open(path).read()
            except Exception as exc:
                found[path] = type(exc).__name__
        leaked = []
        for path in glob.glob("/proc/*/cmdline"):
            try:
                if b"service.py" in open(path, "rb").read():
                    leaked.append(path)
            except Exception:
                pass
        print(json.dumps({{"files": found, "procs": leaked, "ls": sorted(os.listdir("/lab-services"))}}))
        """
    )

    result = services_pool.execute([code], services=[counter(service_files)])

    seen = last_json(result)
    assert all(value in {"FileNotFoundError", "PermissionError"} for value in seen["files"].values()), seen
    assert HIDDEN_MARKER not in stdout_of(result)
    assert seen["procs"] == []  # the service's processes live in another pid namespace
    assert seen["ls"] == ["counter.sock"]


def test_kernel_cannot_write_to_the_services_folder(
    services_pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    code = CLIENT + textwrap.dedent(
        """
        import os, socket
        def attempt(action):
            try:
                action()
                return "succeeded"
            except Exception as exc:
                return type(exc).__name__
        def squat():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind("/lab-services/fake.sock")
        results = {
            "create": attempt(lambda: open("/lab-services/x", "w")),
            "unlink": attempt(lambda: os.unlink("/lab-services/counter.sock")),
            "rename": attempt(lambda: os.rename("/lab-services/counter.sock", "/lab-services/y")),
            "squat": attempt(squat),
            "chmod": attempt(lambda: os.chmod("/lab-services", 0o777)),
            "mkdir": attempt(lambda: os.mkdir("/lab-services/d")),
            "still_works": ask("z")["n"],
        }
        print(json.dumps(results))
        """
    )

    result = services_pool.execute([code], services=[counter(service_files)])

    seen = last_json(result)
    assert seen.pop("still_works") == 1
    assert set(seen.values()) <= {"OSError", "PermissionError"}, seen


def test_a_service_that_never_opens_its_socket_fails_fast_and_runs_no_cell(
    services_pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    spec = counter(service_files, mode="hang_before_socket")
    with pytest.raises(ServiceStartError, match="did not open its socket"):
        services_pool.execute(["print('never')"], services=[spec])

    assert services_pool.execute(["print(1)"]).status == "ok"  # the pool is still healthy


def test_a_crashing_service_does_not_hang_the_execution(
    services_pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    code = CLIENT + textwrap.dedent(
        """
        try:
            ask("boom")
            outcome = "answered"
        except Exception as exc:
            outcome = type(exc).__name__
        print(json.dumps(outcome))
        """
    )
    result = services_pool.execute([code], services=[counter(service_files, mode="crash")], timeout=20)

    assert result.status == "ok", result.outputs
    assert last_json(result) != "answered"
    assert "counter" in result.service_errors
    assert json.loads(result.service_reports["counter"])["requests"] == 0  # written before it died


def test_a_service_ignoring_sigterm_is_killed_and_still_reports(
    services_pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    result = services_pool.execute(
        [CLIENT + "print(json.dumps(ask('q')))"], services=[counter(service_files, mode="ignore_term")]
    )

    assert result.status == "ok", result.outputs
    assert json.loads(result.service_reports["counter"])["requests"] == 1


def test_a_learner_timeout_still_stops_the_service(
    services_pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    code = CLIENT + "ask('x')\nimport time\nwhile True: time.sleep(1)"

    result = services_pool.execute([code], services=[counter(service_files)], timeout=3)

    assert result.status == "timeout"
    assert json.loads(result.service_reports["counter"])["requests"] == 1


def test_invalid_specs_are_refused(service_files: tuple[Path, Path]) -> None:
    script, hidden = service_files
    with pytest.raises(ValueError, match="invalid service name"):
        ServiceSpec(name="../x", script=script)
    with pytest.raises(ValueError, match="reserved"):
        ServiceSpec(name="ok", script=script, ro_mounts={"/lab-services": hidden})
    with pytest.raises(ValueError, match="reserved"):
        ServiceSpec(name="ok", script=script, ro_mounts={"/lab/out/x": hidden})


def test_a_pool_without_lab_services_refuses_services(
    pool: KernelPool, service_files: tuple[Path, Path]
) -> None:
    with pytest.raises(SandboxError, match="lab_services=True"):
        pool.execute(["print(1)"], services=[counter(service_files)])
    assert "lab-services" not in pool.execute(["import os; print(os.listdir('/'))"]).outputs[0]["text"]
