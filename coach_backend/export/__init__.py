"""Export the body and its motion for DCC tools and engines: rigged glTF 2.0 (.glb) and BVH.

from coach_backend.export import load_motion, export_body_glb, export_animation_glb, export_bvh
export_body_glb("body.glb")                          # T-pose rig, mean shape (or betas=...)
motion = load_motion("session.coachrec")             # or a replay result "smpl.npz"
export_animation_glb("session.glb", motion)          # rig + animation "motion"
export_bvh("session.bvh", motion)                    # same motion, SMPL-24 skeleton

From arrays (e.g. the replay CLI): ``motion_from_smpl(global_orient, body_pose, transl,
betas=..., times=..., valid=..., frame="camera")``. Conventions: the module docstrings of
``export.gltf`` (node layout, skin, animation) and ``export.bvh`` (channels, units). CLI:
``python -m coach_backend.export {body,animation,bvh} [INPUT] --out FILE``.
"""

from .bvh import EulerOrder, export_bvh
from .gltf import export_animation_glb, export_body_glb
from .gltf_read import GlbRig, load_glb_rig
from .motion import (
    Motion,
    RootMotion,
    load_motion,
    motion_from_npz,
    motion_from_recording,
    motion_from_smpl,
)

__all__ = [
    "EulerOrder",
    "GlbRig",
    "Motion",
    "RootMotion",
    "export_animation_glb",
    "export_body_glb",
    "export_bvh",
    "load_glb_rig",
    "load_motion",
    "motion_from_npz",
    "motion_from_recording",
    "motion_from_smpl",
]
