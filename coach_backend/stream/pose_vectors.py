"""The cross-language pose vectors (``build_vectors``) and their JSON text (``dumps``): what
``python -m coach_backend.stream.make_test_vectors`` writes; the fields are described there.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from coach_backend.body.skeleton import SMPL_PARENTS

from .codec import (
    LAYOUT_VERSION,
    NUM_JOINTS,
    POSE_BYTES,
    SMPL24_JOINT_NAMES,
    decode_pose,
    encode_pose,
)
from .proto_gen import coach_pb2 as pb

SMPL24_PARENTS: tuple[int, ...] = tuple(SMPL_PARENTS)

DECIMALS = 10  # stored precision; the C# tests compare to 1e-6
MOTION_FPS = 30.0
_INNER_LIST = re.compile(r"\[\s+([^\[\]{}]*?)\s+\]")


def _r(x: np.ndarray) -> list[Any]:
    """Rounded nested lists (stable, compact JSON)."""
    out: list[Any] = np.round(np.asarray(x, dtype=np.float64), DECIMALS).tolist()
    return out


def _wire_quats(blob: bytes, rotvecs: np.ndarray) -> np.ndarray:
    """(24, 4) quaternions of the decoded rotvecs, signed as on the wire (dropped one >= 0)."""
    q = Rotation.from_rotvec(rotvecs).as_quat()
    words = np.frombuffer(blob, dtype="<u4", count=NUM_JOINTS, offset=2)
    dropped = (words >> 30).astype(np.intp)
    sign = np.where(q[np.arange(NUM_JOINTS), dropped] < 0.0, -1.0, 1.0)
    return q * sign[:, None]


def _to_unity(q: np.ndarray) -> np.ndarray:
    """Right-handed wire frame -> left-handed Unity frame (mirror z) for (..., 4) quaternions."""
    return q * np.array([-1.0, -1.0, 1.0, 1.0])


def _global_quats(q_local: np.ndarray) -> np.ndarray:
    """Compose (24, 4) local quaternions along the SMPL-24 tree (any frame, same frame out)."""
    glob: list[Rotation] = []
    for j, p in enumerate(SMPL24_PARENTS):
        r = Rotation.from_quat(q_local[j])
        glob.append(r if p < 0 else glob[p] * r)
    return np.stack([g.as_quat() for g in glob])


def _case(
    name: str,
    group: str,
    rotvecs: np.ndarray,
    pelvis_m: np.ndarray | list[float],
    valid: bool = True,
    sequence: int | None = None,
    capture_time_s: float | None = None,
) -> dict[str, Any]:
    blob = encode_pose(np.asarray(rotvecs, np.float64), np.asarray(pelvis_m, np.float64), valid)
    dec = decode_pose(blob)
    q = _wire_quats(blob, dec.rotvecs)
    case: dict[str, Any] = {"name": name, "group": group}
    if sequence is not None:
        case["sequence"] = sequence
        case["capture_time_s"] = capture_time_s
    case.update(
        {
            "hex": blob.hex(),
            "valid": bool(dec.valid),
            "pelvis_m": _r(dec.pelvis_m),
            "rotvecs": _r(dec.rotvecs),
            "quats_xyzw": _r(q),
            "unity_pelvis_m": _r(dec.pelvis_m * np.array([1.0, 1.0, -1.0])),
            "unity_quats_xyzw": _r(_to_unity(q)),
            "unity_global_quats_xyzw": _r(_to_unity(_global_quats(q))),
        }
    )
    return case


def _single_joint(joint: int, axis: int, angle_deg: float) -> np.ndarray:
    rv = np.zeros((NUM_JOINTS, 3))
    rv[joint, axis] = math.radians(angle_deg)
    return rv


def _smooth_motion(t: float) -> tuple[np.ndarray, np.ndarray]:
    """A slow turn while squatting and waving: (24, 3) rotvecs and pelvis position at time t."""
    rv = np.zeros((NUM_JOINTS, 3))
    rv[0] = [0.0, 0.8 * t, 0.0]  # turning about y
    bend = 0.6 * math.sin(2.0 * math.pi * 0.8 * t)
    rv[1] = [-abs(bend), 0.0, 0.0]  # left hip flexes
    rv[2] = [-abs(bend), 0.0, 0.0]
    rv[4] = [2.0 * abs(bend), 0.0, 0.0]  # knees
    rv[5] = [2.0 * abs(bend), 0.0, 0.0]
    rv[17] = [0.0, 0.0, 1.2 + 0.3 * math.sin(2.0 * math.pi * 1.5 * t)]  # right shoulder raises arm
    rv[19] = [0.0, -1.0 * abs(math.sin(2.0 * math.pi * 1.5 * t)), 0.0]  # right elbow waves
    pelvis = np.array([0.2 * t, 0.95 - 0.25 * abs(bend), -2.5 + 0.1 * t])
    return rv, pelvis


def _stream_messages(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Serialized coach.v1 messages (values exactly representable in float32)."""
    by_name = {c["name"]: c for c in cases}
    info: dict[str, Any] = {
        "session_id": "demo-01",
        "body_model": "open_body",
        "betas": [0.5, -1.25, 0.0, 2.0, 0.125, -0.375, 1.0, 0.0625, -2.5, 0.25],
        "fps": 30.0,
        "coordinate_frame": int(pb.COORDINATE_FRAME_GL_VIEWER),
        "joint_names": list(SMPL24_JOINT_NAMES),
        "layout_version": LAYOUT_VERSION,
        "started_time_us": 1717171717123456,
        "state": int(pb.SESSION_STATE_LIVE),
    }
    frames: list[tuple[str, dict[str, Any]]] = [
        (
            "frame",
            {
                "sequence": 12345678901,
                "capture_time_us": 1717171717456789,
                "confidence": 0.875,
                "flags": 1,
                "pose_hex": by_name["motion_3"]["hex"],
            },
        ),
        (
            "frame_defaults",  # proto3 omits zero fields: sequence 0, flags 0, ...
            {
                "sequence": 0,
                "capture_time_us": 0,
                "confidence": 0.0,
                "flags": 0,
                "pose_hex": by_name["invalid_zero"]["hex"],
            },
        ),
    ]
    end = {"reason": "session ended", "frames_sent": 300, "frames_dropped": 2}

    out: list[dict[str, Any]] = []
    msg = pb.StreamMessage(info=pb.SessionInfo(**info))
    out.append({"name": "info", "kind": "info", "hex": msg.SerializeToString().hex(), "info": info})
    for name, f in frames:
        fields = {k: v for k, v in f.items() if k != "pose_hex"}
        frame = pb.PoseFrame(pose=bytes.fromhex(f["pose_hex"]), **fields)
        blob = pb.StreamMessage(frame=frame).SerializeToString()
        out.append({"name": name, "kind": "frame", "hex": blob.hex(), "frame": f})
    msg = pb.StreamMessage(end=pb.StreamEnd(**end))
    out.append({"name": "end", "kind": "end", "hex": msg.SerializeToString().hex(), "end": end})
    req = pb.SubscribeRequest(session_id="demo-01")
    out.append(
        {
            "name": "subscribe_request",
            "kind": "subscribe_request",
            "hex": req.SerializeToString().hex(),
            "session_id": "demo-01",
        }
    )
    return out


def build_vectors() -> dict[str, Any]:
    """All vectors as a JSON-ready dict (deterministic)."""
    cases: list[dict[str, Any]] = [
        _case("identity", "identity", np.zeros((NUM_JOINTS, 3)), [0.0, 0.0, 0.0]),
        _case("identity_standing", "identity", np.zeros((NUM_JOINTS, 3)), [0.0, 0.9, -2.0]),
    ]

    for axis, axis_name in enumerate("xyz"):
        for joint, angle in ((0, 90.0), (4, -45.0), (16, 179.0)):
            name = f"{SMPL24_JOINT_NAMES[joint]}_{axis_name}_{angle:+.0f}deg"
            cases.append(_case(name, "single_axis", _single_joint(joint, axis, angle), [0, 0.9, 0]))
    # Exactly 180 deg (quaternion w = 0) and a four-way tie (0.5, 0.5, 0.5, 0.5).
    cases.append(_case("pelvis_y_180deg", "single_axis", _single_joint(0, 1, 180.0), [0, 1, 0]))
    tie = np.zeros((NUM_JOINTS, 3))
    tie[0] = Rotation.from_quat([0.5, 0.5, 0.5, 0.5]).as_rotvec()
    cases.append(_case("pelvis_quat_tie", "single_axis", tie, [0, 1, 0]))

    rng = np.random.default_rng(20240607)
    for i in range(5):
        rv = Rotation.random(NUM_JOINTS, random_state=rng).as_rotvec()
        pelvis = rng.uniform(-3.0, 3.0, size=3)
        cases.append(_case(f"random_{i}", "random", rv, pelvis))

    small = np.random.default_rng(7).normal(scale=0.2, size=(NUM_JOINTS, 3))
    for name, pelvis in (
        ("translation_max", [32.767, -32.767, 32.767]),
        ("translation_clamped", [100.0, -100.0, 40.0]),
        ("translation_mm_rounding", [0.0005, -0.0015, 0.0004]),
        ("translation_far_back", [-1.234, 0.001, -30.0]),
    ):
        cases.append(_case(name, "translation", small, pelvis))

    zeros = np.zeros((NUM_JOINTS, 3))
    cases.append(_case("invalid_zero", "invalid", zeros, [0, 0, 0], valid=False))
    cases.append(_case("invalid_with_pose", "invalid", small, [0.1, 0.9, -2.0], valid=False))

    for k in range(8):
        t = k / MOTION_FPS
        rv, pelvis = _smooth_motion(t)
        cases.append(
            _case(f"motion_{k}", "motion", rv, pelvis, sequence=100 + k, capture_time_s=round(t, 9))
        )

    good = bytes.fromhex(cases[0]["hex"])
    bad_blobs = [
        {"name": "empty", "hex": "", "error": "length"},
        {"name": "short_103", "hex": good[:-1].hex(), "error": "length"},
        {"name": "long_105", "hex": (good + b"\x00").hex(), "error": "length"},
        {"name": "version_0", "hex": (b"\x00" + good[1:]).hex(), "error": "version"},
        {"name": "version_2", "hex": (b"\x02" + good[1:]).hex(), "error": "version"},
    ]
    return {
        "generator": "python -m coach_backend.stream.make_test_vectors",
        "layout_version": LAYOUT_VERSION,
        "frame_bytes": POSE_BYTES,
        "tolerance": 1e-6,
        "joint_names": list(SMPL24_JOINT_NAMES),
        "joint_parents": list(SMPL24_PARENTS),
        "cases": cases,
        "bad_blobs": bad_blobs,
        "stream_messages": _stream_messages(cases),
    }


def dumps(vectors: dict[str, Any]) -> str:
    """Stable JSON text: indented, with every innermost list (a joint's numbers) on one line."""
    text = json.dumps(vectors, indent=1)
    return _INNER_LIST.sub(lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(1)) + "]", text) + "\n"
