"""Drawing helpers for figures and overlays (CPU, OpenCV): shaded meshes and skeletons."""

from coach_backend.viz.mesh import Projection, draw_mesh, orthographic, perspective

__all__ = ["Projection", "draw_mesh", "orthographic", "perspective"]
