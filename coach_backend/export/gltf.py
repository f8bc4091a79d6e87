"""Rigged, skinned glTF 2.0 binary (.glb) of the body, optionally with an animation.

Layout (same in every file, so tools can rely on it):
- nodes 0..23: the SMPL-24 joints in SMPL order, named ``SMPL_JOINT_NAMES``, parented as
  ``SMPL_PARENTS``; node 24: ``body``, the skinned mesh. Scene roots: ``pelvis`` and ``body``.
- bind pose = rest pose = SMPL's zero pose (T-pose): every joint's rotation is identity, its
  translation the rest offset from its parent (the pelvis: its rest position). Metres, y up,
  body facing +z (glTF's own conventions, so no axis conversion anywhere).
- skin ``smpl24``: joints = nodes 0..23, inverse bind matrices = translation(-rest joint).
- mesh attributes POSITION, NORMAL, JOINTS_0 (uint8), WEIGHTS_0: each vertex's four largest
  SMPL LBS weights, renormalised to sum to 1 (glTF allows 4 influences per set; the dropped
  weights are small for SMPL-style bodies).
- animation ``motion`` (optional): one rotation channel per joint (unit quaternions x,y,z,w,
  LINEAR = slerp) and one translation channel on ``pelvis``, times in seconds from 0.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pygltflib as gl
from scipy.spatial.transform import Rotation

from coach_backend.body import SMPL_JOINT_NAMES, SMPL_PARENTS

from .motion import Motion, RestBody, RootMotion, rest_body, root_positions

MESH_NODE = len(SMPL_JOINT_NAMES)  # node index of the skinned mesh
MAX_INFLUENCES = 4


class _Blob:
    """Accumulates buffer views (4-byte aligned, as accessors require) in one binary chunk."""

    def __init__(self, gltf: gl.GLTF2) -> None:
        self.gltf = gltf
        self.data = bytearray()

    def accessor(
        self,
        array: np.ndarray,
        component: int,
        kind: str,
        target: int | None = None,
        minmax: bool = False,
        normalized: bool = False,
    ) -> int:
        raw = np.ascontiguousarray(array).tobytes()
        self.data += b"\x00" * (-len(self.data) % 4)
        self.gltf.bufferViews.append(
            gl.BufferView(buffer=0, byteOffset=len(self.data), byteLength=len(raw), target=target)
        )
        self.data += raw
        flat = array.reshape(array.shape[0], -1)
        acc = gl.Accessor(
            bufferView=len(self.gltf.bufferViews) - 1,
            componentType=component,
            count=int(array.shape[0]),
            type=kind,
            normalized=normalized or None,
        )
        if minmax:  # required for POSITION and animation inputs
            acc.min = [float(v) for v in flat.min(axis=0)]
            acc.max = [float(v) for v in flat.max(axis=0)]
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1


def skin_influences(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V,24) LBS weights -> JOINTS_0 (V,4) uint8 and WEIGHTS_0 (V,4) float32 summing to 1.

    Unused slots get joint 0 with weight 0 (validators flag repeated joints with weight)."""
    order = np.argsort(-weights, axis=1, kind="stable")[:, :MAX_INFLUENCES]
    top = np.take_along_axis(weights, order, axis=1).clip(min=0.0)
    top = top / top.sum(axis=1, keepdims=True)
    w = top.astype(np.float32)
    w[w < 1e-6] = 0.0  # drop float dust; renormalised below
    # Put the float32 rounding remainder on the largest weight so each row sums to 1 within
    # a float32 ulp (validators check the sum against a tolerance).
    w[:, 0] = np.float32(1.0) - w[:, 1:].sum(axis=1, dtype=np.float32)
    joints = np.where(w > 0, order, 0).astype(np.uint8)
    return joints, w


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # area-weighted
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_n)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.where(length > 1e-12, normals / np.maximum(length, 1e-12), [0.0, 1.0, 0.0])
    return normals


def continuous_quats(rotvecs: np.ndarray) -> np.ndarray:
    """(T,J,3) rotvecs -> (T,J,4) x,y,z,w quaternions with consecutive keys in the same
    hemisphere, so any interpolator (shortest-path or not) turns the short way."""
    t, j = rotvecs.shape[:2]
    q = Rotation.from_rotvec(rotvecs.reshape(-1, 3)).as_quat().reshape(t, j, 4)
    for i in range(1, t):
        q[i] *= np.where(np.sum(q[i] * q[i - 1], axis=1) < 0, -1.0, 1.0)[:, None]
    return q


def build_gltf(
    rest: RestBody,
    motion: Motion | None = None,
    root_motion: RootMotion = "relative",
) -> gl.GLTF2:
    """The glTF document (binary blob attached); ``export_*_glb`` save it."""
    gltf = gl.GLTF2(
        asset=gl.Asset(
            version="2.0",
            generator="coach_backend.export",
            extras={"body_model": rest.name, "betas": [float(b) for b in rest.betas]},
        ),
        scene=0,
    )
    blob = _Blob(gltf)
    joints = rest.joints
    # Joint nodes in SMPL order: node index == SMPL joint index.
    for j, (name, parent) in enumerate(zip(SMPL_JOINT_NAMES, SMPL_PARENTS, strict=True)):
        offset = joints[j] - (joints[parent] if parent >= 0 else 0.0)
        children = [c for c, p in enumerate(SMPL_PARENTS) if p == j]
        gltf.nodes.append(
            gl.Node(name=name, translation=[float(v) for v in offset], children=children or [])
        )
    ibm = np.tile(np.eye(4, dtype=np.float32), (len(joints), 1, 1))
    ibm[:, :3, 3] = -joints
    # glTF matrices are column-major: store the transpose of each row-major matrix.
    ibm_acc = blob.accessor(np.transpose(ibm, (0, 2, 1)).astype(np.float32), gl.FLOAT, gl.MAT4)
    gltf.skins.append(
        gl.Skin(
            name="smpl24", joints=list(range(len(joints))), skeleton=0, inverseBindMatrices=ibm_acc
        )
    )

    verts = rest.vertices.astype(np.float32)
    faces = rest.faces
    index_type = gl.UNSIGNED_SHORT if len(verts) < 65535 else gl.UNSIGNED_INT
    index_dtype = np.uint16 if index_type == gl.UNSIGNED_SHORT else np.uint32
    jnt, wts = skin_influences(rest.weights)
    attrs = gl.Attributes(
        POSITION=blob.accessor(verts, gl.FLOAT, gl.VEC3, gl.ARRAY_BUFFER, minmax=True),
        NORMAL=blob.accessor(
            _vertex_normals(rest.vertices, faces).astype(np.float32),
            gl.FLOAT,
            gl.VEC3,
            gl.ARRAY_BUFFER,
        ),  # fmt: skip
        JOINTS_0=blob.accessor(jnt, gl.UNSIGNED_BYTE, gl.VEC4, gl.ARRAY_BUFFER),
        WEIGHTS_0=blob.accessor(wts, gl.FLOAT, gl.VEC4, gl.ARRAY_BUFFER),
    )
    indices = blob.accessor(
        faces.reshape(-1).astype(index_dtype), index_type, gl.SCALAR, gl.ELEMENT_ARRAY_BUFFER
    )
    gltf.materials.append(
        gl.Material(
            name="skin",
            pbrMetallicRoughness=gl.PbrMetallicRoughness(
                baseColorFactor=[0.82, 0.68, 0.58, 1.0], metallicFactor=0.0, roughnessFactor=0.8
            ),
        )
    )
    gltf.meshes.append(
        gl.Mesh(
            name="body", primitives=[gl.Primitive(attributes=attrs, indices=indices, material=0)]
        )
    )
    gltf.nodes.append(gl.Node(name="body", mesh=0, skin=0))
    gltf.scenes.append(gl.Scene(name="coach_body", nodes=[0, MESH_NODE]))

    if motion is not None:
        _add_animation(gltf, blob, motion, joints[0], root_motion)

    gltf.buffers.append(gl.Buffer(byteLength=len(blob.data)))
    gltf.set_binary_blob(bytes(blob.data))
    return gltf


def _add_animation(
    gltf: gl.GLTF2, blob: _Blob, motion: Motion, rest_pelvis: np.ndarray, root_motion: RootMotion
) -> None:
    rotvecs, _ = motion.held()
    quats = continuous_quats(rotvecs).astype(np.float32)
    quats /= np.linalg.norm(quats, axis=-1, keepdims=True)  # unit length after the cast
    times = blob.accessor(motion.times.astype(np.float32), gl.FLOAT, gl.SCALAR, minmax=True)
    samplers: list[gl.AnimationSampler] = []
    channels: list[gl.AnimationChannel] = []
    for j in range(quats.shape[1]):
        out = blob.accessor(quats[:, j], gl.FLOAT, gl.VEC4)
        samplers.append(gl.AnimationSampler(input=times, output=out, interpolation=gl.ANIM_LINEAR))
        channels.append(
            gl.AnimationChannel(
                sampler=len(samplers) - 1,
                target=gl.AnimationChannelTarget(node=j, path=gl.ROTATION),
            )
        )
    root = root_positions(motion, rest_pelvis, root_motion).astype(np.float32)
    samplers.append(
        gl.AnimationSampler(
            input=times, output=blob.accessor(root, gl.FLOAT, gl.VEC3), interpolation=gl.ANIM_LINEAR
        )
    )
    channels.append(
        gl.AnimationChannel(
            sampler=len(samplers) - 1, target=gl.AnimationChannelTarget(node=0, path=gl.TRANSLATION)
        )
    )
    gltf.animations.append(gl.Animation(name="motion", samplers=samplers, channels=channels))


def export_body_glb(
    path: str | os.PathLike[str],
    betas: np.ndarray | None = None,
    model_path: str | Path | None = None,
) -> Path:
    """Write the body (shape ``betas``, default mean) as a rigged, skinned T-pose ``.glb``."""
    out = Path(path)
    build_gltf(rest_body(betas, model_path)).save_binary(str(out))
    return out


def export_animation_glb(
    path: str | os.PathLike[str],
    motion: Motion,
    *,
    root_motion: RootMotion = "relative",
    model_path: str | Path | None = None,
) -> Path:
    """Write the rigged body (shape ``motion.betas``) with ``motion`` as glTF animation
    ``motion``. Invalid frames hold the last valid pose (see :meth:`Motion.held`); root
    translation per :func:`~coach_backend.export.motion.root_positions`."""
    out = Path(path)
    build_gltf(rest_body(motion.betas, model_path), motion, root_motion).save_binary(str(out))
    return out
