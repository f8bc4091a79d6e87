"""Figure of the body: zero pose and +-2 on the first shape components, front and side.

python -m coach_backend.body.figure --out docs/open_body.png
"""

# cv2, numpy, torch and the body model are imported where they are used: `--help` answers
# before they load.
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

LABELS = {0: "beta 1 (stature)", 1: "beta 2 (girth)"}


def body_figure(model_path: Path | None = None, size: int = 260) -> np.ndarray:
    import cv2
    import numpy as np
    import torch

    from coach_backend.body.model import BodyParams, load_body_model
    from coach_backend.viz import draw_mesh, orthographic

    body = load_body_model(model_path)
    cells: list[np.ndarray] = []
    row_labels: list[str] = []
    for component in (0, 1):
        row: list[np.ndarray] = []
        for value in (-2.0, 0.0, 2.0):
            params = BodyParams.zeros(1)
            params.betas[0, component] = value
            with torch.no_grad():
                vertices = body(params).vertices[0].numpy()
            for view in ("front", "side"):
                canvas = np.full((size, size, 3), 255, np.uint8)
                draw_mesh(canvas, orthographic(vertices, size, view, extent=2.4), body.faces)
                height = np.ptp(vertices[:, 1])
                text = f"{value:+.0f}  {view}  {height:.2f} m"
                cv2.putText(canvas, text, (6, size - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0))
                row.append(canvas)
        cells.append(np.hstack(row))
        row_labels.append(LABELS[component])
    rows = []
    for label, row in zip(row_labels, cells, strict=True):
        banner = np.full((22, row.shape[1], 3), 235, np.uint8)
        cv2.putText(
            banner,
            f"{body.name}: {label} at -2, 0, +2",
            (6, 16),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 0, 0),
        )
        rows.append(np.vstack([banner, row]))
    return np.vstack(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/open_body.png"))
    parser.add_argument("--model", type=Path, default=None, help="body file (default: open body)")
    args = parser.parse_args(argv)
    import cv2

    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), body_figure(args.model))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
