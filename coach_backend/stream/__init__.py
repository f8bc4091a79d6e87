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

from .client import PoseStreamClient
from .codec import (
    FLAG_VALID,
    LAYOUT_VERSION,
    POSE_BYTES,
    SMPL24_JOINT_NAMES,
    DecodedPose,
    DecodedPoses,
    camera_to_wire,
    decode_pose,
    decode_poses,
    encode_pose,
    encode_poses,
    rotation_error_deg,
    wire_to_camera,
)
from .hub import HubStats, SessionHub, SubscriberStats, Subscription, make_session_info
from .proto_gen import coach_pb2 as pb
from .server import PoseStreamServer, StreamConfig

__all__ = [
    "FLAG_VALID",
    "LAYOUT_VERSION",
    "POSE_BYTES",
    "SMPL24_JOINT_NAMES",
    "DecodedPose",
    "DecodedPoses",
    "HubStats",
    "PoseStreamClient",
    "PoseStreamServer",
    "SessionHub",
    "StreamConfig",
    "SubscriberStats",
    "Subscription",
    "camera_to_wire",
    "decode_pose",
    "decode_poses",
    "encode_pose",
    "encode_poses",
    "make_session_info",
    "pb",
    "rotation_error_deg",
    "wire_to_camera",
]
