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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from mlrange.catalog.atlas import ATLAS_VERSION, AtlasKind, atlas_entry
from mlrange.catalog.taxonomies import LEVEL_SLUGS, OWASP_ML_TOP_10, SUBSKILL_SLUGS
from mlrange.common.validation import (
    Boolean,
    Checker,
    Choice,
    F,
    ListOf,
    Obj,
    Pattern,
    Positive,
    Spec,
    Text,
    read_yaml,
)

MANIFEST_NAME = "manifest.yaml"
SHARED_DIR_NAME = "_shared"

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


# Warm-kernel profiles: what a pooled kernel has imported before it is handed out. Labs whose
# learner code needs no torch use "light" kernels, which start three times faster.
KERNEL_PROFILES = ("torch", "light")
# Hints a learner may reveal one by one (mlrange.labs.hints); each at most this long.
MIN_HINTS, MAX_HINTS, MAX_HINT_LENGTH = 2, 3, 700

# The manifests' phrasing of the shared DSL's messages (mlrange.common.validation).
_LAB_WORDING = {
    "not_text": "expected a non-empty string",
    "empty": "expected a non-empty string",
    "too_long": "longer than {limit} characters",
    "above_maximum": "expected at most {maximum}",
    "not_choice": "unknown value {value!r}; expected one of: {options}",
    "unknown_choice": "unknown value {value!r}; expected one of: {options}",
    "not_list": "expected a list",
    "too_few": "expected at least one item",  # no manifest list needs more than one
    "duplicate": "duplicate {what} {key!r}",
    "unknown_key": "unknown key",
    "not_mapping": "expected a mapping",
}


class _LabChecker(Checker):
    """A checker that knows the lab folder (files must exist inside it) and the tier ids."""

    def __init__(self, label: str, *, lab_dir: Path, check_atlas: bool) -> None:
        super().__init__(label, wording=_LAB_WORDING)
        self.lab_dir = lab_dir
        self.check_atlas = check_atlas
        self.tier_ids: set[str] = set()


def _lab_checker(checker: Checker) -> _LabChecker:
    if not isinstance(checker, _LabChecker):  # pragma: no cover -- manifest specs run on one only
        raise TypeError("lab manifest specs need a _LabChecker")
    return checker


class _LabFile(Spec):
    """A path relative to the lab folder that exists, stays inside it and ends in `suffix`.

    `top_level`: where the file must sit at the top of the folder, the message otherwise
    (`combined`: that message also replaces the suffix's)."""

    noun, plural = "a relative file path", "relative file paths"

    def __init__(self, suffix: str, *, top_level: str | None = None, combined: bool = False) -> None:
        self.suffix, self.top_level, self.combined = suffix, top_level, combined

    def check(self, value: Any, at: str, checker: Checker) -> None:
        lab_dir = _lab_checker(checker).lab_dir
        if not isinstance(value, str) or not value.strip():
            checker.error(at, "expected a relative file path")
            return
        relative = Path(value)
        if relative.is_absolute() or ".." in relative.parts:
            checker.error(at, f"{value!r} must be a path inside the lab folder")
            return
        path = lab_dir / relative
        if path.is_symlink() or not path.is_file():
            checker.error(at, f"file {value!r} not found in {lab_dir.name}/")
        elif path.suffix != self.suffix:
            checker.error(
                at, self.top_level if self.combined and self.top_level else f"expected a {self.suffix} file"
            )
        elif self.top_level and path.parent != lab_dir:
            checker.error(at, self.top_level)


class _AtlasRef(Spec):
    """A MITRE ATLAS technique, sub-technique or mitigation id (checked against the data file)."""

    noun, plural = "an ATLAS id", "ATLAS ids"

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if not isinstance(value, str) or not _ATLAS_ID_RE.match(value):
            checker.error(at, f"{value!r} is not an ATLAS technique or mitigation id")
            return
        problem = _atlas_problem(value) if _lab_checker(checker).check_atlas else None
        if problem:
            checker.error(at, problem)


class _ArtifactName(Pattern):
    def __init__(self) -> None:
        super().__init__(_ARTIFACT_NAME_RE, "expected a plain file name (letters, digits, . _ -)")

    def check(self, value: Any, at: str, checker: Checker) -> None:
        before = len(checker.errors)
        super().check(value, at, checker)
        if len(checker.errors) == before and value == SUBMISSION_SOURCE:
            checker.error(
                at,
                f"{SUBMISSION_SOURCE} is reserved: the platform hands the learner's code to graders under it",
            )


class _TierRef(Spec):
    """The id of one of the manifest's own tiers."""

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if not isinstance(value, str) or value not in _lab_checker(checker).tier_ids:
            checker.error(at, f"unknown tier {value!r}")


_AT_TOP = "expected a .py file at the top of the lab folder"
_IDENTIFIER = Pattern(_ID_RE, "expected a lowercase identifier")
_SERVICE_NAME = Pattern(_SERVICE_NAME_RE, "expected a lowercase identifier ([a-z][a-z0-9_]*, at most 32)")

# The manifest's shape (labs/_schema.md); rules across fields: _check_rules.
MANIFEST = Obj(
    {
        "slug": Pattern(_SLUG_RE, "expected lowercase words joined by hyphens"),
        "title": Text(max_length=200, one_line=True),
        "subskill": Choice(SUBSKILL_SLUGS),
        "level": Choice(LEVEL_SLUGS),
        "summary": Text(max_length=200, one_line=True),
        "atlas": ListOf(_AtlasRef(), min_items=1),
        "owasp": ListOf(
            Choice(OWASP_ML_TOP_10, unknown="{value!r} is not an OWASP ML Top 10 id (ML01..ML10)"),
            min_items=1,
        ),
        "time_budget_minutes": Positive(integer=True, maximum=600),
        "limits": Obj(
            {
                "wall_timeout_s": Positive(),
                "memory_mb": Positive(integer=True),
                "grader_timeout_s": Positive(),
            }
        ),
        # Empty is fine: a lab whose learner hands in a function is graded from submission.py alone.
        "artifacts": ListOf(
            Obj(
                {
                    "name": _ArtifactName(),
                    "max_bytes": Positive(integer=True, maximum=_MAX_ARTIFACT_BYTES),
                    "description": Text(max_length=500),
                }
            ),
            unique_by="name",
            what="artifact",
        ),
        "tiers": ListOf(
            Obj(
                {
                    "id": _IDENTIFIER,
                    "title": Text(max_length=200, one_line=True),
                    "points": Positive(),
                    "description": Text(max_length=500),
                }
            ),
            min_items=1,
            unique_by="id",
            what="tier",
        ),
        "pass_points": Positive(maximum=100),
        "files": Obj(
            {
                "brief": _LabFile(".md"),
                "starter": _LabFile(".py"),
                "notebook": _LabFile(".ipynb"),
                "grader": _LabFile(".py", top_level="expected the grader at the top of the lab folder"),
                "grader_modules": F(
                    ListOf(_LabFile(".py", top_level=_AT_TOP, combined=True)), required=False
                ),
                "recipe": _LabFile(".py"),
                "variant": F(_LabFile(".py"), required=False),
            }
        ),
        "solutions": ListOf(
            Obj(
                {
                    "file": _LabFile(".py"),
                    "expect": Obj({"passed": Boolean(), "tiers": ListOf(_TierRef())}),
                }
            ),
            min_items=1,
        ),
        "services": F(
            ListOf(
                Obj(
                    {
                        "name": _SERVICE_NAME,
                        "script": _LabFile(".py", top_level=_AT_TOP, combined=True),
                        "meter": F(Obj({"budget": _SERVICE_NAME, "used": _SERVICE_NAME}), required=False),
                    }
                ),
                min_items=1,
                unique_by="name",
                what="service",
            ),
            required=False,
        ),
        "kernel": F(Choice(KERNEL_PROFILES), required=False),
        # 2 to 3 progressive hints, a nudge first and nearly the method last (never the answer).
        "hints": F(ListOf(Text(max_length=MAX_HINT_LENGTH), min_items=1), required=False),
    }
)


def _display_path(path: Path, labs_dir: Path) -> str:
    return str(path.relative_to(labs_dir.parent))


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _check_rules(data: dict[str, Any], check: _LabChecker) -> None:
    """Rules across fields, after the spec: folder name, tier points, hint count, services."""
    slug = data.get("slug")
    if isinstance(slug, str) and _SLUG_RE.match(slug) and slug != check.lab_dir.name:
        check.error("slug", f"{slug!r} must equal the folder name {check.lab_dir.name!r}")
    tiers = data.get("tiers")
    if isinstance(tiers, list) and tiers and not check.has_errors_under("tiers"):
        total = sum(tier["points"] for tier in tiers)
        if abs(total - 100) > 1e-9:
            check.error("tiers", f"points must add up to 100 (they add up to {total:g})")
    hints = data.get("hints")
    if isinstance(hints, list) and hints and not MIN_HINTS <= len(hints) <= MAX_HINTS:
        check.error("hints", f"expected {MIN_HINTS} to {MAX_HINTS} hints, got {len(hints)}")
    files = data.get("files")
    modules = files.get("grader_modules") or [] if isinstance(files, dict) else []
    installed = not check.has_errors_under("files")
    artifact_names = {item.get("name") for item in _dicts(data.get("artifacts"))}
    for index, service in enumerate(_dicts(data.get("services"))):
        where = f"services[{index}]"
        script = service.get("script")
        listed = {Path(str(module)) for module in modules}
        if installed and not check.has_errors_under(f"{where}.script") and Path(str(script)) not in listed:
            installed_with = "(it is installed with the grader)"
            check.error(
                f"{where}.script",
                f"list {Path(str(script)).name} in files.grader_modules too {installed_with}",
            )
        name = service.get("name")
        if not check.has_errors_under(f"{where}.name") and service_report_name(str(name)) in artifact_names:
            check.error(
                f"{where}.name",
                f"{service_report_name(str(name))} is reserved for the service's report; rename the artifact",
            )


def _build_spec(data: dict[str, Any], lab_dir: Path) -> LabSpec:
    """The LabSpec of a manifest that passed every check."""
    files = data["files"]
    variant = files.get("variant")
    return LabSpec(
        slug=data["slug"],
        title=data["title"].strip(),
        subskill=data["subskill"],
        level=data["level"],
        summary=data["summary"].strip(),
        atlas=tuple(data["atlas"]),
        owasp=tuple(data["owasp"]),
        time_budget_minutes=data["time_budget_minutes"],
        limits=LabLimits(
            wall_timeout_s=float(data["limits"]["wall_timeout_s"]),
            memory_mb=data["limits"]["memory_mb"],
            grader_timeout_s=float(data["limits"]["grader_timeout_s"]),
        ),
        artifacts=tuple(
            LabArtifact(name=a["name"], max_bytes=a["max_bytes"], description=a["description"].strip())
            for a in data["artifacts"]
        ),
        tiers=tuple(
            LabTier(
                id=t["id"],
                title=t["title"].strip(),
                points=float(t["points"]),
                description=t["description"].strip(),
            )
            for t in data["tiers"]
        ),
        pass_points=float(data["pass_points"]),
        files=LabFiles(
            brief=lab_dir / files["brief"],
            starter=lab_dir / files["starter"],
            notebook=lab_dir / files["notebook"],
            grader=lab_dir / files["grader"],
            grader_modules=tuple(lab_dir / m for m in files.get("grader_modules") or ()),
            recipe=lab_dir / files["recipe"],
            variant=lab_dir / variant if variant is not None else None,
        ),
        solutions=tuple(
            LabSolution(
                file=lab_dir / s["file"],
                expect=LabExpectation(passed=s["expect"]["passed"], tiers=tuple(s["expect"]["tiers"])),
            )
            for s in data["solutions"]
        ),
        root=lab_dir,
        services=tuple(
            LabService(
                name=s["name"],
                script=lab_dir / s["script"],
                meter=ServiceMeterSpec(budget=s["meter"]["budget"], used=s["meter"]["used"])
                if s.get("meter") is not None
                else None,
            )
            for s in data.get("services") or ()
        ),
        kernel=data.get("kernel") or "torch",
        hints=tuple(hint.strip() for hint in data.get("hints") or ()),
    )


def _validate_manifest(
    manifest_path: Path, *, labs_dir: Path, check_atlas: bool
) -> tuple[LabSpec | None, list[str]]:
    lab_dir = manifest_path.parent
    label = _display_path(manifest_path, labs_dir)
    data, read_errors = read_yaml(manifest_path, label)
    if read_errors:
        return None, [str(error) for error in read_errors]
    check = _LabChecker(label, lab_dir=lab_dir, check_atlas=check_atlas)
    if not isinstance(data, dict):
        check.error("(top level)", "expected a mapping")
        return None, [str(error) for error in check.errors]
    check.tier_ids = {t["id"] for t in _dicts(data.get("tiers")) if isinstance(t.get("id"), str)}
    MANIFEST.check(data, "", check)
    _check_rules(data, check)
    if check.errors:
        return None, [str(error) for error in check.errors]
    return _build_spec(data, lab_dir), []


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
