"""Read a skinned, animated .glb back and pose it with numpy, from the file's own data only.

Independent of the writer (it walks the node tree and accessors as any glTF loader would), so it
checks exported files and renders figures of them. Handles what the exporter writes - one skinned
mesh, one skin, TRS nodes, LINEAR/STEP samplers - not arbitrary glTF.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pygltflib as gl
from scipy.spatial.transform import Rotation, Slerp

_DTYPES = {
    gl.BYTE: np.int8,
    gl.UNSIGNED_BYTE: np.uint8,
    gl.SHORT: np.int16,
    gl.UNSIGNED_SHORT: np.uint16,
    gl.UNSIGNED_INT: np.uint32,
    gl.FLOAT: np.float32,
}
_WIDTH = {gl.SCALAR: 1, gl.VEC2: 2, gl.VEC3: 3, gl.VEC4: 4, gl.MAT4: 16}


def read_accessor(gltf: gl.GLTF2, index: int) -> np.ndarray:
    """Accessor ``index`` as a (count, width) array (SCALAR: (count,)); MAT4 stays column-major."""
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    blob = gltf.binary_blob()
    dtype = np.dtype(_DTYPES[acc.componentType])
    width = _WIDTH[acc.type]
    start = (view.byteOffset or 0) + (acc.byteOffset or 0)
    stride = view.byteStride or dtype.itemsize * width
    rows = np.ndarray(
        (acc.count, width), dtype=dtype, buffer=blob, offset=start, strides=(stride, dtype.itemsize)
    ).copy()
    return rows[:, 0] if acc.type == gl.SCALAR else rows


@dataclass
class Channel:
    times: np.ndarray  # (K,)
    values: np.ndarray  # (K,3) translation or (K,4) quaternion x,y,z,w
    interpolation: str


@dataclass
class GlbRig:
    """What a glTF viewer would use to pose the file's skinned mesh."""

    names: list[str]  # skin joint names, in skin order
    parents: list[int]  # parent of each skin joint as an index into ``names`` (-1: root)
    rest_translation: np.ndarray  # (J,3) node translations
    rest_rotation: np.ndarray  # (J,4) node rotations x,y,z,w
    inverse_bind: np.ndarray  # (J,4,4) row-major
    positions: np.ndarray  # (V,3)
    faces: np.ndarray  # (F,3)
    joints: np.ndarray  # (V,4) JOINTS_0
    weights: np.ndarray  # (V,4) WEIGHTS_0
    rotation: dict[int, Channel]  # skin joint -> rotation channel of the first animation
    translation: dict[int, Channel]  # skin joint -> translation channel

    def local_pose(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(J,4) local rotations and (J,3) translations at time ``t`` (rest where unanimated)."""
        rot, trans = self.rest_rotation.copy(), self.rest_translation.copy()
        for j, ch in self.rotation.items():
            rot[j] = _sample(ch, t, quaternion=True)
        for j, ch in self.translation.items():
            trans[j] = _sample(ch, t, quaternion=False)
        return rot, trans

    def world(self, t: float | None = None) -> np.ndarray:
        """(J,4,4) global joint transforms at ``t`` (None: rest pose)."""
        if t is None:
            rot, trans = self.rest_rotation, self.rest_translation
        else:
            rot, trans = self.local_pose(t)
        local = np.tile(np.eye(4), (len(self.names), 1, 1))
        local[:, :3, :3] = Rotation.from_quat(rot).as_matrix()
        local[:, :3, 3] = trans
        world = np.empty_like(local)
        for j in _parents_first(self.parents):
            p = self.parents[j]
            world[j] = local[j] if p < 0 else world[p] @ local[j]
        return world

    def skin(self, t: float | None = None) -> np.ndarray:
        """(V,3) linear-blend-skinned vertex positions at ``t`` (glTF skinning: sum of
        weight * world(joint) @ inverse_bind(joint))."""
        mats = self.world(t) @ self.inverse_bind  # (J,4,4)
        blended = np.einsum("vk,vkij->vij", self.weights, mats[self.joints])
        return np.einsum("vij,vj->vi", blended[:, :3, :3], self.positions) + blended[:, :3, 3]


def load_glb_rig(path: str | os.PathLike[str]) -> GlbRig:
    gltf = gl.GLTF2().load(str(path))
    mesh_node = next(n for n in gltf.nodes if n.mesh is not None and n.skin is not None)
    skin = gltf.skins[mesh_node.skin]
    prim = gltf.meshes[mesh_node.mesh].primitives[0]
    node_to_joint = {node: j for j, node in enumerate(skin.joints)}
    parents = [-1] * len(skin.joints)
    for n, node in enumerate(gltf.nodes):
        for c in node.children or []:
            if c in node_to_joint and n in node_to_joint:
                parents[node_to_joint[c]] = node_to_joint[n]
    nodes = [gltf.nodes[n] for n in skin.joints]
    ibm = read_accessor(gltf, skin.inverseBindMatrices).reshape(-1, 4, 4).transpose(0, 2, 1)
    rotation: dict[int, Channel] = {}
    translation: dict[int, Channel] = {}
    if gltf.animations:
        anim = gltf.animations[0]
        for ch in anim.channels:
            if ch.target.node not in node_to_joint:
                continue
            s = anim.samplers[ch.sampler]
            chan = Channel(
                read_accessor(gltf, s.input).astype(np.float64),
                read_accessor(gltf, s.output).astype(np.float64),
                s.interpolation or gl.ANIM_LINEAR,
            )
            j = node_to_joint[ch.target.node]
            if ch.target.path == gl.ROTATION:
                rotation[j] = chan
            elif ch.target.path == gl.TRANSLATION:
                translation[j] = chan
    return GlbRig(
        names=[n.name for n in nodes],
        parents=parents,
        rest_translation=np.array([n.translation or [0.0, 0.0, 0.0] for n in nodes], np.float64),
        rest_rotation=np.array([n.rotation or [0.0, 0.0, 0.0, 1.0] for n in nodes], np.float64),
        inverse_bind=ibm.astype(np.float64),
        positions=read_accessor(gltf, prim.attributes.POSITION).astype(np.float64),
        faces=read_accessor(gltf, prim.indices).astype(np.int64).reshape(-1, 3),
        joints=read_accessor(gltf, prim.attributes.JOINTS_0).astype(np.int64),
        weights=read_accessor(gltf, prim.attributes.WEIGHTS_0).astype(np.float64),
        rotation=rotation,
        translation=translation,
    )


def _sample(ch: Channel, t: float, quaternion: bool) -> np.ndarray:
    times = ch.times
    if t <= times[0] or len(times) == 1:
        return ch.values[0]
    if t >= times[-1]:
        return ch.values[-1]
    k = int(np.searchsorted(times, t, side="right")) - 1
    if ch.interpolation == gl.ANIM_STEP:
        return ch.values[k]
    u = (t - times[k]) / (times[k + 1] - times[k])
    if quaternion:
        return Slerp([0.0, 1.0], Rotation.from_quat(ch.values[k : k + 2]))(u).as_quat()
    return (1 - u) * ch.values[k] + u * ch.values[k + 1]


def _parents_first(parents: list[int]) -> list[int]:
    order: list[int] = []
    placed: set[int] = set()
    while len(order) < len(parents):
        for j, p in enumerate(parents):
            if j not in placed and (p < 0 or p in placed):
                order.append(j)
                placed.add(j)
    return order
