"""Pose streaming: compact wire codec, per-session fan-out hub, gRPC server and client.

Wire layout and frames: docs/CONTRIBUTING-internal.md ("Compact pose wire layout v1");
protocol: protos/coach.proto (package coach.v1).

Pipeline side::

    server = PoseStreamServer(StreamConfig(host="0.0.0.0", port=50051))
    server.start()
    hub = server.add_session(make_session_info("s1", betas=betas, fps=30.0), token=token)
    go_wire, pelvis_wire = camera_to_wire(global_orient_cam, pelvis_cam)
    hub.publish_pose(np.concatenate([go_wire[None], body_pose]), pelvis_wire, confidence=c)
    ...
    hub.end()  # subscribers get StreamEnd; server.stop() ends every session

Client side: ``PoseStreamClient("host:50051", token).subscribe("s1")`` yields SessionInfo,
PoseFrames (``decode_pose(frame.pose)``), then StreamEnd.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.stream.client import PoseStreamClient as PoseStreamClient
    from coach_backend.stream.codec import FLAG_VALID as FLAG_VALID
    from coach_backend.stream.codec import LAYOUT_VERSION as LAYOUT_VERSION
    from coach_backend.stream.codec import POSE_BYTES as POSE_BYTES
    from coach_backend.stream.codec import SMPL24_JOINT_NAMES as SMPL24_JOINT_NAMES
    from coach_backend.stream.codec import DecodedPose as DecodedPose
    from coach_backend.stream.codec import DecodedPoses as DecodedPoses
    from coach_backend.stream.codec import camera_to_wire as camera_to_wire
    from coach_backend.stream.codec import decode_pose as decode_pose
    from coach_backend.stream.codec import decode_poses as decode_poses
    from coach_backend.stream.codec import encode_pose as encode_pose
    from coach_backend.stream.codec import encode_poses as encode_poses
    from coach_backend.stream.codec import rotation_error_deg as rotation_error_deg
    from coach_backend.stream.codec import wire_to_camera as wire_to_camera
    from coach_backend.stream.hub import HubStats as HubStats
    from coach_backend.stream.hub import SessionHub as SessionHub
    from coach_backend.stream.hub import SubscriberStats as SubscriberStats
    from coach_backend.stream.hub import Subscription as Subscription
    from coach_backend.stream.hub import make_session_info as make_session_info
    from coach_backend.stream.proto_gen import coach_pb2 as pb  # noqa: F401  (exported)
    from coach_backend.stream.server import PoseStreamServer as PoseStreamServer
    from coach_backend.stream.server import StreamConfig as StreamConfig

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "client": ("PoseStreamClient",),
        "codec": (
            "FLAG_VALID",
            "LAYOUT_VERSION",
            "POSE_BYTES",
            "SMPL24_JOINT_NAMES",
            "DecodedPose",
            "DecodedPoses",
            "camera_to_wire",
            "decode_pose",
            "decode_poses",
            "encode_pose",
            "encode_poses",
            "rotation_error_deg",
            "wire_to_camera",
        ),
        "hub": ("HubStats", "SessionHub", "SubscriberStats", "Subscription", "make_session_info"),
        "proto_gen": ("coach_pb2 as pb",),
        "server": ("PoseStreamServer", "StreamConfig"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
