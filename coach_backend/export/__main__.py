"""python -m coach_backend.export {body,animation,bvh} [INPUT] --out FILE [--force]

INPUT: a ``.coachrec`` recording or a replay result ``.npz`` (camera frame); ``body`` takes none.
``--out``: a ``.glb`` for body and animation, a ``.bvh`` for bvh; missing folders are created;
an existing file is replaced only with ``--force``.

Exit status: 0 written, 1 unusable input / output / body model, 2 bad arguments. Errors are one
line on stderr (``error: ...``). Paths are checked before torch and the body model are imported,
and every input is read before anything is written.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import zipfile
from pathlib import Path

EXIT_FAILED = 1  # (argparse exits with 2 for bad arguments)
OUT_SUFFIX = {"body": ".glb", "animation": ".glb", "bvh": ".bvh"}
# What reading a damaged or foreign file (INPUT, --model) raises: numpy's loader, the recording
# reader, the motion and body checks. Reported as one line, not a traceback.
_UNREADABLE = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile)


class ExportError(Exception):
    """An argument that cannot work: reported as one line before anything is exported."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m coach_backend.export",
        description="Export the body / motion as glTF or BVH.",
    )
    parser.add_argument("what", choices=["body", "animation", "bvh"])
    parser.add_argument("input", nargs="?", type=Path, help=".coachrec or replay .npz")
    parser.add_argument(
        "--out", type=Path, required=True,
        help="output .glb (body, animation) or .bvh (bvh); folders are created",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="replace an existing --out file")
    parser.add_argument("--model", type=Path, default=None, help="body file (default: open body)")
    parser.add_argument("--betas", type=float, nargs="*", default=None, help="body: 10 betas")
    parser.add_argument(
        "--root-motion", choices=["relative", "absolute"], default="relative",
        help="relative: the first valid pelvis sits at the rest pelvis; absolute: wire frame",
    )  # fmt: skip
    parser.add_argument("--euler", choices=["ZYX", "XYZ"], default="ZYX", help="bvh order")
    parser.add_argument("--scale", type=float, default=1.0, help="bvh units per metre")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.what == "body" and args.input is not None:
        parser.error("body takes no INPUT")
    if args.what != "body" and args.input is None:
        parser.error(f"{args.what} needs an INPUT (.coachrec or .npz)")
    if not (math.isfinite(args.scale) and args.scale > 0):
        parser.error("--scale must be a finite number > 0")
    try:
        if args.input is not None:
            _check_readable(args.input, "input")
        if args.model is not None:
            _check_readable(args.model, "body model")
        _check_output(args.out, OUT_SUFFIX[args.what], args.force)
    except ExportError as exc:
        return _fail(str(exc))

    import numpy as np

    from coach_backend.body import NUM_BETAS, load_body_model

    from . import export_animation_glb, export_body_glb, export_bvh, load_motion

    if args.betas is not None and len(args.betas) != NUM_BETAS:
        parser.error(f"--betas takes {NUM_BETAS} values, got {len(args.betas)}")
    try:  # loaded once per process: the exporters below reuse it
        load_body_model(args.model)
    except _UNREADABLE as exc:
        return _fail(f"body model {args.model or '(default)'}: not usable ({_one_line(exc)})")
    try:
        if args.what == "body":
            betas = None if args.betas is None else np.asarray(args.betas, np.float64)
            _make_folder(args.out.parent)
            out = export_body_glb(args.out, betas, args.model)
            print(f"wrote {out}")
            return 0
        try:
            motion = load_motion(args.input, args.model)
        except _UNREADABLE as exc:
            return _fail(_about(args.input, exc))
        _make_folder(args.out.parent)
        if args.what == "animation":
            out = export_animation_glb(
                args.out, motion, root_motion=args.root_motion, model_path=args.model
            )
        else:
            out = export_bvh(
                args.out, motion, euler=args.euler, root_motion=args.root_motion,
                scale=args.scale, model_path=args.model,
            )  # fmt: skip
    except (ValueError, OSError) as exc:  # writing the file
        return _fail(_one_line(exc))
    held = int((~motion.valid).sum())
    print(f"wrote {out}: {len(motion)} frames, {motion.times[-1]:.2f} s, {held} held (invalid)")
    return 0


def _check_readable(path: Path, what: str) -> None:
    if not path.exists():
        raise ExportError(f"{what} {path}: no such file")
    if not path.is_file():
        raise ExportError(f"{what} {path}: not a file")
    if not os.access(path, os.R_OK):
        raise ExportError(f"{what} {path}: permission denied (not readable)")


def _check_output(path: Path, suffix: str, force: bool) -> None:
    """The output's name, that it is not in the way, and that its folder takes files."""
    if path.is_dir():
        raise ExportError(f"--out {path} is a folder; give a file name")
    if path.suffix.lower() != suffix:
        raise ExportError(f"--out {path}: this export writes a {suffix} file; name it *{suffix}")
    if path.exists() and not force:
        raise ExportError(f"--out {path} exists (pass --force to replace it)")
    # The replay's check (standard library only): the same rule for every output folder.
    from coach_backend.replay.preflight import OutputPathError, check_writable_folder

    try:
        check_writable_folder(path.parent, f"--out {path}")
    except OutputPathError as exc:
        raise ExportError(str(exc)) from exc


def _make_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _about(path: Path, exc: BaseException) -> str:
    """`exc` as one line that names the input (most messages do already)."""
    message = _one_line(exc)
    if str(path) in message:
        return message
    return f"input {path}: not a usable recording or replay .npz ({message})"


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
