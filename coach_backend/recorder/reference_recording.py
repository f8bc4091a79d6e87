"""The reference recording for the Unity bridge's C# recording reader (``build_recording``) and
what the Python side reads back from it and from damaged copies (``build_expected``): what
``python -m coach_backend.recorder.make_test_recording`` writes; the contents are described there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..stream.codec import LAYOUT_VERSION, NUM_JOINTS, SMPL24_JOINT_NAMES, decode_pose, encode_pose
from ..stream.pose_vectors import DECIMALS  # the pose vectors' JSON conventions
from ..stream.proto_gen import coach_pb2 as pb
from .log import RecordingError, SessionRecorder, encode_varint, read_recording
from .player import ReplayTimeline, has_shape

RECORDING_NAME = "reference_recording_v1.coachrec"
EXPECTED_NAME = "reference_recording_v1.json"
NUM_FRAMES = 10
FPS = 30.0
STARTED_TIME_US = 1717171717000000
SETTLED_SHAPE_AT = 5  # the pipeline announces the settled betas before this frame
SHAPELESS_INFO_AT = 8  # an info record without betas: changes no frame's shape
NO_PERSON_FRAME = 6

# Values exactly representable in float32 (proto floats), so JSON and C# compare exactly.
FIRST_BETAS = [0.5, -0.25, 0.125, 0.0, 1.0, -1.5, 0.0625, 0.25, -0.75, 2.0]
SETTLED_BETAS = [0.75, -0.5, 0.25, 0.125, 0.875, -1.25, 0.0, 0.5, -0.625, 1.5]


def _info(betas: list[float]) -> pb.SessionInfo:
    return pb.SessionInfo(
        session_id="reference-squat",
        body_model="open_body",
        betas=betas,
        fps=FPS,
        coordinate_frame=pb.COORDINATE_FRAME_GL_VIEWER,
        joint_names=list(SMPL24_JOINT_NAMES),
        layout_version=LAYOUT_VERSION,
        started_time_us=STARTED_TIME_US,
        state=pb.SESSION_STATE_RECORDED,
    )


def _frame(k: int) -> pb.PoseFrame:
    """Frame k of a slow turn into a squat: pelvis yaw, hips and knees bend, pelvis sinks."""
    rotvecs = np.zeros((NUM_JOINTS, 3))
    rotvecs[0] = [0.0, 0.1 * k, 0.0]
    rotvecs[1] = rotvecs[2] = [-0.12 * k, 0.0, 0.0]
    rotvecs[4] = rotvecs[5] = [0.2 * k, 0.0, 0.0]
    rotvecs[17] = [0.0, 0.0, 0.5 + 0.05 * k]
    pelvis = np.array([0.01 * k, 0.95 - 0.02 * k, -2.5])
    valid = k != NO_PERSON_FRAME
    return pb.PoseFrame(
        sequence=1000 + k,
        capture_time_us=STARTED_TIME_US + round(k * 1e6 / FPS),
        confidence=0.5 + k / 32 if valid else 0.0,
        flags=int(valid),
        pose=encode_pose(rotvecs, pelvis, valid),
    )


def _messages() -> list[pb.StreamMessage]:
    """The records of the recording in file order."""
    out = [pb.StreamMessage(info=_info(FIRST_BETAS))]
    for k in range(NUM_FRAMES):
        if k == SETTLED_SHAPE_AT:
            out.append(pb.StreamMessage(info=_info(SETTLED_BETAS)))
        if k == SHAPELESS_INFO_AT:
            out.append(pb.StreamMessage(info=_info([])))
        out.append(pb.StreamMessage(frame=_frame(k)))
    out.append(pb.StreamMessage(end=pb.StreamEnd(reason="replay complete", frames_sent=NUM_FRAMES)))
    return out


def write_recording(path: Path) -> None:
    first, *middle, last = _messages()
    with SessionRecorder(path, first.info) as recorder:
        for message in middle:
            recorder.append(message)
        recorder.close(last.end)


def record_offsets() -> list[int]:
    """Byte offset of each record (varint length + message) in the recording."""
    offsets, pos = [], 0
    for message in _messages():
        offsets.append(pos)
        size = message.ByteSize()
        pos += len(encode_varint(size)) + size
    return offsets


def apply_variant(data: bytes, spec: dict[str, Any]) -> bytes:
    """The damaged copy of ``data`` that ``spec`` describes (see :func:`_variants`)."""
    variant = bytearray(data[: spec.get("keep_bytes", len(data))])
    if "patch_at" in spec:
        patch = bytes.fromhex(spec["patch_hex"])
        variant[spec["patch_at"] : spec["patch_at"] + len(patch)] = patch
    del variant[: spec.get("skip_bytes", 0)]
    variant += bytes.fromhex(spec.get("append_hex", "")) + bytes(spec.get("append_zeros", 0))
    return bytes(variant)


def _variants(data: bytes) -> list[dict[str, Any]]:
    """Damaged copies: bytes ``skip_bytes`` up to ``keep_bytes``, overwritten at ``patch_at``
    (an offset into the original) with ``patch_hex``, then ``append_hex`` and ``append_zeros``
    zero bytes (what a crash on a filesystem with delayed allocation can leave)."""
    offsets = record_offsets()
    end_record = offsets[-1]
    # Records: info, frames 0-4, info, frames 5-7, info, frames 8-9, end.
    second_info = offsets[1 + SETTLED_SHAPE_AT]
    last_frame = offsets[-2]
    frame_3 = offsets[1 + 3]
    frame_3_pose = data.index(_frame(3).pose, frame_3)
    first_frame_record = data[offsets[1] : offsets[2]]
    layout_field = data.index(bytes([7 << 3, LAYOUT_VERSION]), 0, offsets[1])  # SessionInfo field 7
    specs: list[dict[str, Any]] = [
        {"name": "complete", "keep_bytes": len(data)},
        {"name": "torn_inside_last_frame", "keep_bytes": last_frame + 40},
        # The settled-shape info is > 127 bytes: its length prefix has two bytes.
        {"name": "torn_inside_length_prefix", "keep_bytes": second_info + 1},
        {"name": "no_stream_end", "keep_bytes": end_record},
        {"name": "zero_filled_tail", "keep_bytes": end_record, "append_zeros": 300},
        {"name": "zeros_after_stream_end", "append_zeros": 16},
        {"name": "record_after_stream_end", "append_hex": first_frame_record.hex()},
        {"name": "bad_pose_version", "patch_at": frame_3_pose, "patch_hex": "02"},
        {"name": "huge_record_length", "patch_at": frame_3, "patch_hex": "ffff7f"},
        {"name": "frame_before_session_info", "skip_bytes": offsets[1]},
        {"name": "unknown_layout_version", "patch_at": layout_field + 1, "patch_hex": "02"},
        {"name": "empty_file", "keep_bytes": 0},
        {"name": "json_text", "keep_bytes": 0, "append_hex": b'{"format": "replay"}\n'.hex()},
        {"name": "png_header", "keep_bytes": 0, "append_hex": "89504e470d0a1a0a0000000d49484452"},
    ]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            variant = apply_variant(data, spec)
            path = Path(tmp) / f"{spec['name']}.coachrec"
            path.write_bytes(variant)
            try:
                rec = read_recording(path)
            except RecordingError as exc:
                not_a_recording = "not a coach recording" in str(exc)
                expect: dict[str, Any] = {"error": True, "not_a_recording": not_a_recording}
            else:
                expect = {
                    "error": False,
                    "frames": len(rec.frames),
                    "infos": len(rec.infos),
                    "torn_tail_bytes": rec.torn_tail_bytes,
                    "has_end": rec.end is not None,
                    "complete": rec.complete,
                }
            out.append({**spec, "expect": expect})
    return out


def _r(x: np.ndarray) -> Any:
    return np.round(np.asarray(x, dtype=np.float64), DECIMALS).tolist()


def build_expected(data: bytes) -> dict[str, Any]:
    """What the Python reader makes of ``data`` (the recording), JSON-ready."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / RECORDING_NAME
        path.write_bytes(data)
        rec = read_recording(path)
    timeline = ReplayTimeline(rec)
    frames = []
    for i, f in enumerate(rec.frames):
        pose = decode_pose(f.pose)
        frames.append(
            {
                "sequence": f.sequence,
                "capture_time_us": f.capture_time_us,
                "confidence": f.confidence,
                "flags": f.flags,
                "valid": bool(pose.valid),
                "pelvis_m": _r(pose.pelvis_m),
                "rotvecs": _r(pose.rotvecs),
                "shape_betas": list(timeline.info_at(i).betas),
            }
        )
    info = rec.info
    return {
        "generator": "python -m coach_backend.recorder.make_test_recording",
        "recording": RECORDING_NAME,
        "size_bytes": len(data),
        "tolerance": 1e-6,
        "session": {
            "session_id": info.session_id,
            "body_model": info.body_model,
            "fps": info.fps,
            "coordinate_frame": info.coordinate_frame,
            "joint_names": list(info.joint_names),
            "layout_version": info.layout_version,
            "started_time_us": info.started_time_us,
            "state": info.state,
        },
        "infos": [
            {"first_frame": first, "betas": list(i.betas), "has_shape": has_shape(i)}
            for first, i in rec.infos
        ],
        "frames": frames,
        "end": {
            "reason": rec.end.reason if rec.end else "",
            "frames_sent": rec.end.frames_sent if rec.end else 0,
            "frames_dropped": rec.end.frames_dropped if rec.end else 0,
        },
        "variants": _variants(data),
    }


def build_recording() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / RECORDING_NAME
        write_recording(path)
        return path.read_bytes()
