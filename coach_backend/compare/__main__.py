"""python -m coach_backend.compare REFERENCE ATTEMPT --report OUT/ [--exercise E] [--force]

REFERENCE, ATTEMPT: replay results (``smpl.npz``, docs/replay_format.md) or session recordings
(``.coachrec``), in any mix. Writes ``OUT/report.html`` (self-contained: plots inline) and
``OUT/summary.json``; OUT is created. Existing outputs are replaced only with ``--force``.

Exit status: 0 written, 1 unusable input or output, 2 bad arguments. Errors are one line on
stderr (``error: ...``). Paths are checked before numpy, torch and the body model are imported;
both inputs are read before anything is written.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

EXIT_FAILED = 1  # (argparse exits with 2 for bad arguments)
INPUT_SUFFIXES = (".npz", ".coachrec")  # as coach_backend.analytics.sources.SUFFIXES
# Kept here rather than imported so that --help and argument errors import nothing heavy;
# tests check they equal the analytics' own lists.
EXERCISE_CHOICES = ("auto", "squat", "lunge", "jumping_jack", "push_up")
OUTPUT_NAMES = ("report.html", "summary.json")  # as coach_backend.compare.report.OUTPUT_NAMES
DEFAULT_SEGMENTS = 4  # as coach_backend.analytics.DEFAULT_SEGMENTS
# What reading a damaged or foreign file raises (numpy's loader, the recording reader, the
# motion checks): reported as one line, not a traceback.
_UNREADABLE = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile)


class CompareError(Exception):
    """An argument that cannot work: reported as one line before anything is computed."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m coach_backend.compare",
        description=(
            "Compare an attempt with a reference movement: joint angles aligned by dynamic time "
            "warping (speed does not count), per-phase per-joint differences, reps, range of "
            "motion and tempo. Writes OUT/report.html and OUT/summary.json."
        ),
    )
    parser.add_argument("reference", type=Path, help="reference take: smpl.npz or .coachrec")
    parser.add_argument("attempt", type=Path, help="attempt take: smpl.npz or .coachrec")
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
    try:
        for path, what in ((args.reference, "reference"), (args.attempt, "attempt")):
            _check_input(path, what)
        if args.model is not None and not args.model.is_file():
            raise CompareError(f"body model {args.model} is not a file")
        _check_output(args.report, args.force)
    except CompareError as exc:
        return _fail(str(exc))

    from coach_backend.analytics import compare, load_track
    from coach_backend.compare.report import worst_sentence, write_report

    if args.model is not None:  # load it first, so its errors are not blamed on an input
        from coach_backend.body import load_body_model

        try:
            load_body_model(args.model)
        except _UNREADABLE as exc:
            return _fail(f"body model {args.model}: {_one_line(exc)}")
    tracks = []
    for path, what in ((args.reference, "reference"), (args.attempt, "attempt")):
        try:
            tracks.append(load_track(path, args.model))
        except _UNREADABLE as exc:
            return _fail(f"{what} {path}: not a usable recording or replay .npz ({_one_line(exc)})")
    reference, attempt = tracks
    try:
        result = compare(reference, attempt, args.exercise, args.segments)
    except ValueError as exc:
        return _fail(f"cannot compare: {_one_line(exc)}")
    try:
        written = write_report(result, args.report, str(args.reference), str(args.attempt))
    except OSError as exc:
        return _fail(f"cannot write the report in {args.report}: {_one_line(exc)}")

    ref_n, att_n = len(result.reference_reps.reps), len(result.attempt_reps.reps)
    print(f"exercise: {result.reference_reps.exercise} (reference {ref_n} reps, attempt {att_n})")
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
