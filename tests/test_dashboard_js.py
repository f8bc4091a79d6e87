"""The dashboard's JavaScript decoder against the Python codec: the shared wire test vectors and
one WebSocket message packed by ``wsproto.pack_frame`` (node only; no browser needed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from coach_backend.dashboard import MESSAGE_BYTES, pack_frame, unpack_frame
from coach_backend.stream import encode_pose, pb

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "coach_backend" / "dashboard" / "web" / "e2e" / "decode_vectors.mjs"
VECTORS = REPO / "unity_bridge" / "Tests" / "vectors" / "pose_vectors_v1.json"


def test_pack_unpack_roundtrip():
    pose = encode_pose(np.zeros((24, 3)), np.ones(3))
    frame = pb.PoseFrame(
        sequence=2**40 + 7,
        capture_time_us=1_700_000_000_123_456,
        confidence=0.75,
        flags=1,
        pose=pose,
    )
    data = pack_frame(frame)
    assert len(data) == MESSAGE_BYTES == 128
    assert data[24:] == frame.pose
    assert unpack_frame(data) == frame


@pytest.mark.skipif(shutil.which("node") is None, reason="node not on PATH")
def test_js_decoder_matches_python_codec():
    rng = np.random.default_rng(3)
    frame = pb.PoseFrame(
        sequence=123_456_789_012, capture_time_us=1_795_000_000_654_321, confidence=0.5, flags=1,
        pose=encode_pose(rng.normal(size=(24, 3)) * 0.5, np.array([0.1, -0.25, -3.5])),
    )  # fmt: skip
    out = subprocess.run(
        ["node", str(SCRIPT), str(VECTORS), pack_frame(frame).hex()],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    tol = json.loads(VECTORS.read_text())["tolerance"]
    assert result["cases"] >= 30 and result["validMismatch"] == 0
    assert result["maxQuatErr"] < tol and result["maxPelvisErr"] < tol
    msg = result["message"]
    assert msg["sequence"] == frame.sequence and msg["captureTimeUs"] == frame.capture_time_us
    assert msg["confidence"] == 0.5 and msg["flags"] == 1 and msg["valid"] is True
    assert msg["pelvis"] == pytest.approx([0.1, -0.25, -3.5], abs=1e-9)
