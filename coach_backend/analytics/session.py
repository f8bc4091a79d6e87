"""One session's exercise analysis: its reps (count, range of motion, tempo per rep) on the
driver angle, the numbers a recording's summary keeps, and the moments its report shows.

The same :func:`exercise_reps` serves a finished take (a replay, a recording, the compare CLI)
and a live session (coach_backend.analytics.live): one rep rule, docs/analytics.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from coach_backend.analytics.angles import ANGLE_NAMES
from coach_backend.analytics.comparison import (
    DEFAULT_SEGMENTS,
    AngleTrack,
    Comparison,
    angle_title,
    compare,
    take_summary,
)
from coach_backend.analytics.reps import (
    AUTO,
    DEFAULT_RULE,
    PHASE_NAMES,
    ExerciseReps,
    RepRule,
    exercise_reps,
)
from coach_backend.analytics.sources import load_track

# Key frames a report shows: the extreme of this many reps, spread over the set.
KEY_FRAMES = 4
# Said of reps counted without a given exercise: "auto" picks an angle, not what was done.
AUTO_NOTE = "exercise not given; counted on the most active angle"


@dataclass(frozen=True)
class KeyMoment:
    """A frame worth a picture: its index into the take, time and a one-line caption."""

    frame: int
    time_s: float
    caption: str


@dataclass(frozen=True)
class SessionAnalysis:
    track: AngleTrack
    reps: ExerciseReps

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers: the take, its reps, and each angle's range over the take."""
        valid = self.track.angles[self.track.valid]
        low, high = np.percentile(valid, [1, 99], axis=0)  # robust: a stray frame is no range
        angles = {
            name: {"p1_deg": float(lo), "p99_deg": float(hi), "range_deg": float(hi - lo)}
            for name, lo, hi in zip(ANGLE_NAMES, low, high, strict=True)
        }
        return {**take_summary(self.track, self.reps), "angles": angles}

    def headline(self) -> str:
        """One line for people: "3 reps of squat on knee flexion; mean range of motion 95 deg;
        tempo down 1.0 s, bottom 0.3 s, up 1.0 s". When no exercise was given ("auto") it names
        none, only the angle counted on: "3 reps on knee flexion (exercise not given; counted on
        the most active angle)", since the athlete may have done anything that moves it."""
        reps = self.reps
        driver = driver_title(reps.driver)
        count = f"{len(reps.reps)} rep{'' if len(reps.reps) == 1 else 's'}"
        line = (
            f"{count} on {driver} ({AUTO_NOTE})"
            if reps.auto
            else f"{count} of {reps.exercise.replace('_', ' ')} on {driver}"
        )
        if not reps.reps:
            return line
        s = reps.summary()
        _, down, hold, up = PHASE_NAMES[reps.exercise]
        return (
            f"{line}; mean range of motion {s['mean_rom_deg']:.0f} deg; tempo "
            f"{down} {s['mean_down_s']:.1f} s, {hold} {s['mean_hold_s']:.1f} s, "
            f"{up} {s['mean_up_s']:.1f} s"
        )

    def key_moments(self, count: int = KEY_FRAMES) -> list[KeyMoment]:
        """The extreme of up to ``count`` reps spread over the set (first and last included);
        without reps, ``count`` frames spread over the take's valid frames."""
        times = self.track.times
        reps = self.reps.reps
        if reps:
            picks = np.unique(np.linspace(0, len(reps) - 1, min(count, len(reps))).round())
            hold = PHASE_NAMES[self.reps.exercise][2]
            return [
                KeyMoment(
                    r.peak_frame,
                    float(times[r.peak_frame]),
                    f"Rep {r.number} at the {hold}: {driver_title(self.reps.driver)} "
                    f"{r.peak_deg:.0f}\u00b0, t = {times[r.peak_frame]:.1f} s",
                )
                for r in (reps[int(k)] for k in picks)
            ]
        frames = np.flatnonzero(self.track.valid)
        picks = np.unique(np.linspace(0, len(frames) - 1, min(count, len(frames))).round())
        return [
            KeyMoment(int(f), float(times[f]), f"t = {times[f]:.1f} s")
            for f in (frames[int(k)] for k in picks)
        ]


def driver_title(driver: tuple[str, ...] | list[str]) -> str:
    """("left_knee_flexion", "right_knee_flexion") -> "knee flexion": what reps are counted
    on, for people (left and right are averaged into one driver)."""
    titles = (angle_title(n).removeprefix("Left ").removeprefix("Right ") for n in driver)
    return " + ".join(dict.fromkeys(titles))  # sides merged, order kept


def analyse_session(
    track: AngleTrack, exercise: str = AUTO, rule: RepRule = DEFAULT_RULE
) -> SessionAnalysis:
    """Reps of ``exercise`` (or "auto": the driver with the largest periodic range) in a take."""
    return SessionAnalysis(
        track, exercise_reps(track.angles, track.times, track.valid, exercise, rule)
    )


def analyse_take(
    take: AngleTrack,
    exercise: str = AUTO,
    reference: AngleTrack | None = None,
    segments: int = DEFAULT_SEGMENTS,
) -> tuple[SessionAnalysis, Comparison | None]:
    """A take's analysis and, given a reference, its comparison with it. With a reference the
    exercise is settled on the reference ("auto" picks there) and the take's reps are counted
    on the same driver, so both speak of the same movement."""
    if reference is None:
        return analyse_session(take, exercise), None
    comparison = compare(reference, take, exercise, segments)
    session = analyse_session(take, comparison.reference_reps.exercise)
    # Picked automatically (on the reference) stays said so.
    reps = replace(session.reps, auto=comparison.reference_reps.auto)
    return SessionAnalysis(session.track, reps), comparison


def analyse_recording(
    path: str | os.PathLike[str], exercise: str = AUTO, reference: AngleTrack | None = None
) -> tuple[SessionAnalysis | None, Comparison | None, str]:
    """A session's recording (or replay ``smpl.npz``) -> (analysis, comparison, note), as the
    end of a replay and of a live session keep it: None and a note saying why when there is
    nothing to analyse (no frame at all, or none with a person). Other read errors raise."""
    try:
        track = load_track(path)
    except ValueError as exc:
        return None, None, " ".join(str(exc).split())
    session, comparison = analyse_take(track, exercise, reference)
    return session, comparison, ""
