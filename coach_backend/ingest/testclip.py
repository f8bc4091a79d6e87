"""A short synthetic athlete clip for ingest tests, the browser test and the live benchmark.

The open body does slow squats with arm curls in front of the camera, rendered with
``BodyRenderer.render_shaded`` (a person-like, shaded mesh MediaPipe detects). Written as H.264
``.mp4`` (for aiortc's ``MediaPlayer``) and/or raw ``.y4m`` (Chromium's fake camera input).
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

SIZE = (640, 480)
FPS = 30


def squat_poses(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) global orient (camera frame) and (n, 23, 3) body pose of one squat cycle."""
    go = np.tile(Rotation.from_euler("xy", [180, 15], degrees=True).as_rotvec(), (n, 1))
    pose = np.zeros((n, 23, 3))
    for i in range(n):
        s = 0.5 - 0.5 * math.cos(2 * math.pi * i / n)  # 0 -> 1 -> 0
        hip, knee = -math.radians(75) * s, math.radians(110) * s
        for j in (1, 2):  # body_pose index = SMPL joint - 1
            pose[i, j - 1, 0] = hip
        for j in (4, 5):
            pose[i, j - 1, 0] = knee
        pose[i, 3 - 1, 0] = math.radians(25) * s  # lean the trunk forward to balance
        pose[i, 16 - 1, 2] = -math.radians(70)  # arms down from the T-pose
        pose[i, 17 - 1, 2] = math.radians(70)
        pose[i, 18 - 1, 1] = -math.radians(100) * s  # elbow curls
        pose[i, 19 - 1, 1] = math.radians(100) * s
    return go, pose


def render_clip(n: int = 30, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    """n BGR frames (one squat cycle)."""
    from coach_backend.body import NUM_BETAS, BodyParams, load_body_model
    from coach_backend.perception import Camera, PerceptionConfig
    from coach_backend.perception.render import BodyRenderer

    body = load_body_model()
    camera = Camera.default_for(*size)
    renderer = BodyRenderer(body, PerceptionConfig(camera=camera))
    with torch.no_grad():
        pelvis_rest = body(BodyParams.zeros(1)).joints[0, 0].numpy().astype(np.float64)
    go, pose = squat_poses(n)
    frames = []
    for i in range(n):
        s = 0.5 - 0.5 * math.cos(2 * math.pi * i / n)
        pelvis_cam = np.array([0.0, 0.05 + 0.35 * s, 3.3])  # y down: the pelvis drops
        params = BodyParams(
            global_orient=torch.tensor(go[i : i + 1], dtype=torch.float32),
            body_pose=torch.tensor(pose[i : i + 1], dtype=torch.float32),
            betas=torch.zeros(1, NUM_BETAS),
            transl=torch.tensor((pelvis_cam - pelvis_rest)[None], dtype=torch.float32),
        )
        frames.append(renderer.render_shaded(params, camera, supersample=1))
    return frames


def write_mp4(path: str | Path, frames: list[np.ndarray], fps: int = FPS, repeat: int = 1) -> None:
    """H.264 mp4 of ``frames`` played ``repeat`` times (aiortc's MediaPlayer cannot loop with
    current PyAV: it expects StopIteration at the end of the file)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast", "g": str(fps)}
        h, w = frames[0].shape[:2]
        stream.width, stream.height = w, h
        for image in frames * repeat:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def write_y4m(path: str | Path, frames: list[np.ndarray], fps: int = FPS) -> None:
    """YUV4MPEG2 4:2:0, the format Chromium's --use-file-for-fake-video-capture reads."""
    h, w = frames[0].shape[:2]
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
