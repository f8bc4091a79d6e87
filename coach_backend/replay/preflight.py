"""Checks of a replay's arguments that need no model and no video library.

Why a module of its own: the CLI runs these right after parsing, before torch, MediaPipe and
PyAV are imported (seconds), so a bad argument is reported at once and nothing is processed.
`run_replay` runs them too, for API callers. Only the standard library is imported here (and
the report's names, coach_backend.compare.names, which is standard library only too).
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from coach_backend.compare.names import INPUT_SUFFIXES as REFERENCE_SUFFIXES
from coach_backend.compare.names import OUTPUT_NAMES as REPORT_OUTPUT_NAMES

# The files a replay writes into its output folder (docs/replay_format.md): its results, and
# the session report's (summary.json with the reps, report.html).
NPZ_NAME, JSON_NAME, RECORDING_NAME = "smpl.npz", "smpl.json", "session.coachrec"
OUTPUT_NAMES = (NPZ_NAME, JSON_NAME, RECORDING_NAME, *REPORT_OUTPUT_NAMES)
# What a weights file (`torch.save`) starts with: a zip archive (the format since PyTorch 1.6)
# or, in the legacy format, a pickle (protocol marker byte).
_PICKLE_MARKER = b"\x80"
# Containers the overlay video (H.264, `video.write_video`) can be written in; PyAV picks the
# container from the file name's suffix.
OVERLAY_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv")


class VideoError(Exception):
    """The input is missing, empty, not a video, or cannot be decoded."""


class OutputExistsError(FileExistsError):
    """Outputs of an earlier run are in the way (pass overwrite=True / --force)."""


class OutputPathError(OSError):
    """An output cannot be written where asked: a read-only folder, a file where a folder must
    be, a folder where a file must be."""


class WeightsError(ValueError):
    """The GC-SSN weights file is not one (not a PyTorch file, or not GC-SSN weights)."""


class ReferenceError(ValueError):
    """The reference take to compare with is missing or not a replay result / recording."""


def available_cores() -> int:
    """Cores this process may run on: its CPU affinity (a container's or `taskset`'s share),
    not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # platforms without affinity (macOS, Windows)
        return os.cpu_count() or 1


def check_input_file(path: Path) -> None:
    """Raise VideoError unless `path` is an existing, non-empty, readable file."""
    if not path.exists():
        raise VideoError(f"{path}: no such file")
    if not path.is_file():
        raise VideoError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise VideoError(f"{path}: file is empty")
    if not os.access(path, os.R_OK):
        raise VideoError(f"{path}: permission denied (not readable)")


def check_reference_file(path: Path) -> None:
    """Cheap check of a reference take (reading it needs the body model: the replay does that
    before processing)."""
    if not path.is_file():
        raise ReferenceError(f"reference {path}: no such file")
    if path.suffix.lower() not in REFERENCE_SUFFIXES:
        raise ReferenceError(
            f"reference {path}: expected a replay smpl.npz or a .coachrec recording"
        )


def check_weights_file(path: Path) -> None:
    """Cheap check that `path` can be a PyTorch weights file (loading it needs torch: the
    replay does that before processing). FileNotFoundError says how to make the weights."""
    if not path.exists():
        raise FileNotFoundError(
            f"GC-SSN weights {path} not found: train and export them "
            "(python -m coach_backend.gcssn.train --export FILE) or pass another --weights file"
        )
    if not path.is_file():
        raise WeightsError(f"GC-SSN weights {path}: not a file")
    try:
        with path.open("rb") as f:
            head = f.read(1)
    except OSError as exc:
        raise WeightsError(f"GC-SSN weights {path}: cannot be read ({exc.strerror})") from exc
    if not (zipfile.is_zipfile(path) or head == _PICKLE_MARKER):
        raise WeightsError(f"GC-SSN weights {path}: not a PyTorch weights file (.pt)")


def check_writable_folder(folder: Path, label: str) -> None:
    """Raise OutputPathError (its message starts with `label`, e.g. "output folder out/x")
    unless files can be created in `folder`: it exists, or it can be made inside its nearest
    existing parent. Tried by creating a temporary file: permission bits do not tell (root
    ignores them; read-only mounts and immutable folders stop root too)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputPathError(f"{label}: {existing} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"{label}: cannot write in {existing} ({exc.strerror or exc})"
        ) from exc


def check_output_file(path: Path, overwrite: bool, what: str) -> bool:
    """Raise unless `path` can be written: OutputPathError for a folder in the way or an
    unwritable folder, OutputExistsError for an existing file without `overwrite`. Returns
    whether the file exists (and will be replaced)."""
    if path.is_dir():
        raise OutputPathError(f"{what} {path} is a folder; give a file name")
    exists = path.exists()
    if exists and not overwrite:
        raise OutputExistsError(
            f"{path} exists (pass --force to overwrite the outputs of an earlier run)"
        )
    check_writable_folder(path.parent, f"{what} {path}")
    return exists


def check_outputs(
    out_dir: Path, names: tuple[str, ...], overlay: Path | None, overwrite: bool
) -> list[Path]:
    """Check every output of a replay before anything is processed: the folder `out_dir`
    (existing or creatable, writable; an existing *file* there is refused even with
    `overwrite`, which replaces only a replay's own outputs), the files `names` in it and the
    overlay video. Returns the outputs of an earlier run that `overwrite` will replace."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputPathError(
            f"output folder {out_dir} is an existing file (--out takes a folder; --force "
            "replaces only the outputs of an earlier replay)"
        )
    check_writable_folder(out_dir, f"output folder {out_dir}")
    targets = [out_dir / name for name in names]
    existing = [p for p in targets if check_output_file(p, overwrite, "output")]
    if overlay is not None:
        if check_output_file(overlay, overwrite, "overlay video"):
            existing.append(overlay)
        if overlay.suffix.lower() not in OVERLAY_SUFFIXES:
            raise OutputPathError(
                f"overlay video {overlay}: use one of {', '.join(OVERLAY_SUFFIXES)} (H.264)"
            )
    return existing


def capped_workers(requested: int) -> tuple[int, str | None]:
    """Perception workers limited to the available cores (each is a MediaPipe graph that keeps
    a core busy: more only add switching and memory). Returns (workers, warning or None)."""
    cores = available_cores()
    if requested <= cores:
        return requested, None
    return cores, (
        f"--workers {requested} is more than the {cores} available CPU core"
        f"{'s' if cores > 1 else ''}; using {cores}"
    )
