"""Single-frame GC-SSN inference latency on this CPU, against MediaPipe in the same run.

    .venv/bin/python benchmarks/bench_gcssn_speed.py

Times (one frame at a time, one torch thread): the network alone (representation -> SMPL
parameters), network + body joints (what the live pipeline runs), optional refinement, and
MediaPipe Pose on a 640x480 frame as the baseline.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from coach_backend.body import BodyParams, load_body_model
from coach_backend.gcssn import Reconstructor, load_gcssn
from coach_backend.gcssn.api import DEFAULT_WEIGHTS
from coach_backend.gcssn.lifter import KeypointLifter
from coach_backend.perception import PerceptionConfig, stack
from coach_backend.perception.mediapipe_source import MediaPipeDetector
from coach_backend.perception.render import BodyRenderer


def percentiles(samples: list[float]) -> tuple[float, float]:
    ms = np.array(samples) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/gcssn_speed.md"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    body = load_body_model()
    renderer = BodyRenderer(body, PerceptionConfig())
    params = BodyParams.zeros(1)
    params.global_orient[0] = torch.tensor([np.pi, 0.0, 0.0])
    params.body_pose[0, 15] = torch.tensor([0.0, 0.0, -1.2])  # left shoulder down
    params.body_pose[0, 16] = torch.tensor([0.0, 0.0, 1.2])
    params.transl[0] = torch.tensor([0.0, 0.2, 4.0])
    frame = renderer.render_shaded(params)
    with MediaPipeDetector(PerceptionConfig(static_image_mode=False)) as detector:
        rep = detector.detect(frame)
        mediapipe = timed(lambda: detector.detect(frame), args.repeats // 2)
    batch = stack([rep])
    net = load_gcssn(args.weights)
    # The lifter reads the keypoints (rays) of the representation, the CNN the whole of it.
    run_network = net.lift if isinstance(net, KeypointLifter) else net
    with torch.no_grad():
        network = timed(lambda: run_network(batch), args.repeats)
    reconstructor = Reconstructor(net, body)
    full = timed(lambda: reconstructor.predict(batch), args.repeats)
    refined = timed(lambda: Reconstructor(net, body, refine_steps=10).predict(batch), 20)

    base50, base95 = percentiles(mediapipe)
    rows = [
        ("MediaPipe Pose detect(), 640x480 (baseline)", mediapipe),
        ("GC-SSN network, representation -> SMPL parameters", network),
        ("GC-SSN + body joints/keypoints (pipeline step)", full),
        ("GC-SSN + 10 refinement (2D fit) steps", refined),
    ]
    lines = [
        "# GC-SSN single-frame latency",
        "",
        "Command: `.venv/bin/python benchmarks/bench_gcssn_speed.py`",
        f"Machine: {platform.machine()} CPU, 1 torch thread, no GPU ({platform.platform()}); "
        f"weights {args.weights.name}.",
        "",
        "| step | p50 ms | p95 ms | p50 / MediaPipe p50 |",
        "| --- | --- | --- | --- |",
    ]
    for name, samples in rows:
        p50, p95 = percentiles(samples)
        lines.append(f"| {name} | {p50:.2f} | {p95:.2f} | {p50 / base50:.3f} |")
    lines += [
        "",
        "Target (issue 11): network + body <= 8 ms per frame on one core (the pipeline-step "
        f"row); baseline p95 {base95:.1f} ms.",
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
