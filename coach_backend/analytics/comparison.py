"""Compare an attempt with a reference movement: DTW over joint-angle vectors, then per-joint
angle differences for each phase of the reference.

Speed does not count: the attempt is warped onto the reference's frames (each reference frame
takes the mean of the attempt frames DTW matched to it), and differences are taken there, so a
slower or hesitant attempt of the same movement scores ~0. Phases come from the reference's own
reps (rest / down / hold / up of each rep, pooled over reps); a reference without reps is cut
into ``segments`` equal parts of its timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from coach_backend.analytics.angles import ANGLE_INDEX, ANGLE_NAMES, ANGLES
from coach_backend.analytics.dtw import (
    MAX_DTW_CELLS,
    DtwResult,
    dtw,
    pairwise_distance,
    warp_to_reference,
)
from coach_backend.analytics.reps import (
    AUTO,
    DEFAULT_RULE,
    PHASE_NAMES,
    ExerciseReps,
    RepRule,
    exercise_reps,
    fill_invalid,
)

# Angles the alignment and the differences use. Shoulder abduction is left out: it is
# ill-defined whenever the upper arm points forward (push-ups, front raises), and its useful
# part (how high the arm is) is in shoulder elevation already.
COMPARED_ANGLES: tuple[str, ...] = tuple(n for n in ANGLE_NAMES if "abduction" not in n)
DEFAULT_SEGMENTS = 4
# A phase shorter than this (reference frames) is reported but never called the worst: a few
# frames of a rep's turnaround say little.
MIN_PHASE_FRAMES = 3


@dataclass(frozen=True)
class AngleTrack:
    """Joint angles of one take: (T, NUM_ANGLES) degrees (columns ANGLE_NAMES), times (T,)
    seconds from its first frame, valid (T,) person seen. ``joints`` (T, 24, 3), y up, when
    known (for key-frame drawings)."""

    angles: np.ndarray
    times: np.ndarray
    valid: np.ndarray
    label: str = ""
    joints: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.times)
        if n == 0:
            raise ValueError(f"{self.label or 'track'}: no frames")
        if self.angles.shape != (n, len(ANGLE_NAMES)) or self.valid.shape != (n,):
            raise ValueError(
                f"angles ({self.angles.shape}) and valid ({self.valid.shape}) must match "
                f"times ({n},) and {len(ANGLE_NAMES)} angles"
            )
        if not self.valid.any():
            raise ValueError(f"{self.label or 'track'}: no frame with a person")

    @property
    def duration_s(self) -> float:
        return float(self.times[-1] - self.times[0])

    def filled(self) -> np.ndarray:
        """Angles with invalid frames interpolated from the valid ones."""
        return fill_invalid(self.angles, self.times, self.valid)

    def decimated(self, stride: int) -> AngleTrack:
        if stride <= 1:
            return self
        j = None if self.joints is None else self.joints[::stride]
        return AngleTrack(
            self.angles[::stride], self.times[::stride], self.valid[::stride], self.label, j
        )


@dataclass(frozen=True)
class PhaseDiff:
    phase: str
    frames: int  # reference frames in the phase
    mean_diff_deg: dict[str, float]  # attempt - reference, signed, per compared angle
    mean_abs_diff_deg: dict[str, float]


@dataclass(frozen=True)
class Worst:
    phase: str
    angle: str
    mean_diff_deg: float  # signed: attempt - reference (negative = less than the reference)
    mean_abs_diff_deg: float
    reference_frame: int  # where in that phase that angle differs most (key frame)
    attempt_frame: int  # the attempt frame DTW matched to it
    reference_time_s: float
    attempt_time_s: float


@dataclass
class Comparison:
    reference: AngleTrack
    attempt: AngleTrack
    reference_reps: ExerciseReps
    attempt_reps: ExerciseReps
    alignment: DtwResult
    # Both tracks decimated by this before aligning (1: all frames); every frame index in
    # this result (reps, worst, path) is into the decimated tracks held in reference/attempt.
    stride: int
    compared: tuple[str, ...]
    aligned_attempt: np.ndarray  # (T_ref, NUM_ANGLES) attempt angles on the reference's frames
    phase_of_frame: list[str]  # (T_ref,) phase label of each reference frame
    phase_order: list[str]
    phases: list[PhaseDiff]
    worst: Worst | None
    mean_abs_diff_deg: float  # over all reference frames and compared angles
    per_angle_mean_abs_diff_deg: dict[str, float] = field(default_factory=dict)

    def reference_time_map(self) -> tuple[np.ndarray, np.ndarray]:
        """(attempt times (T_att,), reference times (T_att,)) in seconds from each take's first
        frame: where in the reference each attempt frame is, by the DTW path (the mean of the
        reference frames matched to it). Non-decreasing: the path is monotone."""
        swapped = self.alignment.path[:, ::-1]  # (attempt frame, reference frame) pairs
        reference_times = warp_to_reference(swapped, self.reference.times, len(self.attempt.times))
        return self.attempt.times.copy(), reference_times

    def summary(self) -> dict[str, object]:
        """JSON-ready numbers (the "comparison" of the report's summary.json)."""
        return {
            "reference": take_summary(self.reference, self.reference_reps),
            "attempt": take_summary(self.attempt, self.attempt_reps),
            "speed_ratio": self.attempt.duration_s / max(self.reference.duration_s, 1e-9),
            "alignment": {
                "method": "dtw",
                "angles": list(self.compared),
                "stride": self.stride,
                "path_length": int(len(self.alignment.path)),
                "mean_cost_deg": self.alignment.mean_cost,
            },
            "mean_abs_diff_deg": self.mean_abs_diff_deg,
            "per_angle_mean_abs_diff_deg": self.per_angle_mean_abs_diff_deg,
            "phases": [
                {
                    "phase": p.phase,
                    "frames": p.frames,
                    "mean_diff_deg": p.mean_diff_deg,
                    "mean_abs_diff_deg": p.mean_abs_diff_deg,
                }
                for p in self.phases
            ],
            "worst": None if self.worst is None else vars(self.worst),
        }


def take_summary(track: AngleTrack, reps: ExerciseReps) -> dict[str, object]:
    """JSON-ready numbers of one take: its frames and its reps."""
    return {
        "label": track.label,
        "frames": int(len(track.times)),
        "valid_frames": int(track.valid.sum()),
        "duration_s": track.duration_s,
        "reps": reps.summary(),
    }


def reference_phases(
    num_frames: int, reps: ExerciseReps, segments: int = DEFAULT_SEGMENTS
) -> tuple[list[str], list[str]]:
    """(phase label per frame, phase order). From the reps when there are any, else
    ``segments`` equal parts ("part 1/4", ...)."""
    if not reps.reps:
        edges = np.linspace(0, num_frames, segments + 1).round().astype(int)
        order = [f"part {k + 1}/{segments}" for k in range(segments)]
        labels = [""] * num_frames
        for k in range(segments):
            for f in range(edges[k], edges[k + 1]):
                labels[f] = order[k]
        return labels, order
    rest, down, hold, up = PHASE_NAMES[reps.exercise]
    labels = [rest] * num_frames
    for r in reps.reps:
        for f in range(r.start_frame, r.bottom_start_frame):
            labels[f] = down
        for f in range(r.bottom_start_frame, r.bottom_end_frame + 1):
            labels[f] = hold
        for f in range(r.bottom_end_frame + 1, r.end_frame + 1):
            labels[f] = up
    return labels, [rest, down, hold, up]


def compare(
    reference: AngleTrack,
    attempt: AngleTrack,
    exercise: str = AUTO,
    segments: int = DEFAULT_SEGMENTS,
    compared: tuple[str, ...] = COMPARED_ANGLES,
    rule: RepRule = DEFAULT_RULE,
) -> Comparison:
    """Align ``attempt`` to ``reference`` and report per-phase, per-angle differences.
    ``exercise``: the reps' driver (EXERCISES) or "auto" (picked on the reference, then used
    for the attempt too, so both are counted on the same signal)."""
    if segments < 1:
        raise ValueError("segments must be >= 1")
    # Long takes: decimate both alike so the DTW matrix stays in memory (a few MB).
    cells = len(reference.times) * len(attempt.times)
    stride = int(np.ceil(np.sqrt(cells / MAX_DTW_CELLS))) if cells > MAX_DTW_CELLS else 1
    ref, att = reference.decimated(stride), attempt.decimated(stride)

    ref_reps = exercise_reps(ref.angles, ref.times, ref.valid, exercise, rule)
    att_reps = exercise_reps(att.angles, att.times, att.valid, ref_reps.exercise, rule)

    cols = [ANGLE_INDEX[n] for n in compared]
    ref_angles, att_angles = ref.filled(), att.filled()
    alignment = dtw(pairwise_distance(ref_angles[:, cols], att_angles[:, cols]))
    aligned = warp_to_reference(alignment.path, att_angles, len(ref.times))
    diff = aligned - ref_angles  # (T_ref, NUM_ANGLES), attempt - reference

    labels, order = reference_phases(len(ref.times), ref_reps, segments)
    label_arr = np.array(labels)
    phases: list[PhaseDiff] = []
    worst: Worst | None = None
    for name in order:
        sel = (label_arr == name) & ref.valid
        if not sel.any():
            continue
        d = diff[sel][:, cols]
        signed = dict(zip(compared, d.mean(0).tolist(), strict=True))
        absolute = dict(zip(compared, np.abs(d).mean(0).tolist(), strict=True))
        phases.append(PhaseDiff(name, int(sel.sum()), signed, absolute))
        if sel.sum() < MIN_PHASE_FRAMES:
            continue
        angle = max(absolute, key=absolute.__getitem__)
        if worst is None or absolute[angle] > worst.mean_abs_diff_deg:
            frames = np.flatnonzero(sel)
            key = int(frames[np.argmax(np.abs(diff[frames, ANGLE_INDEX[angle]]))])
            matched = alignment.path[alignment.path[:, 0] == key, 1]
            attempt_key = int(matched[len(matched) // 2])
            worst = Worst(
                name,
                angle,
                signed[angle],
                absolute[angle],
                key,
                attempt_key,
                float(ref.times[key]),
                float(att.times[attempt_key]),
            )

    valid_diff = np.abs(diff[ref.valid][:, cols])
    return Comparison(
        reference=ref,
        attempt=att,
        reference_reps=ref_reps,
        attempt_reps=att_reps,
        alignment=alignment,
        stride=stride,
        compared=tuple(compared),
        aligned_attempt=aligned,
        phase_of_frame=labels,
        phase_order=order,
        phases=phases,
        worst=worst,
        mean_abs_diff_deg=float(valid_diff.mean()),
        per_angle_mean_abs_diff_deg=dict(zip(compared, valid_diff.mean(0).tolist(), strict=True)),
    )


def angle_title(name: str) -> str:
    """ "left_knee_flexion" -> "Left knee flexion"."""
    return next(a.title for a in ANGLES if a.name == name)
