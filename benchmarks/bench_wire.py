"""Wire format size and codec throughput.

Usage: ``python benchmarks/bench_wire.py [--frames 2000] [--repeat 5]`` (from the repo root).
Prints bytes per frame (compact blob, serialized PoseFrame / StreamMessage / recorder record)
against raw SMPL float32 parameters, and encode/decode/publish throughput (best of ``--repeat``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coach_backend.stream import (  # noqa: E402
    SessionHub,
    decode_pose,
    decode_poses,
    encode_pose,
    encode_poses,
    make_session_info,
    pb,
    rotation_error_deg,
)

# Raw SMPL parameters as float32: 24x3 rotvec + 3 transl + 10 betas.
RAW_SMPL_BYTES = (24 * 3 + 3 + 10) * 4


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n = args.frames

    rv = Rotation.random(n * 24, random_state=0).as_rotvec().reshape(n, 24, 3)
    pel = np.random.default_rng(0).uniform(-3, 3, (n, 3))
    blobs = encode_poses(rv, pel)
    frame = pb.PoseFrame(
        sequence=108_000,  # 1 h at 30 fps
        capture_time_us=time.time_ns() // 1000,
        confidence=0.93,
        flags=1,
        pose=blobs[0].tobytes(),
    )
    frame_b = len(frame.SerializeToString())
    msg_b = len(pb.StreamMessage(frame=frame).SerializeToString())
    record_b = msg_b + 1  # 1-byte varint length prefix in the recorder log

    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"raw SMPL float32 (24x3 rotvec + transl + 10 betas): {RAW_SMPL_BYTES} B/frame")
    print("size per frame            bytes   vs raw   kbit/s @30fps")
    for name, size in [
        ("compact pose blob", blobs.shape[1]),
        ("PoseFrame (serialized)", frame_b),
        ("StreamMessage{frame}", msg_b),
        ("recorder record", record_b),
    ]:
        print(f"  {name:<24}{size:>6}   {size / RAW_SMPL_BYTES:6.3f}   {size * 8 * 30 / 1000:8.1f}")

    dec = decode_poses(blobs)
    err = rotation_error_deg(rv, dec.rotvecs)
    print(
        f"quantisation over {n * 24} random rotations: max {err.max():.3f} deg, "
        f"mean {err.mean():.3f} deg; pelvis max {np.abs(dec.pelvis_m - pel).max() * 1e3:.3f} mm"
    )

    raw = blobs.tobytes()
    single = [blobs[i].tobytes() for i in range(min(n, 500))]

    def encode_each() -> None:
        for i in range(len(single)):
            encode_pose(rv[i], pel[i])

    def decode_each() -> None:
        for blob in single:
            decode_pose(blob)

    rows = [
        ("encode_poses (batched)", n, lambda: encode_poses(rv, pel)),
        ("decode_poses (batched)", n, lambda: decode_poses(raw)),
        ("encode_pose (per frame)", len(single), encode_each),
        ("decode_pose (per frame)", len(single), decode_each),
    ]

    hub = SessionHub(make_session_info("bench"), queue_size=64)
    subs = [hub.subscribe(peer=f"s{i}") for i in range(3)]  # nobody drains: worst case, drops
    frames = [
        pb.PoseFrame(sequence=i, capture_time_us=i, flags=1, pose=blobs[i].tobytes())
        for i in range(n)
    ]
    rows.append(("hub.publish (3 subscribers)", n, lambda: [hub.publish(f) for f in frames]))
    print(f"throughput (best of {args.repeat})   frames/s      us/frame")
    for name, count, fn in rows:
        t = best_of(args.repeat, fn)
        print(f"  {name:<28}{count / t:>12,.0f}  {t / count * 1e6:>10.2f}")
    del subs


if __name__ == "__main__":
    main()
