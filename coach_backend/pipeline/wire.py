"""SmplFrame (camera frame) -> compact wire pose (104 bytes) and `PoseFrame` messages."""

from __future__ import annotations

import numpy as np

from coach_backend.body import BodyModel
from coach_backend.smoothing import SmplFrame
from coach_backend.stream import FLAG_VALID, camera_to_wire, encode_pose, pb


class WireEncoder:
    """Encodes frames for one body model.

    The wire carries the pelvis *joint* position, not SMPL's `transl`: pelvis = transl +
    J_pelvis(betas) (the root rotation turns about the pelvis joint, so it does not move it).
    J_pelvis is linear in betas, so it is precomputed as p0 + P @ betas (why: no body-model
    forward per frame on the live path).
    """

    def __init__(self, body: BodyModel) -> None:
        reg = body.J_regressor[0].detach().double()  # (V,) pelvis row
        self._p0 = (reg @ body.v_template.detach().double()).numpy()  # (3,)
        self._p = np.einsum("v,vdl->dl", reg.numpy(), body.shapedirs.detach().double().numpy())

    def pelvis(self, frame: SmplFrame) -> np.ndarray:
        """(3,) pelvis joint position in the camera frame, metres."""
        n = min(len(frame.betas), self._p.shape[1])
        return frame.transl + self._p0 + self._p[:, :n] @ frame.betas[:n]

    def pose(self, frame: SmplFrame) -> bytes:
        """104-byte wire pose (y-up viewer frame); an invalid frame encodes a zero pose with the
        valid flag cleared, so consumers keep the timeline but hold their last pose."""
        if not frame.valid:
            return encode_pose(np.zeros((24, 3)), np.zeros(3), valid=False)
        go_wire, pelvis_wire = camera_to_wire(frame.global_orient, self.pelvis(frame))
        rotvecs = np.concatenate([go_wire[None], frame.body_pose], axis=0)
        return encode_pose(rotvecs, pelvis_wire, valid=True)

    def pose_frame(
        self, frame: SmplFrame, sequence: int, capture_time_us: int, confidence: float
    ) -> pb.PoseFrame:
        return pb.PoseFrame(
            sequence=sequence,
            capture_time_us=capture_time_us,
            confidence=confidence if frame.valid else 0.0,
            flags=FLAG_VALID if frame.valid else 0,
            pose=self.pose(frame),
        )
