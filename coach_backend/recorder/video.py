"""The session's video beside its pose recording: fragmented MP4 (H.264), time-aligned, crash-safe.

Each video frame's presentation time is its capture time (the same ``capture_time_us`` the
pose frame of that video frame carries) minus ``origin_us``, the first frame's capture time,
which is written to a small JSON sidecar (``<id>.video.json``) before the first frame. So a
pose frame at ``t_us`` shows the video at ``(t_us - origin_us) / 1e6`` seconds.

Crash safety: ``movflags=frag_keyframe+empty_moov`` writes the header up front and one
self-contained fragment per keyframe (one a second, ``KEYFRAME_INTERVAL_S``), and every
packet is flushed to the OS, so a killed server leaves a file that plays up to its last
complete fragment. Encoding runs in a thread of its own behind a bounded queue: the event loop
that hands frames over never waits on the encoder; a full queue drops the frame (counted).

Disk use at 640x480, 30 fps: see docs/live_server.md (``python -m coach_backend.recorder.video
measure examples/walk_shot.mp4``).
"""

# PyAV is imported where it is used (once per recorder, by its encoder thread; not per frame):
# `--help` answers before it loads, and importing the recorder package stays light.
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import av

log = logging.getLogger(__name__)

VIDEO_SUFFIX = ".mp4"
VIDEO_META_SUFFIX = ".video.json"
TIME_BASE = Fraction(1, 1_000_000)  # pts in microseconds: capture times map exactly
KEYFRAME_INTERVAL_S = 1.0  # one fragment per keyframe: a crash loses at most this much video
NOMINAL_FPS = 30  # the encoder's rate hint (pts carry the real times)
QUEUE_FRAMES = 30  # ~1 s at 30 fps (~14 MB of 640x480 frames) before the encoder thread
MUXER_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}
# ultrafast: the encoder shares two cores with MediaPipe and GC-SSN; crf 26 keeps the
# athlete's limbs sharp enough to check a pose against.
ENCODER_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "crf": "26"}


@dataclass(frozen=True)
class VideoStats:
    written: int
    dropped: int  # queue full (encoder behind) or a capture time not after the previous one
    width: int
    height: int


def video_paths(recording: Path) -> tuple[Path, Path]:
    """(video, sidecar) beside a pose recording ``<id>.coachrec``."""
    return recording.with_suffix(VIDEO_SUFFIX), recording.with_suffix(VIDEO_META_SUFFIX)


def read_video_meta(recording: Path) -> dict[str, Any] | None:
    """The sidecar of ``recording``'s video ({origin_us, width, height, codec}) or None."""
    video, meta = video_paths(recording)
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    return data if video.is_file() and isinstance(data, dict) else None


class VideoRecorder:
    """``submit(frame, capture_time_us)`` from the event loop (never blocks); ``close()`` once.

    The size is fixed by the first frame; later frames (a reconnect with another camera size)
    are scaled to it, so one file holds the whole session.
    """

    def __init__(self, recording: Path, name: str = "video-recorder") -> None:
        self.path, self.meta_path = video_paths(recording)
        self._queue: queue.Queue[tuple[av.VideoFrame, int] | None] = queue.Queue(QUEUE_FRAMES)
        self._lock = threading.Lock()
        self._closed = False
        self._written = self._dropped = 0
        self._size = (0, 0)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, frame: av.VideoFrame, capture_time_us: int) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                self._queue.put_nowait((frame, capture_time_us))
            except queue.Full:
                self._dropped += 1

    def stats(self) -> VideoStats:
        with self._lock:
            return VideoStats(self._written, self._dropped, *self._size)

    def drain(self, timeout: float | None = None) -> None:
        """Wait until every submitted frame is encoded (tests, measurements)."""
        self._queue.join() if timeout is None else _join_with_timeout(self._queue, timeout)

    def close(self, timeout: float | None = 30.0) -> bool:
        """Encode what is queued, finish the file, join. Idempotent; True once finished."""
        with self._lock:
            first_close, self._closed = not self._closed, True
        if first_close:
            self._queue.put(None)  # outside the lock: may wait for room while the thread drains
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- encoder thread --
    def _run(self) -> None:
        import av

        container: Any = None
        stream: Any = None
        origin_us = last_us = 0
        unwritable = False  # the file could not be opened: drop the rest, log once
        try:
            while (item := self._queue.get()) is not None:
                frame, capture_us = item
                try:
                    if container is None and not unwritable:
                        try:
                            container, stream = self._open(frame, capture_us)
                        except (OSError, av.FFmpegError):
                            log.exception("video file %s cannot be written", self.path)
                            unwritable = True
                        origin_us, last_us = capture_us, capture_us - 1  # first pts: 0
                    if unwritable or capture_us <= last_us:  # pts must increase (reconnects)
                        with self._lock:
                            self._dropped += 1
                        continue
                    last_us = capture_us
                    image = frame.reformat(stream.width, stream.height, "yuv420p")
                    # A copy: the relay hands the same frame object to every consumer, and
                    # the encoder reads pts from it.
                    copy = av.VideoFrame.from_ndarray(image.to_ndarray(), format="yuv420p")
                    copy.pts, copy.time_base = capture_us - origin_us, TIME_BASE
                    for packet in stream.encode(copy):
                        container.mux(packet)
                    with self._lock:
                        self._written += 1
                except Exception:  # one bad frame must not end the session's video
                    log.exception("video frame could not be recorded")
                finally:
                    self._queue.task_done()
        finally:
            self._queue.task_done()
            if container is not None:
                try:
                    for packet in stream.encode():
                        container.mux(packet)
                finally:
                    container.close()

    def _open(self, frame: av.VideoFrame, origin_us: int) -> tuple[Any, Any]:
        import av

        width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
        # The sidecar first: a video without its origin could not be lined up with the poses.
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"origin_us": origin_us, "width": width, "height": height,
                                   "codec": "h264", "file": self.path.name}))  # fmt: skip
        os.replace(tmp, self.meta_path)
        container = av.open(str(self.path), "w", format="mp4", options=MUXER_OPTIONS)
        stream = container.add_stream("libx264", rate=NOMINAL_FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        stream.options = {**ENCODER_OPTIONS, "g": str(round(KEYFRAME_INTERVAL_S * NOMINAL_FPS))}
        with self._lock:
            self._size = (width, height)
        return container, stream


def _join_with_timeout(q: queue.Queue[Any], timeout: float) -> None:
    with q.all_tasks_done:
        if not q.all_tasks_done.wait_for(lambda: q.unfinished_tasks == 0, timeout):
            raise TimeoutError("video encoder did not catch up")


def read_video_times(path: Path) -> list[int]:
    """Presentation times (microseconds from ``origin_us``) of every decodable frame."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [
            round(frame.pts * stream.time_base * 1_000_000)
            for frame in container.decode(stream)
            if frame.pts is not None
        ]


def measure(clip: Path, out: Path, minutes: float = 1.0) -> dict[str, float]:
    """Record ``clip`` (looped to ``minutes`` at its own rate) as a session would; bytes/min."""
    import av

    with av.open(str(clip)) as container:
        src = container.streams.video[0]
        fps = float(src.average_rate or NOMINAL_FPS)
        frames = [f for f in container.decode(src)]
    recording = out / "measure.coachrec"
    rec = VideoRecorder(recording)
    n = round(minutes * 60 * fps)
    for i in range(n):
        rec.submit(frames[i % len(frames)], 1_700_000_000_000_000 + round(i * 1e6 / fps))
        if i % QUEUE_FRAMES == QUEUE_FRAMES - 1:
            rec.drain()  # a file measurement, not a race: keep every frame
    rec.close()
    size = rec.path.stat().st_size
    stats = rec.stats()
    return {"frames": stats.written, "width": stats.width, "height": stats.height, "fps": fps,
            "bytes": size, "mb_per_minute": size / 1e6 / minutes}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    import tempfile

    p = argparse.ArgumentParser(prog="python -m coach_backend.recorder.video")
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure", help="disk use per minute of a clip recorded as live video")
    m.add_argument("clip", type=Path)
    m.add_argument("--minutes", type=float, default=1.0)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(a.clip, Path(tmp), a.minutes)))


if __name__ == "__main__":
    main()
