"""Where the package's files live: the one place for model and data paths.

Models (body, pose prior, GC-SSN weights, detector offsets) ship inside the package, in
``coach_backend/models`` (package data), so a wheel install finds them as an editable one does.
``$COACH_MODELS_DIR`` names a folder searched first, file by file, so freshly trained weights
can be tried without touching the installed package; a file it lacks still comes from the
shipped models. Registration-gated SMPL files go in ``<models>/smpl/`` (never committed, never
packaged) or anywhere ``$COACH_BODY_MODEL`` points.

Data sets (``cmu_smpl.npz`` ...) are never shipped: they are read from ``$COACH_DATA_DIR``, else
from ``./data`` (the training tools run from the repo root).

Paths are resolved when these functions are called; module constants elsewhere that hold a
default (``gcssn.api.DEFAULT_WEIGHTS`` ...) see the environment as it was at import.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_MODELS_DIR = PACKAGE_DIR / "models"
MODELS_ENV = "COACH_MODELS_DIR"
DATA_ENV = "COACH_DATA_DIR"
SMPL_SUBDIR = "smpl"


def _env_dir(var: str) -> Path | None:
    value = os.environ.get(var)
    return Path(value).expanduser() if value else None


def models_dirs() -> list[Path]:
    """The folders a model file is looked up in, first match wins."""
    override = _env_dir(MODELS_ENV)
    return [SHIPPED_MODELS_DIR] if override is None else [override, SHIPPED_MODELS_DIR]


def models_dir() -> Path:
    """The first models folder: ``$COACH_MODELS_DIR`` when set, else the shipped one."""
    return models_dirs()[0]


def model_path(name: str) -> Path:
    """The model file ``name`` (e.g. ``"open_body.npz"``): the first folder of ``models_dirs``
    that has it. A file found nowhere is reported in the first folder, which is where an error
    message should tell the user to put it."""
    dirs = models_dirs()
    for folder in dirs:
        if (folder / name).is_file():
            return folder / name
    return dirs[0] / name


def smpl_dir() -> Path:
    """Where a user's converted SMPL files go (``python -m coach_backend.body.convert_pkl``)."""
    return models_dir() / SMPL_SUBDIR


def data_dir() -> Path:
    """Training and evaluation data: ``$COACH_DATA_DIR``, else ``./data``."""
    return _env_dir(DATA_ENV) or Path("data")


def data_path(name: str) -> Path:
    """A data set file, e.g. ``data_path("cmu_smpl.npz")``."""
    return data_dir() / name


def source_root() -> Path | None:
    """The source checkout this package runs from, or None for an installed package."""
    root = PACKAGE_DIR.parent
    return root if (root / "pyproject.toml").is_file() and (root / "tests").is_dir() else None


def repo_path(*parts: str) -> Path:
    """A file of the repository that is not shipped (test fixtures, protos, Unity test vectors,
    the example clip): only developer tools use these. Taken from the checkout this package runs
    from, else from the current directory (an installed package run inside a clone)."""
    return (source_root() or Path.cwd()).joinpath(*parts)
