"""The comparison demo's takes (``python -m coach_backend.analytics.demo``): the squat set
``DEMO_SET`` at ``FPS`` (``squat_take``), written as a replay result ``smpl.npz`` from y-up SMPL
rotations (``write_replay_npz``, which the tests use too).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coach_backend.analytics.synthetic import (
    RepTiming,
    add_rotation_noise,
    exercise_rotations,
    rep_profile,
    total_duration,
)

FPS = 30.0
DEMO_SET = [RepTiming(1.0, 0.3, 1.0, 0.6)] * 3
PELVIS_WIRE = (0.0, 0.0, -3.0)  # 3 m in front of the camera


def write_replay_npz(
    path: Path,
    times: np.ndarray,
    global_orient: np.ndarray,
    body_pose: np.ndarray,
    valid: np.ndarray | None = None,
    fps: float = FPS,
) -> Path:
    """y-up SMPL rotations -> a replay result ``smpl.npz``: camera frame, betas 0, the pelvis
    at PELVIS_WIRE; invalid frames zeroed as the replay writes them. Imports the body model."""
    import torch

    from coach_backend.body import load_body_model
    from coach_backend.stream import wire_to_camera

    n = len(times)
    ok = np.ones(n, bool) if valid is None else np.asarray(valid, bool)
    with torch.no_grad():
        rest_pelvis = load_body_model().rest_joints(torch.zeros(1, 10))[0, 0].double().numpy()
    go_cam, pelvis_cam = wire_to_camera(global_orient, np.tile(PELVIS_WIRE, (n, 1)))
    arrays = {
        "global_orient": go_cam,
        "body_pose": np.asarray(body_pose, np.float64),
        "betas": np.zeros((n, 10)),
        "transl": pelvis_cam - rest_pelvis,
    }
    for key, value in arrays.items():
        keep = ok.reshape(-1, *[1] * (value.ndim - 1))
        arrays[key] = np.where(keep, value, 0.0).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path, **arrays, valid=ok, timestamps=np.asarray(times, np.float64), fps=np.float64(fps)
    )
    return path


def squat_take(
    speed: float = 1.0,
    knee_deg: float = 110.0,
    noise_deg: float = 2.0,
    seed: int = 0,
    wobble: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, global_orient, body_pose) of DEMO_SET at FPS; ``speed`` < 1: slower;
    ``wobble`` > 0: unevenly paced within the take."""
    ref_duration = total_duration(DEMO_SET)
    duration = ref_duration / speed
    times = np.arange(0.0, duration, 1.0 / FPS)
    # Uneven pace: faster, then slower than the average, within the take.
    source = (times / duration + wobble * np.sin(2 * np.pi * times / duration)) * ref_duration
    p, rep = rep_profile(source, DEMO_SET)
    go, bp = exercise_rotations("squat", p, rep, knee_deg=knee_deg)
    go, bp = add_rotation_noise(go, bp, noise_deg, seed)
    return times, go, bp
