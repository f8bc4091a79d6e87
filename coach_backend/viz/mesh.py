"""A small CPU mesh painter: projected triangles filled back to front with Lambert shading.

Good for figures and video overlays at a few hundred pixels; not a differentiable renderer
(training uses `coach_backend.perception` for that).
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

SKIN = (150, 175, 215)  # BGR


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
    by how squarely they face the viewer."""
    tri_px = projection.pixels[faces]
    tri_depth = projection.depth[faces]
    # Normal from screen x/y and depth; |n_z| ~ facing the viewer.
    p3 = np.concatenate([tri_px, tri_depth[..., None] * projection.pixels_per_depth], axis=2)
    normal = np.cross(p3[:, 1] - p3[:, 0], p3[:, 2] - p3[:, 0])
    facing = np.abs(normal[:, 2]) / (np.linalg.norm(normal, axis=1) + 1e-12)
    shade = 0.35 + 0.65 * facing
    layer = image if alpha >= 1.0 else image.copy()
    fixed = np.round(tri_px * 16).astype(np.int32)  # 4 fractional bits for smooth edges
    for i in np.argsort(tri_depth.mean(1)):  # far to near
        c = tuple(int(ch * shade[i]) for ch in color)
        cv2.fillConvexPoly(layer, fixed[i], c, lineType=cv2.LINE_AA, shift=4)
    if alpha < 1.0:
        cv2.addWeighted(layer, alpha, image, 1 - alpha, 0, dst=image)
    return image
