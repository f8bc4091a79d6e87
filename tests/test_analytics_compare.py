"""Reference comparison: DTW recovers a known time warp, a warped copy of the same motion
scores ~0 against a large difference for another motion, and a deliberately altered attempt
(knees bent 20 deg less) is ranked worse at the knee in the bottom phase. Synthetic exercises
and CMU fixture trials posed by the body model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from analytics_support import SHOT, WALK, cmu_track, exercise_track, smooth_warp

from coach_backend.analytics import (
    AngleTrack,
    compare,
    comparison,
    dtw,
    pairwise_distance,
    warp_to_reference,
)
from coach_backend.analytics.synthetic import RepTiming

SET = [RepTiming(1.0, 0.3, 1.0, 0.6)] * 3
KNEES = {"left_knee_flexion", "right_knee_flexion"}


def test_dtw_small_known_case() -> None:
    ref, att = np.array([[0.0], [1.0], [2.0]]), np.array([[0.0], [0.0], [1.0], [2.0], [2.0]])
    result = dtw(pairwise_distance(ref, att))
    assert result.total_cost == 0.0
    assert result.path.tolist() == [[0, 0], [0, 1], [1, 2], [2, 3], [2, 4]]
    same = dtw(pairwise_distance(ref, ref))
    assert same.path.tolist() == [[0, 0], [1, 1], [2, 2]]  # ties go diagonal


def test_dtw_recovers_a_known_time_warp() -> None:
    ref_t = np.arange(0, 6, 1 / 30)
    att_t = np.arange(0, 8.4, 1 / 30)  # 1.4x slower, and unevenly so
    warp = smooth_warp(6.0, 8.4, wobble=0.06)

    def motion(t: np.ndarray) -> np.ndarray:  # three channels, no two frames alike
        return np.stack([40 * np.sin(t), 30 * np.cos(1.7 * t), 10 * t], axis=1)

    result = dtw(pairwise_distance(motion(ref_t), motion(warp(att_t))))
    matched_ref_time = warp(att_t[result.path[:, 1]])
    err = np.abs(matched_ref_time - ref_t[result.path[:, 0]])
    assert err.mean() < 1.0 / 30 and err.max() < 3.0 / 30  # within a frame on average
    assert np.all(np.diff(result.path, axis=0) >= 0)  # monotone
    aligned = warp_to_reference(result.path, motion(warp(att_t)), len(ref_t))
    assert np.abs(aligned - motion(ref_t)).mean() < 0.3


def test_warp_to_reference_takes_the_mean_of_matches() -> None:
    path = np.array([[0, 0], [0, 1], [1, 2], [2, 2]])
    out = warp_to_reference(path, np.array([[0.0], [2.0], [5.0]]), 3)
    assert out[:, 0].tolist() == [1.0, 5.0, 5.0]


def test_warped_copy_scores_zero_and_another_motion_does_not() -> None:
    ref = exercise_track("squat", SET)
    warped = exercise_track("squat", SET, speed=0.7, warp=True)
    same = compare(ref, warped)
    assert same.mean_abs_diff_deg < 0.5
    assert same.worst is not None and same.worst.mean_abs_diff_deg < 2.0
    assert len(same.attempt_reps.reps) == len(same.reference_reps.reps) == 3
    for other in ("jumping_jack", "push_up"):
        different = compare(ref, exercise_track(other, SET, speed=0.7, warp=True))
        assert different.mean_abs_diff_deg > 15 * same.mean_abs_diff_deg + 10
    json.dumps(same.summary())  # JSON-ready as it is


@pytest.mark.parametrize("noise_deg", [0.0, 3.0])
def test_knees_bent_less_ranked_worse_at_the_knee_at_the_bottom(noise_deg: float) -> None:
    ref = exercise_track("squat", SET, noise_deg=noise_deg, seed=1)
    kw = {"speed": 0.75, "warp": True, "noise_deg": noise_deg, "seed": 2}
    good = compare(ref, exercise_track("squat", SET, **kw))
    bad = compare(ref, exercise_track("squat", SET, knee_deg=90.0, **kw))  # 20 deg less
    assert bad.mean_abs_diff_deg > good.mean_abs_diff_deg + 1.0
    w = bad.worst
    assert w is not None and w.angle in KNEES and w.phase == "bottom"
    assert w.mean_diff_deg == pytest.approx(-20.0, abs=3.0)  # signed: less than the reference
    bottom = next(p for p in bad.phases if p.phase == "bottom")
    others = [abs(v) for k, v in bottom.mean_diff_deg.items() if k not in KNEES]
    assert max(others) < 4.0  # only the knees differ
    assert [p.phase for p in bad.phases] == ["top", "down", "bottom", "up"]
    assert w.reference_frame in range(len(ref.times))


def test_no_reps_phases_are_equal_parts() -> None:
    times = np.arange(0, 3, 1 / 30)
    angles = np.zeros((len(times), len(comparison.ANGLE_NAMES)))
    angles[:, 0] = 5 * np.sin(times)  # moves, but far less than a rep
    track = AngleTrack(angles, times, np.ones(len(times), bool), "still")
    result = compare(track, track, segments=3)
    assert not result.reference_reps.reps
    assert [p.phase for p in result.phases] == ["part 1/3", "part 2/3", "part 3/3"]
    assert result.mean_abs_diff_deg == 0.0


def test_long_takes_are_decimated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(comparison, "MAX_DTW_CELLS", 20_000)
    ref = exercise_track("squat", SET)
    result = compare(ref, exercise_track("squat", SET, speed=0.7, warp=True))
    assert result.stride >= 2 and len(result.reference.times) < len(ref.times)
    assert result.mean_abs_diff_deg < 1.5
    assert result.worst is not None


def test_invalid_frames_do_not_count() -> None:
    ref = exercise_track("squat", SET)
    att = exercise_track("squat", SET, speed=0.8, warp=True)
    valid = att.valid.copy()
    valid[50:60] = False
    angles = att.angles.copy()
    angles[~valid] = 0.0  # an invalid frame's numbers are zeros
    result = compare(ref, AngleTrack(angles, att.times, valid, "gappy"))
    assert result.mean_abs_diff_deg < 1.0


# CMU fixture trials, posed by the body model: real motion, not a cosine.


@pytest.fixture(scope="module")
def shot() -> AngleTrack:
    return cmu_track(SHOT)


def _slower_warp(speed: float = 0.75):
    duration = 2.0  # the fixtures are 2 s at 60 fps
    return smooth_warp(duration, duration / speed, wobble=0.06), speed


def test_cmu_warped_copy_matches_and_another_trial_does_not(shot: AngleTrack) -> None:
    warp, speed = _slower_warp()
    same = compare(shot, cmu_track(SHOT, warp=warp, speed=speed))
    walk = compare(shot, cmu_track(WALK))
    assert same.mean_abs_diff_deg < 1.0
    assert walk.mean_abs_diff_deg > 10.0


def test_cmu_knees_bent_less_ranked_at_the_knee_at_the_deepest_phase(shot: AngleTrack) -> None:
    warp, speed = _slower_warp()
    good = compare(shot, cmu_track(SHOT, warp=warp, speed=speed), exercise="squat")
    bad = compare(shot, cmu_track(SHOT, warp=warp, speed=speed, knee_scale=0.6), exercise="squat")
    assert len(bad.reference_reps.reps) == 1  # the dip before the jump shot
    assert bad.mean_abs_diff_deg > good.mean_abs_diff_deg + 2.0
    assert bad.worst is not None and bad.worst.angle in KNEES
    assert bad.worst.phase == "bottom" and bad.worst.mean_diff_deg < -15.0
    # With the phases picked automatically (the arms' raise of the shot) it is still the knee.
    auto = compare(shot, cmu_track(SHOT, warp=warp, speed=speed, knee_scale=0.6))
    assert auto.worst is not None and auto.worst.angle in KNEES
