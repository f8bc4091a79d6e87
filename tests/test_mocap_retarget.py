"""Retargeting CMU (CC_Base) BVH to SMPL-24, checked on the committed fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from coach_backend.mocap import (
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    forward_kinematics,
    has_added_tpose,
    load_bvh,
    retarget,
    smpl_skeleton_fk,
    smpl_transl,
)
from coach_backend.mocap.evaluate import LIMB_JOINTS, bone_angles_deg, similarity_align

FIX = Path(__file__).parent / "fixtures" / "cmu"
WALK, SHOT = FIX / "007_08_walk.bvh", FIX / "006_15_shot.bvh"
L_KNEE, R_KNEE, L_ELBOW, R_ELBOW = 3, 4, 17, 18  # body_pose rows
L_SHOULDER, R_SHOULDER = 15, 16


@pytest.fixture(scope="module")
def walk60():
    return retarget(load_bvh(WALK), target_fps=None, drop_tpose=False)


def test_tpose_frame_gives_zero_pose(walk60) -> None:
    assert has_added_tpose(load_bvh(WALK))
    assert not has_added_tpose(load_bvh(SHOT))
    assert np.abs(walk60.global_orient[0]).max() < 1e-3
    mag = np.degrees(np.linalg.norm(walk60.body_pose[0], axis=-1))
    others = [r for r in range(23) if r not in (L_SHOULDER, R_SHOULDER)]
    assert mag[others].max() < 0.1
    # By design the CC T-pose arms are twisted 30 deg about their long axis relative to SMPL's
    # (see ARM_TWIST_DEG): the shoulders carry exactly that twist, about x.
    for row in (L_SHOULDER, R_SHOULDER):
        np.testing.assert_allclose(walk60.body_pose[0, row], [-np.radians(30), 0, 0], atol=2e-3)


def test_tpose_dropped_and_subsampled() -> None:
    m = load_bvh(WALK)
    sm = retarget(m)  # defaults: 30 fps, T-pose frame dropped
    assert sm.fps == 30.0
    assert sm.num_frames == len(range(1, m.num_frames, 2))


def _knee_angle(pos: np.ndarray, hip: int, knee: int, ankle: int) -> np.ndarray:
    a, b = pos[:, knee] - pos[:, hip], pos[:, ankle] - pos[:, knee]
    cos = (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.arccos(np.clip(cos, -1, 1))


def test_left_right_not_swapped(walk60) -> None:
    # In the walk the left knee flexes (SMPL knee flexion is +x) and its flexion follows the
    # BVH's left-leg geometry, not the right leg's.
    sm = walk60
    m = load_bvh(WALK)
    pos = forward_kinematics(m).positions[:, [m.index(f"CC_Base_{s}") for s in (
        "L_Thigh", "L_Calf", "L_Foot", "R_Thigh", "R_Calf", "R_Foot")]]  # fmt: skip
    left_geo, right_geo = _knee_angle(pos, 0, 1, 2)[1:], _knee_angle(pos, 3, 4, 5)[1:]
    left_flex = sm.body_pose[1:, L_KNEE, 0]
    assert left_flex.max() > np.radians(40)
    assert np.corrcoef(left_flex, left_geo)[0, 1] > 0.99
    assert np.corrcoef(left_flex, right_geo)[0, 1] < 0.5
    # SMPL left joints sit at +x of the pelvis in the body frame.
    j = smpl_skeleton_fk(sm.global_orient[:1], sm.body_pose[:1], sm.bvh_joints[0])[0]
    assert j[SMPL_JOINT_NAMES.index("left_hip"), 0] > j[SMPL_JOINT_NAMES.index("right_hip"), 0]


def test_elbow_and_knee_are_pure_hinges() -> None:
    sm = retarget(load_bvh(SHOT))
    for row, axis in ((L_KNEE, 0), (R_KNEE, 0), (L_ELBOW, 1), (R_ELBOW, 1)):
        rv = sm.body_pose[:, row]
        off_axis = np.delete(rv, axis, axis=1)
        assert np.abs(off_axis).max() < np.radians(5), SMPL_JOINT_NAMES[row + 1]
    assert (sm.body_pose[:, L_ELBOW, 1] < 0.05).all()  # left elbow flexes about -y
    assert (sm.body_pose[:, R_ELBOW, 1] > -0.05).all()  # right about +y


def test_skeleton_reproduces_bvh_joints(walk60) -> None:
    # The SMPL tree, given the CC T-pose joint positions as its rest skeleton, must reproduce the
    # BVH joints: an end-to-end check of the rotation transfer independent of any body shape.
    rest = walk60.bvh_joints[0]
    for sm in (walk60, retarget(load_bvh(SHOT), target_fps=None)):
        fk = smpl_skeleton_fk(sm.global_orient, sm.body_pose, rest, sm.root_position)
        err = np.linalg.norm(fk - sm.bvh_joints, axis=-1) * 1000  # mm
        head = SMPL_JOINT_NAMES.index("head")
        assert np.delete(err, head, axis=1).max() < 15.0  # arm-twist re-reference: hands ~11 mm
        assert err[:, head].max() < 35.0  # two CC neck bones -> one SMPL neck bone


def test_body_model_tracks_bvh_joints() -> None:
    torch = pytest.importorskip("torch")
    from coach_backend.body import BodyParams, load_body_model
    from coach_backend.mocap.build_dataset import body_placement

    torch.set_num_threads(1)
    body = load_body_model()
    pelvis, scale, _ = body_placement()
    for path in (WALK, SHOT):
        sm = retarget(load_bvh(path))
        with torch.no_grad():
            out = body(
                BodyParams.from_numpy(
                    global_orient=sm.global_orient,
                    body_pose=sm.body_pose,
                    transl=smpl_transl(sm.root_position, pelvis, scale),
                ),
                vertex_ids=torch.zeros(0, dtype=torch.long),
            )
        pred = out.joints.numpy().astype(np.float64)
        lim = list(LIMB_JOINTS)
        aligned = similarity_align(pred[:, lim], sm.bvh_joints[:, lim])
        err = np.linalg.norm(aligned - sm.bvh_joints[:, lim], axis=-1).mean() * 1000
        # Mostly rig differences (joint placement, proportions); measured ~50 mm on all of CMU.
        assert err < 70.0, f"{path.name}: limb PA-MPJPE {err:.1f} mm"
        # Shin / upper-arm / forearm directions transfer almost exactly (thighs carry the open
        # body's ~6 deg rest-pose leg abduction).
        angles = bone_angles_deg(pred, sm.bvh_joints)
        assert angles[:, 2:].mean() < 3.0


def test_skeleton_constants_match_body_package() -> None:
    from coach_backend.body import SMPL_JOINT_NAMES as body_names
    from coach_backend.body import SMPL_PARENTS as body_parents

    assert list(SMPL_JOINT_NAMES) == list(body_names)
    assert list(SMPL_PARENTS) == list(body_parents)


def test_global_orient_is_rotation_of_pelvis(walk60) -> None:
    # Heading: the walker moves along its own facing direction.
    fwd = Rotation.from_rotvec(walk60.global_orient[1:]).apply([0, 0, 1])
    step = walk60.root_position[-1] - walk60.root_position[1]
    step[1] = 0
    assert fwd.mean(0) @ step / np.linalg.norm(step) > 0.9
