"""Browser pose stream over WebSocket: binary pose messages + JSON control messages.

Binary message (server -> browser), 128 bytes, little-endian::

    offset size  field
    0      1     kind = 1 (pose frame)
    1      1     flags (PoseFrame.flags; bit0 = person present/valid)
    2      2     reserved, 0
    4      4     confidence, float32 (0..1)
    8      8     sequence, uint64 (per session; gaps = frames dropped for this viewer)
    16     8     capture_time_us, int64 (Unix epoch microseconds of the video frame)
    24     104   compact pose, layout v1 (docs/CONTRIBUTING-internal.md): exactly the bytes
                 of PoseFrame.pose that gRPC subscribers get

Text messages (JSON objects, ``type`` field), server -> browser:
``info`` (SessionInfo fields; first, and again when a live session's body shape ``betas``
has settled; in a replay, before the first frame drawn with another recorded shape),
``timeline`` (replay: start_us, end_us, frames, complete),
``stats`` (live: session state, server fps, pipeline latency per stage in ms, the rep
counter ``reps`` and the ``exercise`` it counts; about 1 Hz),
``state`` (replay: playing, speed, position_us), ``end`` (reason).
Browser -> server (replay only): ``{"type": "seek", "t_s": 12.5}`` (seconds from the start,
>= 0; past the end shows the last frame), ``{"type": "pause"}``, ``{"type": "play"}``,
``{"type": "speed", "value": 2.0}`` (SPEED_MIN..SPEED_MAX). Numbers must be finite JSON numbers
(``NaN``/``Infinity`` are not JSON); a message that breaks these rules is answered with
``{"type": "error", "error": "..."}`` and changes nothing.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

from ..stream import pb

KIND_POSE = 1
HEADER = struct.Struct("<BBHfQq")  # kind, flags, reserved, confidence, sequence, capture_time_us
MESSAGE_BYTES = HEADER.size + 104
assert HEADER.size == 24
SPEED_MIN, SPEED_MAX = 0.1, 16.0  # replay speed factors a client may ask for
_NUMERIC_FIELD = {"seek": "t_s", "speed": "value"}  # control messages with a number


class BadControl(ValueError):
    """A control message the server refuses (the reason is sent back to the browser)."""


def _no_constant(name: str) -> float:
    raise BadControl(f"{name} is not a JSON number")


def parse_control(text: str) -> tuple[str, float]:
    """A browser control message -> (type, number): the number is ``t_s`` for "seek" and
    ``value`` for "speed", checked finite and in range; 0.0 for types without one (unknown
    types pass through, to be ignored). :class:`BadControl` for anything else."""
    try:
        msg = json.loads(text, parse_constant=_no_constant)  # rejects NaN and +-Infinity
    except ValueError as exc:  # (BadControl included)
        raise BadControl(str(exc) if isinstance(exc, BadControl) else "not JSON") from exc
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise BadControl('expected a JSON object with a "type"')
    kind = msg["type"]
    name = _NUMERIC_FIELD.get(kind)
    if name is None:
        return kind, 0.0
    raw = msg.get(name)
    try:
        # bool is an int in Python, but true/false are not numbers here.
        value = float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    except OverflowError:  # an integer too large for a float
        value = None
    if value is None or not math.isfinite(value):  # (1e999 parses as inf)
        raise BadControl(f"{kind}: {name} must be a finite number")
    if kind == "seek" and value < 0:
        raise BadControl("seek: t_s must be >= 0")
    if kind == "speed" and not SPEED_MIN <= value <= SPEED_MAX:
        raise BadControl(f"speed: value must be within {SPEED_MIN:g}..{SPEED_MAX:g}")
    return kind, value


def pack_frame(frame: pb.PoseFrame) -> bytes:
    return (
        HEADER.pack(
            KIND_POSE,
            frame.flags & 0xFF,
            0,
            frame.confidence,
            frame.sequence,
            frame.capture_time_us,
        )  # fmt: skip
        + frame.pose
    )


def unpack_frame(data: bytes) -> pb.PoseFrame:
    kind, flags, _, conf, seq, t_us = HEADER.unpack_from(data)
    if kind != KIND_POSE or len(data) != MESSAGE_BYTES:
        raise ValueError("not a pose message")
    return pb.PoseFrame(
        sequence=seq, capture_time_us=t_us, confidence=conf, flags=flags, pose=data[24:]
    )


def info_json(info: pb.SessionInfo) -> dict[str, Any]:
    return {
        "type": "info",
        "session_id": info.session_id,
        "body_model": info.body_model,
        "betas": list(info.betas),
        "fps": info.fps,
        "coordinate_frame": "gl_viewer",  # x right, y up, z towards the camera
        "joint_names": list(info.joint_names),
        "layout_version": info.layout_version,
        "started_time_us": info.started_time_us,
        "state": pb.SessionState.Name(info.state).removeprefix("SESSION_STATE_").lower(),
    }
