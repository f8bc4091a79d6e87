"""Evidence figure: the lunge photo through MediaPipe next to the body rendered in a lunge.

    python -m coach_backend.perception.figure \\
        --image ../shared/data/media/lunge-barbell-pexels.jpg --out docs/perception_lunge.png

Top row: the photo (downscaled) with the MediaPipe silhouette (tinted) + keypoints + crop box |
the body, hand-posed in a similar lunge seen from behind, shaded-rendered with the same camera
convention, with its projected keypoints, silhouette and box. Bottom row: the two
`Representation`s themselves (silhouette + keypoints in the R x R crop).
"""

from __future__ import annotations

# OpenCV, numpy, torch and MediaPipe are imported in the functions that use them: `--help`
# answers before they load.
import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from coach_backend.perception.types import Camera, Representation

# COCO-style limbs over the 23 surface keypoints, for drawing.
SKELETON: tuple[tuple[int, int], ...] = (
    (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (5, 11), (6, 12), (11, 12), (11, 13), (13, 15),
    (12, 14), (14, 16), (15, 17), (15, 19), (16, 20), (16, 22), (0, 1), (0, 2), (1, 3), (2, 4),
)  # fmt: skip


def lunge_params(batch: int = 1) -> Any:
    """Hand-set SMPL rotations: left (front) knee ~90 deg, right (back) knee near the floor,
    hands up at the bar behind the neck, seen from behind (body faces away from the camera)."""
    import numpy as np
    import torch
    from scipy.spatial.transform import Rotation

    from coach_backend.body import BodyParams

    p = BodyParams.zeros(batch)
    # Back view: Rz(180) = Ry(180) @ Rx(180); then yaw -35 deg about the camera's y so the front
    # leg heads image-left as in the photo (the lifter is turned away from the camera).
    back = Rotation.from_rotvec([0.0, 0.0, np.pi])
    yaw = Rotation.from_rotvec([0.0, np.radians(-35.0), 0.0])
    p.global_orient[:] = torch.tensor((yaw * back).as_rotvec(), dtype=torch.float32)
    pose = p.body_pose  # index = SMPL joint - 1
    pose[:, 0] = torch.tensor([-1.45, 0.0, 0.05])  # left hip: thigh ~horizontal, forward
    pose[:, 3] = torch.tensor([1.55, 0.0, 0.0])  # left knee ~90 deg
    pose[:, 1] = torch.tensor([0.2, 0.0, -0.05])  # right hip: slight extension
    pose[:, 4] = torch.tensor([1.4, 0.0, 0.0])  # right knee ~80 deg: shin ~flat, knee low
    pose[:, 7] = torch.tensor([0.6, 0.0, 0.0])  # right ankle: toes towards the floor
    pose[:, 15] = torch.tensor([0.0, 0.35, -0.9])  # left shoulder: out, down ~50 deg, back
    pose[:, 16] = torch.tensor([0.0, -0.35, 0.9])  # right shoulder
    pose[:, 17] = torch.tensor([0.0, 0.0, 2.6])  # left elbow: forearm up to the bar
    pose[:, 18] = torch.tensor([0.0, 0.0, -2.6])  # right elbow
    return p


def place_in_view(
    renderer: Any, params: Any, centre_px: tuple[float, float], height_px: float, camera: Camera
) -> None:
    """Set `params.transl` so the body's *projected* bounding box is centred on `centre_px` and
    `height_px` tall (a few fixed-point steps: perspective shifts near parts off-centre)."""
    import torch

    params.transl[0] = torch.tensor([0.0, 0.0, 4.0])
    for _ in range(4):
        with torch.no_grad():
            v = renderer.body(params).vertices[0].double().numpy()
        px = camera.project(v)
        lo, hi = px.min(0), px.max(0)
        z = float(params.transl[0, 2]) * (hi[1] - lo[1]) / height_px
        du = centre_px[0] - (lo[0] + hi[0]) / 2
        dv = centre_px[1] - (lo[1] + hi[1]) / 2
        mean_z = float(v[:, 2].mean())
        params.transl[0, 0] += du * mean_z / camera.fx
        params.transl[0, 1] += dv * mean_z / camera.fy
        params.transl[0, 2] = z


def draw_frame(image: np.ndarray, rep: Representation, tint: tuple[int, int, int]) -> np.ndarray:
    """Silhouette (back in the frame) tinted, keypoints + skeleton, crop box."""
    import cv2
    import numpy as np

    out = image.copy()
    if rep.silhouette is not None:
        inv = np.linalg.inv(rep.box.affine())[:2]
        sil = cv2.warpAffine(rep.silhouette, inv, (image.shape[1], image.shape[0]))[..., None]
        out = (out * (1 - 0.45 * sil) + np.array(tint) * 0.45 * sil).astype(np.uint8)
    s = max(image.shape[:2]) / 640
    kp = rep.keypoints_frame()
    for a, b in SKELETON:
        if min(rep.confidences[a], rep.confidences[b]) > 0.3:
            pa = tuple(int(round(c)) for c in kp[a])
            pb = tuple(int(round(c)) for c in kp[b])
            cv2.line(out, pa, pb, (255, 255, 255), max(1, int(2 * s)), cv2.LINE_AA)
    for k, (p, c) in enumerate(zip(kp, rep.confidences, strict=True)):
        if c <= 0:
            continue
        col = (0, 200, 0) if c >= 0.5 else (0, 165, 255)  # green confident, orange low
        col = (255, 80, 0) if k in (17, 19, 20, 22) else col  # feet in blue
        cv2.circle(out, (int(round(p[0])), int(round(p[1]))), max(2, int(4 * s)), col, -1)
    b = rep.box
    x0, y0 = int(round(b.x0)), int(round(b.y0))
    cv2.rectangle(out, (x0, y0), (int(round(b.x0 + b.side)), int(round(b.y0 + b.side))),
                  (0, 255, 255), max(1, int(2 * s)))  # fmt: skip
    return out


def draw_crop(rep: Representation, scale: int = 4) -> np.ndarray:
    """The representation itself: silhouette (grey) + keypoints, upscaled for viewing."""
    import cv2
    import numpy as np

    r = rep.resolution
    sil = rep.silhouette if rep.silhouette is not None else np.zeros((r, r), np.float32)
    img = cv2.resize((sil * 200 + 30).astype(np.uint8), (r * scale, r * scale),
                     interpolation=cv2.INTER_NEAREST)  # fmt: skip
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    for p, c in zip(rep.keypoints, rep.confidences, strict=True):
        if c > 0:
            q = ((p + 0.5) * scale - 0.5).round().astype(int)
            col = (0, 200, 0) if c >= 0.5 else (0, 165, 255)
            cv2.circle(img, (int(q[0]), int(q[1])), 4, col, -1)
    return img


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--image", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=Path("docs/perception_lunge.png"))
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--width", type=int, default=640, help="photo downscaled to this width")
    args = ap.parse_args(argv)

    import cv2
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from coach_backend.perception.mediapipe_source import MediaPipeDetector
    from coach_backend.perception.render import BodyRenderer
    from coach_backend.perception.types import Camera, PerceptionConfig

    photo = cv2.imread(str(args.image))
    if photo is None:
        raise SystemExit(f"cannot read {args.image}")
    s = args.width / photo.shape[1]
    photo = cv2.resize(photo, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    h, w = photo.shape[:2]
    camera = Camera.default_for(w, h)
    config = PerceptionConfig(resolution=args.resolution, static_image_mode=True, camera=camera)
    with MediaPipeDetector(config) as det:
        rep_photo = det.detect(photo)
    if not rep_photo.has_person:
        raise SystemExit("MediaPipe found no person in the photo")

    renderer = BodyRenderer(config=config)
    params = lunge_params()
    box = rep_photo.box
    place_in_view(renderer, params, (box.cx, box.cy), box.side / (1 + 2 * config.margin), camera)
    shaded = renderer.render_shaded(params, camera)
    rep_body = renderer.render_one(params, camera)
    with MediaPipeDetector(config) as det:
        rep_back = det.detect(shaded)  # MediaPipe on the render, printed as a sanity check.

    fig, ax = plt.subplots(2, 2, figsize=(10, 11), gridspec_kw={"height_ratios": [1.5, 1]})
    panels = [
        (draw_frame(photo, rep_photo, (255, 0, 255)), "photo -> MediaPipe representation"),
        (draw_frame(shaded, rep_body, (255, 0, 255)), "body (hand-set lunge) -> projected"),
        (draw_crop(rep_photo), f"MediaPipe Representation {args.resolution}x{args.resolution}"),
        (draw_crop(rep_body), f"body Representation {args.resolution}x{args.resolution}"),
    ]
    for a, (img, title) in zip(ax.ravel(), panels, strict=True):
        a.imshow(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        a.set_title(title, fontsize=10)
        a.axis("off")
    fig.suptitle(
        "Same type, same camera + crop convention (yellow box = keypoints U silhouette, margin "
        f"{config.margin}).\nDots: green conf >= 0.5, orange conf < 0.5, blue feet; MediaPipe "
        "has no small toes (conf 0, not drawn).",
        fontsize=9,
    )
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")
    print(f"photo: {box}, mean conf {rep_photo.confidences.mean():.2f}")
    print(f"body: {rep_body.box}")
    if rep_back.has_person:
        both = (rep_back.confidences > 0.5) & (rep_body.confidences > 0)
        err = np.linalg.norm(rep_back.keypoints_frame() - rep_body.keypoints_frame(), axis=1)
        print(
            f"MediaPipe on the shaded lunge render: median keypoint error "
            f"{np.median(err[both]) / rep_body.box.side * 100:.1f}% of the crop side "
            f"({both.sum()} keypoints)"
        )
    else:
        print("MediaPipe on the shaded lunge render: no person")


if __name__ == "__main__":
    main()
