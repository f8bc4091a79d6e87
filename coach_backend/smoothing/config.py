"""Settings for the live (causal) and the offline (zero-phase) smoothers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmoothingConfig:
    """All smoothing knobs in one place. Defaults are tuned on 30 fps synthetic motion with
    ~2.5 deg / 1 cm jitter (benchmarks/bench_smoothing.py): acceleration error falls >2x with
    at most one frame of lag.

    One-Euro filter (Casiez et al. 2012): cutoff_hz = min_cutoff + beta * |speed|, so slow
    motion is smoothed hard (jitter matters most when still) and fast motion barely lags.

    Rotations (per joint, on quaternions, speed = angular speed in rad/s):
      min_cutoff_hz   cutoff at rest. Lower = smoother but more lag on slow moves.
      beta            cutoff growth per rad/s of angular speed. Higher = less lag when fast.
    Translation (pelvis, speed in m/s):
      transl_min_cutoff_hz, transl_beta   same meaning, per metre/second.
    d_cutoff_hz       cutoff of the low-pass on the speed estimate itself (both filters).
    nominal_fps       dt used when two frames share a timestamp.

    Gaps:
      gap_reset_s     a person missing (invalid frames / no frames) for longer than this makes
                      the pose filter re-initialise on reacquire, so no smear from a stale pose.
      betas_reset_s   missing for longer than this = treat as a new person: betas restart.
    Betas (running robust mean over valid frames):
      betas_huber_delta   frames whose betas lie further than this (L2, betas units) from the
                          running mean get weight delta/distance (Huber): outliers barely move it.
      betas_window        cap on the effective frame count, so the mean can still drift slowly
                          (exponential forgetting after this many frames).
    Zero-phase (recorded files):
      zero_phase_cutoff_hz  Butterworth cutoff, run forward and backward (filtfilt) = zero lag,
                            effective order 2 * zero_phase_order, -6 dB at the cutoff.
                            6 Hz is the usual choice for human motion capture. Lower
                            cutoffs were tried on the replay's chain (per-frame fit, this
                            filter, settle): 4 and 2.5 Hz gained 1-2 mm on the slow real
                            clips and held-out mocap at its own speed, but lost up to 5 mm
                            on held-out mocap played 3x faster (fast sport), so 6 Hz stays.
      zero_phase_order      Butterworth order of the single pass.
    """

    min_cutoff_hz: float = 1.0
    beta: float = 2.5
    transl_min_cutoff_hz: float = 1.0
    transl_beta: float = 8.0
    d_cutoff_hz: float = 1.0
    nominal_fps: float = 30.0
    gap_reset_s: float = 0.5
    betas_reset_s: float = 2.0
    betas_huber_delta: float = 0.5
    betas_window: int = 300
    zero_phase_cutoff_hz: float = 6.0
    zero_phase_order: int = 2

    def __post_init__(self) -> None:
        positive = {
            "min_cutoff_hz": self.min_cutoff_hz,
            "transl_min_cutoff_hz": self.transl_min_cutoff_hz,
            "d_cutoff_hz": self.d_cutoff_hz,
            "nominal_fps": self.nominal_fps,
            "betas_huber_delta": self.betas_huber_delta,
            "zero_phase_cutoff_hz": self.zero_phase_cutoff_hz,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        for name, value in {
            "beta": self.beta,
            "transl_beta": self.transl_beta,
            "gap_reset_s": self.gap_reset_s,
            "betas_reset_s": self.betas_reset_s,
        }.items():
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.betas_window < 1:
            raise ValueError(f"betas_window must be >= 1, got {self.betas_window}")
        if self.zero_phase_order < 1:
            raise ValueError(f"zero_phase_order must be >= 1, got {self.zero_phase_order}")
