"""How the GC-SSN lifter trains: the batch sampler (mocap -> detector-like 2D), the pose
samplers, the losses and the resumable trainer. The command, its settings (`LifterTrainConfig`,
`CameraRanges`, `RECIPES`) and what a batch is made of are in `coach_backend.gcssn.train_lifter`,
which imports this module only once its arguments are parsed.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation
from smplx.lbs import batch_rodrigues
from tqdm import tqdm

from coach_backend.body import BodyModel, load_body_model
from coach_backend.body.skeleton import (
    KEYPOINT_NAMES,
    NUM_BETAS,
    NUM_JOINTS,
    NUM_KEYPOINTS,
    SMPL_JOINT_NAMES,
)
from coach_backend.gcssn.api import save_gcssn
from coach_backend.gcssn.configs import STAGE_WEIGHTS, CameraRanges, LifterTrainConfig
from coach_backend.gcssn.lifter import (
    NETWORK_TYPE,
    KeypointLifter,
    LifterConfig,
    parameter_count,
    widen_to_window,
)
from coach_backend.gcssn.metrics import pa_mpjpe
from coach_backend.gcssn.synthetic import camera_rotation
from coach_backend.gcssn.training import ResumableTraining, _git_commit
from coach_backend.mocap.dataset import MotionDataset, load_motion_dataset
from coach_backend.perception.detector_offsets import (
    apply_detector_offsets,
    load_detector_offsets,
)
from coach_backend.prior.poses import mirror_body_pose

NO_VERTICES = torch.zeros(0, dtype=torch.long)
# MediaPipe has no small toes: they are always missing at inference, so always in training.
ALWAYS_MISSING = [KEYPOINT_NAMES.index(n) for n in ("left_small_toe", "right_small_toe")]
FACE = [KEYPOINT_NAMES.index(n) for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear")]
LIMBS = [
    f"{side}_{part}"
    for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    for side in ("left", "right")
]
LIMB_KEYPOINTS = [KEYPOINT_NAMES.index(n) for n in LIMBS]
LIMB_JOINTS = [SMPL_JOINT_NAMES.index(n) for n in LIMBS]
# Limbs whose local rotations can be swapped between frames (`part_mix_rate`): body_pose rows.
PARTS = tuple(
    [SMPL_JOINT_NAMES.index(f"{side}_{j}") - 1 for j in joints]
    for side in ("left", "right")
    for joints in (
        ("collar", "shoulder", "elbow", "wrist", "hand"),
        ("hip", "knee", "ankle", "foot"),
    )
)
# Keypoint sets that users bring from other detectors or from ground truth (all else missing).
USER_KEYPOINT_SETS = (
    [KEYPOINT_NAMES.index("nose"), *LIMB_KEYPOINTS],  # 13: nose + 12 limb points (H36M-like)
    list(range(17)),  # COCO-17, no feet
    list(range(NUM_KEYPOINTS)),  # all 23
)
FRAME_SHAPES = ((640, 480), (1280, 720), (720, 1280), (1080, 1920), (1920, 1080), (480, 640))
# Temporal lifter windows: mocap frames are taken at the window's rate times these speeds, so
# the network sees each motion from half to 1.5x as fast as it was captured.
WINDOW_SPEEDS = (0.5, 1.0, 1.5)
WINDOW_EDGE_RATE = 0.1  # windows cut as at a clip's start or end
WINDOW_FRAME_DROP_RATE = 0.05  # other frames of a window with no person found
# Leg rows of body_pose (SMPL joint index - 1) that `flexed_legs` writes, per side.
LEG_ROWS = {
    side: [SMPL_JOINT_NAMES.index(f"{side}_{j}") - 1 for j in ("hip", "knee", "ankle")]
    for side in ("left", "right")
}
SQUAT_SHARE = 0.7  # of the flexed-leg samples; the rest are lunges
# Arm rows of body_pose (collar, shoulder, elbow) that `raised_arms` writes, per side.
ARM_ROWS = {
    side: [SMPL_JOINT_NAMES.index(f"{side}_{j}") - 1 for j in ("collar", "shoulder", "elbow")]
    for side in ("left", "right")
}
SYMMETRIC_ARMS_SHARE = 0.5  # of the raised-arm samples: both arms alike (jumping jack, press)
# Spine rows of body_pose (spine1..3) that `bent_trunk` turns, and the sampled ranges (deg) of
# the whole trunk's bend: forward (- = arching back), to either side, twist; and the hip hinge.
SPINE_ROWS = [SMPL_JOINT_NAMES.index(f"spine{i}") - 1 for i in (1, 2, 3)]
HIP_ROWS = [SMPL_JOINT_NAMES.index(f"{side}_hip") - 1 for side in ("left", "right")]
TRUNK_FLEX_DEG = (-25.0, 70.0)
TRUNK_SIDE_DEG = 35.0
TRUNK_TWIST_DEG = 45.0
HIP_HINGE_DEG = (0.0, 70.0)


@dataclass(frozen=True)
class DetectorNoise:
    """Corruption of the projected keypoints, in fractions of the body's image height."""

    jitter: tuple[float, float] = (0.0, 0.012)  # per-sample sd for a fully confident point
    bias_sd: float = 0.008  # per-sample, per-keypoint systematic offset (detector definitions)
    outlier_rate: float = 0.02  # a keypoint lands somewhere else
    outlier_sd: float = 0.08
    low_confidence_rate: float = 0.15  # occluded points: low visibility, more noise
    drop_rate: tuple[float, float] = (0.0, 0.1)
    face_drop_rate: float = 0.05  # the whole face missing (hood, turned away, cropped)
    # Keypoints a user brings (`reconstruct_from_keypoints`): no detector 3D, one of
    # USER_KEYPOINT_SETS, half of them with limb points at the joint centres (mocap/H36M-style
    # ground truth) instead of MediaPipe's definitions, half with full confidence.
    user_keypoints_rate: float = 0.0


@dataclass(frozen=True)
class WorldNoise:
    """How MediaPipe's world landmarks differ from the truth, as measured on 292 shaded renders of
    CMU train poses (hip-centred, camera axes): depth squashed to ~0.67 of the truth, x to ~0.89,
    errors ~4 cm across and ~8.5 cm in depth (PA-MPJPE 78 mm on those renders)."""

    axis_scale: tuple[float, float, float] = (0.89, 0.99, 0.67)
    axis_scale_sd: tuple[float, float, float] = (0.06, 0.04, 0.15)
    rotation_sd_deg: float = 5.0
    point_sd_m: tuple[float, float, float] = (0.03, 0.03, 0.06)
    present_rate: float = 0.75  # the rest trains the "no detector 3D" path (user keypoints)


class KeypointSampler:
    """Batches of (features, rays, confidences, truth) from world-frame mocap poses."""

    def __init__(
        self,
        body: BodyModel,
        global_orient: np.ndarray,
        body_pose: np.ndarray,
        rng: np.random.Generator,
        cameras: CameraRanges | None = None,
        noise: DetectorNoise | None = None,
        mirror: bool = True,
        world: WorldNoise | None = None,
        detector_offsets: tuple[np.ndarray, np.ndarray] | None = None,
        part_mix_rate: float = 0.0,
        pose_rates: dict[str, float] | None = None,
        sequences: MotionDataset | None = None,
        window: LifterConfig | None = None,
    ) -> None:
        self.body = body
        self.global_orient = global_orient
        self.body_pose = body_pose
        # Windows of frames (a temporal lifter) need the trials' order and root motion.
        self.window_radius = window.window_radius if window else 0
        n = len(body_pose)
        self.transl = np.zeros((n, 3)) if sequences is None else sequences.transl
        self.trial_index = np.zeros(n, int) if sequences is None else sequences.trial_index
        trials = np.arange(self.trial_index.max() + 1)
        self.trial_start = np.searchsorted(self.trial_index, trials, side="left")
        self.trial_end = np.searchsorted(self.trial_index, trials, side="right") - 1
        self.strides = (1,)
        if self.window_radius:
            if sequences is None:
                raise ValueError("a window of frames needs `sequences` (trial order, root motion)")
            per_window = sequences.fps / window.window_fps
            self.strides = tuple(sorted({max(1, round(per_window * s)) for s in WINDOW_SPEEDS}))
        self.rng = rng
        self.cameras = cameras or CameraRanges()
        self.noise = noise or DetectorNoise()
        self.mirror = mirror
        self.world = world or WorldNoise()
        # (anchor joints, offsets): where MediaPipe puts each keypoint relative to the body's own
        # (measured on renders, `coach_backend.perception.detector_offsets`); None = the body's.
        self.detector_offsets = detector_offsets
        # Per limb and sample: that limb's rotations come from another frame (poses CMU never
        # had, e.g. one arm up while the legs kick; the motions themselves stay CMU's).
        self.part_mix_rate = part_mix_rate
        # Share of samples each of POSE_SAMPLERS rewrites, by its config field (missing = 0).
        self.pose_rates = pose_rates or {}

    def sample(self, size: int, clean: bool = False) -> dict[str, torch.Tensor]:
        """`size` samples; with a window (`window_radius` > 0) each sample is a short clip of
        2 radius + 1 frames seen by one camera, and the truth is its centre frame's."""
        rng, cam = self.rng, self.cameras
        radius, width_w = self.window_radius, 2 * self.window_radius + 1
        centre = rng.integers(0, len(self.body_pose), size)
        stride = rng.choice(self.strides, size)
        rows = self._window_rows(centre, stride, edges=not clean)
        orient, pose = self.global_orient[rows], self.body_pose[rows].copy()
        transl = self.transl[rows] - self.transl[centre][:, None]  # root motion, world frame
        if self.part_mix_rate and not clean:
            for part in PARTS:
                swap = np.flatnonzero(rng.random(size) < self.part_mix_rate)
                donors = rng.integers(0, len(self.body_pose), len(swap))
                donor_rows = self._window_rows(donors, stride[swap], edges=False)
                mixed = pose[swap]
                mixed[:, :, part] = self.body_pose[donor_rows][:, :, part]
                pose[swap] = mixed
        for field, rewrite, _ in POSE_SAMPLERS:
            rate = self.pose_rates.get(field, 0.0)
            if rate and not clean:
                chosen = np.flatnonzero(rng.random(size) < rate)
                orient[chosen], pose[chosen] = rewrite(orient[chosen], pose[chosen], rng)
        if self.mirror:
            flip = rng.random(size) < 0.5
            pose[flip] = mirror_body_pose(pose[flip].reshape(-1, *pose.shape[2:])).reshape(
                pose[flip].shape
            )
            orient = np.where(flip[:, None, None], orient * np.array([1.0, -1.0, -1.0]), orient)
            transl = np.where(flip[:, None, None], transl * np.array([-1.0, 1.0, 1.0]), transl)
        deg = np.deg2rad
        view = camera_rotation(
            deg(rng.uniform(*cam.yaw_deg, size)),
            deg(rng.uniform(*cam.elevation_deg, size)),
            deg(rng.uniform(*cam.roll_deg, size)),
        )
        frames = size * width_w

        def per_frame(a: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
            """A per-sample array repeated for each frame of its window."""
            if isinstance(a, torch.Tensor):
                return a.repeat_interleave(width_w, dim=0)
            return np.repeat(a, width_w, axis=0)

        full = torch.as_tensor(
            np.concatenate([orient[..., None, :], pose], -2).reshape(frames, NUM_JOINTS, 3),
            dtype=torch.float32,
        )
        rotmats = batch_rodrigues(full.reshape(-1, 3)).reshape(frames, NUM_JOINTS, 3, 3)
        view_t = torch.as_tensor(view, dtype=torch.float32)
        rotmats[:, 0] = per_frame(view_t) @ rotmats[:, 0]
        betas = torch.as_tensor(
            np.clip(rng.normal(0, cam.betas_sd, (size, NUM_BETAS)), -2.5, 2.5), dtype=torch.float32
        )
        with torch.no_grad():
            out = self.body.from_rotmats(
                rotmats, per_frame(betas), torch.zeros(frames, 3), NO_VERTICES
            )
        joints, keypoints = out.joints, out.keypoints
        detected = keypoints  # what the detector reports: its own keypoint definitions
        if self.detector_offsets is not None:
            detected = apply_detector_offsets(
                keypoints, out.joint_transforms, *self.detector_offsets
            )
        user = np.zeros(size, bool)
        if not clean:
            user = rng.random(size) < self.noise.user_keypoints_rate
        centres = torch.as_tensor(np.flatnonzero(per_frame(user & (rng.random(size) < 0.5))))
        if len(centres):
            detected = detected.clone()
            detected[centres[:, None], LIMB_KEYPOINTS] = joints[centres[:, None], LIMB_JOINTS]

        # Frame and intrinsics, then a pelvis position that keeps the (centre) pelvis in the
        # frame; the window's other frames move with the mocap's root, seen by the same camera.
        shape_ids = rng.integers(0, len(FRAME_SHAPES), size)
        width = np.array([FRAME_SHAPES[i][0] for i in shape_ids], float)
        height = np.array([FRAME_SHAPES[i][1] for i in shape_ids], float)
        focal = np.maximum(width, height) / (2 * np.tan(deg(rng.uniform(*cam.hfov_deg, size)) / 2))
        depth = rng.uniform(*cam.distance_m, size)
        u = rng.uniform(0.2, 0.8, size) * width
        v = rng.uniform(0.3, 0.7, size) * height
        pelvis = np.stack(
            [(u - width / 2) * depth / focal, (v - height / 2) * depth / focal, depth], -1
        )
        pelvis = (pelvis[:, None] + np.einsum("sij,swj->swi", view, transl)).reshape(frames, 3)
        shift = torch.as_tensor(pelvis, dtype=torch.float32) - joints[:, 0]
        points = detected + shift[:, None]
        f = torch.as_tensor(per_frame(focal), dtype=torch.float32)[:, None]
        size_wh = torch.as_tensor(per_frame(np.stack([width, height], -1)), dtype=torch.float32)
        pixels = points[..., :2] / points[..., 2:].clamp_min(0.1) * f[..., None]
        pixels = pixels + size_wh[:, None] / 2

        conf = torch.ones(frames, len(KEYPOINT_NAMES))
        user_frames = per_frame(user)
        if not clean:
            pixels, conf = self._corrupt(pixels, f, width_w)
            conf[user_frames] = per_frame(self._user_confidences(conf[user_frames][::width_w]))
            if radius:  # whole frames without a person (missed detections, gaps)
                gone = rng.random((size, width_w)) < WINDOW_FRAME_DROP_RATE
                gone[:, radius] = False
                conf[torch.as_tensor(gone.reshape(-1))] = 0.0
        inside = (
            (pixels >= 0).all(-1) & (pixels < size_wh[:, None]).all(-1) & (points[..., 2] > 0.1)
        )
        conf = conf * inside
        conf[np.flatnonzero(~user_frames)[:, None], ALWAYS_MISSING] = 0.0
        rays = (pixels - size_wh[:, None] / 2) / f[..., None] * (conf[..., None] > 0)
        centre_of = slice(radius, None, width_w)  # the centre frame of every window
        world, present = self._world(detected[centre_of], clean, absent=user)
        if radius:
            rays = rays.reshape(size, width_w, *rays.shape[1:])
            conf = conf.reshape(size, width_w, -1)
        root = joints[centre_of, :1]
        return {
            "rays": rays,
            "conf": conf,
            "world": world,
            "world_present": present,
            "rotmats": rotmats[centre_of],
            "betas": betas,
            "joints": joints[centre_of] - root,
            "keypoints": keypoints[centre_of] - root,
        }

    def _window_rows(self, centre: np.ndarray, stride: np.ndarray, edges: bool) -> np.ndarray:
        """(S, 2 radius + 1) dataset rows of each sample's window, kept inside its trial;
        with `edges`, some windows are cut as at a clip's first or last frame (repeated)."""
        radius = self.window_radius
        offsets = np.arange(-radius, radius + 1)[None] * stride[:, None]
        trial = self.trial_index[centre]
        rows = np.clip(centre[:, None] + offsets, self.trial_start[trial][:, None],
                       self.trial_end[trial][:, None])  # fmt: skip
        if radius and edges:
            rng = self.rng
            cut = np.flatnonzero(rng.random(len(centre)) < WINDOW_EDGE_RATE)
            keep = rng.integers(0, radius + 1, len(cut))  # frames kept beyond the centre
            positions = np.arange(2 * radius + 1)
            for row, k, before in zip(cut, keep, rng.random(len(cut)) < 0.5, strict=True):
                if before:  # the clip starts k frames before the centre
                    rows[row, positions < radius - k] = rows[row, radius - k]
                else:
                    rows[row, positions > radius + k] = rows[row, radius + k]
        return rows

    def _user_confidences(self, conf: torch.Tensor) -> torch.Tensor:
        """One of USER_KEYPOINT_SETS per sample; half keep detector-like confidences, half are
        ground truth (1 wherever present)."""
        rng = self.rng
        keep = torch.zeros_like(conf)
        for row, choice in enumerate(rng.integers(0, len(USER_KEYPOINT_SETS), len(conf))):
            keep[row, USER_KEYPOINT_SETS[choice]] = 1.0
        exact = torch.as_tensor(rng.random(len(conf)) < 0.5)[:, None]
        return torch.where(exact, (conf > 0).float(), conf) * keep

    def _world(
        self, keypoints: torch.Tensor, clean: bool, absent: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Detector-like 3D keypoints (hip-centred, camera axes) and whether there are any."""
        rng, w = self.rng, self.world
        b = len(keypoints)
        hips = keypoints[:, [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]]
        centred = (keypoints - hips.mean(1, keepdim=True)).numpy()
        scale = np.array(w.axis_scale) + rng.normal(0, 1, (b, 3)) * np.array(w.axis_scale_sd)
        if clean:
            scale = np.broadcast_to(np.array(w.axis_scale), (b, 3))
        turn = Rotation.from_rotvec(rng.normal(0, np.deg2rad(w.rotation_sd_deg), (b, 3)))
        world = np.einsum("bij,bkj->bki", turn.as_matrix(), centred) * scale[:, None]
        world = world + rng.normal(0, 1, world.shape) * np.array(w.point_sd_m)
        world[:, ALWAYS_MISSING] = 0.0
        present = (rng.random(b) < w.present_rate) & ~absent
        world = world * present[:, None, None]
        return torch.as_tensor(world, dtype=torch.float32), torch.as_tensor(present)

    def _corrupt(
        self, pixels: torch.Tensor, focal: torch.Tensor, group: int = 1
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Detector-like corruption of (B,K,2) pixels; consecutive runs of `group` frames are
        one sample's window and share its noise level, systematic offsets and drop rate."""
        rng, noise = self.rng, self.noise
        b, k, _ = pixels.shape
        samples = b // group
        extent = (pixels.amax(1) - pixels.amin(1)).amax(-1).numpy()[:, None, None]  # body height
        conf = rng.uniform(0.6, 1.0, (b, k))
        low = rng.random((b, k)) < noise.low_confidence_rate
        conf[low] = rng.uniform(0.02, 0.6, int(low.sum()))
        level = np.repeat(rng.uniform(*noise.jitter, (samples, 1, 1)), group, axis=0)
        sd = level * (1.0 + 3.0 * (1.0 - conf[..., None]))
        bias = np.repeat(rng.normal(0, noise.bias_sd, (samples, k, 2)), group, axis=0)
        offset = rng.normal(0, 1, (b, k, 2)) * sd + bias
        outlier = rng.random((b, k, 1)) < noise.outlier_rate
        offset = offset + outlier * rng.normal(0, noise.outlier_sd, (b, k, 2))
        rate = np.repeat(rng.uniform(*noise.drop_rate, (samples, 1)), group, axis=0)
        drop = rng.random((b, k)) < rate
        drop[:, FACE] |= (rng.random(b) < noise.face_drop_rate)[:, None]
        conf[drop] = 0.0
        noisy = pixels + torch.as_tensor(offset * extent, dtype=torch.float32)
        return noisy, torch.as_tensor(conf, dtype=torch.float32)


def flexed_legs(
    orient: np.ndarray, pose: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(S, W, 3) root and (S, W, 23, 3) body rotations with the legs replaced by a sampled
    squat or sit (both thighs forward, knees spread) or lunge (one thigh forward, one back),
    the pelvis pitched forward as the trunk leans; the upper body stays the mocap's. Angles are
    built from the thigh's and shin's pitch in the pelvis' upright frame so that the foot ends
    near flat: hip = -(thigh + lean), knee = thigh + shin, ankle = -shin (SMPL: +x bends a
    knee, -x lifts a thigh, +x pitches the root forward)."""
    s = len(orient)
    orient, pose = orient.copy(), pose.copy()
    squat = rng.random(s) < SQUAT_SHARE
    front_left = rng.random(s) < 0.5
    thigh_front = np.where(squat, rng.uniform(20, 100, s), rng.uniform(40, 95, s))
    lean = np.where(squat, rng.uniform(0, 0.45, s) * thigh_front, rng.uniform(-5, 25, s))
    shin_front = rng.uniform(-5, 35, s)
    thighs, shins = {}, {}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        front = squat | (front_left == (side == "left"))
        jitter = rng.normal(0, 8, (2, s))
        thighs[side] = np.where(front, thigh_front + jitter[0], rng.uniform(-40, -5, s))
        back_knee = rng.uniform(10, 100, s)  # a lunge's back leg: thigh behind, knee bent
        shins[side] = np.where(front, shin_front + jitter[1], back_knee - thighs[side])
        spread = np.where(squat, rng.uniform(0, 30, s), rng.uniform(-5, 10, s))
        abduct = rng.uniform(0, 15, s)
        hip = (
            Rotation.from_euler("y", sign * spread[:, None], degrees=True)
            * Rotation.from_euler("z", sign * abduct[:, None], degrees=True)
            * Rotation.from_euler("x", -(thighs[side] + lean)[:, None], degrees=True)
        )
        knee = np.clip(thighs[side] + shins[side], 0, 155)
        ankle = np.clip(-shins[side] + rng.normal(0, 8, s), -40, 40)
        hip_row, knee_row, ankle_row = LEG_ROWS[side]
        pose[:, :, hip_row] = hip.as_rotvec()[:, None]
        pose[:, :, knee_row] = (np.deg2rad(knee)[:, None] * np.array([1.0, 0, 0]))[:, None]
        pose[:, :, ankle_row] = (np.deg2rad(ankle)[:, None] * np.array([1.0, 0, 0]))[:, None]
    w = orient.shape[1]
    pitch = Rotation.from_euler("x", np.repeat(lean, w)[:, None], degrees=True)
    root = Rotation.from_rotvec(orient.reshape(-1, 3)) * pitch
    return root.as_rotvec().reshape(orient.shape), pose


def raised_arms(
    orient: np.ndarray, pose: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(S, W, 3) root (returned as it is) and (S, W, 23, 3) body rotations with the arms
    raised: each upper arm turned from its rest direction (straight out to the side, SMPL's
    T-pose) to a sampled one, 60-178 deg up from hanging in a plane between the side and the
    front, twisted about itself, the elbow bent 0-140 deg; in SYMMETRIC_ARMS_SHARE of the
    samples both arms alike. Collars are zeroed (the trunk frame is then the shoulder's
    parent); trunk, hands and legs stay the mocap's."""
    s = len(pose)
    pose = pose.copy()
    same = rng.random(s) < SYMMETRIC_ARMS_SHARE
    first = [rng.uniform(60, 178, s), rng.uniform(-30, 100, s), rng.uniform(0, 140, s)]
    for side, out in (("left", 1.0), ("right", -1.0)):
        own = [rng.uniform(60, 178, s), rng.uniform(-30, 100, s), rng.uniform(0, 140, s)]
        elevation, plane, bend = (
            np.where(same, a + rng.normal(0, 5, s), b) for a, b in zip(first, own, strict=True)
        )
        up, across = np.deg2rad(np.clip(elevation, 0, 178)), np.deg2rad(plane)
        # Trunk frame: x to the body's left, y up, z forward; rest arm along (out, 0, 0).
        target = np.stack(
            [out * np.sin(up) * np.cos(across), -np.cos(up), np.sin(up) * np.sin(across)], -1
        )
        rest = np.array([out, 0.0, 0.0])
        axis = np.cross(rest, target)
        angle = np.arctan2(np.linalg.norm(axis, axis=-1), target @ rest)
        axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-9)
        turn = Rotation.from_rotvec(axis * angle[:, None])
        twist = Rotation.from_rotvec(target * np.deg2rad(rng.uniform(-60, 60, s))[:, None])
        shoulder = (twist * turn).as_rotvec()
        # The elbow bends the forearm forward in the upper arm's own frame (y axis).
        elbow = np.deg2rad(bend)[:, None] * np.array([0.0, -out, 0.0])
        collar, shoulder_row, elbow_row = ARM_ROWS[side]
        pose[:, :, collar] = 0.0
        pose[:, :, shoulder_row] = shoulder[:, None]
        pose[:, :, elbow_row] = elbow[:, None]
    return orient, pose


def bent_trunk(
    orient: np.ndarray, pose: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(S, W, 3) root and (S, W, 23, 3) body rotations with the trunk bent: a sampled forward
    bend (or arch), side bend and twist shared out over the three spine joints, on top of a hip
    hinge (the pelvis pitched forward, both hips turned back by as much, so the thighs keep
    their direction): reaching, bending over, deadlifts, a serve's arch. Limbs, neck and head
    stay the mocap's, carried by the trunk. In SMPL's joint frames +x pitches forward, +y
    twists, +z bends to the body's right."""
    s, w = pose.shape[:2]
    orient, pose = orient.copy(), pose.copy()
    share = rng.dirichlet(np.full(len(SPINE_ROWS), 2.0), s)  # (S, 3): each joint's part
    bend = np.stack(
        [
            rng.uniform(*TRUNK_FLEX_DEG, s),
            rng.uniform(-TRUNK_TWIST_DEG, TRUNK_TWIST_DEG, s),
            rng.uniform(-TRUNK_SIDE_DEG, TRUNK_SIDE_DEG, s),
        ],
        -1,
    )
    for j, row in enumerate(SPINE_ROWS):
        turn = Rotation.from_euler("xyz", np.repeat(bend * share[:, j : j + 1], w, 0), degrees=True)
        old = Rotation.from_rotvec(pose[:, :, row].reshape(-1, 3))
        pose[:, :, row] = (old * turn).as_rotvec().reshape(s, w, 3)
    hinge_deg = np.repeat(rng.uniform(*HIP_HINGE_DEG, s), w)[:, None]
    hinge = Rotation.from_euler("x", hinge_deg, degrees=True)
    root = Rotation.from_rotvec(orient.reshape(-1, 3))
    orient = (root * hinge).as_rotvec().reshape(orient.shape)
    for row in HIP_ROWS:
        hip = Rotation.from_rotvec(pose[:, :, row].reshape(-1, 3))
        pose[:, :, row] = (hinge.inv() * hip).as_rotvec().reshape(s, w, 3)
    return orient, pose


# Poses the 61 CMU trials barely have, sampled into a share of the training samples (in this
# order): the LifterTrainConfig rate field, the rewrite (root, body pose, rng) -> (root, body
# pose), and how the model card says it. Why each: hips and knees both past 90 deg in 0.5 % of
# the frames, yet squats and lunges are what a coach films; upper arms past 135 deg in 1.5 %,
# yet jumping jacks, presses and serves are full of them; one "bend over" trial, yet reaching,
# lifting and throws are made of bent trunks.
POSE_SAMPLERS = (
    ("leg_pose_rate", flexed_legs, "the legs of {:.0%} of samples a sampled squat, sit or lunge"),
    ("arm_pose_rate", raised_arms, "the arms of {:.0%} of samples raised to a sampled direction"),
    (
        "trunk_pose_rate",
        bent_trunk,
        "the trunk of {:.0%} of samples bent, arched or twisted on a hip hinge",
    ),
)


def supervised_losses(
    net: KeypointLifter, body: BodyModel, batch: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Pelvis-relative 3D joints + surface keypoints (m), rotations and shape vs the mocap."""
    pred = net(
        net.input_features(batch["rays"], batch["conf"], batch["world"], batch["world_present"])
    )
    zero = torch.zeros(len(pred.betas), 3)
    out = body.from_rotmats(pred.rotmats, pred.betas, zero, NO_VERTICES)
    root = out.joints[:, :1]
    joints, keypoints = out.joints - root, out.keypoints - root
    return {
        "joints": (joints - batch["joints"]).norm(dim=-1).mean()
        + (keypoints - batch["keypoints"]).norm(dim=-1).mean(),
        "rotations": ((pred.rotmats - batch["rotmats"]) ** 2).sum((-1, -2)).mean(),
        "betas": ((pred.betas - batch["betas"]) ** 2).mean(),
    }


def weighted_total(terms: dict[str, torch.Tensor], config: LifterTrainConfig) -> torch.Tensor:
    weights = {
        "joints": config.weight_joints,
        "rotations": config.weight_rotations,
        "betas": config.weight_betas,
    }
    return sum(weights[k] * v for k, v in terms.items())


class LifterTrainer(ResumableTraining):
    warmup_divisor = 50
    lr_floor = 0.01

    def __init__(self, config: LifterTrainConfig) -> None:
        self.config = config
        torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.body = load_body_model()
        train = load_motion_dataset(config.dataset, "train")
        test = load_motion_dataset(config.dataset, "test")
        offsets = None
        if config.detector_offsets is not None:
            offsets = load_detector_offsets(config.detector_offsets)
        net_config = LifterConfig(
            hidden=config.hidden,
            blocks=config.blocks,
            world_input=config.world_input,
            window_radius=config.window_radius,
        )
        self.sampler = KeypointSampler(
            self.body,
            train.global_orient,
            train.body_pose,
            self.rng,
            cameras=CameraRanges(roll_deg=(-config.camera_roll_deg, config.camera_roll_deg)),
            noise=DetectorNoise(user_keypoints_rate=config.user_keypoints_rate),
            detector_offsets=offsets,
            part_mix_rate=config.part_mix_rate,
            pose_rates={field: getattr(config, field) for field, *_ in POSE_SAMPLERS},
            sequences=train,
            window=net_config,
        )
        # A fixed held-out batch (test trials, clean 2D) to follow progress.
        held_out = KeypointSampler(
            self.body,
            test.global_orient,
            test.body_pose,
            np.random.default_rng(1234),
            sequences=test,
            window=net_config,
        )
        self.validation = held_out.sample(2048, clean=True)
        self.net = KeypointLifter(net_config)
        if config.init is not None:
            state = {k: v.float() for k, v in torch.load(config.init)["state_dict"].items()}
            if state["stem.0.weight"].shape != self.net.stem[0].weight.shape:
                state = widen_to_window(state, net_config)  # a one-frame lifter starts it
            self.net.load_state_dict(state)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=1e-4)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        self.step = 0
        self.history: list[dict[str, float]] = []

    def losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return supervised_losses(self.net, self.body, batch)

    def validate(self) -> dict[str, float]:
        """Held-out clean 2D: as the detector gives it, and as 13 user keypoints (nose + limbs,
        no detector 3D)."""
        v = self.validation
        thirteen = torch.zeros_like(v["conf"])
        thirteen[..., USER_KEYPOINT_SETS[0]] = v["conf"][..., USER_KEYPOINT_SETS[0]]
        truth = v["joints"].numpy()
        scores = {}
        self.net.eval()
        for name, conf, present in (
            ("val", v["conf"], v["world_present"]),
            ("val13", thirteen, torch.zeros_like(v["world_present"])),
        ):
            with torch.no_grad():
                pred = self.net(self.net.input_features(v["rays"], conf, v["world"], present))
                out = self.body.from_rotmats(
                    pred.rotmats, pred.betas, torch.zeros(len(pred.betas), 3), NO_VERTICES
                )
            joints = (out.joints - out.joints[:, :1]).numpy()
            scores[f"{name}_mpjpe"] = float(np.linalg.norm(joints - truth, axis=-1).mean() * 1000)
            scores[f"{name}_pa_mpjpe"] = float(pa_mpjpe(joints, truth).mean())
        self.net.train()
        return scores

    def train(self) -> None:
        cfg = self.config
        resumed = self.try_resume()
        print(
            f"GC-SSN lifter: {parameter_count(self.net) / 1e6:.2f} M parameters, "
            f"{len(self.sampler.body_pose)} train poses, "
            f"{'resuming at step ' + str(self.step) if resumed else 'fresh'}"
        )
        self.net.train()
        bar = tqdm(
            total=cfg.steps, initial=self.step, desc="train lifter", unit="step", mininterval=30
        )
        started = time.time()
        while self.step < cfg.steps:
            terms = self.losses(self.sampler.sample(cfg.batch))
            total = weighted_total(terms, cfg)
            self.optimizer.zero_grad(set_to_none=True)
            total.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 5.0)
            self.optimizer.step()
            self.scheduler.step()
            self.step += 1
            record = {k: float(v.detach()) for k, v in terms.items()}
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                record.update(self.validate())
                tqdm.write(
                    f"step {self.step}: " + ", ".join(f"{k} {v:.4g}" for k, v in record.items())
                )
            self.history.append(record)  # before saving, so a resumed run keeps every step
            if "val_pa_mpjpe" in record:
                self.save()
            bar.update(1)
            bar.set_postfix({k: f"{v:.3g}" for k, v in record.items()}, refresh=False)
        bar.close()
        print(f"trained {cfg.steps} steps ({time.time() - started:.0f} s this run)")

    def export(self, path: Path) -> None:
        """Weights + a model card, as loaded by `coach_backend.gcssn.load_gcssn`."""
        validation = [h for h in self.history if "val_pa_mpjpe" in h]
        temporal = self.net.config.window_radius > 0
        card = {
            "name": "gcssn-temporal" if temporal else "gcssn-lifter",
            "network_type": NETWORK_TYPE,
            "mode": "supervised-mocap",
            "network": asdict(self.net.config),
            "steps": self.step,
            "batch": self.config.batch,
            "data": f"CMU train split ({self.config.dataset}), projected afresh every batch: "
            f"random cameras (roll within +-{self.config.camera_roll_deg:g} deg), shapes, "
            "left/right mirroring, detector-like 2D corruption"
            + (
                f", keypoints moved to MediaPipe's definitions ({self.config.detector_offsets})"
                if self.config.detector_offsets
                else ""
            )
            + (
                ", simulated MediaPipe world landmarks as an input (75 % of samples)"
                if self.config.world_input
                else ""
            )
            + (
                f", {self.config.user_keypoints_rate:.0%} of samples shaped like user keypoints "
                "(13 / COCO-17 / 23 points, half at joint centres, no 3D)"
                if self.config.user_keypoints_rate
                else ""
            )
            + (
                f", each limb's rotations from another frame in {self.config.part_mix_rate:.0%} "
                "of samples"
                if self.config.part_mix_rate
                else ""
            )
            + "".join(
                ", " + says.format(getattr(self.config, field))
                for field, _, says in POSE_SAMPLERS
                if getattr(self.config, field)
            )
            + (
                f"; windows of {self.net.config.window} frames at "
                f"{self.net.config.window_fps:g} fps (mocap at {WINDOW_SPEEDS} x its speed), "
                "cut at clip ends in "
                f"{WINDOW_EDGE_RATE:.0%} and frames without a person in "
                f"{WINDOW_FRAME_DROP_RATE:.0%}; truth: the centre frame"
                if temporal
                else ""
            )
            + (f"; fine-tuned from {self.config.init}" if self.config.init else ""),
            "losses": {
                "joints_3d": self.config.weight_joints,
                "rotations": self.config.weight_rotations,
                "betas": self.config.weight_betas,
            },
            "final_losses": self.final_losses(),
            "held_out_clean_2d": validation[-1] if validation else {},
            "reads_detector_3d": self.config.world_input and self.config.reads_detector_3d,
            "commit": _git_commit(),
            "body_model": self.body.name,
        }
        save_gcssn(self.net, card, path)


def run_recipe(configs: list[LifterTrainConfig], export: Path | None) -> Path:
    """Train each stage not yet exported (a stage resumes from its checkpoint), export it;
    copy the last stage's weights and card to `export`. Returns the final weights."""
    for k, config in enumerate(configs, 1):
        weights = config.out / STAGE_WEIGHTS
        if weights.is_file():
            print(f"stage {k}/{len(configs)}: done ({weights})")
            continue
        print(f"stage {k}/{len(configs)}: {config.steps} steps in {config.out}")
        trainer = LifterTrainer(config)
        trainer.train()
        trainer.export(weights)
    final = configs[-1].out / STAGE_WEIGHTS
    if export is not None:
        export.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(final, export)
        shutil.copyfile(final.with_suffix(".json"), export.with_suffix(".json"))
        return export
    return final
