"""Names and kinematic tree shared by every body file (open body and real SMPL alike)."""

SMPL_JOINT_NAMES: list[str] = [
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
]  # fmt: skip

# Parent of each joint in SMPL_JOINT_NAMES; -1 for the root.
SMPL_PARENTS: list[int] = [
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21,
]  # fmt: skip

# Surface keypoints: COCO-17 then COCO-WholeBody's six foot points, the set 2D detectors report.
KEYPOINT_NAMES: list[str] = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "left_big_toe", "left_small_toe",
    "left_heel", "right_big_toe", "right_small_toe", "right_heel",
]  # fmt: skip

NUM_JOINTS = len(SMPL_JOINT_NAMES)
NUM_BODY_JOINTS = NUM_JOINTS - 1
NUM_BETAS = 10
NUM_KEYPOINTS = len(KEYPOINT_NAMES)


def _counterpart(name: str) -> str:
    """The left/right counterpart of a name (the name itself on the midline)."""
    for side, other in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(side):
            return other + name.removeprefix(side)
    return name


def mirrored_order(names: list[str]) -> list[int]:
    """For each name, the index of its left/right counterpart: the reordering that goes with a
    left/right reflection of the body."""
    return [names.index(_counterpart(name)) for name in names]


MIRRORED_JOINTS = mirrored_order(SMPL_JOINT_NAMES)
MIRRORED_KEYPOINTS = mirrored_order(KEYPOINT_NAMES)
