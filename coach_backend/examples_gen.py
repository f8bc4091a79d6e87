"""Regenerate the shipped example clip: ``python -m coach_backend.examples_gen``.

The open body performs two held-out CMU trials (tests/fixtures/cmu: a walk, then a basketball
jump shot, joined by a short pose blend), rendered with `BodyRenderer.render_shaded` at 640x480,
30 fps, H.264. Also writes the ground-truth SMPL parameters next to it (camera frame), for the
benchmark. Deterministic: same code + fixtures -> same frames.
"""

from __future__ import annotations

# numpy, SciPy, torch, the renderer and the video writer are imported in the functions that use
# them: `--help` answers before they load.
import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.body import NUM_BETAS
from coach_backend.resources import repo_path

if TYPE_CHECKING:
    import numpy as np
    from scipy.spatial.transform import Rotation

    from coach_backend.mocap.retarget import SmplMotion
    from coach_backend.perception import Camera
    from coach_backend.perception.render import BodyRenderer

FIXTURES = repo_path("tests", "fixtures", "cmu")
DEFAULT_OUT = repo_path("examples", "walk_shot.mp4")
FPS = 30.0
SIZE = (640, 480)
CAMERA_HEIGHT_M = 1.0  # camera on a tripod at hip height, looking horizontally
BLEND_FRAMES = 8


@dataclass
class Clip:
    """Ground truth, camera frame (OpenCV axes), SMPL parameters of the open body."""

    global_orient: np.ndarray  # (T,3)
    body_pose: np.ndarray  # (T,23,3)
    transl: np.ndarray  # (T,3)
    betas: np.ndarray  # (NUM_BETAS,)
    timestamps: np.ndarray  # (T,) seconds


def _heading(rot: Rotation) -> float:
    """Yaw (rad, about +y) of the body's facing direction (+z in the body frame)."""
    import numpy as np

    f = rot.apply([0.0, 0.0, 1.0])
    return float(np.arctan2(f[0], f[2]))


def _place(
    m: SmplMotion, yaw: float, centre_depth: float, pelvis_rest: np.ndarray, scale: float
) -> tuple[Rotation, np.ndarray, np.ndarray]:
    """Turn the trial about the vertical by `yaw`, centre its path, put it `centre_depth` m in
    front of the camera. Returns (global rotations, body_pose, camera-frame transl)."""
    import numpy as np
    from scipy.spatial.transform import Rotation

    rx180 = Rotation.from_euler("x", 180, degrees=True)  # SMPL y-up body frame -> camera y-down
    turn = Rotation.from_euler("y", yaw)
    root = m.root_position * scale  # scaled to the open body's leg length
    centre = root.mean(axis=0) * np.array([1.0, 0.0, 1.0])
    pelvis = turn.apply(root - centre) - np.array([0.0, CAMERA_HEIGHT_M, 0.0])
    pelvis_cam = rx180.apply(pelvis) + np.array([0.0, 0.0, centre_depth])
    rot_cam = rx180 * turn * Rotation.from_rotvec(m.global_orient)
    # transl places the pelvis joint: pelvis = transl + J_pelvis(betas = 0).
    return rot_cam, m.body_pose.copy(), pelvis_cam - pelvis_rest


def build_clip(pelvis_rest: np.ndarray, leg_scale: float) -> Clip:
    import numpy as np
    from scipy.spatial.transform import Rotation, Slerp

    from coach_backend.mocap.bvh import load_bvh
    from coach_backend.mocap.retarget import retarget

    walk = retarget(load_bvh(FIXTURES / "007_08_walk.bvh"), target_fps=FPS)
    shot = retarget(load_bvh(FIXTURES / "006_15_shot.bvh"), target_fps=FPS)
    # Walk diagonally towards the camera (50 deg off its axis); shoot facing it, turned 25 deg.
    walk_dir = walk.root_position[-1] - walk.root_position[0]
    walk_yaw = np.radians(50.0) - np.arctan2(walk_dir[0], walk_dir[2])
    shot_yaw = np.radians(-25.0) - _heading(Rotation.from_rotvec(shot.global_orient[0]))
    r1, p1, t1 = _place(walk, walk_yaw, 4.0, pelvis_rest, leg_scale)
    r2, p2, t2 = _place(shot, shot_yaw, 3.6, pelvis_rest, leg_scale)

    # Blend from the last walk pose to the first shot pose (held poses, slerped per joint).
    a = (np.arange(1, BLEND_FRAMES + 1) / (BLEND_FRAMES + 1))[:, None]
    ends = np.stack([np.concatenate([r1[-1:].as_rotvec(), p1[-1]]), np.concatenate(
        [r2[:1].as_rotvec(), p2[0]])])  # fmt: skip
    blend_rv = np.empty((BLEND_FRAMES, 24, 3))
    for j in range(24):
        slerp = Slerp([0.0, 1.0], Rotation.from_rotvec(ends[:, j]))
        blend_rv[:, j] = slerp(a[:, 0]).as_rotvec()
    blend_t = (1 - a) * t1[-1] + a * t2[0]

    go = np.concatenate([r1.as_rotvec(), blend_rv[:, 0], r2.as_rotvec()])
    pose = np.concatenate([p1, blend_rv[:, 1:], p2])
    transl = np.concatenate([t1, blend_t, t2])
    n = len(go)
    return Clip(go, pose, transl, np.zeros(NUM_BETAS), np.arange(n) / FPS)


def render_frames(renderer: BodyRenderer, clip: Clip, camera: Camera):
    import torch

    from coach_backend.body import BodyParams

    for i in range(len(clip.global_orient)):
        params = BodyParams(
            global_orient=torch.tensor(clip.global_orient[i : i + 1], dtype=torch.float32),
            body_pose=torch.tensor(clip.body_pose[i : i + 1], dtype=torch.float32),
            betas=torch.tensor(clip.betas[None], dtype=torch.float32),
            transl=torch.tensor(clip.transl[i : i + 1], dtype=torch.float32),
        )
        yield renderer.render_shaded(params, camera)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .mp4")
    parser.add_argument("--crf", type=int, default=24, help="x264 quality (lower = bigger)")
    args = parser.parse_args(argv)
    import numpy as np
    import torch

    from coach_backend.body import BodyParams, load_body_model
    from coach_backend.perception import Camera, PerceptionConfig
    from coach_backend.perception.render import BodyRenderer
    from coach_backend.replay.video import write_video

    body = load_body_model()
    camera = Camera.default_for(*SIZE)
    renderer = BodyRenderer(body, PerceptionConfig(camera=camera))
    with torch.no_grad():
        rest = body(BodyParams.zeros(1))
    pelvis_rest = rest.joints[0, 0].numpy().astype(np.float64)
    sole = float(rest.vertices[0, :, 1].min())
    # CMU hip height ~1.0 m (the CC rig's standing root height): scale strides to our legs.
    leg_scale = (pelvis_rest[1] - sole) / 1.0
    clip = build_clip(pelvis_rest, leg_scale)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    n = write_video(args.out, render_frames(renderer, clip, camera), FPS, crf=args.crf)
    truth = args.out.with_name(args.out.stem + "_truth.npz")
    np.savez_compressed(
        truth,
        global_orient=clip.global_orient.astype(np.float32),
        body_pose=clip.body_pose.astype(np.float32),
        betas=clip.betas.astype(np.float32),
        transl=clip.transl.astype(np.float32),
        timestamps=clip.timestamps,
        intrinsics=np.array(camera.intrinsics),
        image_size=np.array(SIZE),
    )
    size_kb = args.out.stat().st_size / 1024
    print(f"wrote {args.out} ({n} frames, {n / FPS:.1f} s, {size_kb:.0f} KiB) and {truth}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
