"""The lock files hold what pyproject.toml and requirements/runtime.txt ask for (`make lock` writes them)."""

import importlib.metadata
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
WEB_LOCK = ROOT / "requirements" / "web.lock"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
RUNTIME_REQUIREMENTS = ROOT / "requirements" / "runtime.txt"


@dataclass(frozen=True)
class Pin:
    version: Version
    hashes: tuple[str, ...]


def parse_lock(text: str) -> dict[NormalizedName, Pin]:
    """pip-compile's output: `name==version \\` at the start of a line, then its `--hash=` lines."""
    pins: dict[NormalizedName, Pin] = {}
    name: NormalizedName | None = None
    for line in text.splitlines():
        stripped = line.strip().rstrip("\\").strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("--hash="):
            assert name is not None, f"a hash before any requirement: {line!r}"
            pin = pins[name]
            pins[name] = Pin(pin.version, (*pin.hashes, stripped.removeprefix("--hash=")))
            continue
        assert not line[0].isspace(), f"unexpected lock line: {line!r}"
        assert not stripped.startswith("-"), f"options are not read by this check: {line!r}"
        requirement = Requirement(stripped)
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"a lock pins exact versions: {line!r}"
        name = canonicalize_name(requirement.name)
        pins[name] = Pin(Version(spec.version), ())
    return pins


def read_requirements_txt(path: Path) -> list[Requirement]:
    requirements = []
    for line in path.read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            assert not text.startswith("-"), f"{path.name}: options ({text!r}) are not read by this check"
            requirements.append(Requirement(text))
    return requirements


def pyproject_requirements() -> list[Requirement]:
    """What `make venv` installs: the dependencies, the dev extra and the build backend."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        *pyproject["project"]["dependencies"],
        *pyproject["project"]["optional-dependencies"]["dev"],
        *pyproject["build-system"]["requires"],
    ]
    return [Requirement(text) for text in wanted]


def installed_extra_requirements(name: str, version: Version, extra: str) -> list[Requirement]:
    """The requirements an extra adds, read from this virtualenv when it holds the locked version."""
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return []
    if Version(dist.version) != version:
        return []
    found = []
    for text in dist.requires or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and "extra" in str(marker) and marker.evaluate({"extra": extra}):
            found.append(requirement)
    return found


def unmet(wanted: list[Requirement], pins: dict[NormalizedName, Pin]) -> list[str]:
    """Each wanted requirement the pins leave unmet, as a line saying why."""
    problems = []
    for requirement in wanted:
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement}: not in the lock")
            continue
        if not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement}: the lock has {pin.version}")
        for extra in sorted(requirement.extras):
            for needed in installed_extra_requirements(requirement.name, pin.version, extra):
                needed.marker = None
                problems.extend(f"{line} (for {requirement})" for line in unmet([needed], pins))
    return problems


def stale_message(lock: Path, source: str, problems: list[str]) -> str:
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return (
        f"{lock.relative_to(ROOT)} does not satisfy {source}:\n{lines}\n"
        "Run `make lock` and commit requirements/*.lock."
    )


def test_web_lock_satisfies_pyproject():
    problems = unmet(pyproject_requirements(), parse_lock(WEB_LOCK.read_text()))
    assert not problems, stale_message(WEB_LOCK, "pyproject.toml", problems)


def test_runtime_lock_satisfies_runtime_requirements():
    problems = unmet(read_requirements_txt(RUNTIME_REQUIREMENTS), parse_lock(RUNTIME_LOCK.read_text()))
    assert not problems, stale_message(RUNTIME_LOCK, "requirements/runtime.txt", problems)


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("left-pad>=1", "left-pad>=1: not in the lock"),
        ("Django>=99", "Django>=99: the lock has 5.2.19"),
        ("django<5", "django<5: the lock has 5.2.19"),
    ],
)
def test_a_requirement_the_lock_does_not_meet_is_reported(wanted, expected):
    pins = parse_lock("django==5.2.19 \\\n    --hash=sha256:00\n    # via -r x\n")
    problems = unmet([Requirement(wanted)], pins)
    assert problems == [expected]
    assert "Run `make lock`" in stale_message(WEB_LOCK, "pyproject.toml", problems)


def test_a_requirement_the_lock_meets_passes_and_markers_for_other_pythons_are_skipped():
    pins = parse_lock("django==5.2.19 \\\n    --hash=sha256:00\n")
    wanted = [Requirement("Django>=5.2,<5.3"), Requirement('left-pad; python_version < "3"')]
    assert unmet(wanted, pins) == []


def test_a_package_an_extra_needs_is_required_from_the_lock():
    pins = parse_lock(WEB_LOCK.read_text())
    if importlib.metadata.version("celery") != str(pins[canonicalize_name("celery")].version):
        pytest.skip("this virtualenv's celery is not the locked one (run `make venv`)")
    del pins[canonicalize_name("redis")]
    problems = unmet([Requirement("celery[redis]>=5.5")], pins)
    assert any(problem.startswith("redis") and "(for celery[redis]>=5.5)" in problem for problem in problems)


@pytest.mark.parametrize("lock", [WEB_LOCK, RUNTIME_LOCK], ids=lambda path: path.name)
def test_every_locked_pin_carries_a_hash(lock):
    # `pip install --require-hashes` refuses a lock with a bare pin.
    bare = [name for name, pin in parse_lock(lock.read_text()).items() if not pin.hashes]
    assert not bare, f"{lock.name}: no hash for {bare}; run `make lock`"


def test_runtime_lock_pins_the_cpu_build_of_torch():
    # PyPI's torch is a multi-GB CUDA build that pulls nvidia-* packages; the sandbox runs on CPUs.
    pins = parse_lock(RUNTIME_LOCK.read_text())
    assert pins[canonicalize_name("torch")].version.local == "cpu"
    cuda = sorted(name for name in pins if name.startswith("nvidia-") or name == "triton")
    assert not cuda, f"CUDA packages in the runtime lock: {cuda}"
