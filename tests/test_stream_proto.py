"""Generated protobuf code is in sync with protos/coach.proto, and frames stay small."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coach_backend.stream import encode_pose, pb
from coach_backend.stream.gen_proto import DEFAULT_OUT, GENERATED_FILES, generate


def test_committed_generated_code_matches_proto(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools")
    generate(tmp_path)
    for name in GENERATED_FILES:
        committed = (DEFAULT_OUT / name).read_bytes()
        assert (tmp_path / name).read_bytes() == committed, (
            f"{name} is stale: run `python -m coach_backend.stream.gen_proto`"
        )


def test_grpc_module_imports_package_relative() -> None:
    from coach_backend.stream.proto_gen import coach_pb2, coach_pb2_grpc

    assert coach_pb2_grpc.coach__pb2 is coach_pb2
    assert coach_pb2.DESCRIPTOR.package == "coach.v1"


def test_pose_frame_stays_under_128_bytes() -> None:
    blob = encode_pose(np.full((24, 3), 0.3), np.array([1.0, 2.0, -3.0]))
    frame = pb.PoseFrame(
        sequence=2**28 - 1,  # ~103 days at 30 fps
        capture_time_us=4_102_444_800_000_000,  # year 2100, epoch microseconds
        confidence=0.37,
        flags=1,
        pose=blob,
    )
    size = len(frame.SerializeToString())
    assert size < 128, size
    # Wrapped for the stream: 2 more bytes (oneof tag + length).
    assert len(pb.StreamMessage(frame=frame).SerializeToString()) == size + 2
