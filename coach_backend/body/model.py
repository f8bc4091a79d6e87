"""The body model: SMPL parameters -> vertices, 24 joints and 23 surface keypoints.

Files are loaded by smplx's own ``SMPL`` class (through ``data_struct``, since smplx opens
files by path only as pickles) and skinned with smplx's ``lbs`` primitives. The open body
(``open_body.npz``, package data: see `coach_backend.resources`) ships with the project; a real
SMPL file is a drop-in.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Container
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import smplx
import torch
from smplx.lbs import batch_rigid_transform, batch_rodrigues, blend_shapes, vertices2joints
from smplx.utils import Struct

# The files' names and default paths: in a light module, for the body tools' --help.
from coach_backend.body.model_paths import OPEN_BODY_FILE, SMPL_NEUTRAL_FILE
from coach_backend.body.model_paths import OPEN_BODY_PATH as OPEN_BODY_PATH
from coach_backend.body.model_paths import SMPL_DIR as SMPL_DIR
from coach_backend.body.model_paths import SMPL_NEUTRAL_PATH as SMPL_NEUTRAL_PATH
from coach_backend.body.skeleton import (
    KEYPOINT_NAMES,
    NUM_BETAS,
    NUM_BODY_JOINTS,
    NUM_JOINTS,
    SMPL_JOINT_NAMES,
)
from coach_backend.body.smpl_keypoints import smpl_keypoint_regressor
from coach_backend.resources import model_path, smpl_dir

ENV_VAR = "COACH_BODY_MODEL"
# The body model's name, as `BodyModel.name`, SessionInfo.body_model and recordings give it:
# clients holding a mesh of one body must not apply betas of another.
OPEN_BODY_NAME = "open_body"
SMPL_NAME = "smpl"


@dataclass
class BodyParams:
    """SMPL parameters, batched; rotations are axis-angle, translation in metres."""

    global_orient: torch.Tensor  # (B,3)
    body_pose: torch.Tensor  # (B,23,3)
    betas: torch.Tensor  # (B,10)
    transl: torch.Tensor  # (B,3)

    @classmethod
    def zeros(cls, batch: int = 1, dtype: torch.dtype = torch.float32) -> BodyParams:
        return cls(
            global_orient=torch.zeros(batch, 3, dtype=dtype),
            body_pose=torch.zeros(batch, NUM_BODY_JOINTS, 3, dtype=dtype),
            betas=torch.zeros(batch, NUM_BETAS, dtype=dtype),
            transl=torch.zeros(batch, 3, dtype=dtype),
        )

    @classmethod
    def from_numpy(cls, **arrays: np.ndarray) -> BodyParams:
        """Missing fields are zero; a single frame (no batch axis) is batched."""
        batch = next(np.asarray(a).reshape(-1, *_SHAPES[k]).shape[0] for k, a in arrays.items())
        params = cls.zeros(batch)
        for name, value in arrays.items():
            tensor = torch.as_tensor(np.asarray(value), dtype=torch.float32)
            setattr(params, name, tensor.reshape(batch, *_SHAPES[name]))
        return params

    @property
    def batch_size(self) -> int:
        return self.global_orient.shape[0]

    def full_pose(self) -> torch.Tensor:
        """(B,24,3): global orientation followed by the 23 body joints."""
        return torch.cat([self.global_orient[:, None], self.body_pose], dim=1)

    def to(self, device: torch.device | str) -> BodyParams:
        return BodyParams(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})


_SHAPES = {
    "global_orient": (3,),
    "body_pose": (NUM_BODY_JOINTS, 3),
    "betas": (NUM_BETAS,),
    "transl": (3,),
}


@dataclass
class BodyOutput:
    vertices: torch.Tensor  # (B,V,3), or (B,len(vertex_ids),3) when a subset was asked for
    joints: torch.Tensor  # (B,24,3) SMPL joints
    keypoints: torch.Tensor  # (B,23,3) surface keypoints, KEYPOINT_NAMES order
    joint_transforms: torch.Tensor  # (B,24,4,4) world transforms of the joints (posed)


def resolve_model_path(path: str | Path | None = None) -> Path:
    """Pick the body file: explicit path > $COACH_BODY_MODEL > <models>/smpl/SMPL_NEUTRAL.npz
    (if the user put one there; see `coach_backend.resources`) > the shipped open body."""
    configured = path if path is not None else os.environ.get(ENV_VAR)
    if configured:
        resolved = Path(configured).expanduser()
        if not resolved.is_file():
            source = "argument" if path is not None else f"${ENV_VAR}"
            raise FileNotFoundError(
                f"body model file {resolved} (from {source}) does not exist. Put a converted SMPL "
                f"file there (python -m coach_backend.body.convert_pkl SMPL_NEUTRAL.pkl "
                f"--out {resolved}) or unset it to use the open body."
            )
        return resolved
    smpl_neutral = smpl_dir() / SMPL_NEUTRAL_FILE
    if smpl_neutral.is_file():
        return smpl_neutral
    open_body = model_path(OPEN_BODY_FILE)
    if not open_body.is_file():
        raise FileNotFoundError(
            f"the open body {open_body} is missing; rebuild it with "
            "python -m coach_backend.body.build_open_body"
        )
    return open_body


def body_model_name(path: str | Path | None = None) -> str:
    """The name of the body `load_body_model(path)` runs (without loading it): ``open_body``
    for the shipped body or a rebuild of it, ``smpl`` for a real SMPL file."""
    resolved = resolve_model_path(path)
    if resolved not in _NAMES:  # callers ask per session: read each file's directory once
        with np.load(resolved, allow_pickle=False) as data:  # the zip directory only
            _NAMES[resolved] = _name_of(data.files)
    return _NAMES[resolved]


_NAMES: dict[Path, str] = {}


def _name_of(keys: Container[str]) -> str:
    # Only the open body carries its own surface-keypoint regressor (build_open_body.py).
    return OPEN_BODY_NAME if "keypoint_regressor" in keys else SMPL_NAME


def load_body_struct(path: Path) -> Struct:
    """A chumpy-free SMPL file (.npz) as the Struct smplx's SMPL class takes."""
    if path.suffix == ".pkl":
        raise ValueError(
            f"{path} is a pickle; convert it once with "
            f"python -m coach_backend.body.convert_pkl {path} --out {path.with_suffix('.npz')}"
        )
    with np.load(path, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    missing = {"v_template", "shapedirs", "J_regressor", "weights", "kintree_table", "f"} - set(
        arrays
    )
    if missing:
        raise ValueError(f"{path} is not an SMPL-format body file: missing {sorted(missing)}")
    if arrays["J_regressor"].shape[0] != NUM_JOINTS:
        raise ValueError(
            f"{path}: expected a 24-joint SMPL body, got {arrays['J_regressor'].shape}"
        )
    return Struct(**arrays)


class BodyModel(torch.nn.Module):
    """SMPL-format body: ``BodyModel()(BodyParams) -> BodyOutput``."""

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__()
        self.path = resolve_model_path(path)
        struct = load_body_struct(self.path)
        # smplx prints a warning to stdout for any file with fewer than 300 shape coefficients,
        # i.e. for every public SMPL file and ours; it would land in every CLI's output.
        with contextlib.redirect_stdout(io.StringIO()):
            smpl = smplx.SMPL(model_path=str(self.path), data_struct=struct, num_betas=NUM_BETAS)
        self.name = _name_of(struct.__dict__)
        self.faces: np.ndarray = np.asarray(smpl.faces, dtype=np.int64)
        self.register_buffer("v_template", smpl.v_template)
        self.register_buffer("shapedirs", smpl.shapedirs)
        self.register_buffer("J_regressor", smpl.J_regressor)
        self.register_buffer("lbs_weights", smpl.lbs_weights)
        self.register_buffer("parents", smpl.parents)
        # The open body has no pose correctives; skipping an all-zero (V*3 x 207) product
        # is most of the forward's cost.
        self.has_pose_correctives = bool(smpl.posedirs.abs().max() > 0)
        self.register_buffer("posedirs", smpl.posedirs if self.has_pose_correctives else None)
        if "keypoint_regressor" in struct.__dict__:
            keypoint_reg = np.asarray(struct.keypoint_regressor, dtype=np.float32)
        else:
            keypoint_reg = smpl_keypoint_regressor(struct.J_regressor, len(struct.v_template))
        # Keypoints read only the vertices their regressor touches, so keep just that support.
        support = np.flatnonzero(np.abs(keypoint_reg).sum(0) > 0)
        self.register_buffer("keypoint_support", torch.as_tensor(support, dtype=torch.long))
        # Joints read only the few vertices their regressor touches: shaping just those is
        # what lets a forward with a vertex subset skip the full mesh entirely.
        joint_support = np.flatnonzero(np.abs(smpl.J_regressor.numpy()).sum(0) > 0)
        self.register_buffer("joint_support", torch.as_tensor(joint_support, dtype=torch.long))
        self.register_buffer("keypoint_weights", torch.as_tensor(keypoint_reg[:, support]))
        self._fold_keypoints()
        self.joint_names = list(SMPL_JOINT_NAMES)
        self.keypoint_names = list(KEYPOINT_NAMES)

    def _fold_keypoints(self) -> None:
        """Without pose correctives a keypoint is linear in the joint transforms: keypoint k =
        sum_j R_j m_kj(betas) + t_j c_kj. Folding the regressor and the skinning weights of its
        1090 support vertices into (K,24) terms makes the keypoints ~40x cheaper than skinning
        the support (what training batches, fits and the live path pay for)."""
        w = self.keypoint_weights.double()
        skin = self.lbs_weights[self.keypoint_support].double()
        self.register_buffer("keypoint_joint_weights", torch.einsum("ks,sj->kj", w, skin).float())
        self.register_buffer(
            "keypoint_joint_points",
            torch.einsum(
                "ks,sj,sd->kjd", w, skin, self.v_template[self.keypoint_support].double()
            ).float(),
        )
        self.register_buffer(
            "keypoint_joint_shapedirs",
            torch.einsum(
                "ks,sj,sdi->kjdi", w, skin, self.shapedirs[self.keypoint_support].double()
            ).float(),
        )

    @property
    def num_vertices(self) -> int:
        return self.v_template.shape[0]

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """(B,24,3) joints of the shaped body in its zero pose, before translation."""
        ids = self.joint_support
        shaped = self.v_template[ids] + blend_shapes(betas, self.shapedirs[ids])
        return vertices2joints(self.J_regressor[:, ids], shaped)

    def forward(self, params: BodyParams, vertex_ids: torch.Tensor | None = None) -> BodyOutput:
        """Pose the body. ``vertex_ids`` skins only those vertices (keypoints and joints are
        always exact), which is what training losses need and several times cheaper."""
        full_pose = params.full_pose()
        rotmats = batch_rodrigues(full_pose.reshape(-1, 3)).reshape(-1, NUM_JOINTS, 3, 3)
        return self.from_rotmats(rotmats, params.betas, params.transl, vertex_ids)

    def from_rotmats(
        self,
        rotmats: torch.Tensor,
        betas: torch.Tensor,
        transl: torch.Tensor,
        vertex_ids: torch.Tensor | None = None,
    ) -> BodyOutput:
        """``forward`` with (B,24,3,3) rotation matrices, as networks predict them (no
        axis-angle round trip, whose gradient is singular at the zero rotation)."""
        rest_joints = self.rest_joints(betas)
        posed_joints, transforms = batch_rigid_transform(rotmats, rest_joints, self.parents)
        wanted = torch.arange(self.num_vertices) if vertex_ids is None else vertex_ids
        if self.has_pose_correctives:  # real SMPL: keypoints from their skinned support
            ids = torch.cat([wanted, self.keypoint_support])
            pose_feature = (rotmats[:, 1:] - torch.eye(3, dtype=rotmats.dtype)).flatten(1)
            posedirs = self.posedirs.reshape(-1, self.num_vertices, 3)[:, ids].flatten(1)
            v_shaped = self.v_template[ids] + blend_shapes(betas, self.shapedirs[ids])
            v_shaped = v_shaped + (pose_feature @ posedirs).reshape(len(rotmats), -1, 3)
            skin = _skin(v_shaped, self.lbs_weights[ids], transforms)
            vertices, support = skin[:, : len(wanted)], skin[:, len(wanted) :]
            keypoints = torch.einsum("kv,bvd->bkd", self.keypoint_weights, support)
        else:
            shaped = self.v_template[wanted] + blend_shapes(betas, self.shapedirs[wanted])
            vertices = _skin(shaped, self.lbs_weights[wanted], transforms)
            keypoints = self._folded_keypoints(betas, transforms)
        shift = transl[:, None, :]
        world = transforms.clone()
        world[:, :, :3, 3] = posed_joints + shift
        return BodyOutput(
            vertices=vertices + shift,
            joints=posed_joints + shift,
            keypoints=keypoints + shift,
            joint_transforms=world,
        )

    def _folded_keypoints(self, betas: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
        """(B,K,3) keypoints of a body without pose correctives from the folded terms
        (`_fold_keypoints`) and the (B,24,4,4) joint transforms, before translation."""
        points = self.keypoint_joint_points + torch.einsum(
            "kjdi,bi->bkjd", self.keypoint_joint_shapedirs, betas
        )
        rotated = torch.einsum("bjde,bkje->bkd", transforms[:, :, :3, :3], points)
        return rotated + torch.einsum(
            "bjd,kj->bkd", transforms[:, :, :3, 3], self.keypoint_joint_weights
        )


def _skin(vertices: torch.Tensor, weights: torch.Tensor, transforms: torch.Tensor) -> torch.Tensor:
    """Linear blend skinning of (B,N,3) rest vertices with (N,24) weights."""
    blended = torch.einsum("nj,bjik->bnik", weights, transforms[:, :, :3, :])
    return torch.einsum("bnik,bnk->bni", blended[..., :3], vertices) + blended[..., 3]


_CACHE: dict[Path, BodyModel] = {}


def load_body_model(path: str | Path | None = None) -> BodyModel:
    """The body model for ``path`` (see ``resolve_model_path``), loaded once per process."""
    resolved = resolve_model_path(path)
    if resolved not in _CACHE:
        _CACHE[resolved] = BodyModel(resolved).eval()
    return _CACHE[resolved]
