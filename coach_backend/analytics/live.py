"""Reps while a session runs: the live dashboard's rep counter.

Each wire pose (the bytes the stream and the recording carry) is turned into joint angles once,
at the next refresh; a refresh then runs the same :func:`exercise_reps` as a recording's summary
over every frame so far, so the live count is the recording's count so far: one rep rule, not
two. A rep is counted once the driver angle has come back by the rule's prominence (hysteresis),
so the count moves near the end of each rep, and the range of motion of the rep under way is
shown meanwhile.

Refreshes are throttled: at most every ``min_interval_s``, and spaced so that on average they
keep under ``max_busy_fraction`` of one core busy (a long session's history costs more per
refresh: refreshes then come less often rather than slow the pipeline on the same cores).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from coach_backend.analytics.angles import NUM_ANGLES, angles_from_rotations
from coach_backend.analytics.reps import (
    AUTO,
    DEFAULT_RULE,
    EXERCISES,
    PHASE_NAMES,
    ExerciseReps,
    RepRule,
    exercise_reps,
)
from coach_backend.analytics.session import driver_title

# What a coach may pick on the live page (and the recording's summary then uses).
EXERCISE_CHOICES: tuple[str, ...] = (AUTO, *EXERCISES)
MIN_REFRESH_INTERVAL_S = 0.5
MAX_BUSY_FRACTION = 0.1


def rep_status(reps: ExerciseReps, times: np.ndarray) -> dict[str, object]:
    """What the live page shows, JSON-ready: the count, the last counted rep (range of motion,
    tempo) and ``current_rom_deg``, the range the driver has moved through since the last
    counted rep ended (the rep under way; small while the athlete rests)."""
    last = reps.reps[-1] if reps.reps else None
    since = reps.signal[last.end_frame :] if last is not None else reps.signal
    return {
        "exercise": reps.exercise,
        "auto": reps.auto,
        "driver": list(reps.driver),
        "driver_title": driver_title(reps.driver),
        "phase_names": list(PHASE_NAMES[reps.exercise]),
        "count": len(reps.reps),
        "current_rom_deg": float(since.max() - since.min()) if len(since) else 0.0,
        "last_rep": last.to_dict() if last is not None else None,
        "mean_rom_deg": reps.summary()["mean_rom_deg"],
        "frames": int(len(times)),
        "time_s": float(times[-1]) if len(times) else 0.0,
    }


class LiveRepCounter:
    """Feed it wire poses as they are produced (:meth:`add`, any thread, cheap); whoever shows
    the count calls :meth:`claim_refresh` and, when that says yes, :meth:`refresh` (off any
    event loop: it takes milliseconds to tens of milliseconds). :attr:`status` is the latest."""

    def __init__(
        self,
        rule: RepRule = DEFAULT_RULE,
        min_interval_s: float = MIN_REFRESH_INTERVAL_S,
        max_busy_fraction: float = MAX_BUSY_FRACTION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rule = rule
        self.min_interval_s = min_interval_s
        self.max_busy_fraction = max_busy_fraction
        self._clock = clock
        self._lock = threading.Lock()
        self._poses: list[bytes] = []
        self._times_us: list[int] = []
        # Converted so far (only refresh touches these, and one refresh runs at a time).
        self._angles = np.zeros((0, NUM_ANGLES))
        self._valid = np.zeros(0, bool)
        self._betas: tuple[float, ...] | None = None
        self._rest_joints: np.ndarray | None = None
        self._busy = False
        self._next_refresh_at = 0.0
        self._analysed: tuple[int, str] | None = None  # (frames, exercise) behind _status
        self._status: dict[str, object] | None = None

    def add(self, pose: bytes, capture_time_us: int) -> None:
        """One wire pose (104 bytes, stream.codec layout) captured at ``capture_time_us``.
        Frames whose clock does not advance are skipped, as a recording's reader does."""
        with self._lock:
            if self._times_us and capture_time_us <= self._times_us[-1]:
                return
            self._poses.append(bytes(pose))
            self._times_us.append(int(capture_time_us))

    @property
    def frames(self) -> int:
        with self._lock:
            return len(self._poses)

    @property
    def status(self) -> dict[str, object] | None:
        """The latest :func:`rep_status`, None before the first refresh."""
        with self._lock:
            return self._status

    def claim_refresh(self, exercise: str) -> bool:
        """True when a refresh is worth running now (new frames or another exercise), none is
        running and the throttle allows one; the caller must then call :meth:`refresh`."""
        with self._lock:
            if self._busy or self._clock() < self._next_refresh_at or len(self._poses) < 2:
                return False
            if self._analysed == (len(self._poses), exercise):
                return False
            self._busy = True
            return True

    def refresh(self, exercise: str, betas: Sequence[float] = ()) -> dict[str, object]:
        """Analyse every frame so far for ``exercise`` (EXERCISE_CHOICES) with the body shape
        ``betas`` (the session's; empty: the default shape). Returns the new status."""
        started = self._clock()
        try:
            with self._lock:
                poses = self._poses[len(self._angles) :]
                frames = len(self._poses)
                times_us = np.array(self._times_us, np.int64)
            if self._set_shape(tuple(float(b) for b in betas)):
                with self._lock:  # another shape: every frame's angles again
                    poses = self._poses[:frames]
            self._convert(poses)
            times = (times_us - times_us[0]) / 1e6
            reps = exercise_reps(self._angles, times, self._valid, exercise, self.rule)
            status = rep_status(reps, times)
            with self._lock:
                self._status, self._analysed = status, (frames, exercise)
            return status
        finally:
            spent = self._clock() - started
            with self._lock:
                self._busy = False
                pause = max(self.min_interval_s, spent / self.max_busy_fraction)
                self._next_refresh_at = self._clock() + pause

    def _set_shape(self, betas: tuple[float, ...]) -> bool:
        """Rest joints for ``betas``; True (and the converted angles dropped) if they changed."""
        if betas == self._betas and self._rest_joints is not None:
            return False
        from coach_backend.export.motion import rest_body  # the body model: torch

        self._rest_joints = rest_body(np.asarray(betas) if betas else None).joints
        self._betas = betas
        changed = len(self._angles) > 0
        self._angles, self._valid = np.zeros((0, NUM_ANGLES)), np.zeros(0, bool)
        return changed

    def _convert(self, poses: list[bytes]) -> None:
        if not poses:
            return
        from coach_backend.stream import decode_poses  # (lazily: the package starts gRPC)

        assert self._rest_joints is not None
        decoded = decode_poses(poses)
        rotvecs = decoded.rotvecs
        angles = angles_from_rotations(rotvecs[:, 0], rotvecs[:, 1:], self._rest_joints)
        self._angles = np.concatenate([self._angles, angles])
        self._valid = np.concatenate([self._valid, np.asarray(decoded.valid, bool)])
