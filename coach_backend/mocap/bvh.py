"""Minimal BVH reader and forward kinematics (numpy + scipy Rotation).

BVH semantics used here (the common, Biovision/Blender/MotionBuilder reading):
- each joint's OFFSET is expressed in its parent's local frame;
- a joint's local transform is T(offset + position channels) @ R(rotation channels), where the
  rotation channels compose in the order they are listed (intrinsic), e.g. "Zrotation Yrotation
  Xrotation" means R = Rz @ Ry @ Rx;
- angles are in degrees.
Any channel order and any subset of position/rotation channels per joint is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

_AXES = {"x": 0, "y": 1, "z": 2}


@dataclass(frozen=True)
class BvhJoint:
    name: str
    parent: int  # index into BvhMotion.joints, -1 for the root
    offset: np.ndarray  # (3,) in the parent's frame, file units
    channels: tuple[str, ...]  # e.g. ("Xposition", ..., "Zrotation", ...)
    channel_start: int  # column of the first channel in the motion matrix
    end_site: np.ndarray | None = None  # (3,) offset of an "End Site" child, if any


@dataclass
class BvhMotion:
    joints: list[BvhJoint]
    frame_time: float  # seconds per frame
    motion: np.ndarray  # (T, total_channels) float64, raw channel values

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def num_channels(self) -> int:
        return int(self.motion.shape[1])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    @property
    def names(self) -> list[str]:
        return [j.name for j in self.joints]

    def index(self, name: str) -> int:
        for i, j in enumerate(self.joints):
            if j.name == name:
                return i
        raise KeyError(name)

    def subset(self, frames: slice | np.ndarray) -> BvhMotion:
        """A copy restricted to some frames (e.g. to cut fixtures)."""
        return BvhMotion(self.joints, self.frame_time, self.motion[frames].copy())


def _tokenize(text: str) -> list[str]:
    return text.replace("{", " { ").replace("}", " } ").split()


def parse_bvh(text: str) -> BvhMotion:
    """Parse BVH text into joints and a raw (frames, channels) matrix."""
    tok = _tokenize(text)
    pos = 0

    def take() -> str:
        nonlocal pos
        t = tok[pos]
        pos += 1
        return t

    if take().upper() != "HIERARCHY":
        raise ValueError("BVH must start with HIERARCHY")
    joints: list[BvhJoint] = []
    n_channels = 0
    # stack of (joint index or None for an End Site) to attach children to the right parent
    stack: list[int | None] = []
    pending: dict[str, object] = {}

    while pos < len(tok):
        t = take()
        tu = t.upper()
        if tu in ("ROOT", "JOINT"):
            pending = {"name": take(), "parent": stack[-1] if stack else -1}
        elif tu == "END":
            take()  # "Site"
            pending = {"end": True}
        elif t == "{":
            if pending.get("end"):
                stack.append(None)
            else:
                parent = pending["parent"]
                joints.append(
                    BvhJoint(str(pending["name"]), int(parent), np.zeros(3), (), n_channels)
                )
                stack.append(len(joints) - 1)
        elif t == "}":
            stack.pop()
        elif tu == "OFFSET":
            off = np.array([float(take()) for _ in range(3)])
            if stack[-1] is None:
                # End Site: remember on the enclosing joint (the one below the None).
                owner = stack[-2]
                assert owner is not None
                j = joints[owner]
                joints[owner] = BvhJoint(
                    j.name, j.parent, j.offset, j.channels, j.channel_start, off
                )
            else:
                j = joints[stack[-1]]
                joints[stack[-1]] = BvhJoint(j.name, j.parent, off, j.channels, n_channels)
        elif tu == "CHANNELS":
            n = int(take())
            chans = tuple(take() for _ in range(n))
            j = joints[stack[-1]]  # type: ignore[index]
            joints[stack[-1]] = BvhJoint(  # type: ignore[index]
                j.name, j.parent, j.offset, chans, n_channels, j.end_site
            )
            n_channels += n
        elif tu == "MOTION":
            break
        else:
            raise ValueError(f"unexpected BVH token {t!r}")

    if take().rstrip(":").upper() != "FRAMES":
        raise ValueError("expected 'Frames:'")
    n_frames = int(take())
    if take().upper() != "FRAME" or take().rstrip(":").upper() != "TIME":
        raise ValueError("expected 'Frame Time:'")
    frame_time = float(take())
    values = np.array(tok[pos : pos + n_frames * n_channels], dtype=np.float64)
    if values.size != n_frames * n_channels:
        raise ValueError(f"expected {n_frames * n_channels} motion values, got {values.size}")
    return BvhMotion(joints, frame_time, values.reshape(n_frames, n_channels))


def load_bvh(path: str | Path) -> BvhMotion:
    return parse_bvh(Path(path).read_text())


def _fmt(v: float, decimals: int) -> str:
    # Trim trailing zeros: fixtures are mostly near-zero helper-bone channels.
    t = f"{v:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if t in ("", "-0") else t


def write_bvh(motion: BvhMotion, decimals: int = 4) -> str:
    """Serialise back to BVH text (used to cut small test fixtures)."""
    children: dict[int, list[int]] = {i: [] for i in range(len(motion.joints))}
    for i, j in enumerate(motion.joints):
        if j.parent >= 0:
            children[j.parent].append(i)
    lines = ["HIERARCHY"]

    def emit(i: int, depth: int) -> None:
        j = motion.joints[i]
        ind = "    " * depth
        lines.append(f"{ind}{'ROOT' if j.parent < 0 else 'JOINT'} {j.name}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}    OFFSET " + " ".join(f"{v:.6f}" for v in j.offset))
        if j.channels:
            lines.append(f"{ind}    CHANNELS {len(j.channels)} " + " ".join(j.channels))
        for c in children[i]:
            emit(c, depth + 1)
        if j.end_site is not None:
            lines.extend([f"{ind}    End Site", f"{ind}    {{"])
            lines.append(f"{ind}        OFFSET " + " ".join(f"{v:.6f}" for v in j.end_site))
            lines.append(f"{ind}    }}")
        lines.append(f"{ind}}}")

    for i, j in enumerate(motion.joints):
        if j.parent < 0:
            emit(i, 0)
    lines += ["MOTION", f"Frames: {motion.num_frames}", f"Frame Time: {motion.frame_time:.6f}"]
    lines += [" ".join(_fmt(v, decimals) for v in row) for row in motion.motion]
    return "\n".join(lines) + "\n"


@dataclass
class BvhPose:
    """Forward-kinematics result in the file's frame and units."""

    rotations: np.ndarray  # (T, J, 3, 3) world rotation of each joint frame
    positions: np.ndarray  # (T, J, 3) world position of each joint


def _local_transforms(motion: BvhMotion) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint local rotation (T,J,3,3) and translation (T,J,3)."""
    T, J = motion.num_frames, len(motion.joints)
    rot = np.broadcast_to(np.eye(3), (T, J, 3, 3)).copy()
    trans = np.zeros((T, J, 3))
    for ji, j in enumerate(motion.joints):
        trans[:, ji] = j.offset
        rot_axes = ""
        rot_cols: list[int] = []
        for k, ch in enumerate(j.channels):
            kind = ch.lower()
            col = j.channel_start + k
            if kind.endswith("position"):
                trans[:, ji, _AXES[kind[0]]] += motion.motion[:, col]
            elif kind.endswith("rotation"):
                rot_axes += kind[0].upper()  # upper case = intrinsic in scipy
                rot_cols.append(col)
            else:
                raise ValueError(f"unknown channel {ch}")
        if rot_axes:
            angles = motion.motion[:, rot_cols]
            if len(rot_axes) == 1:
                angles = angles[:, 0]
            rot[:, ji] = Rotation.from_euler(rot_axes, angles, degrees=True).as_matrix()
    return rot, trans


def forward_kinematics(motion: BvhMotion) -> BvhPose:
    """World rotations and positions of every joint (file frame and units)."""
    local_r, local_t = _local_transforms(motion)
    T, J = local_r.shape[:2]
    world_r = np.empty_like(local_r)
    world_p = np.empty((T, J, 3))
    for ji, j in enumerate(motion.joints):  # parents always precede children in BVH order
        if j.parent < 0:
            world_r[:, ji] = local_r[:, ji]
            world_p[:, ji] = local_t[:, ji]
        else:
            pr = world_r[:, j.parent]
            world_r[:, ji] = pr @ local_r[:, ji]
            world_p[:, ji] = world_p[:, j.parent] + np.einsum("tij,tj->ti", pr, local_t[:, ji])
    return BvhPose(world_r, world_p)
