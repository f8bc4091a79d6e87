"""The body model layer: the open body behaves like SMPL, and real SMPL files drop in."""

from __future__ import annotations

import pickle
import sys
import types

import numpy as np
import pytest
import scipy.sparse
import smplx
import torch

from coach_backend.body import (
    KEYPOINT_NAMES,
    OPEN_BODY_PATH,
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    BodyModel,
    BodyParams,
    load_body_model,
    resolve_model_path,
)
from coach_backend.body.convert_pkl import convert, read_smpl_pickle
from coach_backend.body.model import load_body_struct

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
K = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


@pytest.fixture(scope="module")
def body() -> BodyModel:
    return load_body_model(OPEN_BODY_PATH)


def pose(body: BodyModel, **joint_rotvecs: tuple[float, float, float]):
    params = BodyParams.zeros(1)
    for name, rotvec in joint_rotvecs.items():
        params.body_pose[0, J[name] - 1] = torch.tensor(rotvec)
    with torch.no_grad():
        return body(params)


def test_loads_through_smplx_and_matches_its_forward(body: BodyModel) -> None:
    struct = load_body_struct(OPEN_BODY_PATH)
    reference = smplx.SMPL(model_path=str(OPEN_BODY_PATH), data_struct=struct, num_betas=10)
    gen = torch.Generator().manual_seed(0)
    params = BodyParams.zeros(3)
    params.body_pose = torch.randn(3, 23, 3, generator=gen) * 0.4
    params.global_orient = torch.randn(3, 3, generator=gen)
    params.betas = torch.randn(3, 10, generator=gen)
    params.transl = torch.randn(3, 3, generator=gen)
    with torch.no_grad():
        ours = body(params)
        theirs = reference(
            global_orient=params.global_orient,
            body_pose=params.body_pose.reshape(3, -1),
            betas=params.betas,
            transl=params.transl,
        )
    torch.testing.assert_close(ours.vertices, theirs.vertices, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.joints, theirs.joints[:, :24], atol=1e-5, rtol=0)


def test_kinematic_tree_and_joint_order() -> None:
    struct = load_body_struct(OPEN_BODY_PATH)
    parents = struct.kintree_table[0].astype(np.int64)
    parents[0] = -1
    assert parents.tolist() == SMPL_PARENTS
    assert struct.kintree_table[1].tolist() == list(range(24))
    assert list(struct.joint_names) == SMPL_JOINT_NAMES
    assert list(struct.keypoint_names) == KEYPOINT_NAMES
    assert struct.shapedirs.shape[1:] == (3, 10)
    assert struct.posedirs.shape[1:] == (3, 207)


def test_zero_pose_is_smpls_t_pose(body: BodyModel) -> None:
    joints = pose(body).joints[0].numpy()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        shoulder, elbow, wrist = (joints[J[f"{side}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
        # Arms horizontal and straight along +-x.
        assert abs(wrist[1] - shoulder[1]) < 0.03 and abs(elbow[1] - shoulder[1]) < 0.03
        assert sign * shoulder[0] < sign * elbow[0] < sign * wrist[0]
        hip, knee, ankle = (joints[J[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        # Legs straight down, left on +x.
        assert hip[1] > knee[1] + 0.3 > ankle[1] + 0.6
        assert abs(ankle[0] - hip[0]) < 0.08 and sign * hip[0] > 0
    assert joints[J["head"], 1] > joints[J["neck"], 1] > joints[J["spine3"], 1]
    keypoints = pose(body).keypoints[0].numpy()
    # Faces +z: the nose is in front of the head joint, the heels behind the toes.
    assert keypoints[K["nose"], 2] > joints[J["head"], 2] + 0.05
    assert keypoints[K["left_big_toe"], 2] > keypoints[K["left_heel"], 2] + 0.1


def test_neutral_height(body: BodyModel) -> None:
    vertices = pose(body).vertices[0].numpy()
    assert 1.6 < np.ptp(vertices[:, 1]) < 1.8


def _stature_and_girth(body: BodyModel, component: int, value: float) -> tuple[float, float]:
    params = BodyParams.zeros(1)
    params.betas[0, component] = value
    with torch.no_grad():
        out = body(params)
    v, j = out.vertices[0].numpy(), out.joints[0].numpy()
    band = np.abs(v[:, 1] - j[J["spine2"], 1]) < 0.03
    torso = band & (np.abs(v[:, 0]) < 0.25)  # the chest, not the arms
    return float(np.ptp(v[:, 1])), float(np.ptp(v[torso, 0]) + np.ptp(v[torso, 2]))


def test_first_shape_components_change_height_and_girth_monotonically(body: BodyModel) -> None:
    values = np.linspace(-2, 2, 5)
    stature = [_stature_and_girth(body, 0, b)[0] for b in values]
    girth = [_stature_and_girth(body, 1, b)[1] for b in values]
    assert np.all(np.diff(stature) > 0.02), stature
    assert np.all(np.diff(girth) > 0.005), girth
    assert stature[-1] - stature[0] > 0.2  # a visible range of adults


def test_lbs_moves_only_the_rotated_subtree(body: BodyModel) -> None:
    rest = pose(body)
    bent = pose(body, left_elbow=(0.0, -1.2, 0.0))
    subtree = [J["left_elbow"], J["left_wrist"], J["left_hand"]]
    moved_joints = np.linalg.norm((bent.joints - rest.joints)[0].numpy(), axis=1) > 1e-6
    # The elbow itself is the pivot: only its descendants move.
    assert np.flatnonzero(moved_joints).tolist() == subtree[1:]
    weights = body.lbs_weights.numpy()
    outside = weights[:, subtree].sum(1) == 0
    inside = weights[:, subtree].sum(1) > 0.99
    displacement = np.linalg.norm((bent.vertices - rest.vertices)[0].numpy(), axis=1)
    assert displacement[outside].max() < 1e-6
    assert np.median(displacement[inside]) > 0.05


def test_keypoints_land_on_the_right_limbs(body: BodyModel) -> None:
    out = pose(body, left_knee=(1.0, 0.0, 0.0), right_elbow=(0.0, 1.0, 0.0))
    keypoints, joints = out.keypoints[0].numpy(), out.joints[0].numpy()
    for side in ("left", "right"):
        for limb in ("shoulder", "elbow", "wrist", "knee", "ankle", "hip"):
            nearest = np.linalg.norm(joints - keypoints[K[f"{side}_{limb}"]], axis=1).argmin()
            assert SMPL_JOINT_NAMES[nearest] == f"{side}_{limb}", (side, limb)
    for name in ("nose", "left_eye", "right_eye", "left_ear", "right_ear"):
        assert np.linalg.norm(keypoints[K[name]] - joints[J["head"]]) < 0.15
    for side in ("left", "right"):
        for name in ("big_toe", "small_toe", "heel"):
            near = np.linalg.norm(keypoints[K[f"{side}_{name}"]] - joints[J[f"{side}_ankle"]])
            assert near < 0.25
    assert keypoints[K["left_eye"], 0] > 0 > keypoints[K["right_eye"], 0]


def test_vertex_subset_matches_full_forward(body: BodyModel) -> None:
    params = BodyParams.zeros(2)
    params.body_pose = torch.randn(2, 23, 3, generator=torch.Generator().manual_seed(1)) * 0.3
    ids = torch.tensor([0, 17, 4000, 13000])
    with torch.no_grad():
        full, subset = body(params), body(params, ids)
    torch.testing.assert_close(subset.vertices, full.vertices[:, ids])
    torch.testing.assert_close(subset.keypoints, full.keypoints)


# --- real SMPL drop-in, exercised with a synthetic file of SMPL's structure -------------------


def _synthetic_smpl(rng: np.random.Generator) -> dict[str, object]:
    """Random arrays with the shapes and types of an official SMPL pickle (6890 vertices)."""
    v = rng.normal(size=(6890, 3)) * 0.3
    weights = rng.random((6890, 24)) ** 8
    weights /= weights.sum(1, keepdims=True)
    regressor = scipy.sparse.random(24, 6890, density=0.01, random_state=0, format="csc")
    regressor = scipy.sparse.csc_matrix(regressor.multiply(1 / regressor.sum(1)))
    kintree = np.array([[4294967295, *SMPL_PARENTS[1:]], list(range(24))], dtype=np.int64)
    return {
        "v_template": v,
        "shapedirs": rng.normal(size=(6890, 3, 300)) * 0.01,
        "posedirs": rng.normal(size=(6890, 3, 207)) * 0.001,
        "J_regressor": regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": rng.integers(0, 6890, size=(13776, 3)).astype(np.uint32),
        "bs_style": "lbs",
    }


def _pickle_with_fake_chumpy(data: dict[str, object], path) -> None:
    """Write a pickle whose shapedirs is a chumpy object, as in the official files, using a
    throwaway stand-in module so the real (broken) chumpy is never needed."""
    chumpy = types.ModuleType("chumpy")
    chumpy_ch = types.ModuleType("chumpy.ch")

    class Ch:
        pass

    Ch.__module__, Ch.__qualname__ = "chumpy.ch", "Ch"
    chumpy_ch.Ch = Ch
    sys.modules.update({"chumpy": chumpy, "chumpy.ch": chumpy_ch})
    try:
        wrapped = Ch()
        wrapped.__dict__.update({"x": data["shapedirs"], "_dirty_vars": set()})
        with open(path, "wb") as handle:
            pickle.dump({**data, "shapedirs": wrapped}, handle, protocol=2)
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]


def test_pkl_to_npz_conversion_and_drop_in(tmp_path) -> None:
    rng = np.random.default_rng(0)
    data = _synthetic_smpl(rng)
    pkl = tmp_path / "SMPL_NEUTRAL.pkl"
    _pickle_with_fake_chumpy(data, pkl)
    assert "chumpy" not in sys.modules
    arrays = read_smpl_pickle(pkl)
    np.testing.assert_allclose(arrays["shapedirs"], data["shapedirs"], rtol=1e-6)
    np.testing.assert_allclose(arrays["J_regressor"], data["J_regressor"].toarray(), rtol=1e-6)

    npz = convert(pkl, tmp_path / "SMPL_NEUTRAL.npz")
    body = BodyModel(npz)
    assert body.name == "smpl" and body.has_pose_correctives
    params = BodyParams.zeros(2)
    params.body_pose = torch.as_tensor(rng.normal(size=(2, 23, 3)) * 0.3, dtype=torch.float32)
    params.betas = torch.as_tensor(rng.normal(size=(2, 10)), dtype=torch.float32)
    reference = smplx.SMPL(model_path=str(npz), data_struct=load_body_struct(npz), num_betas=10)
    with torch.no_grad():
        ours = body(params)
        theirs = reference(
            global_orient=params.global_orient,
            body_pose=params.body_pose.reshape(2, -1),
            betas=params.betas,
        )
    torch.testing.assert_close(ours.vertices, theirs.vertices, atol=1e-5, rtol=0)
    # SMPL's topology has no keypoint regressor: face/feet vertices and joint rows stand in.
    assert ours.keypoints.shape == (2, 23, 3)
    torch.testing.assert_close(ours.keypoints[:, K["nose"]], ours.vertices[:, 332])


def test_conversion_rejects_a_non_smpl_pickle(tmp_path) -> None:
    path = tmp_path / "other.pkl"
    path.write_bytes(pickle.dumps({"v_template": np.zeros((3, 3))}))
    with pytest.raises(ValueError, match="missing SMPL keys"):
        read_smpl_pickle(path)
    path.write_bytes(b"not a pickle at all")
    with pytest.raises(ValueError, match="not a readable SMPL pickle"):
        read_smpl_pickle(path)


def test_clear_error_when_configured_smpl_file_is_missing(tmp_path, monkeypatch) -> None:
    missing = tmp_path / "models" / "smpl" / "SMPL_NEUTRAL.npz"
    monkeypatch.setenv("COACH_BODY_MODEL", str(missing))
    with pytest.raises(FileNotFoundError, match="SMPL_NEUTRAL.npz.*COACH_BODY_MODEL.*convert_pkl"):
        resolve_model_path()
    monkeypatch.delenv("COACH_BODY_MODEL")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        BodyModel(missing)
    with pytest.raises(ValueError, match="pickle; convert it"):
        load_body_struct(tmp_path / "SMPL_NEUTRAL.pkl")


def test_folded_keypoints_match_the_skinned_mesh(body: BodyModel) -> None:
    """The open body's keypoints come from folded (K,24) terms, not from skinning their support
    vertices; they must equal the keypoint regressor applied to the full skinned mesh."""
    assert not body.has_pose_correctives
    generator = torch.Generator().manual_seed(3)
    params = BodyParams.zeros(4)
    params.global_orient = torch.randn(4, 3, generator=generator)
    params.body_pose = torch.randn(4, 23, 3, generator=generator) * 0.6
    params.betas = torch.randn(4, 10, generator=generator) * 1.5
    params.transl = torch.randn(4, 3, generator=generator)
    with torch.no_grad():
        out = body(params)
    support = out.vertices[:, body.keypoint_support]
    expected = torch.einsum("ks,bsd->bkd", body.keypoint_weights, support)
    assert torch.allclose(out.keypoints, expected, atol=1e-5)
    # Moving any limb moves its keypoints (the folded terms are not a constant).
    params.body_pose[:, J["left_elbow"] - 1] += 1.0
    with torch.no_grad():
        bent = body(params).keypoints
    assert (bent[:, K["left_wrist"]] - out.keypoints[:, K["left_wrist"]]).norm(dim=-1).min() > 0.05
