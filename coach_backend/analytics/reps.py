"""Repetitions from one joint-angle signal: count, range of motion and tempo per rep.

Rule (docs/analytics.md): the driver signal (e.g. mean knee flexion for squats) is gap-filled
and lightly smoothed; a rep is a peak whose prominence is at least ``prominence_fraction`` of
the signal's robust range (so noise and half-way pauses never make a rep, and the signal must
come back down on both sides: hysteresis), at least ``min_rep_s`` after the previous one.
A rep runs from the moment the signal leaves its rest level to the moment it is back, where
"at rest" / "at the extreme" mean within ``zone_fraction`` of the rep's range of that level,
each boundary then moved across the slow ends of the movement (while the speed is above
``still_fraction`` of the rep's peak speed); tempo splits it into down (rest -> extreme), hold
(at the extreme) and up (extreme -> rest).
"Down" is towards the rep's extreme of the driver: a squat's descent, a jumping jack's opening.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, median_filter
from scipy.signal import find_peaks

from coach_backend.analytics.angles import ANGLE_INDEX

# Which angles drive each exercise (their mean: both sides work in all four). Lunges alternate
# legs but both knees bend in every lunge, so the mean knee flexion has one peak per lunge.
EXERCISE_DRIVERS: dict[str, tuple[str, ...]] = {
    "squat": ("left_knee_flexion", "right_knee_flexion"),
    "lunge": ("left_knee_flexion", "right_knee_flexion"),
    "jumping_jack": ("left_shoulder_abduction", "right_shoulder_abduction"),
    "push_up": ("left_elbow_flexion", "right_elbow_flexion"),
}
EXERCISES: tuple[str, ...] = tuple(EXERCISE_DRIVERS)
AUTO = "auto"
# Names of the four phases of a rep of each exercise: (rest, down, hold, up).
PHASE_NAMES: dict[str, tuple[str, str, str, str]] = {
    "squat": ("top", "down", "bottom", "up"),
    "lunge": ("top", "down", "bottom", "up"),
    "push_up": ("top", "down", "bottom", "up"),
    "jumping_jack": ("closed", "opening", "open", "closing"),
}


@dataclass(frozen=True)
class RepRule:
    """Tuning of the rep detector; the defaults are what the docs and tests describe."""

    smooth_s: float = 0.08  # Gaussian sigma, after a median filter of about that width
    min_range_deg: float = 15.0  # a signal moving less than this has no reps
    prominence_fraction: float = 0.4  # of the signal's robust (1st-99th percentile) range
    min_rep_s: float = 0.5  # two peaks closer than this are one rep
    zone_fraction: float = 0.15  # "at rest" / "at the extreme": within this part of the range
    still_fraction: float = 0.15  # slower than this part of the rep's peak speed: not moving


DEFAULT_RULE = RepRule()


@dataclass(frozen=True)
class Rep:
    """One repetition; frames index the signal, times in its seconds, angles in degrees."""

    number: int  # 1-based
    start_frame: int
    peak_frame: int
    end_frame: int
    start_s: float
    peak_s: float
    end_s: float
    rest_deg: float  # the lower of the rest levels before and after
    peak_deg: float
    rom_deg: float  # range of motion: peak - rest
    down_s: float
    hold_s: float
    up_s: float
    bottom_start_frame: int  # the hold at the extreme: [bottom_start_frame, bottom_end_frame]
    bottom_end_frame: int

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "duration_s": self.duration_s}


def fill_invalid(values: np.ndarray, times: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """(T,) or (T, C): invalid or non-finite frames linearly interpolated in time from valid ones
    (held at the ends). All invalid: zeros."""
    v = np.array(values, np.float64)
    flat = v.reshape(v.shape[0], -1)
    ok = np.isfinite(flat).all(axis=1)
    if valid is not None:
        ok &= np.asarray(valid, bool)
    if not ok.any():
        return np.zeros_like(v)
    if not ok.all():
        for c in range(flat.shape[1]):
            flat[:, c] = np.interp(times, times[ok], flat[ok, c])
    return flat.reshape(v.shape)


def frame_rate(times: np.ndarray) -> float:
    """Nominal rate from the median frame interval (30 for fewer than two frames)."""
    if len(times) < 2:
        return 30.0
    return float(1.0 / max(np.median(np.diff(times)), 1e-6))


def smooth_signal(signal: np.ndarray, fps: float, rule: RepRule = DEFAULT_RULE) -> np.ndarray:
    """Median filter (spikes out) then a Gaussian (jitter out), both ~``rule.smooth_s``."""
    sigma = rule.smooth_s * fps
    if sigma < 0.5:
        return np.asarray(signal, np.float64)
    # Median just wide enough for single-frame spikes: wider ones flatten fast reps' peaks.
    width = max(3, 2 * int(round(0.5 * sigma)) + 1)
    return gaussian_filter1d(
        median_filter(signal, size=width, mode="nearest"), sigma, mode="nearest"
    )


def robust_range(signal: np.ndarray) -> float:
    lo, hi = np.percentile(signal, [1, 99])
    return float(hi - lo)


def detect_reps(
    signal: np.ndarray,
    times: np.ndarray,
    valid: np.ndarray | None = None,
    rule: RepRule = DEFAULT_RULE,
) -> list[Rep]:
    """Reps of a (T,) driver angle signal (degrees) sampled at ``times`` (seconds).
    A rep is an excursion upwards (larger angle) from rest and back; see the module doc."""
    times = np.asarray(times, np.float64)
    if len(times) < 3:
        return []
    fps = frame_rate(times)
    s = smooth_signal(fill_invalid(signal, times, valid), fps, rule)
    span = robust_range(s)
    if span < rule.min_range_deg:
        return []
    peaks, _ = find_peaks(
        s,
        prominence=rule.prominence_fraction * span,
        distance=max(1, int(round(rule.min_rep_s * fps))),
    )
    velocity = np.gradient(s, times)
    reps: list[Rep] = []
    bounds = [0, *peaks.tolist(), len(s) - 1]
    for k, peak in enumerate(peaks.tolist()):
        # Rest before / after: the lowest point between this peak and its neighbours.
        left = bounds[k] + int(np.argmin(s[bounds[k] : peak + 1]))
        right = peak + int(np.argmin(s[peak : bounds[k + 2] + 1]))
        rest_l, rest_r, top = s[left], s[right], s[peak]
        zone_l, zone_r = rule.zone_fraction * (top - rest_l), rule.zone_fraction * (top - rest_r)
        seg_l, seg_r = s[left : peak + 1], s[peak : right + 1]
        # Last frame still at rest before the peak, first back at rest after it (pauses at rest
        # therefore never count as part of the rep); first / last frame at the extreme (the
        # hold between them). Each is then moved across the slow ends of the movement that lie
        # inside those zones, up to where the speed falls under ``still_fraction`` of the
        # rep's peak speed, so tempo is not shortened by the zones.
        still = rule.still_fraction * float(np.abs(velocity[left : right + 1]).max())
        start = left + int(np.flatnonzero(seg_l <= rest_l + zone_l)[-1])
        end = peak + int(np.flatnonzero(seg_r <= rest_r + zone_r)[0])
        bottom_start = left + int(np.flatnonzero(seg_l >= top - zone_l)[0])
        bottom_end = peak + int(np.flatnonzero(seg_r >= top - zone_r)[-1])
        start = _while_moving(velocity, start, -1, left, still)
        bottom_start = _while_moving(velocity, bottom_start, +1, peak, still)
        bottom_end = _while_moving(velocity, bottom_end, -1, peak, still)
        end = _while_moving(velocity, end, +1, right, still)
        rest = float(min(rest_l, rest_r))
        reps.append(
            Rep(
                number=k + 1,
                start_frame=start,
                peak_frame=peak,
                end_frame=end,
                start_s=float(times[start]),
                peak_s=float(times[peak]),
                end_s=float(times[end]),
                rest_deg=rest,
                peak_deg=float(top),
                rom_deg=float(top - rest),
                down_s=float(times[bottom_start] - times[start]),
                hold_s=float(times[bottom_end] - times[bottom_start]),
                up_s=float(times[end] - times[bottom_end]),
                bottom_start_frame=bottom_start,
                bottom_end_frame=bottom_end,
            )
        )
    return reps


def _while_moving(velocity: np.ndarray, frame: int, step: int, limit: int, still: float) -> int:
    """Step from ``frame`` towards ``limit`` while the next frame still moves faster than
    ``still`` (either way: the boundary follows the movement, not its direction)."""
    while frame != limit and abs(velocity[frame + step]) > still:
        frame += step
    return frame


def driver_signal(angles: np.ndarray, exercise: str) -> np.ndarray:
    """(T,) mean of the exercise's driver angles, from (T, NUM_ANGLES) angles."""
    if exercise not in EXERCISE_DRIVERS:
        raise ValueError(f"unknown exercise {exercise!r}; one of {', '.join(EXERCISES)}")
    cols = [ANGLE_INDEX[n] for n in EXERCISE_DRIVERS[exercise]]
    return np.asarray(angles, np.float64)[:, cols].mean(axis=1)


@dataclass(frozen=True)
class ExerciseReps:
    exercise: str  # as asked, or the pick of "auto"
    auto: bool  # picked by auto_exercise
    driver: tuple[str, ...]  # angle names averaged into the driver signal
    signal: np.ndarray  # (T,) the driver, gap-filled and smoothed (what reps were found on)
    reps: list[Rep]

    def summary(self) -> dict[str, object]:
        def mean(values: list[float]) -> float | None:
            return float(np.mean(values)) if values else None

        return {
            "exercise": self.exercise,
            "auto": self.auto,
            "driver": list(self.driver),
            "count": len(self.reps),
            "mean_rom_deg": mean([r.rom_deg for r in self.reps]),
            "mean_down_s": mean([r.down_s for r in self.reps]),
            "mean_hold_s": mean([r.hold_s for r in self.reps]),
            "mean_up_s": mean([r.up_s for r in self.reps]),
            "reps": [r.to_dict() for r in self.reps],
        }


def exercise_reps(
    angles: np.ndarray,
    times: np.ndarray,
    valid: np.ndarray | None = None,
    exercise: str = AUTO,
    rule: RepRule = DEFAULT_RULE,
) -> ExerciseReps:
    """Reps of ``exercise`` (one of EXERCISES, or "auto": the driver with the largest periodic
    range, see :func:`auto_exercise`) from (T, NUM_ANGLES) angles."""
    auto = exercise == AUTO
    if auto:
        exercise = auto_exercise(angles, times, valid, rule)
    signal = driver_signal(angles, exercise)
    smoothed = smooth_signal(fill_invalid(signal, times, valid), frame_rate(times), rule)
    reps = detect_reps(signal, times, valid, rule)
    return ExerciseReps(exercise, auto, EXERCISE_DRIVERS[exercise], smoothed, reps)


def auto_exercise(
    angles: np.ndarray,
    times: np.ndarray,
    valid: np.ndarray | None = None,
    rule: RepRule = DEFAULT_RULE,
) -> str:
    """The exercise whose driver moves most periodically: largest median range of motion over
    its reps, counting only drivers with at least two reps; with none, the largest robust range.
    Squats and lunges share a driver (knees): "squat" names both."""
    times = np.asarray(times, np.float64)
    candidates = [e for e in EXERCISES if e != "lunge"]
    scores = []
    for name in candidates:
        reps = detect_reps(driver_signal(angles, name), times, valid, rule)
        periodic = float(np.median([r.rom_deg for r in reps])) if len(reps) >= 2 else 0.0
        span = robust_range(fill_invalid(driver_signal(angles, name), times, valid))
        scores.append((periodic, span))
    return candidates[max(range(len(candidates)), key=lambda i: scores[i])]
