"""Cross-language test vectors for the compact pose wire layout v1.

``python -m coach_backend.stream.make_test_vectors`` writes
``unity_bridge/Tests/vectors/pose_vectors_v1.json`` using the Python codec
(:mod:`coach_backend.stream.codec`). The C# tests in ``unity_bridge/Tests`` decode every ``hex``
blob and must reproduce the expected values to 1e-6; ``tests/test_unity_bridge.py`` checks that the
committed file equals a fresh generation, so a layout change on either side breaks a test.

Per valid-layout case:

- ``hex``: the 104 bytes from :func:`encode_pose`;
- ``valid``, ``pelvis_m``, ``rotvecs``: what :func:`decode_pose` returns;
- ``quats_xyzw``: the decoded rotations as quaternions (x, y, z, w) with the sign the layout
  fixes: the component dropped on the wire (index in bits 31..30) is non-negative;
- ``unity_quats_xyzw`` / ``unity_pelvis_m``: the same in Unity's left-handed frame (mirror z:
  quaternion (-x, -y, z, w), position (x, y, -z));
- ``unity_global_quats_xyzw``: local rotations composed along the SMPL-24 tree, in Unity's frame;
- ``sequence`` / ``capture_time_s``: set for the smooth-motion frames (a 30 fps clip).

``bad_blobs`` lists blobs a decoder must reject (wrong length, unknown version).

``stream_messages`` holds ``coach.v1.StreamMessage`` / ``SubscribeRequest`` bytes serialized by the
Python generated code (protos/coach.proto) with their field values, for the C# client's
hand-written protobuf reader.
"""

# The vectors (numpy, scipy, the codec) are built in pose_vectors, imported once the arguments are
# parsed: `--help` answers before they load.
from __future__ import annotations

import argparse
import json
from pathlib import Path

from coach_backend.resources import repo_path

DEFAULT_PATH = repo_path("unity_bridge", "Tests", "vectors", "pose_vectors_v1.json")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_PATH, help="output JSON path")
    args = ap.parse_args(argv)
    from .pose_vectors import build_vectors, dumps

    text = dumps(build_vectors())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(json.loads(text)['cases'])} cases)")


if __name__ == "__main__":
    main()
