"""Smoothing: accuracy/lag on synthetic jittered motion, sign-flip safety, gaps, betas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from coach_backend.smoothing import (
    CausalSmoother,
    SmoothingConfig,
    SmplFrame,
    SmplSequence,
    sign_continuous,
    smooth_sequence,
    valid_segments,
)
from coach_backend.smoothing.metrics import (
    accel_error,
    continuous_quats,
    estimate_lag_frames,
    joint_positions,
    rotation_accel_error_deg,
)
from coach_backend.smoothing.synthetic import synthetic_motion

FPS = 30.0


@pytest.fixture(scope="module")
def motion():
    # 10 s at 30 fps, 2.5 deg rms rotation jitter, 1 cm translation jitter.
    return synthetic_motion(n_frames=300, fps=FPS, rot_noise_deg=2.5, transl_noise_m=0.01, seed=7)


def _positions(seq: SmplSequence) -> np.ndarray:
    return joint_positions(seq.rotvecs(), seq.transl)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Geodesic angle between two rotvec arrays (..., 3)."""
    ra = Rotation.from_rotvec(a.reshape(-1, 3))
    rb = Rotation.from_rotvec(b.reshape(-1, 3))
    return np.degrees((ra.inv() * rb).magnitude()).reshape(a.shape[:-1])


def _flip_equivalent(rv: np.ndarray) -> np.ndarray:
    """Same rotation, other quaternion sign: angle theta -> theta - 2*pi about the same axis."""
    angle = np.linalg.norm(rv, axis=-1, keepdims=True)
    axis = rv / np.maximum(angle, 1e-12)
    return axis * (angle - 2 * np.pi)


# --- accuracy and lag -------------------------------------------------------------------------


def test_causal_halves_accel_error_with_at_most_one_frame_lag(motion) -> None:
    truth_pos = _positions(motion.truth)
    raw_err = accel_error(_positions(motion.noisy), truth_pos)
    raw_rot_err = rotation_accel_error_deg(motion.noisy.rotvecs(), motion.truth.rotvecs())

    out = smooth_sequence(motion.noisy, mode="causal")
    out_pos = _positions(out)
    assert accel_error(out_pos, truth_pos) <= 0.5 * raw_err
    assert rotation_accel_error_deg(out.rotvecs(), motion.truth.rotvecs()) <= 0.5 * raw_rot_err
    lag = estimate_lag_frames(out_pos, truth_pos)
    assert 0.0 <= lag <= 1.0, lag
    # Rotations alone (as continuous quaternions) and translation alone, too.
    rot_lag = estimate_lag_frames(
        continuous_quats(out.rotvecs()), continuous_quats(motion.truth.rotvecs())
    )
    assert 0.0 <= rot_lag <= 1.0, rot_lag
    assert estimate_lag_frames(out.transl, motion.truth.transl) <= 1.0


def test_zero_phase_has_no_lag_and_beats_causal(motion) -> None:
    truth_pos = _positions(motion.truth)
    causal_err = accel_error(_positions(smooth_sequence(motion.noisy, mode="causal")), truth_pos)
    out = smooth_sequence(motion.noisy, mode="zero_phase")
    out_pos = _positions(out)
    assert accel_error(out_pos, truth_pos) < 0.6 * causal_err
    assert abs(estimate_lag_frames(out_pos, truth_pos)) <= 0.2
    # Also closer to the truth frame by frame than the raw input.
    assert (
        _angle_deg(out.rotvecs(), motion.truth.rotvecs()).mean()
        < _angle_deg(motion.noisy.rotvecs(), motion.truth.rotvecs()).mean()
    )


def test_variable_frame_timing(motion) -> None:
    # Frames captured +-8 ms off the 30 fps grid: both modes must still work in seconds.
    m = synthetic_motion(n_frames=300, fps=FPS, timestamp_jitter_s=0.008, seed=3)
    truth_pos = _positions(m.truth)
    raw_err = accel_error(_positions(m.noisy), truth_pos)
    causal = _positions(smooth_sequence(m.noisy, mode="causal"))
    assert accel_error(causal, truth_pos) <= 0.6 * raw_err
    assert estimate_lag_frames(causal, truth_pos) <= 1.0
    zp = _positions(smooth_sequence(m.noisy, mode="zero_phase"))
    assert abs(estimate_lag_frames(zp, truth_pos)) <= 0.25
    assert accel_error(zp, truth_pos) < accel_error(causal, truth_pos)


# --- quaternion sign handling -----------------------------------------------------------------


def test_sign_flips_in_input_change_nothing(motion) -> None:
    rng = np.random.default_rng(11)
    flipped = motion.noisy.copy()
    mask = rng.random((len(flipped), 24)) < 0.3  # 30 % of all joint samples
    rv = flipped.rotvecs()
    rv[mask] = _flip_equivalent(rv[mask])
    flipped.global_orient, flipped.body_pose = rv[:, 0], rv[:, 1:]
    # Sanity: the raw numbers really jump, the rotations do not.
    assert np.abs(np.diff(rv, axis=0)).max() > 3.0
    assert _angle_deg(rv, motion.noisy.rotvecs()).max() < 1e-6

    for mode in ("causal", "zero_phase"):
        a = smooth_sequence(motion.noisy, mode=mode).rotvecs()
        b = smooth_sequence(flipped, mode=mode).rotvecs()
        assert _angle_deg(a, b).max() < 1e-6, mode
        # No glitch: output steps stay within what the motion itself does (< 15 deg/frame).
        steps = _angle_deg(b[1:], b[:-1])
        assert steps.max() < 15.0, mode


def test_global_orient_near_pi_stays_smooth(motion) -> None:
    # The synthetic global orientation sits near 180 deg (camera frame), where the canonical
    # rotvec axis flips from frame to frame; the smoothed orientation must not.
    go = motion.noisy.global_orient
    assert np.abs(np.diff(go, axis=0)).max() > 3.0  # the input rotvec does flip
    out = smooth_sequence(motion.noisy, mode="causal").global_orient
    steps = _angle_deg(out[1:], out[:-1])
    truth_steps = _angle_deg(motion.truth.global_orient[1:], motion.truth.global_orient[:-1])
    assert steps.max() < 2.0 * truth_steps.max() + 1.0


def test_sign_continuous_helper() -> None:
    q = Rotation.from_euler("z", np.linspace(0, 3 * np.pi, 50)[:, None]).as_quat()
    q[::3] *= -1
    c = sign_continuous(q)
    assert (np.sum(c[1:] * c[:-1], axis=-1) > 0).all()
    assert np.allclose(np.abs(np.sum(c * q, axis=-1)), 1.0)


# --- gaps -------------------------------------------------------------------------------------


def _frames(seq: SmplSequence) -> list[SmplFrame]:
    return seq.to_frames()


def test_causal_short_gap_continues_long_gap_reinitialises(motion) -> None:
    cfg = SmoothingConfig(gap_reset_s=0.5)
    frames = _frames(motion.noisy)[:120]
    # Short gap (3 frames = 0.1 s) at 40..42; long gap (1 s) at 60..89 with a different pose
    # afterwards, as if the person was reacquired elsewhere in the room.
    for i in range(40, 43):
        frames[i] = frames[i].copy(valid=False)
    for i in range(60, 90):
        frames[i] = SmplFrame.invalid(frames[i].timestamp_s)
    moved = [f.copy(transl=f.transl + np.array([1.0, 0.0, 0.5])) for f in frames[90:]]
    frames[90:] = moved

    sm = CausalSmoother(cfg)
    out = [sm.update(f) for f in frames]
    assert [o.valid for o in out] == [f.valid for f in frames]
    # After the short gap the filter keeps its state (output is smoothed, not the raw frame).
    assert not np.allclose(out[43].transl, frames[43].transl)
    # After the long gap the first output is exactly the reacquired frame: no stale smear.
    assert np.allclose(out[90].transl, frames[90].transl)
    assert _angle_deg(out[90].rotvecs(), frames[90].rotvecs()).max() < 1e-6
    # ...and the next frames stay near the new place, not pulled toward the old one.
    assert np.linalg.norm(out[91].transl - frames[91].transl) < 0.05


def test_causal_invalid_and_nonfinite_frames_pass_through() -> None:
    sm = CausalSmoother()
    f = SmplFrame.invalid(0.0)
    out = sm.update(f)
    assert not out.valid and out.timestamp_s == 0.0
    bad = SmplFrame(np.full(3, np.nan), np.zeros((23, 3)), np.zeros(10), np.zeros(3), True, 0.1)
    assert not sm.update(bad).valid
    good = SmplFrame(np.zeros(3), np.zeros((23, 3)), np.zeros(10), np.ones(3), True, 0.2)
    assert sm.update(good).valid


def test_causal_timestamp_edge_cases() -> None:
    sm = CausalSmoother()
    a = SmplFrame(np.zeros(3), np.zeros((23, 3)), np.zeros(10), np.zeros(3), True, 1.0)
    b = a.copy(transl=np.array([0.1, 0.0, 0.0]))
    sm.update(a)
    same_t = sm.update(b)  # duplicate timestamp: nominal dt, no division by zero
    assert np.isfinite(same_t.transl).all() and 0 < same_t.transl[0] < 0.1
    back = sm.update(b.copy(timestamp_s=0.5))  # time went backwards: new stream
    assert np.allclose(back.transl, b.transl)
    sm.reset()
    assert np.allclose(sm.update(a.copy(timestamp_s=2.0)).transl, 0.0)


def test_zero_phase_segments_do_not_leak(motion) -> None:
    seq = motion.noisy.copy()
    seq.valid[100:110] = False
    # Garbage in the invalid frames must not matter.
    seq.global_orient[100:110] = np.nan
    seq.transl[100:110] = 1e6
    out = smooth_sequence(seq, mode="zero_phase")
    assert not out.valid[100:110].any() and out.valid[:100].all() and out.valid[110:].all()
    assert np.isfinite(out.global_orient[out.valid]).all()

    # Each side equals smoothing that side alone: nothing crosses the gap.
    left = smooth_sequence(_slice(seq, 0, 100), mode="zero_phase")
    right = smooth_sequence(_slice(seq, 110, len(seq)), mode="zero_phase")
    assert np.allclose(out.transl[:100], left.transl)
    assert np.allclose(out.transl[110:], right.transl)
    assert _angle_deg(out.rotvecs()[:100], left.rotvecs()).max() < 1e-6
    assert _angle_deg(out.rotvecs()[110:], right.rotvecs()).max() < 1e-6


def test_zero_phase_splits_on_time_gaps_and_handles_tiny_segments() -> None:
    ts = np.array([0.0, 0.033, 0.066, 2.0, 2.033, 5.0])
    valid = np.array([True, True, True, True, True, True])
    assert valid_segments(ts, valid, 0.5) == [(0, 3), (3, 5), (5, 6)]
    n = len(ts)
    seq = SmplSequence(
        np.zeros((n, 3)), np.zeros((n, 23, 3)), np.zeros((n, 10)), np.zeros((n, 3)), valid, ts
    )
    out = smooth_sequence(seq, mode="zero_phase")
    assert out.valid.all() and np.allclose(out.transl, 0.0)


def test_frame_list_in_frame_list_out(motion) -> None:
    frames = motion.noisy.to_frames()[:60]
    out = smooth_sequence(frames, mode="zero_phase")
    assert isinstance(out, list) and len(out) == 60 and isinstance(out[0], SmplFrame)
    assert out[0].body_pose.shape == (23, 3)
    with pytest.raises(ValueError):
        smooth_sequence(frames, mode="bogus")  # type: ignore[arg-type]


def _slice(seq: SmplSequence, s: int, e: int) -> SmplSequence:
    return SmplSequence(
        seq.global_orient[s:e],
        seq.body_pose[s:e],
        seq.betas[s:e],
        seq.transl[s:e],
        seq.valid[s:e],
        seq.timestamp_s[s:e],
    )


# --- betas ------------------------------------------------------------------------------------


def test_betas_steady_and_robust_to_outliers(motion) -> None:
    seq = motion.noisy.copy()
    true_betas = motion.truth.betas[0]
    rng = np.random.default_rng(5)
    bad = rng.choice(len(seq), 15, replace=False)
    seq.betas[bad] += rng.normal(0.0, 3.0, (15, 10))  # occasional wild per-frame estimates

    out = smooth_sequence(seq, mode="causal")
    settled = out.betas[30:]
    assert np.abs(np.diff(settled, axis=0)).max() < 0.02  # steady frame to frame
    assert np.linalg.norm(settled[-1] - true_betas) < 0.1  # per-frame noise is 0.1 * sqrt(10)
    raw_spread = np.linalg.norm(seq.betas - true_betas, axis=1).mean()
    assert np.linalg.norm(settled - true_betas, axis=1).mean() < 0.25 * raw_spread

    zp = smooth_sequence(seq, mode="zero_phase")
    assert np.allclose(zp.betas, zp.betas[0])  # one value for the whole track
    assert np.linalg.norm(zp.betas[0] - true_betas) < 0.1


def test_betas_reset_for_new_person() -> None:
    cfg = SmoothingConfig(betas_reset_s=2.0)
    sm = CausalSmoother(cfg)
    a, b = np.full(10, 1.0), np.full(10, -1.0)
    pose = (np.zeros(3), np.zeros((23, 3)))
    for i in range(30):
        sm.update(SmplFrame(*pose, a, np.zeros(3), True, i / FPS))
    # Lost for 1 s (< betas_reset_s): same person, a different estimate only nudges the mean.
    short = sm.update(SmplFrame(*pose, b, np.zeros(3), True, 30 / FPS + 1.0))
    assert np.linalg.norm(short.betas - a) < 0.3
    # Lost for 3 s: a new person, betas start from their own estimate.
    new = sm.update(SmplFrame(*pose, b, np.zeros(3), True, 30 / FPS + 4.0))
    assert np.allclose(new.betas, b)


# --- types/config -----------------------------------------------------------------------------


def test_types_and_config_validation() -> None:
    f = SmplFrame(np.zeros(3), np.zeros(69), np.zeros(10), np.zeros(3))
    assert f.body_pose.shape == (23, 3) and f.valid
    with pytest.raises(ValueError):
        SmplFrame(np.zeros(4), np.zeros((23, 3)), np.zeros(10), np.zeros(3))
    with pytest.raises(ValueError):
        SmoothingConfig(min_cutoff_hz=0.0)
    with pytest.raises(ValueError):
        SmoothingConfig(beta=-1.0)
    seq = SmplSequence.from_frames([f, f.copy(timestamp_s=1 / FPS)])
    assert len(seq) == 2 and seq.rotvecs().shape == (2, 24, 3)
