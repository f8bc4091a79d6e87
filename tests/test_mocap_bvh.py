"""BVH parsing and forward kinematics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from coach_backend.mocap import forward_kinematics, load_bvh, parse_bvh, write_bvh

FIX = Path(__file__).parent / "fixtures" / "cmu"

TOY = """HIERARCHY
ROOT root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  JOINT arm
  {
    OFFSET 1 0 0
    CHANNELS 4 Yrotation Xposition Zrotation Xrotation
    End Site
    {
      OFFSET 0 2 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.033333
0 0 0 0 0 0  0 0 0 0
1 2 3 10 20 30  40 0.5 50 60
"""


def test_fixture_header() -> None:
    m = load_bvh(FIX / "007_08_walk.bvh")
    assert m.num_frames == 121
    assert m.num_channels == 303  # 99 joints x 3 rotations + 6 root channels
    assert len(m.joints) == 100
    assert m.joints[0].name == "CC_Base_Hip" and len(m.joints[0].channels) == 6
    assert m.frame_time == pytest.approx(1 / 60, abs=1e-5)
    assert m.fps == pytest.approx(60.0, abs=0.01)


def test_arbitrary_channel_order_fk() -> None:
    m = parse_bvh(TOY)
    assert m.num_channels == 10 and m.frame_time == pytest.approx(0.033333)
    assert m.joints[1].end_site is not None
    pose = forward_kinematics(m)
    # Frame 0: rest pose.
    np.testing.assert_allclose(pose.positions[0, 1], [1, 0, 0], atol=1e-12)
    # Frame 1: root R = Rx Ry Rz (listed order, intrinsic); arm local = Ry Rz Rx, offset + 0.5 x.
    r_root = Rotation.from_euler("XYZ", [10, 20, 30], degrees=True).as_matrix()
    r_arm = Rotation.from_euler("YZX", [40, 50, 60], degrees=True).as_matrix()
    np.testing.assert_allclose(pose.rotations[1, 0], r_root, atol=1e-12)
    np.testing.assert_allclose(pose.rotations[1, 1], r_root @ r_arm, atol=1e-12)
    np.testing.assert_allclose(
        pose.positions[1, 1], np.array([1, 2, 3]) + r_root @ [1.5, 0, 0], atol=1e-12
    )


def test_write_roundtrip() -> None:
    m = parse_bvh(TOY)
    m2 = parse_bvh(write_bvh(m, decimals=6))
    assert m2.names == m.names
    assert [j.channels for j in m2.joints] == [j.channels for j in m.joints]
    np.testing.assert_allclose(m2.motion, m.motion, atol=1e-6)


def test_fixture_world_is_y_up_and_faces_z_in_tpose() -> None:
    m = load_bvh(FIX / "007_08_walk.bvh")
    p = forward_kinematics(m).positions[0]
    ix = m.index
    assert p[ix("CC_Base_Head"), 1] - p[ix("CC_Base_Hip"), 1] > 0.5  # cm, y up
    assert p[ix("CC_Base_L_Thigh"), 0] > p[ix("CC_Base_R_Thigh"), 0]  # left at +x
    assert p[ix("CC_Base_L_ToeBase"), 2] > p[ix("CC_Base_L_Foot"), 2]  # toes towards +z
