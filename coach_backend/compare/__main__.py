"""python -m coach_backend.compare [REFERENCE] TAKE --report OUT/ [--exercise E] [--force]

The session report of TAKE (reps, range of motion, tempo, joint angles, key frames) and, with a
REFERENCE, its comparison with that reference movement. TAKE, REFERENCE: replay results
(``smpl.npz``, docs/replay_format.md) or session recordings (``.coachrec``), in any mix. Writes
``OUT/report.html`` (self-contained: plots inline) and ``OUT/summary.json``; OUT is created.
Existing outputs are replaced only with ``--force``.

Exit status: 0 written, 1 unusable input or output, 2 bad arguments. Errors are one line on
stderr (``error: ...``). Paths are checked before numpy, torch and the body model are imported;
every input is read before anything is written.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

# (standard library only: --help and argument errors import nothing heavy)
from coach_backend.compare.names import (
    DEFAULT_SEGMENTS,
    EXERCISE_CHOICES,
    INPUT_SUFFIXES,
    OUTPUT_NAMES,
)

EXIT_FAILED = 1  # (argparse exits with 2 for bad arguments)
# What reading a damaged or foreign file raises (numpy's loader, the recording reader, the
# motion checks): reported as one line, not a traceback.
_UNREADABLE = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile)


class CompareError(Exception):
    """An argument that cannot work: reported as one line before anything is computed."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m coach_backend.compare",
        description=(
            "The session report of a take: reps, range of motion and tempo, joint angles, key "
            "frames; with a reference, also the comparison: joint angles aligned by dynamic "
            "time warping (speed does not count) and per-phase per-joint differences. Writes "
            "OUT/report.html and OUT/summary.json."
        ),
    )
    parser.add_argument(
        "reference", type=Path, nargs="?", default=None,
        help="reference take to compare with (optional): smpl.npz or .coachrec",
    )  # fmt: skip
    parser.add_argument("take", type=Path, help="the take: smpl.npz or .coachrec")
    parser.add_argument("--report", type=Path, required=True, metavar="OUT", help="output folder")
    parser.add_argument(
        "--exercise", choices=EXERCISE_CHOICES, default="auto",
        help="which angle counts reps and defines the phases (default: auto, the angle with "
        "the largest periodic range)",
    )  # fmt: skip
    parser.add_argument(
        "--segments", type=int, default=DEFAULT_SEGMENTS,
        help="phases when the reference has no reps: this many equal parts (default 4)",
    )  # fmt: skip
    parser.add_argument("--model", type=Path, default=None, help="body file (default: open body)")
    parser.add_argument("--force", action="store_true", help="replace an earlier report in OUT")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.segments < 1:
        parser.error("--segments must be >= 1")
    inputs = [(args.take, "take")]
    if args.reference is not None:
        inputs.insert(0, (args.reference, "reference"))
    try:
        for path, what in inputs:
            _check_input(path, what)
        if args.model is not None and not args.model.is_file():
            raise CompareError(f"body model {args.model} is not a file")
        _check_output(args.report, args.force)
    except CompareError as exc:
        return _fail(str(exc))

    from coach_backend.analytics import analyse_take, load_track
    from coach_backend.compare.report import SessionReport, worst_sentence

    if args.model is not None:  # load it first, so its errors are not blamed on an input
        from coach_backend.body import load_body_model

        try:
            load_body_model(args.model)
        except _UNREADABLE as exc:
            return _fail(f"body model {args.model}: {_one_line(exc)}")
    tracks = {}
    for path, what in inputs:
        try:
            tracks[what] = load_track(path, args.model)
        except _UNREADABLE as exc:
            return _fail(f"{what} {path}: not a usable recording or replay .npz ({_one_line(exc)})")
    try:
        session, result = analyse_take(
            tracks["take"], args.exercise, tracks.get("reference"), args.segments
        )
    except ValueError as exc:
        return _fail(f"cannot compare: {_one_line(exc)}")
    reference = None if args.reference is None else str(args.reference)
    try:
        written = SessionReport(session, str(args.take), result, reference).write(args.report)
    except OSError as exc:
        return _fail(f"cannot write the report in {args.report}: {_one_line(exc)}")

    print(f"take: {session.headline()}")
    if result is not None:
        print(f"reference: {len(result.reference_reps.reps)} reps")
        print(f"mean angle difference after alignment: {result.mean_abs_diff_deg:.1f} deg")
        print(f"biggest difference: {worst_sentence(result)}")
    for path in written:
        print(f"wrote {path}")
    return 0


def _check_input(path: Path, what: str) -> None:
    if not path.exists():
        raise CompareError(f"{what} {path} does not exist")
    if not path.is_file():
        raise CompareError(f"{what} {path} is not a file")
    if path.suffix.lower() not in INPUT_SUFFIXES:
        raise CompareError(f"{what} {path}: expected a replay smpl.npz or a .coachrec recording")


def _check_output(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise CompareError(f"--report {out} exists and is not a folder")
    existing = [name for name in OUTPUT_NAMES if (out / name).exists()]
    if existing and not force:
        raise CompareError(
            f"--report {out} already holds {', '.join(existing)}; pass --force to replace"
        )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
