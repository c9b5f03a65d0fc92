"""Lab registry: discover lab packs under LABS_DIR, validate their manifests, describe them.

Pure: no models, no database, no torch; only django.conf.settings for default paths. Every
problem is reported at once, each as `<labs dir name>/<slug>/manifest.yaml: <field>: <what>`
(format of the manifest: labs/_schema.md).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.conf import settings

from mlrange.catalog.atlas import ATLAS_VERSION, AtlasKind, atlas_entry
from mlrange.catalog.taxonomies import LEVEL_SLUGS, OWASP_ML_TOP_10, SUBSKILL_SLUGS

MANIFEST_NAME = "manifest.yaml"
SHARED_DIR_NAME = "_shared"
T = TypeVar("T")

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ID_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_ARTIFACT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SERVICE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_ATLAS_ID_RE = re.compile(r"^AML\.(?:T\d{4}(?:\.\d{3})?|M\d{4})$")
_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024
_CITABLE_ATLAS_KINDS = (AtlasKind.TECHNIQUE, AtlasKind.SUBTECHNIQUE, AtlasKind.MITIGATION)


class LabValidationError(Exception):
    """One or more lab packs are invalid; `errors` lists every problem with file and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class LabLimits:
    wall_timeout_s: float
    memory_mb: int
    grader_timeout_s: float


@dataclass(frozen=True)
class LabArtifact:
    name: str
    max_bytes: int
    description: str


@dataclass(frozen=True)
class LabTier:
    id: str
    title: str
    points: float
    description: str


@dataclass(frozen=True)
class LabFiles:
    """Absolute paths of the lab's files; `variant` is None when the lab has no variants."""

    brief: Path
    starter: Path
    notebook: Path
    grader: Path
    grader_modules: tuple[Path, ...]
    recipe: Path
    variant: Path | None


@dataclass(frozen=True)
class LabExpectation:
    passed: bool
    tiers: tuple[str, ...]


@dataclass(frozen=True)
class LabSolution:
    file: Path
    expect: LabExpectation

    @property
    def name(self) -> str:
        return self.file.stem


@dataclass(frozen=True)
class LabService:
    """A trusted lab service (e.g. a metered oracle) run in its own jail during executions.

    `script` is one of the lab's `grader_modules` (so it is installed with the grader); the
    kernel reaches it at `/lab-services/<name>.sock`; its report reaches the grader as
    `service-<name>.json` (see labs/_schema.md).
    """

    name: str
    script: Path
    meter: ServiceMeterSpec | None = None

    @property
    def report_name(self) -> str:
        return service_report_name(self.name)


@dataclass(frozen=True)
class ServiceMeterSpec:
    """A budget the service enforces, kept per learner and variant across executions.

    `budget` names the variant key holding the total (e.g. `query_budget`), `used` the key of
    the service's report holding what it served in one execution (e.g. `queries`).
    """

    budget: str
    used: str


def service_report_name(name: str) -> str:
    """The file name under which a service's report reaches the grader."""
    return f"service-{name}.json"


@dataclass(frozen=True)
class LabSpec:
    """A validated lab pack."""

    slug: str
    title: str
    subskill: str
    level: str
    summary: str
    atlas: tuple[str, ...]
    owasp: tuple[str, ...]
    time_budget_minutes: int
    limits: LabLimits
    artifacts: tuple[LabArtifact, ...]
    tiers: tuple[LabTier, ...]
    pass_points: float
    files: LabFiles
    solutions: tuple[LabSolution, ...]
    root: Path
    services: tuple[LabService, ...] = ()
    kernel: str = "torch"
    hints: tuple[str, ...] = ()

    @property
    def max_points(self) -> float:
        return float(sum(tier.points for tier in self.tiers))

    @property
    def brief_path(self) -> Path:
        return self.files.brief

    @property
    def starter_path(self) -> Path:
        return self.files.starter

    @property
    def notebook_path(self) -> Path:
        return self.files.notebook

    def read_brief(self) -> str:
        return self.files.brief.read_text(encoding="utf-8")

    def read_starter(self) -> str:
        return self.files.starter.read_text(encoding="utf-8")


# Manifest keys per mapping: name -> required. Values are checked by the _parse_* functions.
_TOP_FIELDS = {
    "slug": True,
    "title": True,
    "subskill": True,
    "level": True,
    "summary": True,
    "atlas": True,
    "owasp": True,
    "time_budget_minutes": True,
    "limits": True,
    "artifacts": True,
    "tiers": True,
    "pass_points": True,
    "files": True,
    "solutions": True,
    "services": False,
    "kernel": False,
    "hints": False,
}
# Warm-kernel profiles: what a pooled kernel has imported before it is handed out. Labs whose
# learner code needs no torch use "light" kernels, which start three times faster.
KERNEL_PROFILES = ("torch", "light")
# Hints a learner may reveal one by one (mlrange.labs.hints); each at most this long.
MIN_HINTS, MAX_HINTS, MAX_HINT_LENGTH = 2, 3, 700
_SERVICE_FIELDS = {"name": True, "script": True, "meter": False}
_METER_FIELDS = {"budget": True, "used": True}
_LIMIT_FIELDS = {"wall_timeout_s": True, "memory_mb": True, "grader_timeout_s": True}
_ARTIFACT_FIELDS = {"name": True, "max_bytes": True, "description": True}
_TIER_FIELDS = {"id": True, "title": True, "points": True, "description": True}
_FILE_FIELDS = {
    "brief": True,
    "starter": True,
    "notebook": True,
    "grader": True,
    "grader_modules": False,
    "recipe": True,
    "variant": False,
}
_SOLUTION_FIELDS = {"file": True, "expect": True}
_EXPECT_FIELDS = {"passed": True, "tiers": True}


class _Validator:
    """Collects every error of one manifest; returns None from checks that failed."""

    def __init__(self, *, where: str, lab_dir: Path, check_atlas: bool) -> None:
        self.where = where
        self.lab_dir = lab_dir
        self.check_atlas = check_atlas
        self.errors: list[str] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(f"{self.where}: {field}: {message}")

    def mapping(self, value: object, field: str, schema: dict[str, bool]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(field or "(top level)", "expected a mapping")
            return None
        prefix = f"{field}." if field else ""
        for key in value:
            if key not in schema:
                self.error(f"{prefix}{key}", "unknown key")
        for key, required in schema.items():
            if required and key not in value:
                self.error(f"{prefix}{key}", "missing required field")
        return value

    def field(
        self,
        data: dict[str, Any],
        key: str,
        parse: Callable[[object, str], T | None],
        prefix: str,
    ) -> T | None:
        """Parse data[key] if present (a missing required key was reported by mapping())."""
        if key not in data:
            return None
        return parse(data[key], f"{prefix}.{key}" if prefix else key)

    def text(self, value: object, field: str, *, max_length: int = 200) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.error(field, "expected a non-empty string")
            return None
        if len(value) > max_length:
            self.error(field, f"longer than {max_length} characters")
            return None
        return value.strip()

    def one_line(self, value: object, field: str) -> str | None:
        text = self.text(value, field, max_length=200)
        if text is not None and "\n" in text:
            self.error(field, "expected a single line")
            return None
        return text

    def positive_int(self, value: object, field: str, *, maximum: int | None = None) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            self.error(field, "expected a positive integer")
            return None
        if maximum is not None and value > maximum:
            self.error(field, f"expected at most {maximum}")
            return None
        return value

    def long_text(self, value: object, field: str) -> str | None:
        return self.text(value, field, max_length=500)

    def identifier(self, value: object, field: str) -> str | None:
        if not isinstance(value, str) or not _ID_RE.match(value):
            self.error(field, "expected a lowercase identifier")
            return None
        return value

    def artifact_name(self, value: object, field: str) -> str | None:
        if not isinstance(value, str) or not _ARTIFACT_NAME_RE.match(value):
            self.error(field, "expected a plain file name (letters, digits, . _ -)")
            return None
        if value == SUBMISSION_SOURCE:
            self.error(
                field,
                f"{SUBMISSION_SOURCE} is reserved: the platform hands the learner's code to graders under it",
            )
            return None
        return value

    def artifact_size(self, value: object, field: str) -> int | None:
        return self.positive_int(value, field, maximum=_MAX_ARTIFACT_BYTES)

    def positive_number(self, value: object, field: str) -> float | None:
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            self.error(field, "expected a positive number")
            return None
        return float(value)

    def boolean(self, value: object, field: str) -> bool | None:
        if not isinstance(value, bool):
            self.error(field, "expected true or false")
            return None
        return value

    def items(self, value: object, field: str, *, allow_empty: bool = False) -> list[Any]:
        if not isinstance(value, list):
            self.error(field, "expected a list")
            return []
        if not value and not allow_empty:
            self.error(field, "expected at least one item")
        return value

    def choice(self, value: object, field: str, choices: tuple[str, ...]) -> str | None:
        if not isinstance(value, str) or value not in choices:
            self.error(field, f"unknown value {value!r}; expected one of: {', '.join(choices)}")
            return None
        return value

    def lab_file(self, value: object, field: str) -> Path | None:
        """A path relative to the lab folder that exists and stays inside it."""
        if not isinstance(value, str) or not value.strip():
            self.error(field, "expected a relative file path")
            return None
        relative = Path(value)
        if relative.is_absolute() or ".." in relative.parts:
            self.error(field, f"{value!r} must be a path inside the lab folder")
            return None
        path = self.lab_dir / relative
        if path.is_symlink() or not path.is_file():
            self.error(field, f"file {value!r} not found in {self.lab_dir.name}/")
            return None
        return path

    def atlas(self, value: object, field: str) -> tuple[str, ...]:
        found = []
        for index, item in enumerate(self.items(value, field)):
            where = f"{field}[{index}]"
            if not isinstance(item, str) or not _ATLAS_ID_RE.match(item):
                self.error(where, f"{item!r} is not an ATLAS technique or mitigation id")
                continue
            problem = _atlas_problem(item) if self.check_atlas else None
            if problem:
                self.error(where, problem)
            else:
                found.append(item)
        return tuple(found)

    def owasp(self, value: object, field: str) -> tuple[str, ...]:
        found = []
        for index, item in enumerate(self.items(value, field)):
            if not isinstance(item, str) or item not in OWASP_ML_TOP_10:
                self.error(f"{field}[{index}]", f"{item!r} is not an OWASP ML Top 10 id (ML01..ML10)")
            else:
                found.append(item)
        return tuple(found)


def _display_path(path: Path, labs_dir: Path) -> str:
    return str(path.relative_to(labs_dir.parent))


def _present(value: T | None) -> T:
    """A field validated without error; only called once the manifest has no errors."""
    if value is None:  # pragma: no cover -- guarded by the error check before every call
        raise RuntimeError("a validated manifest field is missing")
    return value


def _parse_slug(check: _Validator, value: object, field: str) -> str | None:
    if not isinstance(value, str) or not _SLUG_RE.match(value):
        check.error(field, "expected lowercase words joined by hyphens")
        return None
    if value != check.lab_dir.name:
        check.error(field, f"{value!r} must equal the folder name {check.lab_dir.name!r}")
        return None
    return value


def _parse_limits(check: _Validator, value: object, field: str) -> LabLimits | None:
    data = check.mapping(value, field, _LIMIT_FIELDS)
    if data is None:
        return None
    wall = check.field(data, "wall_timeout_s", check.positive_number, field)
    memory = check.field(data, "memory_mb", check.positive_int, field)
    grader = check.field(data, "grader_timeout_s", check.positive_number, field)
    if wall is None or memory is None or grader is None:
        return None
    return LabLimits(wall_timeout_s=wall, memory_mb=memory, grader_timeout_s=grader)


def _parse_artifacts(check: _Validator, value: object, field: str) -> tuple[LabArtifact, ...]:
    artifacts: list[LabArtifact] = []
    # Empty is fine: a lab whose learner hands in a function is graded from submission.py alone.
    for index, item in enumerate(check.items(value, field, allow_empty=True)):
        where = f"{field}[{index}]"
        data = check.mapping(item, where, _ARTIFACT_FIELDS)
        if data is None:
            continue
        name = check.field(data, "name", check.artifact_name, where)
        if name is not None and any(a.name == name for a in artifacts):
            check.error(f"{where}.name", f"duplicate artifact {name!r}")
            name = None
        max_bytes = check.field(data, "max_bytes", check.artifact_size, where)
        description = check.field(data, "description", check.long_text, where)
        if name is not None and max_bytes is not None and description is not None:
            artifacts.append(LabArtifact(name=name, max_bytes=max_bytes, description=description))
    return tuple(artifacts)


def _parse_tiers(check: _Validator, value: object, field: str) -> tuple[LabTier, ...]:
    tiers: list[LabTier] = []
    raw_tiers = check.items(value, field)
    for index, item in enumerate(raw_tiers):
        where = f"{field}[{index}]"
        data = check.mapping(item, where, _TIER_FIELDS)
        if data is None:
            continue
        tier_id = check.field(data, "id", check.identifier, where)
        if tier_id is not None and any(t.id == tier_id for t in tiers):
            check.error(f"{where}.id", f"duplicate tier {tier_id!r}")
            tier_id = None
        title = check.field(data, "title", check.one_line, where)
        points = check.field(data, "points", check.positive_number, where)
        description = check.field(data, "description", check.long_text, where)
        if tier_id is not None and title and points is not None and description:
            tiers.append(LabTier(id=tier_id, title=title, points=points, description=description))
    total = sum(t.points for t in tiers)
    if tiers and len(tiers) == len(raw_tiers) and abs(total - 100) > 1e-9:
        check.error(field, f"points must add up to 100 (they add up to {total:g})")
    return tuple(tiers)


def _parse_pass_points(check: _Validator, value: object, field: str) -> float | None:
    points = check.positive_number(value, field)
    if points is not None and points > 100:
        check.error(field, "expected at most 100")
        return None
    return points


_FILE_SUFFIXES = {
    "brief": ".md",
    "starter": ".py",
    "notebook": ".ipynb",
    "grader": ".py",
    "recipe": ".py",
    "variant": ".py",
}


def _parse_files(check: _Validator, value: object, field: str) -> LabFiles | None:
    data = check.mapping(value, field, _FILE_FIELDS)
    if data is None:
        return None
    paths: dict[str, Path | None] = {}
    for key, suffix in _FILE_SUFFIXES.items():
        if key not in data:
            continue
        path = check.lab_file(data[key], f"{field}.{key}")
        if path is not None and path.suffix != suffix:
            check.error(f"{field}.{key}", f"expected a {suffix} file")
            path = None
        if key == "grader" and path is not None and path.parent != check.lab_dir:
            check.error(f"{field}.{key}", "expected the grader at the top of the lab folder")
            path = None
        paths[key] = path
    modules: list[Path] = []
    raw_modules = check.items(data.get("grader_modules", []), f"{field}.grader_modules", allow_empty=True)
    for index, item in enumerate(raw_modules):
        where = f"{field}.grader_modules[{index}]"
        module = check.lab_file(item, where)
        if module is not None and (module.suffix != ".py" or module.parent != check.lab_dir):
            check.error(where, "expected a .py file at the top of the lab folder")
        elif module is not None:
            modules.append(module)
    if any(key in data and paths.get(key) is None for key in _FILE_SUFFIXES):
        return None
    if len(modules) != len(raw_modules) or not all(
        key in paths for key in _FILE_SUFFIXES if key != "variant"
    ):
        return None
    return LabFiles(
        brief=_present(paths["brief"]),
        starter=_present(paths["starter"]),
        notebook=_present(paths["notebook"]),
        grader=_present(paths["grader"]),
        grader_modules=tuple(modules),
        recipe=_present(paths["recipe"]),
        variant=paths.get("variant"),
    )


def _parse_expectation(
    check: _Validator, value: object, field: str, tier_ids: set[str]
) -> LabExpectation | None:
    data = check.mapping(value, field, _EXPECT_FIELDS)
    if data is None:
        return None
    passed = check.field(data, "passed", check.boolean, field)
    if "tiers" not in data:
        return None
    tiers: list[str] = []
    raw_tiers = check.items(data["tiers"], f"{field}.tiers", allow_empty=True)
    for index, tier_id in enumerate(raw_tiers):
        if not isinstance(tier_id, str) or tier_id not in tier_ids:
            check.error(f"{field}.tiers[{index}]", f"unknown tier {tier_id!r}")
        else:
            tiers.append(tier_id)
    if passed is None or len(tiers) != len(raw_tiers) or not isinstance(data["tiers"], list):
        return None
    return LabExpectation(passed=passed, tiers=tuple(tiers))


def _parse_solutions(
    check: _Validator, value: object, field: str, tier_ids: set[str]
) -> tuple[LabSolution, ...]:
    solutions: list[LabSolution] = []
    for index, item in enumerate(check.items(value, field)):
        where = f"{field}[{index}]"
        data = check.mapping(item, where, _SOLUTION_FIELDS)
        if data is None:
            continue
        path = check.field(data, "file", check.lab_file, where)
        if path is not None and path.suffix != ".py":
            check.error(f"{where}.file", "expected a .py file")
            path = None
        expect = None
        if "expect" in data:
            expect = _parse_expectation(check, data["expect"], f"{where}.expect", tier_ids)
        if path is not None and expect is not None:
            solutions.append(LabSolution(file=path, expect=expect))
    return tuple(solutions)


def _parse_hints(check: _Validator, value: object, field: str) -> tuple[str, ...]:
    """2 to 3 progressive hints, a nudge first and nearly the method last (never the answer)."""
    raw = check.items(value, field)
    if raw and not MIN_HINTS <= len(raw) <= MAX_HINTS:
        check.error(field, f"expected {MIN_HINTS} to {MAX_HINTS} hints, got {len(raw)}")
        return ()
    hints = [
        check.text(hint, f"{field}[{index}]", max_length=MAX_HINT_LENGTH) for index, hint in enumerate(raw)
    ]
    return tuple(hint for hint in hints if hint is not None)


def _parse_services(check: _Validator, value: object, field: str) -> tuple[LabService, ...]:
    services: list[LabService] = []
    for index, item in enumerate(check.items(value, field)):
        where = f"{field}[{index}]"
        data = check.mapping(item, where, _SERVICE_FIELDS)
        if data is None:
            continue
        name = data.get("name")
        if not isinstance(name, str) or not _SERVICE_NAME_RE.match(name):
            check.error(f"{where}.name", "expected a lowercase identifier ([a-z][a-z0-9_]*, at most 32)")
            name = None
        elif any(s.name == name for s in services):
            check.error(f"{where}.name", f"duplicate service {name!r}")
            name = None
        script = check.field(data, "script", check.lab_file, where)
        if script is not None and (script.suffix != ".py" or script.parent != check.lab_dir):
            check.error(f"{where}.script", "expected a .py file at the top of the lab folder")
            script = None
        meter = None
        if data.get("meter") is not None:
            raw_meter = check.mapping(data["meter"], f"{where}.meter", _METER_FIELDS)
            if raw_meter is not None:
                keys = [raw_meter.get("budget"), raw_meter.get("used")]
                if all(isinstance(k, str) and _SERVICE_NAME_RE.match(k) for k in keys):
                    meter = ServiceMeterSpec(budget=str(keys[0]), used=str(keys[1]))
                else:
                    check.error(f"{where}.meter", "expected `budget` and `used` as lowercase identifiers")
        if isinstance(name, str) and script is not None:
            services.append(LabService(name=name, script=script, meter=meter))
    return tuple(services)


def _check_services(
    check: _Validator,
    services: tuple[LabService, ...],
    files: LabFiles | None,
    artifacts: tuple[LabArtifact, ...] | None,
) -> None:
    """Service scripts are installed as grader modules; their report names are reserved."""
    for index, service in enumerate(services):
        if files is not None and service.script not in files.grader_modules:
            check.error(
                f"services[{index}].script",
                f"list {service.script.name} in files.grader_modules too (it is installed with the grader)",
            )
        if any(a.name == service.report_name for a in artifacts or ()):
            check.error(
                f"services[{index}].name",
                f"{service.report_name} is reserved for the service's report; rename the artifact",
            )


def _validate_manifest(
    manifest_path: Path, *, labs_dir: Path, check_atlas: bool
) -> tuple[LabSpec | None, list[str]]:
    lab_dir = manifest_path.parent
    check = _Validator(where=_display_path(manifest_path, labs_dir), lab_dir=lab_dir, check_atlas=check_atlas)
    try:
        raw = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        check.error("(file)", f"cannot be read as YAML ({type(exc).__name__})")
        return None, check.errors
    data = check.mapping(raw, "", _TOP_FIELDS)
    if data is None:
        return None, check.errors

    def parse(key: str, parser: Callable[[object, str], T | None]) -> T | None:
        return check.field(data, key, parser, "")

    slug = parse("slug", lambda v, f: _parse_slug(check, v, f))
    title = parse("title", check.one_line)
    subskill = parse("subskill", lambda v, f: check.choice(v, f, SUBSKILL_SLUGS))
    level = parse("level", lambda v, f: check.choice(v, f, LEVEL_SLUGS))
    summary = parse("summary", check.one_line)
    atlas = parse("atlas", check.atlas)
    owasp = parse("owasp", check.owasp)
    budget = parse("time_budget_minutes", lambda v, f: check.positive_int(v, f, maximum=600))
    limits = parse("limits", lambda v, f: _parse_limits(check, v, f))
    artifacts = parse("artifacts", lambda v, f: _parse_artifacts(check, v, f))
    tiers = parse("tiers", lambda v, f: _parse_tiers(check, v, f)) or ()
    pass_points = parse("pass_points", lambda v, f: _parse_pass_points(check, v, f))
    files = parse("files", lambda v, f: _parse_files(check, v, f))
    tier_ids = {t.id for t in tiers}
    solutions = parse("solutions", lambda v, f: _parse_solutions(check, v, f, tier_ids))
    services = parse("services", lambda v, f: _parse_services(check, v, f)) or ()
    kernel = parse("kernel", lambda v, f: check.choice(v, f, KERNEL_PROFILES)) or "torch"
    hints = parse("hints", lambda v, f: _parse_hints(check, v, f)) or ()
    _check_services(check, services, files, artifacts)
    if check.errors:
        return None, check.errors
    return LabSpec(
        slug=_present(slug),
        title=_present(title),
        subskill=_present(subskill),
        level=_present(level),
        summary=_present(summary),
        atlas=_present(atlas),
        owasp=_present(owasp),
        time_budget_minutes=_present(budget),
        limits=_present(limits),
        artifacts=_present(artifacts),
        tiers=tiers,
        pass_points=_present(pass_points),
        files=_present(files),
        solutions=_present(solutions),
        root=lab_dir,
        services=services,
        kernel=kernel,
        hints=hints,
    ), []


def _atlas_problem(atlas_id: str) -> str | None:
    """Why an id cannot be cited by a lab (techniques, sub-techniques, mitigations), or None."""
    entry = atlas_entry(atlas_id)
    if entry is None:
        return f"{atlas_id} is not in MITRE ATLAS {ATLAS_VERSION}"
    if entry.kind not in _CITABLE_ATLAS_KINDS:
        return f"{atlas_id} is a {entry.kind_label}; cite a technique, sub-technique or mitigation"
    return None


def _atlas_file_problem() -> str | None:
    path = Path(settings.ATLAS_DATA_FILE)
    if path.is_file():
        return None
    return (
        f"{path}: MITRE ATLAS data file not found, so the ATLAS ids of labs cannot be checked "
        f"(vendor mitre-atlas-{ATLAS_VERSION}.yaml there)"
    )


def validate_labs(labs_dir: Path | None = None) -> tuple[list[LabSpec], list[str]]:
    """Validate every lab pack under labs_dir; return the valid specs and ALL errors found.

    Folders starting with `_` or `.` (shared modules, caches) are not labs.
    """
    labs_dir = Path(labs_dir if labs_dir is not None else settings.LABS_DIR)
    errors: list[str] = []
    atlas_error = _atlas_file_problem()
    if atlas_error:
        errors.append(atlas_error)
    if not labs_dir.is_dir():
        return [], [*errors, f"{labs_dir}: labs folder not found"]
    specs: list[LabSpec] = []
    for lab_dir in sorted(p for p in labs_dir.iterdir() if p.is_dir()):
        if lab_dir.name.startswith(("_", ".")):
            continue
        manifest = lab_dir / MANIFEST_NAME
        if not manifest.is_file():
            errors.append(f"{_display_path(lab_dir, labs_dir)}: no {MANIFEST_NAME} in this lab folder")
            continue
        spec, manifest_errors = _validate_manifest(
            manifest, labs_dir=labs_dir, check_atlas=atlas_error is None
        )
        errors.extend(manifest_errors)
        if spec is not None:
            specs.append(spec)
    return specs, errors


def discover_labs(labs_dir: Path | None = None) -> list[LabSpec]:
    """Every lab pack, sorted by slug; raises LabValidationError listing every error."""
    specs, errors = validate_labs(labs_dir)
    if errors:
        raise LabValidationError(errors)
    return specs


Fingerprint = tuple[tuple[str, int, int], ...]
# manifest path -> (the pack's fingerprint when it was validated, its spec); valid packs only.
_VALID_SPECS: dict[Path, tuple[Fingerprint, LabSpec]] = {}


def _pack_fingerprint(lab_dir: Path) -> Fingerprint:
    """Every file of a pack with its mtime and size: any edit, addition or removal changes it.

    A manifest can only name files inside its pack, so this covers all a spec depends on
    besides the ATLAS data (checked on every call)."""
    entries = []
    for root, dirs, files in os.walk(lab_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            path = os.path.join(root, name)
            stat = os.stat(path)
            entries.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(entries))


def get_lab(slug: str, labs_dir: Path | None = None) -> LabSpec:
    """One lab by slug, validated on its own: a broken pack elsewhere does not take this one down.

    Raises KeyError for an unknown slug and LabValidationError (every error) for a broken pack.
    A valid pack's spec is reused while none of its files changes: every submission asks,
    and parsing and validating the manifest costs ~12 ms of the worker's ~45 ms for a
    `print(1+1)` (bench/RESULTS.md), where walking the pack's files costs ~0.2 ms.
    """
    labs_dir = Path(labs_dir if labs_dir is not None else settings.LABS_DIR)
    if not _SLUG_RE.match(slug):
        raise KeyError(slug)
    manifest = labs_dir / slug / MANIFEST_NAME
    if not manifest.is_file():
        raise KeyError(slug)
    atlas_error = _atlas_file_problem()
    fingerprint = _pack_fingerprint(manifest.parent)
    cached = _VALID_SPECS.get(manifest)
    if atlas_error is None and cached is not None and cached[0] == fingerprint:
        return cached[1]
    spec, errors = _validate_manifest(manifest, labs_dir=labs_dir, check_atlas=atlas_error is None)
    if atlas_error:
        errors = [atlas_error, *errors]
    if errors or spec is None:
        _VALID_SPECS.pop(manifest, None)
        raise LabValidationError(errors)
    _VALID_SPECS[manifest] = (fingerprint, spec)
    return spec


def lab_variant(spec: LabSpec, seed: int) -> dict[str, Any]:
    """The learner's variant: variant.py's `variant(seed)`, loaded by file path; {} if none.

    The result must be a JSON object whose keys do not clash with the setup cell's own
    (`slug`, `assets`).
    """
    if spec.files.variant is None:
        return {}
    module_spec = importlib.util.spec_from_file_location(
        f"mlrange_lab_variant_{spec.slug.replace('-', '_')}", spec.files.variant
    )
    if module_spec is None or module_spec.loader is None:
        raise LabValidationError([f"{spec.files.variant}: cannot be imported"])
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    value = module.variant(int(seed))
    if not isinstance(value, dict) or {"slug", "assets"} & set(value):
        raise LabValidationError(
            [f"{spec.files.variant}: variant(seed) must return a dict without 'slug' or 'assets'"]
        )
    return dict(json.loads(json.dumps(value)))


def setup_cell_source(spec: LabSpec, variant: dict[str, Any], *, assets_path: str | None = None) -> str:
    """The trusted cell run before the learner's code: defines LAB (slug, assets, **variant).

    assets_path is where the kernel sees the lab's public assets (default /lab-assets/<slug>).
    """
    lab = {"slug": spec.slug, "assets": assets_path or f"/lab-assets/{spec.slug}", **variant}
    literal = json.dumps(json.dumps(lab, sort_keys=True))
    return f"import json as _json\nLAB = _json.loads({literal})\ndel _json\n"


def public_assets_root() -> Path:
    """Host folder mounted read-only at /lab-assets in kernels (one sub-folder per lab)."""
    return Path(settings.SANDBOX_ASSETS_DIR) / "public"


def hidden_assets_dir(slug: str) -> Path:
    """The grader's own model and data of a lab; never mounted in a kernel."""
    return Path(settings.SANDBOX_ASSETS_DIR) / "hidden" / slug


def grader_dir(slug: str) -> Path:
    """Installed grader of a lab: grader.py, its sibling modules and the `_shared` package."""
    return Path(settings.SANDBOX_ASSETS_DIR) / "graders" / slug


SUBMISSION_SOURCE = "submission.py"


def grader_inputs(
    cells: list[str],
    artifacts: Mapping[str, bytes],
    service_reports: Mapping[str, bytes] | None = None,
) -> dict[str, bytes]:
    """What a grader receives in /lab/submission: the collected artifacts, plus the learner's
    code itself as `submission.py` (from the database, so the learner cannot swap it), for
    labs whose grader calls the learner's functions through `_shared.callee`, plus each lab
    service's report as `service-<name>.json` (read by the worker from the service's own
    jail, so the learner cannot forge it; it overrides any artifact of that name)."""
    reports = {service_report_name(name): data for name, data in (service_reports or {}).items()}
    return {**artifacts, SUBMISSION_SOURCE: "\n\n".join(cells).encode(), **reports}
