"""Rep counting, range of motion and tempo on signals with a known rep structure: noise,
spikes, pauses at rest / at the bottom / half-way down, gaps, shallow reps; and on the four
exercises built from SMPL rotations with per-frame rotation noise."""

from __future__ import annotations

import json

import numpy as np
import pytest
from analytics_support import VARIED_SET, exercise_track

from coach_backend.analytics import EXERCISES, detect_reps, exercise_reps

FPS = 30.0


def keyframed(keys: list[tuple[float, float]], noise_deg: float = 0.0, seed: int = 0):
    """(times, signal): eased (raised-cosine) moves between (time, degrees) keys, still at
    every key as a body is at each turnaround, plus Gaussian noise."""
    key_t, key_v = (np.array(k, np.float64) for k in zip(*keys, strict=True))
    times = np.arange(0.0, key_t[-1], 1.0 / FPS)
    seg = np.clip(np.searchsorted(key_t, times, side="right") - 1, 0, len(key_t) - 2)
    u = (times - key_t[seg]) / (key_t[seg + 1] - key_t[seg])
    ease = 0.5 - 0.5 * np.cos(np.pi * u)
    signal = key_v[seg] + (key_v[seg + 1] - key_v[seg]) * ease
    rng = np.random.default_rng(seed)
    return times, signal + rng.normal(0.0, noise_deg, times.shape)


# Six reps of 100 deg from a rest at 10 deg. Rep 2 pauses half-way down for 1 s and holds the
# bottom 1.5 s; a 3 s pause at rest follows it; rep 3 is fast. Expected (down, hold, up) in s.
KEYS = [
    (0.0, 10), (1.0, 10), (2.0, 110), (2.2, 110), (3.2, 10),  # rep 1
    (4.0, 10), (4.5, 60), (5.5, 60), (6.0, 110), (7.5, 110), (8.5, 10),  # rep 2
    (11.5, 10), (12.1, 105), (12.7, 10),  # rep 3 (3 s pause before it)
    (13.2, 10), (14.2, 110), (14.4, 110), (15.4, 10),  # rep 4
    (16.0, 10), (17.0, 110), (17.2, 110), (18.2, 10),  # rep 5
    (18.8, 10), (19.8, 110), (20.0, 110), (21.0, 10), (22.0, 10),  # rep 6, rest
]  # fmt: skip
EXPECTED = [(1.0, 0.2, 1.0), (2.0, 1.5, 1.0), (0.6, 0.0, 0.6), (1.0, 0.2, 1.0)] + [
    (1.0, 0.2, 1.0)
] * 2
EXPECTED_ROM = [100, 100, 95, 100, 100, 100]


def assert_matches_keys(reps, rom_tol: float = 7.5, time_tol: float = 0.3) -> None:
    assert len(reps) == len(EXPECTED)
    for rep, (down, hold, up), rom in zip(reps, EXPECTED, EXPECTED_ROM, strict=True):
        assert rep.rom_deg == pytest.approx(rom, abs=rom_tol), rep
        assert rep.down_s == pytest.approx(down, abs=time_tol), rep
        assert rep.hold_s == pytest.approx(hold, abs=time_tol), rep
        assert rep.up_s == pytest.approx(up, abs=time_tol), rep
        assert rep.start_frame <= rep.bottom_start_frame <= rep.peak_frame
        assert rep.peak_frame <= rep.bottom_end_frame <= rep.end_frame


def test_clean_signal_counts_and_times() -> None:
    times, signal = keyframed(KEYS)
    reps = detect_reps(signal, times)
    assert_matches_keys(reps, rom_tol=5.0, time_tol=0.25)  # fast rep 3: -4 deg
    assert [r.number for r in reps] == [1, 2, 3, 4, 5, 6]
    assert reps[1].start_s == pytest.approx(4.0, abs=0.2)  # the rest before it is not the rep


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_noise_spikes_and_pauses(seed: int) -> None:
    times, signal = keyframed(KEYS, noise_deg=3.0, seed=seed)
    rng = np.random.default_rng(seed + 10)
    spikes = rng.choice(len(times), 6, replace=False)
    signal[spikes] += rng.choice([-30.0, 30.0], 6)  # single-frame tracking glitches
    assert_matches_keys(detect_reps(signal, times))


def test_gaps_are_bridged() -> None:
    times, signal = keyframed(KEYS, noise_deg=2.0)
    valid = np.ones(len(times), bool)
    valid[(times > 1.6) & (times < 2.0)] = False  # person lost on the way down of rep 1
    signal[~valid] = 0.0  # what an invalid frame holds
    signal[(times > 9.0) & (times < 9.4)] = np.nan  # and a non-finite stretch at rest
    assert_matches_keys(detect_reps(signal, times, valid))


def test_no_reps_in_noise_or_small_wiggles() -> None:
    times = np.arange(0, 10, 1 / FPS)
    rng = np.random.default_rng(3)
    assert detect_reps(20 + rng.normal(0, 3, len(times)), times) == []
    wiggle = 20 + 6 * np.sin(2 * np.pi * times / 1.5) + rng.normal(0, 1, len(times))
    assert detect_reps(wiggle, times) == []


def test_shallow_rep_not_counted() -> None:
    keys = [(0, 10), (1, 10), (2, 110), (3, 10), (4, 10), (4.5, 35), (5, 10), (6, 10)]
    keys += [(7, 110), (8, 10), (9, 10)]  # full, quarter-depth, full
    times, signal = keyframed(keys, noise_deg=2.0)
    reps = detect_reps(signal, times)
    assert len(reps) == 2 and all(r.rom_deg > 90 for r in reps)


def test_unfinished_last_rep_not_counted() -> None:
    times, signal = keyframed([(0, 10), (1, 10), (2, 110), (3, 10), (3.5, 10), (4.5, 110)])
    assert len(detect_reps(signal, times)) == 1


TIMINGS = VARIED_SET


@pytest.mark.parametrize("exercise", EXERCISES)
def test_exercises_from_smpl_rotations(exercise: str) -> None:
    track = exercise_track(exercise, TIMINGS, noise_deg=3.0, seed=5)
    found = exercise_reps(track.angles, track.times, track.valid, exercise)
    assert len(found.reps) == len(TIMINGS)
    for rep, timing in zip(found.reps, TIMINGS, strict=True):
        assert rep.down_s == pytest.approx(timing.down_s, abs=0.3)
        assert rep.hold_s == pytest.approx(timing.hold_s, abs=0.35)
        assert rep.up_s == pytest.approx(timing.up_s, abs=0.3)
    roms = [r.rom_deg for r in found.reps]
    assert np.ptp(roms) < 12  # the same depth every rep
    auto = exercise_reps(track.angles, track.times, track.valid)
    # Squats and lunges share their driver (the knees): auto names both "squat".
    assert auto.auto and auto.exercise == ("squat" if exercise == "lunge" else exercise)
    assert len(auto.reps) == len(TIMINGS)
    json.dumps(found.summary())  # JSON-ready as it is


def test_unknown_exercise_rejected() -> None:
    track = exercise_track("squat", TIMINGS[:1])
    with pytest.raises(ValueError, match="unknown exercise"):
        exercise_reps(track.angles, track.times, exercise="burpee")
