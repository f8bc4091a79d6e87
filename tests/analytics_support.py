"""Known motion for the analytics tests: synthetic exercises with a known rep structure and
CMU fixture trials (retargeted, posed by the body model), with time warps and replay files."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation, Slerp

from coach_backend.analytics import AngleTrack, angles_from_rotations, track_from_joints
from coach_backend.analytics.demo_takes import write_replay_npz  # noqa: F401  (re-exported for tests)
from coach_backend.analytics.synthetic import (
    RepTiming,
    add_rotation_noise,
    exercise_rotations,
    rep_profile,
    total_duration,
)
from coach_backend.body import BodyParams, load_body_model
from coach_backend.mocap import SmplMotion, load_bvh, retarget, smpl_transl

CMU = Path(__file__).parent / "fixtures" / "cmu"
SHOT, WALK = CMU / "006_15_shot.bvh", CMU / "007_08_walk.bvh"
FPS = 30.0
# Pauses at the top and bottom, one fast rep: what a real set looks like.
VARIED_SET = [
    RepTiming(1.0, 0.3, 1.0, 0.6),
    RepTiming(1.5, 1.5, 1.0, 3.0),
    RepTiming(0.7, 0.0, 0.7, 0.4),
    RepTiming(1.2, 0.3, 1.2, 0.6),
    RepTiming(1.0, 0.2, 1.0, 0.5),
]
Warp = Callable[[np.ndarray], np.ndarray]  # attempt time -> reference time (monotone)


@cache
def rest_joints() -> np.ndarray:
    """(24, 3) zero-pose joints of the shipped body (betas 0), y up."""
    with torch.no_grad():
        return load_body_model().rest_joints(torch.zeros(1, 10))[0].double().numpy()


def smooth_warp(ref_duration: float, att_duration: float, wobble: float = 0.05) -> Warp:
    """A non-uniform monotone time map from [0, att_duration] onto [0, ref_duration]:
    overall slower or faster, and unevenly so (speeds up and slows down within the take)."""
    return lambda t: (
        (t / att_duration + wobble * np.sin(2 * np.pi * t / att_duration)) * (ref_duration)
    )


def exercise_take(
    exercise: str,
    timings: list[RepTiming],
    *,
    speed: float = 1.0,
    warp: bool = False,
    knee_deg: float = 110.0,
    noise_deg: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, global_orient, body_pose) of a synthetic take at FPS. ``speed`` < 1: slower
    (the same motion over more time); ``warp``: unevenly so."""
    ref_duration = total_duration(timings)
    duration = ref_duration / speed
    times = np.arange(0.0, duration, 1.0 / FPS)
    src = smooth_warp(ref_duration, duration)(times) if warp else times * speed
    p, rep = rep_profile(src, timings)
    go, bp = exercise_rotations(exercise, p, rep, knee_deg=knee_deg)
    if noise_deg:
        go, bp = add_rotation_noise(go, bp, noise_deg, seed)
    return times, go, bp


def exercise_track(exercise: str, timings: list[RepTiming], **kw: object) -> AngleTrack:
    times, go, bp = exercise_take(exercise, timings, **kw)
    return AngleTrack(
        angles_from_rotations(go, bp, rest_joints()), times, np.ones(len(times), bool), exercise
    )


@cache
def cmu_motion(path: Path) -> SmplMotion:
    return retarget(load_bvh(path), target_fps=None)  # 60 fps: room to resample


def cmu_rotations(motion: SmplMotion, source_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 24, 3) rotvecs (index 0 = global orient) and (T, 3) root, slerped at the given
    times of the trial (seconds)."""
    t = np.arange(motion.num_frames) / motion.fps
    rv = np.concatenate([motion.global_orient[:, None], motion.body_pose], axis=1)
    out = np.stack(
        [Slerp(t, Rotation.from_rotvec(rv[:, j]))(source_times).as_rotvec() for j in range(24)],
        axis=1,
    )
    root = np.stack([np.interp(source_times, t, motion.root_position[:, c]) for c in range(3)], 1)
    return out, root


def cmu_track(
    path: Path, warp: Warp | None = None, speed: float = 1.0, knee_scale: float = 1.0
) -> AngleTrack:
    """A CMU fixture trial posed by the body model (``load_body_model()`` forward), at FPS.
    ``speed`` < 1 with ``warp``: a slower, unevenly timed copy. ``knee_scale`` < 1: knees bent
    less (the knee rotations scaled)."""
    motion = cmu_motion(path)
    ref_duration = (motion.num_frames - 1) / motion.fps
    duration = ref_duration / speed
    times = np.arange(0.0, duration, 1.0 / FPS)
    src = (warp or (lambda t: t * speed))(times)
    rv, root = cmu_rotations(motion, np.clip(src, 0.0, ref_duration))
    knees = [4, 5]  # SMPL left / right knee
    rv[:, knees] *= knee_scale
    rest = rest_joints()
    params = BodyParams.from_numpy(
        global_orient=rv[:, 0], body_pose=rv[:, 1:], transl=smpl_transl(root, rest[0])
    )
    with torch.no_grad():  # joints only: skin no vertices
        out = load_body_model()(params, vertex_ids=torch.zeros(0, dtype=torch.long))
    return track_from_joints(out.joints.double().numpy(), times, None, rest, path.stem)
