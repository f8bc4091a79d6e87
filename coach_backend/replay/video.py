"""Video files -> upright BGR frames with capture timestamps (PyAV), phone rotation honoured.

Phones store portrait video as landscape pixels plus a rotation to apply on display. Two ways
it reaches us, both handled:
- the display matrix (stream/frame side data; `VideoFrame.rotation`, degrees counter-clockwise),
  which is what current FFmpeg exposes;
- the legacy `rotate` stream tag (degrees clockwise), which older FFmpeg builds expose instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import cv2
import numpy as np

from coach_backend.replay.preflight import VideoError, check_input_file

__all__ = [
    "VideoError",  # defined with the other argument checks; raised here too
    "VideoInfo",
    "VideoReader",
    "rotation_cw_degrees",
    "upright",
    "write_video",
]

log = logging.getLogger(__name__)

_CV2_ROTATE = {
    90: cv2.ROTATE_90_CLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_COUNTERCLOCKWISE,
}


# FFmpeg demuxers that "play" text files as ANSI/ASCII-art video; a text file is not a video.
_TEXT_FORMATS = frozenset({"tty", "bin", "xbin", "adf", "idf"})


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int  # upright (display) size, after rotation
    height: int
    fps: float  # average frame rate (30 if the file does not say)
    frame_count: int | None  # from the container header; None if unknown
    rotation_cw: int  # degrees clockwise applied to the stored pixels: 0, 90, 180 or 270
    codec: str
    duration_us: int | None = None  # stream (or container) duration; None if unknown

    @property
    def declared_frames(self) -> int | None:
        """Frames the file says it holds: the header's count, else duration x average rate
        (containers such as Matroska/WebM store no count). None if the file says neither."""
        if self.frame_count is not None:
            return self.frame_count
        if self.duration_us is None:
            return None
        return round(self.duration_us * self.fps / 1e6)


def rotation_cw_degrees(frame_rotation: float | None, metadata: Mapping[str, str]) -> int:
    """Clockwise rotation that makes stored pixels upright, a multiple of 90.

    frame_rotation: `VideoFrame.rotation` (display matrix, counter-clockwise degrees; None or 0
    if there is none). metadata: the stream's tags (legacy `rotate`, clockwise degrees). The
    display matrix wins when both are present (it is what the tag was converted into).
    """
    cw = 0.0
    if frame_rotation:
        cw = -float(frame_rotation)
    elif metadata.get("rotate"):
        try:
            cw = float(metadata["rotate"])
        except ValueError:
            log.warning("ignoring unreadable rotate tag %r", metadata["rotate"])
    snapped = int(round(cw / 90.0)) * 90 % 360
    if abs((cw - snapped + 180.0) % 360.0 - 180.0) > 1.0:
        log.warning("rotation %.1f deg is not a multiple of 90; using %d", cw, snapped)
    return snapped


def upright(image: np.ndarray, rotation_cw: int) -> np.ndarray:
    code = _CV2_ROTATE.get(rotation_cw % 360)
    return image if code is None else cv2.rotate(image, code)


class VideoReader:
    """`with VideoReader(path) as video:` -> `video.info`; iterate for (frame_bgr, time_us),
    upright, time_us from the first frame (0) in microseconds, strictly increasing.

    Raises VideoError on open for a missing/empty/non-video file or one whose first frame cannot
    be decoded, and during iteration if the stream breaks later (corrupt middle)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        check_input_file(self.path)
        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, UnicodeDecodeError) as exc:
            raise VideoError(f"{self.path}: not a readable video file ({exc})") from exc
        try:
            if _TEXT_FORMATS & set(self._container.format.name.split(",")):
                raise VideoError(f"{self.path}: a text file, not a video")
            if not self._container.streams.video:
                raise VideoError(f"{self.path}: contains no video stream")
            self._stream = self._container.streams.video[0]
            self._stream.thread_type = "AUTO"  # why: decoding must not be the bottleneck
            self._frames = self._decode()
            try:
                first = next(self._frames)
            except StopIteration:
                raise VideoError(f"{self.path}: no decodable video frames") from None
        except BaseException:
            self._container.close()
            raise
        self._first: av.VideoFrame | None = first
        # Times are counted from the first frame's; kept exact (pts * time_base).
        self._first_time = (
            None
            if first.pts is None or first.time_base is None
            else Fraction(first.pts) * first.time_base
        )
        rate = self._stream.average_rate or self._stream.guessed_rate
        fps = float(rate) if rate else 30.0
        rotation = rotation_cw_degrees(first.rotation, self._stream.metadata)
        w, h = first.width, first.height
        if rotation in (90, 270):
            w, h = h, w
        self.info = VideoInfo(
            path=self.path,
            width=w,
            height=h,
            fps=fps if 0 < fps < 1000 else 30.0,
            frame_count=self._stream.frames or None,
            rotation_cw=rotation,
            codec=self._stream.codec_context.name,
            duration_us=self.duration_us,
        )

    def _decode(self) -> Iterator[av.VideoFrame]:
        index = 0
        try:
            for frame in self._container.decode(self._stream):
                index += 1
                yield frame
        except av.FFmpegError as exc:
            raise VideoError(f"{self.path}: decoding failed after {index} frames ({exc})") from exc

    @property
    def duration_us(self) -> int | None:
        """Stream (or container) duration; None if the file does not say."""
        if self._stream.duration and self._stream.time_base:
            return round(self._stream.duration * self._stream.time_base * 1_000_000)
        if self._container.duration:
            return int(self._container.duration)  # container duration is in microseconds
        return None

    @property
    def seekable(self) -> bool:
        """Frames carry timestamps and the duration is known: `read_range` can split the file."""
        return self._first_time is not None and self.duration_us is not None

    def __iter__(self) -> Iterator[tuple[np.ndarray, int]]:
        if self._first is None:
            raise RuntimeError("a VideoReader can be iterated once")
        first, self._first = self._first, None
        frames = _chain(first, self._frames)
        period_us = 1e6 / self.info.fps
        last_us = -1
        for index, frame in enumerate(frames):
            t_us = self._time_us(frame)
            if t_us is None:  # no timestamps: nominal rate
                t_us = round(index * period_us)
            t_us = max(t_us, last_us + 1)  # strictly increasing, even with odd pts
            last_us = t_us
            yield self._upright(frame), t_us

    def read_range(self, start_us: int, end_us: int | None) -> Iterator[tuple[np.ndarray, int]]:
        """The frames with start_us <= time < end_us (times as `__iter__` gives them, from the
        first frame), decoding from the keyframe before start_us. Several readers of one file
        thus cover it in parallel, each frame exactly once. Needs `seekable`; instead of
        iterating."""
        if not self.seekable or self._first_time is None:
            raise VideoError(f"{self.path}: no frame timestamps or duration; cannot split it")
        if self._first is None:
            raise RuntimeError("a VideoReader can be iterated once")
        self._first = None
        frames: Iterator[av.VideoFrame] = self._seek(start_us)
        first = next(frames, None)
        if first is not None and (self._time_us(first) or 0) > start_us:
            # The demuxer seeked past the start (imprecise index): decode from the beginning.
            frames = self._seek(None)
            first = next(frames, None)
        if first is None:
            return
        for frame in _chain(first, frames):
            t_us = self._time_us(frame)
            assert t_us is not None
            if t_us < start_us:
                continue
            if end_us is not None and t_us >= end_us:
                return
            yield self._upright(frame), t_us

    def _seek(self, start_us: int | None) -> Iterator[av.VideoFrame]:
        assert self._first_time is not None
        if start_us is None or start_us <= 0:
            self._container.seek(0, stream=self._stream, backward=True)
        else:
            seconds = self._first_time + Fraction(start_us, 1_000_000)
            pts = int(seconds / self._stream.time_base)
            self._container.seek(pts, stream=self._stream, backward=True, any_frame=False)
        return self._decode()

    def _time_us(self, frame: av.VideoFrame) -> int | None:
        if frame.pts is None or frame.time_base is None or self._first_time is None:
            return None
        return round((Fraction(frame.pts) * frame.time_base - self._first_time) * 1_000_000)

    def _upright(self, frame: av.VideoFrame) -> np.ndarray:
        return upright(frame.to_ndarray(format="bgr24"), self.info.rotation_cw)

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _chain(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    yield first
    yield from rest


def write_video(
    path: str | Path,
    frames: Iterator[np.ndarray],
    fps: float,
    crf: int = 23,
    rotation_ccw: int = 0,
    faststart: bool = False,
    preset: str = "medium",
) -> int:
    """Encode BGR frames as H.264 (yuv420p, so any player opens it). `rotation_ccw` writes a
    display matrix (as a phone does). `faststart` (MP4/MOV): the index goes before the frames,
    as in files made for the web, so playback (or a cut-off download) starts without the end.
    `preset`: x264's speed/size trade-off ("veryfast" encodes 1080p about 4x faster than
    "medium" for a somewhat larger file). Returns the number of frames written.
    The frames are converted to yuv420p by OpenCV: 1 ms of CPU a 1080p frame against 5 for
    PyAV's swscale (OpenCV takes a 2x2 block's chroma from its top-left pixel where swscale
    averages; side by side the videos look the same)."""
    n = 0
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        for image in frames:
            if n == 0:
                h, w = image.shape[:2]
                stream.width, stream.height = w - w % 2, h - h % 2  # yuv420p needs even sizes
                if rotation_ccw:
                    stream.set_display_rotation(rotation_ccw)
            planes = cv2.cvtColor(image[: stream.height, : stream.width], cv2.COLOR_BGR2YUV_I420)
            for packet in stream.encode(av.VideoFrame.from_ndarray(planes, format="yuv420p")):
                container.mux(packet)
            n += 1
        for packet in stream.encode():
            container.mux(packet)
    return n
