"""A non-editable install works outside the repository: models are package data, console
scripts are declared, and nothing registration-gated is packaged.

The wheel is built from a copy of the sources (so the checkout stays untouched) with the venv's
setuptools (no network), installed with ``pip --target`` into a temporary folder, and used from a
directory outside the repository with only that folder on PYTHONPATH (the project venv supplies
the dependencies; the editable install's finder comes after PYTHONPATH on sys.path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import coach_backend

REPO = Path(__file__).resolve().parents[1]
SHIPPED_MODELS = Path(coach_backend.__file__).parent / "models"
SCRIPTS = {
    "coach-replay": "coach_backend.replay.cli:main",
    "coach-serve": "coach_backend.serve:main",
    "coach-export": "coach_backend.export.__main__:main",
}
# Run inside the installed package, from outside the repository.
PROBE = """
import json, sys
from pathlib import Path
site = Path(sys.argv[1]).resolve()
import coach_backend
from coach_backend import resources
from coach_backend.body import load_body_model, resolve_model_path
from coach_backend.gcssn.api import DEFAULT_WEIGHTS, load_gcssn
from coach_backend.prior import load_pose_prior
inside = lambda p: Path(p).resolve().is_relative_to(site)
names = json.loads(sys.argv[2])
paths = {n: resources.model_path(n) for n in names}
body = load_body_model()
print(json.dumps({
    "package": inside(coach_backend.__file__),
    "source_root": resources.source_root() is not None,
    "models": {n: inside(p) and p.is_file() for n, p in paths.items()},
    "body": [body.name, inside(resolve_model_path())],
    "prior": load_pose_prior().num_components,
    "weights": sorted(type(load_gcssn(paths[n])).__name__ for n in names if n.endswith(".pt")),
    "default_weights_inside": inside(DEFAULT_WEIGHTS),
}))
"""


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.pop("PYTHONPATH", None)
    return {**env, **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, site folder) of a fresh non-editable build of the current sources."""
    tmp = tmp_path_factory.mktemp("pkg")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("node_modules", "__pycache__", "*.pyc", "smpl")
    shutil.copytree(REPO / "coach_backend", src / "coach_backend", ignore=ignore)
    # A stand-in for a user's registration-gated SMPL file: it must never reach the wheel.
    (src / "coach_backend" / "models" / "smpl").mkdir()
    (src / "coach_backend" / "models" / "smpl" / "SMPL_NEUTRAL.npz").write_bytes(b"gated")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    dist, site = tmp / "dist", tmp / "site"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)],
        check=True, cwd=tmp, env=_clean_env(), timeout=240,
    )  # fmt: skip
    (wheel,) = dist.glob("coach_backend-*.whl")
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel)],
        check=True, cwd=tmp, env=_clean_env(), timeout=240,
    )  # fmt: skip
    return wheel, site


def _shipped() -> list[str]:
    """Every model file of the checkout (what exists: weights still training come later)."""
    return sorted(p.name for p in SHIPPED_MODELS.iterdir() if p.is_file())


def test_wheel_carries_the_models_and_the_console_scripts(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        declared = zf.read(entry_points).decode()
    shipped = _shipped()
    assert {"open_body.npz", "pose_prior.npz", "gcssn_self.pt"} <= set(shipped)
    missing = [n for n in shipped if f"coach_backend/models/{n}" not in names]
    assert not missing, f"not package data: {missing}"
    assert not [n for n in names if "/smpl/" in n], "SMPL files must never be packaged"
    for script, target in SCRIPTS.items():
        assert f"{script} = {target}" in declared


def test_installed_package_runs_outside_the_repo(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, site = installed
    env = _clean_env(PYTHONPATH=str(site))
    names = _shipped()
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(site), json.dumps(names)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["package"] and not got["source_root"], "imported the checkout, not the install"
    assert got["models"] == {n: True for n in names}
    assert got["body"] == ["open_body", True]
    assert got["prior"] > 0
    assert len(got["weights"]) == sum(n.endswith(".pt") for n in names) >= 2
    assert got["default_weights_inside"]
    for script in SCRIPTS:  # the scripts pip wrote start and parse their arguments
        run = subprocess.run(
            [str(site / "bin" / script), "--help"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0 and "usage:" in run.stdout, run.stderr[-2000:]
