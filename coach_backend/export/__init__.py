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

The names below are imported on first use (PEP 562): the CLI's ``--help`` and its argument
checks must not pay for torch and the body model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers and readers (explicit re-exports)
    from .bvh import EulerOrder as EulerOrder
    from .bvh import export_bvh as export_bvh
    from .gltf import export_animation_glb as export_animation_glb
    from .gltf import export_body_glb as export_body_glb
    from .gltf_read import GlbRig as GlbRig
    from .gltf_read import load_glb_rig as load_glb_rig
    from .motion import Motion as Motion
    from .motion import RootMotion as RootMotion
    from .motion import load_motion as load_motion
    from .motion import motion_from_npz as motion_from_npz
    from .motion import motion_from_recording as motion_from_recording
    from .motion import motion_from_smpl as motion_from_smpl

# Module (in this package) of each public name.
_HOMES = {
    "bvh": ("EulerOrder", "export_bvh"),
    "gltf": ("export_animation_glb", "export_body_glb"),
    "gltf_read": ("GlbRig", "load_glb_rig"),
    "motion": (
        "Motion",
        "RootMotion",
        "load_motion",
        "motion_from_npz",
        "motion_from_recording",
        "motion_from_smpl",
    ),
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_HOME_OF)


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME_OF])
