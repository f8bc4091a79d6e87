"""Evidence figures for GC-SSN: predicted meshes over held-out test renders, and over a real photo.

    python -m coach_backend.gcssn.figure --dataset data/cmu_smpl.npz \
        --photo ../shared/data/media/lunge-barbell-pexels.jpg --out docs/gcssn_results.png
"""

from __future__ import annotations

# OpenCV, numpy, torch and the network are imported in the functions that use them: `--help`
# answers before they load.
import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from coach_backend.resources import data_path

if TYPE_CHECKING:
    import numpy as np

    from coach_backend.gcssn.api import Reconstructor

PREDICTED = (90, 200, 90)  # BGR green


def overlay(frame: np.ndarray, vertices_cam: np.ndarray, faces: np.ndarray, camera) -> np.ndarray:
    from coach_backend.viz import draw_mesh, perspective

    projection = perspective(vertices_cam, *camera.intrinsics)
    return draw_mesh(frame.copy(), projection, faces, PREDICTED, alpha=0.55)


def side_view(vertices_cam: np.ndarray, faces: np.ndarray, size: int) -> np.ndarray:
    """The prediction seen from the camera's right, y up: shows depth, which 2D can't."""
    import numpy as np

    from coach_backend.viz import draw_mesh, orthographic

    centred = vertices_cam - vertices_cam.mean(0)
    upright = centred * np.array([1.0, -1.0, -1.0])  # camera (y down, z forward) -> y up
    canvas = np.full((size, size, 3), 250, np.uint8)
    return draw_mesh(canvas, orthographic(upright, size, "side", extent=2.2), faces, PREDICTED)


def label(image: np.ndarray, text: str) -> np.ndarray:
    import cv2

    cv2.putText(image, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 2)
    cv2.putText(image, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return image


def test_frames_row(reconstructor: Reconstructor, dataset: Path, count: int, size: int):
    import cv2
    import numpy as np
    import torch

    from coach_backend.body import BodyParams
    from coach_backend.gcssn.synthetic import SyntheticSource, ViewConfig
    from coach_backend.mocap.dataset import load_motion_dataset

    body = reconstructor.body
    motion = load_motion_dataset(dataset, "test")
    rows = np.linspace(0, len(motion) - 1, count).astype(int)
    view = ViewConfig(distance_m=(3.5, 4.5), off_centre=0.0, truncation_prob=0.0)
    source = SyntheticSource(body, motion.global_orient[rows], motion.body_pose[rows], seed=4)
    source.view = view
    reps, truth = source.clean_batch(count, np.arange(count))
    result = reconstructor.predict(reps)
    params = BodyParams.from_numpy(
        global_orient=result.global_orient,
        body_pose=result.body_pose,
        betas=result.betas,
        transl=result.transl,
    )
    with torch.no_grad():
        predicted = body(params).vertices.numpy()
    tiles = []
    for i in range(count):
        frame = source.renderer.render_shaded(truth.params, truth.frame_camera, index=i)
        drawn = overlay(frame, predicted[i], body.faces, truth.frame_camera)
        cx, cy, side = (float(v) for v in reps.box[i])
        x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
        crop = drawn[y0 : int(cy + side / 2), x0 : int(cx + side / 2)]
        crop = cv2.resize(crop, (size, size))
        trial = motion.trials[int(motion.trial_index[rows[i]])]
        tiles.append(label(crop, f"held-out {trial}"))
        tiles.append(label(side_view(predicted[i], body.faces, size), "predicted, side"))
    return np.hstack(tiles)


def photo_row(reconstructor: Reconstructor, photo: Path, height: int) -> np.ndarray:
    import cv2
    import numpy as np
    import torch

    from coach_backend.body import BodyParams
    from coach_backend.perception import PerceptionConfig, stack
    from coach_backend.perception.mediapipe_source import MediaPipeDetector

    body = reconstructor.body
    image = cv2.imread(str(photo))
    if image is None:
        raise FileNotFoundError(f"cannot read {photo}")
    scale = 960 / max(image.shape[:2])
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    config = PerceptionConfig(resolution=reconstructor.resolution, static_image_mode=True)
    with MediaPipeDetector(config) as detector:
        rep = detector.detect(image)
    if not rep.has_person:
        raise RuntimeError("MediaPipe found no person in the photo")
    result = reconstructor.predict(stack([rep]))
    params = BodyParams.from_numpy(
        global_orient=result.global_orient,
        body_pose=result.body_pose,
        betas=result.betas,
        transl=result.transl,
    )
    with torch.no_grad():
        vertices = body(params).vertices[0].numpy()
    drawn = overlay(image, vertices, body.faces, rep.camera)
    drawn = cv2.resize(drawn, (int(drawn.shape[1] * height / drawn.shape[0]), height))
    side = side_view(vertices, body.faces, height)
    name = getattr(reconstructor.net, "card", {}).get("name", "GC-SSN")
    return np.hstack([label(drawn, f"real photo: {name}"), label(side, "side")])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # None: the shipped lifter, `gcssn.api.DEFAULT_WEIGHTS` (its one home is a torch module).
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--dataset", type=Path, default=data_path("cmu_smpl.npz"))
    parser.add_argument(
        "--photo", type=Path, default=Path("../shared/data/media/lunge-barbell-pexels.jpg")
    )
    parser.add_argument("--refine-steps", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs/gcssn_results.png"))
    args = parser.parse_args(argv)
    import cv2
    import numpy as np

    from coach_backend.body import load_body_model
    from coach_backend.gcssn.api import DEFAULT_WEIGHTS, Reconstructor, load_gcssn

    reconstructor = Reconstructor(
        load_gcssn(args.weights or DEFAULT_WEIGHTS),
        load_body_model(),
        refine_steps=args.refine_steps,
    )
    top = test_frames_row(reconstructor, args.dataset, 3, 220)
    bottom = photo_row(reconstructor, args.photo, 330)
    width = max(top.shape[1], bottom.shape[1])
    pad = lambda img: cv2.copyMakeBorder(  # noqa: E731
        img, 0, 0, 0, width - img.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)
    )
    figure = np.vstack([pad(top), pad(bottom)])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), figure)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
