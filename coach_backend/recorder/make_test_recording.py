"""A small reference recording for the Unity bridge's C# recording reader.

``python -m coach_backend.recorder.make_test_recording`` writes, next to the pose vectors in
``unity_bridge/Tests/vectors/``:

- ``reference_recording_v1.coachrec``: 10 frames written through the real :class:`SessionRecorder`
  (a first SessionInfo, a mid-file SessionInfo with the settled betas before frame 5, one
  without a shape before frame 8 that the players ignore, a frame without a person, a
  StreamEnd);
- ``reference_recording_v1.json``: what the Python side reads back from it (``read_recording``,
  ``ReplayTimeline.info_at`` for the shape each frame is drawn with, ``decode_pose``), and
  ``variants``: damaged copies of the file (cut, zero-filled, patched, not a recording) with
  what ``read_recording`` says about each, so the C# reader must agree with it.

Deterministic: ``tests/test_unity_bridge.py`` checks that the committed files equal a fresh
generation.
"""

# The recording (numpy, protobuf, the codec) is built in reference_recording, imported once the
# arguments are parsed: `--help` answers before they load.
from __future__ import annotations

import argparse
from pathlib import Path

from coach_backend.resources import repo_path

DEFAULT_DIR = repo_path("unity_bridge", "Tests", "vectors")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=DEFAULT_DIR, help="output folder")
    args = ap.parse_args(argv)
    from ..stream.pose_vectors import dumps  # the pose vectors' JSON conventions
    from .reference_recording import EXPECTED_NAME, RECORDING_NAME, build_expected, build_recording

    data = build_recording()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / RECORDING_NAME).write_bytes(data)
    (args.out_dir / EXPECTED_NAME).write_text(dumps(build_expected(data)), encoding="utf-8")
    print(f"wrote {args.out_dir / RECORDING_NAME} ({len(data)} bytes) and {EXPECTED_NAME}")


if __name__ == "__main__":
    main()
