"""The end of a replay: the session's exercise analysis (reps, range of motion and tempo per rep)
from its final recording, written as ``summary.json`` and ``report.html`` beside the other
outputs by the one report writer (coach_backend.compare.report), with the reference's
comparison when one is given and, when the replay drew an overlay, video key frames with the
body over them.

The analysis (coach_backend.analytics.analyse_recording) reads the recording the replay just
wrote, exactly as ``python -m coach_backend.compare session.coachrec`` and the live server's end
of session do.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from coach_backend.analytics import (
    AngleTrack,
    Comparison,
    KeyMoment,
    SessionAnalysis,
    load_track,
)
from coach_backend.compare.report import KeyFrameImage, SessionReport
from coach_backend.replay.preflight import ReferenceError, check_reference_file

# What reading a foreign or damaged take raises (numpy's loader, the recording reader, the
# motion checks, a take nobody was seen in).
_UNREADABLE = (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile)


def load_reference(path: Path | None) -> AngleTrack | None:
    """The reference take, read before the replay processes anything: ReferenceError if it is
    not a usable replay result or recording."""
    if path is None:
        return None
    check_reference_file(path)
    try:
        return load_track(path)
    except _UNREADABLE as exc:
        raise ReferenceError(f"reference {path}: not a usable take ({_one_line(exc)})") from exc


def key_frames_at(session: SessionAnalysis | None, times_s: np.ndarray) -> dict[int, KeyMoment]:
    """The report's key moments by replay frame index (``times_s``: the replay's frame times;
    the recording's times start at its first frame)."""
    if session is None:
        return {}
    offsets = np.asarray(times_s, np.float64) - times_s[0]
    return {int(np.argmin(np.abs(offsets - m.time_s))): m for m in session.key_moments()}


def write_session_report(
    out_dir: Path,
    session: SessionAnalysis | None,
    comparison: Comparison | None,
    note: str,
    video: Path,
    reference: Path | None,
    moments: Mapping[int, KeyMoment],
    overlay_frames: Mapping[int, np.ndarray],
) -> list[Path]:
    """report.html and summary.json in ``out_dir``; returns their paths."""
    key_frames = [
        KeyFrameImage(moment, overlay_frames[frame])
        for frame, moment in sorted(moments.items())
        if frame in overlay_frames
    ]
    reference_path = None if reference is None else str(reference)
    return SessionReport(session, str(video), comparison, reference_path, key_frames, note).write(
        out_dir
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
