"""coach_backend.resources: one place for model and data paths, with environment overrides."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach_backend import resources
from coach_backend.body import (
    OPEN_BODY_NAME,
    body_model_name,
    load_body_model,
    resolve_model_path,
)
from coach_backend.body.model import SMPL_NAME
from coach_backend.prior import load_pose_prior

SHIPPED = ("open_body.npz", "pose_prior.npz", "mediapipe_keypoint_offsets.json")


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (resources.MODELS_ENV, resources.DATA_ENV, "COACH_BODY_MODEL"):
        monkeypatch.delenv(var, raising=False)


def test_models_ship_inside_the_package() -> None:
    package = Path(resources.__file__).parent
    assert package / "models" == resources.SHIPPED_MODELS_DIR
    for name in SHIPPED:
        path = resources.model_path(name)
        assert path.parent == resources.SHIPPED_MODELS_DIR and path.is_file()
    assert resolve_model_path() == resources.model_path("open_body.npz")


def test_models_dir_override_is_searched_first_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gcssn_mine.pt").write_bytes(b"x")
    monkeypatch.setenv(resources.MODELS_ENV, str(tmp_path))
    assert resources.models_dirs() == [tmp_path, resources.SHIPPED_MODELS_DIR]
    assert resources.model_path("gcssn_mine.pt") == tmp_path / "gcssn_mine.pt"
    # What the override folder lacks still comes from the shipped models ...
    assert resources.model_path("open_body.npz").parent == resources.SHIPPED_MODELS_DIR
    assert load_pose_prior().num_components > 0
    # ... and a file found nowhere is reported where the user should put it.
    assert resources.model_path("nowhere.pt") == tmp_path / "nowhere.pt"


def test_smpl_files_are_looked_for_under_the_models_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SMPL file in <models>/smpl replaces the open body (path resolution only: a
    stand-in file with SMPL's keys and no keypoint regressor, never loaded)."""
    smpl = tmp_path / "smpl" / "SMPL_NEUTRAL.npz"
    smpl.parent.mkdir()
    np.savez(smpl, v_template=np.zeros((3, 3)))
    monkeypatch.setenv(resources.MODELS_ENV, str(tmp_path))
    assert resources.smpl_dir() == tmp_path / "smpl"
    assert resolve_model_path() == smpl
    assert body_model_name() == SMPL_NAME


def test_data_dir_default_and_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resources.data_path("cmu_smpl.npz") == Path("data") / "cmu_smpl.npz"
    monkeypatch.setenv(resources.DATA_ENV, str(tmp_path))
    assert resources.data_path("cmu_smpl.npz") == tmp_path / "cmu_smpl.npz"


def test_repo_files_come_from_the_checkout() -> None:
    root = resources.source_root()
    assert root is not None and (root / "pyproject.toml").is_file()
    assert resources.repo_path("protos", "coach.proto").is_file()


def test_the_body_model_has_one_name() -> None:
    """BodyModel.name, body_model_name() and the SessionInfo default agree (no third name)."""
    from coach_backend.stream import make_session_info

    assert load_body_model().name == body_model_name() == OPEN_BODY_NAME
    assert make_session_info("s").body_model == OPEN_BODY_NAME
