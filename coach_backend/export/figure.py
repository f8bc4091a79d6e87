"""Figure of an exported animation frame, posed from the .glb's own data.

CMU fixture (jump shot) -> retarget to SMPL -> a .coachrec recording (wire codec, as live) ->
``export_animation_glb`` -> re-read the .glb, skin it with numpy at the frame where the hands are
highest -> draw front and side views.

python -m coach_backend.export.figure --out docs/export_frame.png
"""

# cv2, numpy and the modules that use them are imported where they are used: `--help`
# answers before they load.
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.resources import repo_path

if TYPE_CHECKING:
    import numpy as np

FIXTURE = repo_path("tests", "fixtures", "cmu", "006_15_shot.bvh")
_T0_US = 1_700_000_000_000_000


def record_motion(
    path: Path,
    rotvecs: np.ndarray,
    pelvis: np.ndarray,
    times: np.ndarray,
    valid: np.ndarray | None = None,
    betas: np.ndarray | None = None,
) -> Path:
    """Write wire-frame poses (T,24,3) / (T,3) at ``times`` (s) as a .coachrec recording."""
    from coach_backend.recorder import SessionRecorder
    from coach_backend.stream import encode_poses, make_session_info, pb

    blobs = encode_poses(rotvecs, pelvis, True if valid is None else valid)
    with SessionRecorder(path, make_session_info("export-demo", betas=betas)) as rec:
        for i, blob in enumerate(blobs):
            rec.append(
                pb.PoseFrame(
                    sequence=i,
                    capture_time_us=_T0_US + round(float(times[i]) * 1e6),
                    confidence=1.0,
                    flags=int(blob[1]),
                    pose=blob.tobytes(),
                )
            )
        rec.close(pb.StreamEnd(reason="done", frames_sent=len(blobs)))
    return path


def fixture_recording(path: Path, bvh: Path = FIXTURE) -> Path:
    """The CMU fixture as a 30 fps recording in the wire frame (SMPL's y-up frame, facing +z =
    towards the viewer); pelvis scaled to the body as in the mocap dataset."""
    import numpy as np

    from coach_backend.mocap import load_bvh, retarget
    from coach_backend.mocap.build_dataset import body_placement

    sm = retarget(load_bvh(bvh))
    _, scale, _ = body_placement()
    rotvecs = np.concatenate([sm.global_orient[:, None], sm.body_pose], axis=1)
    return record_motion(path, rotvecs, scale * sm.root_position, np.arange(sm.num_frames) / sm.fps)


def export_frame_figure(size: int = 360) -> tuple[np.ndarray, float]:
    """(BGR image, frame time) of the exported fixture animation."""
    import cv2
    import numpy as np

    from coach_backend.viz import draw_mesh, orthographic

    from .gltf import export_animation_glb
    from .gltf_read import load_glb_rig
    from .motion import load_motion

    with tempfile.TemporaryDirectory() as tmp:
        rec = fixture_recording(Path(tmp) / "shot.coachrec")
        glb = export_animation_glb(Path(tmp) / "shot.glb", load_motion(rec))
        rig = load_glb_rig(glb)
    times = rig.rotation[0].times
    hands = [rig.names.index("left_hand"), rig.names.index("right_hand")]
    # Pick the frame from the glb itself: where the higher hand is highest (the release).
    heights = [rig.world(float(t))[hands, 1, 3].max() for t in times]
    t = float(times[int(np.argmax(heights))])
    verts = rig.skin(t)
    pelvis = rig.world(t)[0, :3, 3]
    centre = np.array([pelvis[0], 0.5 * (verts[:, 1].min() + verts[:, 1].max()), pelvis[2]])
    verts = verts - centre
    panels = []
    for view in ("front", "side"):
        canvas = np.full((size, size, 3), 255, np.uint8)
        draw_mesh(canvas, orthographic(verts, size, view, extent=2.3), rig.faces)
        cv2.putText(canvas, view, (8, size - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0))
        panels.append(canvas)
    banner = np.full((24, 2 * size, 3), 235, np.uint8)
    text = f"exported .glb, animation 'motion' at t = {t:.3f} s, skinned from the file"
    cv2.putText(banner, text, (8, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0))
    return np.vstack([banner, np.hstack(panels)]), t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/export_frame.png"))
    args = parser.parse_args(argv)
    import cv2

    image, t = export_frame_figure()
    cv2.imwrite(str(args.out), image)
    print(f"wrote {args.out} (t = {t:.3f} s)")


if __name__ == "__main__":
    main()
