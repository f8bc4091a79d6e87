"""Body -> representation throughput on ONE CPU core, with MediaPipe as the same-run baseline.

    .venv/bin/python benchmarks/bench_render.py [--out benchmarks/results/render.md]

Measures (torch.set_num_threads(1), cv2.setNumThreads(1)):
- BodyRenderer.render: representations/s at 64x64 (and 128x128), batch 64, random poses /
  shapes / yaw at 3-5 m, including the body forward pass (decimated vertex subset).
- its body forward alone (same vertex subset) and the full-mesh forward, for reference.
- MediaPipe Pose detect() per 640x480 frame (video mode, the live path) on a shaded body render.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.spatial.transform import Rotation

torch.set_num_threads(1)
cv2.setNumThreads(1)

from coach_backend.body import BodyParams, load_body_model  # noqa: E402
from coach_backend.perception import Camera, PerceptionConfig  # noqa: E402
from coach_backend.perception.mediapipe_source import MediaPipeDetector  # noqa: E402
from coach_backend.perception.render import BodyRenderer  # noqa: E402


def random_params(n: int, seed: int) -> BodyParams:
    rng = np.random.default_rng(seed)
    p = BodyParams.zeros(n)
    yaw = Rotation.from_rotvec(np.c_[np.zeros(n), rng.uniform(-np.pi, np.pi, n), np.zeros(n)])
    p.global_orient[:] = torch.tensor(
        (yaw * Rotation.from_rotvec([np.pi, 0, 0])).as_rotvec(), dtype=torch.float32
    )
    p.body_pose[:] = torch.tensor(rng.normal(0, 0.3, (n, 23, 3)), dtype=torch.float32)
    p.betas[:] = torch.tensor(rng.normal(0, 1, (n, 10)), dtype=torch.float32)
    p.transl[:, 1] = 0.1
    p.transl[:, 2] = torch.tensor(rng.uniform(3.0, 5.0, n), dtype=torch.float32)
    return p


def per_item(fn, n_items: int, repeats: int) -> list[float]:
    """Seconds per item over `repeats` timed calls (after one warm-up)."""
    fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) / n_items)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()

    body = load_body_model()
    lines = []
    rows = []
    b = args.batch
    batches = [random_params(b, seed) for seed in range(args.repeats + 1)]
    for res in (64, 128):
        renderer = BodyRenderer(body, PerceptionConfig(resolution=res))
        it = iter(batches * 2)
        times = per_item(lambda r=renderer, it=it: r.render(next(it)), b, args.repeats)
        rows.append((f"BodyRenderer.render {res}x{res}, batch {b}", times))
        if res == 64:
            ids = renderer.point_ids
            with torch.no_grad():
                t_sub = per_item(lambda ids=ids: body(batches[0], vertex_ids=ids), b, args.repeats)
                t_full = per_item(lambda: body(batches[0]), b, max(3, args.repeats // 4))
            rows.append((f"  body forward only, {len(ids)}-vertex subset", t_sub))
            rows.append((f"  body forward only, full mesh ({body.num_vertices} vertices)", t_full))

    # MediaPipe baseline: video mode on a 640x480 shaded render of a standing body.
    cam = Camera.default_for(640, 480)
    renderer = BodyRenderer(body, PerceptionConfig(camera=cam))
    p = BodyParams.zeros(1)
    p.global_orient[0] = torch.tensor([np.pi, 0.0, 0.0])
    p.body_pose[0, 15, 2], p.body_pose[0, 16, 2] = -1.2, 1.2
    p.transl[0] = torch.tensor([0.0, 0.1, 3.0])
    frame = renderer.render_shaded(p, cam)
    t_shaded = per_item(lambda: renderer.render_shaded(p, cam), 1, 5)
    with MediaPipeDetector(PerceptionConfig(camera=cam)) as det:
        assert det.detect(frame).has_person
        t_mp = per_item(lambda: det.detect(frame), 1, args.repeats * 2)
    rows.append(("MediaPipe detect() 640x480, video mode", t_mp))
    rows.append(("render_shaded 640x480 (test/benchmark helper)", t_shaded))

    mp_med = statistics.median(t_mp)
    lines.append("| what | median ms / item | items/s | x MediaPipe frame rate |")
    lines.append("|---|---:|---:|---:|")
    for name, times in rows:
        med = statistics.median(times)
        lines.append(f"| {name} | {med * 1e3:.3f} | {1 / med:.0f} | {mp_med / med:.1f} |")
    env = (
        f"python {sys.version.split()[0]}, torch {torch.__version__}, numpy {np.__version__}, "
        f"opencv {cv2.__version__}; {platform.platform()}; {os.cpu_count()} CPUs visible, "
        "1 thread used"
    )
    text = "\n".join(lines + ["", env])
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
