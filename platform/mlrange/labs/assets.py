"""Lab assets: build them with each lab's recipe, install them atomically, verify them.

Layout under settings.SANDBOX_ASSETS_DIR (world-readable: the sandbox uid reads it):
  public/<slug>/     mounted read-only in learner kernels at /lab-assets/<slug>/
  hidden/<slug>/     the grader's own model and data; never mounted in kernels
  graders/<slug>/    grader.py, its sibling modules and the shared `_shared` package
  manifests/<slug>.json   source hash and sha256 of every installed file
Also renders the starter notebook from starter.py. No Django beyond settings, no torch:
recipes run in the sandbox runtime as a subprocess.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import nbformat
from django.conf import settings

from mlrange.labs.registry import SHARED_DIR_NAME, LabSpec

ASSET_FORMAT = 1
ASSET_KINDS = ("public", "hidden", "graders")
RECIPE_TIMEOUT_S = 600
_CELL_MARKER = "# %%"


class AssetBuildError(Exception):
    """A recipe failed or its output could not be installed."""


@dataclass(frozen=True)
class LabAssetDirs:
    public: Path
    hidden: Path
    grader: Path


@dataclass(frozen=True)
class AssetBuild:
    slug: str
    built: bool
    seconds: float
    checksums: dict[str, str]


def lab_asset_dirs(slug: str, assets_dir: Path | None = None) -> LabAssetDirs:
    root = Path(assets_dir if assets_dir is not None else settings.SANDBOX_ASSETS_DIR)
    return LabAssetDirs(
        public=root / "public" / slug, hidden=root / "hidden" / slug, grader=root / "graders" / slug
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shared_modules(spec: LabSpec) -> list[Path]:
    shared = spec.root.parent / SHARED_DIR_NAME
    return sorted(shared.glob("*.py")) if shared.is_dir() else []


def _runtime_packages(runtime: Path) -> list[str]:
    """Installed distributions of the runtime (name-version): a new torch means new weights."""
    return sorted(p.name for p in runtime.glob("lib/python*/site-packages/*.dist-info"))


def source_hash(spec: LabSpec, *, runtime: Path | None = None) -> str:
    """Hash of everything the installed assets depend on: recipe, grader files, runtime."""
    runtime = Path(runtime if runtime is not None else settings.SANDBOX_RUNTIME)
    digest = hashlib.sha256(f"asset-format-{ASSET_FORMAT}\n".encode())
    sources = [spec.files.recipe, spec.files.grader, *spec.files.grader_modules]
    for path in [*sources, *_shared_modules(spec)]:
        digest.update(f"{path.relative_to(spec.root.parent)}\n".encode())
        digest.update(path.read_bytes())
    digest.update("\n".join(_runtime_packages(runtime)).encode())
    return digest.hexdigest()


def _tree_checksums(root: Path, kind: str) -> dict[str, str]:
    return {
        f"{kind}/{path.relative_to(root)}": _sha256(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


def _manifest_path(assets_dir: Path, slug: str) -> Path:
    return assets_dir / "manifests" / f"{slug}.json"


def installed_checksums(spec: LabSpec, *, assets_dir: Path | None = None) -> dict[str, str] | None:
    """The checksum manifest of the installed assets, or None if there is none."""
    assets_dir = Path(assets_dir if assets_dir is not None else settings.SANDBOX_ASSETS_DIR)
    try:
        data = json.loads(_manifest_path(assets_dir, spec.slug).read_text())
    except (OSError, ValueError):
        return None
    files = data.get("files")
    return dict(files) if isinstance(files, dict) else None


def verify_lab_assets(spec: LabSpec, *, assets_dir: Path | None = None, runtime: Path | None = None) -> bool:
    """True when the installed assets come from the current sources and every file verifies."""
    assets_dir = Path(assets_dir if assets_dir is not None else settings.SANDBOX_ASSETS_DIR)
    try:
        data = json.loads(_manifest_path(assets_dir, spec.slug).read_text())
    except (OSError, ValueError):
        return False
    if data.get("source_hash") != source_hash(spec, runtime=runtime):
        return False
    dirs = lab_asset_dirs(spec.slug, assets_dir)
    on_disk: dict[str, str] = {}
    for kind, root in zip(ASSET_KINDS, (dirs.public, dirs.hidden, dirs.grader), strict=True):
        if not root.is_dir():
            return False
        on_disk.update(_tree_checksums(root, kind))
    return bool(on_disk == data.get("files"))


def _make_world_readable(root: Path) -> None:
    """a+rX, no group/other write: the unprivileged sandbox uid must read every file."""
    for dirpath, _dirnames, filenames in os.walk(root):
        Path(dirpath).chmod(0o755)
        for name in filenames:
            (Path(dirpath) / name).chmod(0o644)


def _run_recipe(spec: LabSpec, *, runtime: Path, staging: Path) -> None:
    work = staging / "work"
    work.mkdir()
    python = runtime / "bin" / "python"
    if not python.exists():
        raise AssetBuildError(f"sandbox runtime not found: {python} (run `make runtime`)")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(work),
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": str(spec.root.parent),  # labs/: recipes import the package _shared
    }
    command = [
        str(python),
        str(spec.files.recipe),
        str(staging / "public"),
        str(staging / "hidden"),
    ]
    try:
        result = subprocess.run(  # noqa: S603 -- fixed argv: runtime python and the lab's own recipe
            command,
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=RECIPE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssetBuildError(f"{spec.slug}: recipe ran past {RECIPE_TIMEOUT_S} s and was stopped") from exc
    if result.returncode != 0:
        raise AssetBuildError(
            f"{spec.slug}: recipe failed with exit code {result.returncode}:\n" + result.stderr[-4000:]
        )


def _copy_grader(spec: LabSpec, grader_dir: Path) -> None:
    grader_dir.mkdir()
    for path in (spec.files.grader, *spec.files.grader_modules):
        shutil.copyfile(path, grader_dir / path.name)
    shared = _shared_modules(spec)
    if shared:
        (grader_dir / SHARED_DIR_NAME).mkdir()
        for path in shared:
            shutil.copyfile(path, grader_dir / SHARED_DIR_NAME / path.name)


@contextmanager
def _build_lock(assets_dir: Path, slug: str) -> Iterator[None]:
    """One build per lab at a time, across processes (workers starting together)."""
    lock_dir = assets_dir / "locks"
    lock_dir.mkdir(mode=0o755, exist_ok=True)
    with (lock_dir / f"{slug}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _install(staging: Path, assets_dir: Path, slug: str, manifest: dict[str, object]) -> None:
    """Swap each staged tree into place by rename; the checksum manifest goes last.

    The manifest is removed first, so an interrupted install never verifies and is rebuilt.
    """
    manifest_path = _manifest_path(assets_dir, slug)
    manifest_path.parent.mkdir(mode=0o755, exist_ok=True)
    manifest_path.unlink(missing_ok=True)
    for kind in ASSET_KINDS:
        kind_dir = assets_dir / kind
        kind_dir.mkdir(mode=0o755, exist_ok=True)
        kind_dir.chmod(0o755)
        target = kind_dir / slug
        if target.exists():
            target.rename(staging / f"replaced-{kind}")
        (staging / kind).rename(target)
    tmp = manifest_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.chmod(0o644)
    tmp.replace(manifest_path)


def build_lab_assets(
    spec: LabSpec,
    *,
    assets_dir: Path | None = None,
    runtime: Path | None = None,
    force: bool = False,
) -> AssetBuild:
    """Build and install one lab's assets; skipped when the installed ones verify (unless force).

    Idempotent. Runs the recipe with the runtime python, one thread, cwd a temp dir.
    """
    assets_dir = Path(assets_dir if assets_dir is not None else settings.SANDBOX_ASSETS_DIR)
    runtime = Path(runtime if runtime is not None else settings.SANDBOX_RUNTIME)
    assets_dir.mkdir(parents=True, exist_ok=True)
    assets_dir.chmod(0o755)
    with _build_lock(assets_dir, spec.slug):
        if not force and verify_lab_assets(spec, assets_dir=assets_dir, runtime=runtime):
            return AssetBuild(
                slug=spec.slug,
                built=False,
                seconds=0.0,
                checksums=installed_checksums(spec, assets_dir=assets_dir) or {},
            )
        started = time.monotonic()
        staging = Path(tempfile.mkdtemp(prefix=f".build-{spec.slug}-", dir=assets_dir))
        try:
            _run_recipe(spec, runtime=runtime, staging=staging)
            _copy_grader(spec, staging / "graders")
            checksums: dict[str, str] = {}
            for kind in ASSET_KINDS:
                if not (staging / kind).is_dir():
                    raise AssetBuildError(f"{spec.slug}: the recipe wrote no {kind}/ folder")
                _make_world_readable(staging / kind)
                checksums.update(_tree_checksums(staging / kind, kind))
            manifest = {
                "format": ASSET_FORMAT,
                "slug": spec.slug,
                "source_hash": source_hash(spec, runtime=runtime),
                "files": checksums,
            }
            _install(staging, assets_dir, spec.slug, manifest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return AssetBuild(slug=spec.slug, built=True, seconds=time.monotonic() - started, checksums=checksums)


def render_starter_notebook(starter_source: str) -> str:
    """The .ipynb of a percent-format starter.py (`# %%` code cells, `# %% [markdown]`).

    Lines before the first `# %%` (e.g. a `# ruff: noqa` header) open the first code cell.

    Deterministic: fixed cell ids, no outputs, so the committed copy can be compared.
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    header: list[str] = []
    chunks: list[tuple[str, list[str]]] = []
    for line in starter_source.splitlines():
        if line.startswith(_CELL_MARKER):
            chunks.append(("markdown" if "[markdown]" in line else "code", []))
        elif chunks:
            chunks[-1][1].append(line)
        elif line.strip():
            header.append(line)
    for index, (kind, lines) in enumerate(chunks, start=1):
        if kind == "markdown":
            text = "\n".join(ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in lines)
        else:
            text = "\n".join([*header, *lines])
            header = []
        text = text.strip("\n")
        if not text:
            continue
        cell = nbformat.v4.new_markdown_cell(text) if kind == "markdown" else nbformat.v4.new_code_cell(text)
        cell["id"] = f"cell-{index}"
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook)) + "\n"


def notebook_is_current(spec: LabSpec) -> bool:
    """True when the committed starter notebook equals the one rendered from starter.py."""
    expected = render_starter_notebook(spec.read_starter())
    return spec.files.notebook.read_text(encoding="utf-8") == expected


def write_starter_notebook(spec: LabSpec) -> bool:
    """Render the starter notebook into the lab folder; True if the file changed."""
    expected = render_starter_notebook(spec.read_starter())
    if spec.files.notebook.exists() and spec.files.notebook.read_text(encoding="utf-8") == expected:
        return False
    spec.files.notebook.write_text(expected, encoding="utf-8")
    return True
