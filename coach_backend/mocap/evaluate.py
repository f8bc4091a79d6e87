"""Retarget quality: body-model joints vs the CMU (CC_Base) joints they were retargeted from.

    python -m coach_backend.mocap.evaluate --dataset data/cmu_smpl.npz \
        --out benchmarks/results/retarget.md

Errors are per-frame similarity-aligned (Procrustes with scale, "PA-MPJPE") joint distances in
mm. They mix two things: retargeting error and the fixed differences between the rigs (joint
centre placement, bone proportions: the body model is a generic betas=0 shape, the CC rig is
fitted to each CMU actor). Bone-direction angles isolate the rotation transfer.
"""

from __future__ import annotations

# numpy and torch are imported in the functions that use them: `--help` answers before they
# load, and prior.evaluate takes `write_below_marker` from here.
import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.body.skeleton import SMPL_JOINT_NAMES
from coach_backend.resources import data_path

if TYPE_CHECKING:
    import numpy as np

# Joints whose CC and SMPL placements agree best (limb joints).
LIMB_JOINTS = (1, 2, 4, 5, 7, 8, 16, 17, 18, 19, 20, 21)
# (parent, child) SMPL joints of the long limb bones, for direction errors.
LIMB_BONES = ((1, 4), (2, 5), (4, 7), (5, 8), (16, 18), (17, 19), (18, 20), (19, 21))


MARKER = "<!-- generated table below -->"


def write_below_marker(path: Path, table: str) -> None:
    """Replace the generated part of a results file, keeping its hand-written header."""
    head = ""
    if path.is_file() and MARKER in (old := path.read_text()):
        head = old[: old.index(MARKER)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + MARKER + "\n\n" + table)


def similarity_align(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Per-frame best s*R*src + t to dst (Umeyama); src, dst (T,J,3) -> aligned src."""
    import numpy as np

    mu_s, mu_d = src.mean(1, keepdims=True), dst.mean(1, keepdims=True)
    xs, xd = src - mu_s, dst - mu_d
    cov = np.einsum("tji,tjk->tik", xd, xs)
    u, sig, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.ones_like(sig)
    fix[:, -1] = d
    rot = u @ (fix[..., None] * vt)
    scale = (sig * fix).sum(1) / (xs**2).sum((1, 2))
    return scale[:, None, None] * np.einsum("tij,tkj->tki", rot, xs) + mu_d


def body_joints(
    global_orient: np.ndarray, body_pose: np.ndarray, transl: np.ndarray, chunk: int = 2048
) -> np.ndarray:
    """Joints (T,24,3) of the project's body model (betas = 0)."""
    import numpy as np
    import torch

    from coach_backend.body import BodyParams, load_body_model

    torch.set_num_threads(1)
    body = load_body_model()
    out = []
    with torch.no_grad():
        for i in range(0, len(global_orient), chunk):
            sl = slice(i, i + chunk)
            params = BodyParams.from_numpy(
                global_orient=global_orient[sl], body_pose=body_pose[sl], transl=transl[sl]
            )
            # Joints do not need skinning: ask for no vertices.
            res = body(params, vertex_ids=torch.zeros(0, dtype=torch.long))
            out.append(res.joints.numpy())
    return np.concatenate(out).astype(np.float64)


def bone_angles_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, bones) angle between limb bone directions of two (T,24,3) joint sets."""
    import numpy as np

    out = []
    for p, c in LIMB_BONES:
        u, v = a[:, c] - a[:, p], b[:, c] - b[:, p]
        cos = (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
        out.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return np.stack(out, 1)


def evaluate(dataset: Path, split: str = "all") -> dict[str, object]:
    import numpy as np

    from coach_backend.mocap.dataset import load_motion_dataset

    ds = load_motion_dataset(dataset, split=split)  # type: ignore[arg-type]
    pred = body_joints(ds.global_orient, ds.body_pose, ds.transl)
    ref = ds.bvh_joints.astype(np.float64)
    err = np.linalg.norm(similarity_align(pred, ref) - ref, axis=-1) * 1000  # (T,24) mm
    lim = list(LIMB_JOINTS)
    err_limb = np.linalg.norm(similarity_align(pred[:, lim], ref[:, lim]) - ref[:, lim], axis=-1)
    return {
        "frames": len(ds),
        "trials": len(np.unique(ds.trial_index)),
        "pa_mpjpe_all_mm": float(err.mean()),
        "pa_mpjpe_limbs_mm": float(err_limb.mean() * 1000),
        "per_joint_mm": err.mean(0),
        "bone_angle_deg": bone_angles_deg(pred, ref).mean(0),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=data_path("cmu_smpl.npz"))
    ap.add_argument("--out", type=Path, default=None, help="write a markdown table here")
    args = ap.parse_args(argv)
    import numpy as np

    rows = []
    per_joint = {}
    for split in ("all", "test"):
        r = evaluate(args.dataset, split)
        per_joint[split] = r
        rows.append(
            f"| {split} | {r['trials']} | {r['frames']} | {r['pa_mpjpe_all_mm']:.1f} | "
            f"{r['pa_mpjpe_limbs_mm']:.1f} | {np.mean(r['bone_angle_deg']):.1f} |"
        )
    table = [
        "| split | trials | frames (30 fps) | PA-MPJPE, 24 joints (mm) | PA-MPJPE, 12 limb joints "
        "(mm) | limb bone direction error (deg) |",
        "|---|---|---|---|---|---|",
        *rows,
    ]
    joints = ["| joint | mean error, all frames (mm) |", "|---|---|"] + [
        f"| {n} | {e:.1f} |"
        for n, e in zip(SMPL_JOINT_NAMES, per_joint["all"]["per_joint_mm"], strict=True)
    ]
    bones = ["| bone | direction error (deg) |", "|---|---|"] + [
        f"| {SMPL_JOINT_NAMES[p]} -> {SMPL_JOINT_NAMES[c]} | {a:.1f} |"
        for (p, c), a in zip(LIMB_BONES, per_joint["all"]["bone_angle_deg"], strict=True)
    ]
    text = "\n".join(table) + "\n\n" + "\n".join(joints) + "\n\n" + "\n".join(bones) + "\n"
    print(text)
    if args.out is not None:
        write_below_marker(args.out, text)


if __name__ == "__main__":
    main()
