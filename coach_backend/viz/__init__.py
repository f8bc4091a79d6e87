"""Drawing helpers for figures and overlays (CPU, OpenCV): shaded meshes and skeletons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.viz.mesh import Projection as Projection
    from coach_backend.viz.mesh import draw_mesh as draw_mesh
    from coach_backend.viz.mesh import orthographic as orthographic
    from coach_backend.viz.mesh import perspective as perspective

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "mesh": ("Projection", "draw_mesh", "orthographic", "perspective"),
    },
)

__all__ = _LAZY  # every public name is a lazy one
