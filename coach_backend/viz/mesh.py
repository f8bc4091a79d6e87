"""A small CPU mesh painter: projected triangles filled back to front with Lambert shading.

Good for figures and video overlays at a few hundred pixels; not a differentiable renderer
(training uses `coach_backend.perception` for that).
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

SKIN = (150, 175, 215)  # BGR
# Faces count as facing the viewer up to this n_z / |n| (edge-on ones stay: their edges show).
_BACK_FACE_TOLERANCE = 0.05


class Projection(NamedTuple):
    pixels: np.ndarray  # (V,2)
    depth: np.ndarray  # (V,) larger = nearer the viewer
    pixels_per_depth: float  # converts depth units to pixels, for isotropic shading normals


def orthographic(vertices: np.ndarray, size: int, view: str = "front", extent: float = 2.1):
    """(V,2) pixel positions and (V,) depth (larger = nearer) of a body seen from the front
    (looking along -z) or its right side (looking along -x), y up, centred on the origin."""
    v = vertices if view == "front" else vertices[:, [2, 1, 0]] * np.array([-1.0, 1.0, 1.0])
    scale = size / extent
    pixels = np.stack([v[:, 0] * scale + size / 2, -v[:, 1] * scale + size / 2], axis=1)
    return Projection(pixels, v[:, 2], scale)


def perspective(vertices_cam: np.ndarray, fx: float, fy: float, cx: float, cy: float):
    """(V,2) pixels and (V,) depth (larger = nearer) for camera-frame vertices (OpenCV axes)."""
    z = np.maximum(vertices_cam[:, 2], 1e-6)
    pixels = np.stack([fx * vertices_cam[:, 0] / z + cx, fy * vertices_cam[:, 1] / z + cy], 1)
    return Projection(pixels, -vertices_cam[:, 2], fx / float(np.median(z)))


def draw_mesh(
    image: np.ndarray,
    projection: Projection,
    faces: np.ndarray,
    color: tuple[int, int, int] = SKIN,
    alpha: float = 1.0,
) -> np.ndarray:
    """Paint the mesh onto ``image`` (BGR uint8, in place) and return it. Faces are shaded
    by how squarely they face the viewer. Faces turned away from the viewer are skipped: on a
    closed body mesh (outward-wound faces) the ones facing it cover them, and a frame-sized
    overlay paints about 60 % as many triangles."""
    tri_px = projection.pixels[faces]
    tri_depth = projection.depth[faces]
    # Normal from screen x/y and depth; |n_z| ~ facing the viewer, n_z < 0: facing it (outward
    # winding seen through `perspective`/`orthographic`, whose axes keep the handedness).
    p3 = np.concatenate([tri_px, tri_depth[..., None] * projection.pixels_per_depth], axis=2)
    normal = np.cross(p3[:, 1] - p3[:, 0], p3[:, 2] - p3[:, 0])
    norm = np.linalg.norm(normal, axis=1) + 1e-12
    front = np.flatnonzero(normal[:, 2] < _BACK_FACE_TOLERANCE * norm)
    if len(front) == 0:
        return image
    shade = 0.35 + 0.65 * np.abs(normal[front, 2]) / norm[front]
    colors = (shade[:, None] * np.asarray(color, np.float64)).astype(int).tolist()
    # Paint only the mesh's bounding box (why: copying and blending a 4K frame for a person
    # who covers a tenth of it costs more than the triangles).
    h, w = image.shape[:2]
    lo = np.floor(tri_px[front].reshape(-1, 2).min(0)).astype(int) - 1
    hi = np.ceil(tri_px[front].reshape(-1, 2).max(0)).astype(int) + 2
    x0, y0 = max(lo[0], 0), max(lo[1], 0)
    x1, y1 = min(hi[0], w), min(hi[1], h)
    if x0 >= x1 or y0 >= y1:
        return image  # entirely outside the frame
    region = image[y0:y1, x0:x1]
    layer = region.copy()  # (contiguous for OpenCV; the blend below needs the original)
    fixed = np.round((tri_px[front] - (x0, y0)) * 16).astype(np.int32)  # 4 fractional bits
    for i in np.argsort(tri_depth[front].mean(1)):  # far to near
        cv2.fillConvexPoly(layer, fixed[i], colors[i], lineType=cv2.LINE_AA, shift=4)
    if alpha < 1.0:
        layer = cv2.addWeighted(layer, alpha, region, 1 - alpha, 0)
    image[y0:y1, x0:x1] = layer
    return image
