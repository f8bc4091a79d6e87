"""RTP presentation timestamps -> capture wall-clock time (Unix microseconds).

aiortc does not expose the sender's RTCP NTP<->RTP mapping, so the receive time is the only wall
clock we have. Raw receive times carry network/decoder jitter, which would show up in the
smoother and in replay pacing. Instead: capture = pts (as seconds) + offset, where offset is the
smallest (receive - pts) seen so far. Timestamps then follow the camera's own cadence, never
lie in the future of the receive time, and lag true glass time by only the fastest frame's
transit (encode + network + decode).
"""

from __future__ import annotations

from fractions import Fraction

_RESYNC_US = 2_000_000  # a pts jump this far off the expected time = new stream (reconnect, wrap)


class CaptureClock:
    def __init__(self) -> None:
        self._offset_us: int | None = None
        self._last_capture_us: int | None = None

    def reset(self) -> None:
        self._offset_us = None
        self._last_capture_us = None

    def capture_time_us(self, pts: int | None, time_base: Fraction | None, receive_us: int) -> int:
        if pts is None or time_base is None:
            capture = receive_us
        else:
            pts_us = int(pts * time_base * 1_000_000)
            if self._offset_us is None or abs(pts_us + self._offset_us - receive_us) > _RESYNC_US:
                self._offset_us = receive_us - pts_us  # first frame or discontinuity: re-anchor
            else:
                self._offset_us = min(self._offset_us, receive_us - pts_us)
            capture = pts_us + self._offset_us
        # Monotonic (recorder/replay rely on it) even if the anchor moved.
        if self._last_capture_us is not None and capture <= self._last_capture_us:
            capture = self._last_capture_us + 1
        self._last_capture_us = capture
        return capture
