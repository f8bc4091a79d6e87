"""The session video beside the pose recording (recorder/video.py): exact capture-time alignment,
and a writer killed mid-way (SIGKILL, as a crashed server) leaves a file PyAV still decodes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import av
import pytest

from coach_backend.recorder import VideoRecorder, read_video_meta, read_video_times
from coach_backend.recorder.video import KEYFRAME_INTERVAL_S

CLIP = Path(__file__).resolve().parents[1] / "examples" / "walk_shot.mp4"  # 129 frames, 30 fps
FIRST_US = 1_700_000_000_123_457
STEP_US = 33_367  # an uneven step: times must survive the file exactly, not rounded to a rate


def capture_times(n: int) -> list[int]:
    return [FIRST_US + i * STEP_US for i in range(n)]


def clip_frames() -> list[av.VideoFrame]:
    with av.open(str(CLIP)) as container:
        return list(container.decode(video=0))


def test_video_times_are_the_capture_times(tmp_path: Path):
    frames = clip_frames()
    times = capture_times(len(frames))
    rec = VideoRecorder(tmp_path / "s.coachrec")
    for frame, t_us in zip(frames, times, strict=True):
        rec.submit(frame, t_us)
        rec.drain(60)  # never let the bounded queue drop: this test counts frames
    rec.submit(frames[0], times[-1])  # not after the previous frame: dropped, not muxed
    assert rec.close()
    meta = read_video_meta(tmp_path / "s.coachrec")
    assert meta is not None and meta["origin_us"] == FIRST_US
    assert (meta["width"], meta["height"]) == (640, 480)
    assert read_video_times(rec.path) == [t - FIRST_US for t in times]
    assert rec.stats().written == len(frames) and rec.stats().dropped == 1


_KILLED_WRITER = """
import sys, time, av
from pathlib import Path
from coach_backend.recorder import VideoRecorder
with av.open(sys.argv[1]) as c:
    frames = list(c.decode(video=0))
rec = VideoRecorder(Path(sys.argv[2]))
for i, frame in enumerate(frames):
    rec.submit(frame, {first} + i * {step})
    rec.drain(60)
print("drained", len(frames), flush=True)
time.sleep(600)  # killed here, before close(): the last fragment is never finished
"""


def test_killed_writer_leaves_a_decodable_file(tmp_path: Path):
    recording = tmp_path / "killed.coachrec"
    code = _KILLED_WRITER.format(first=FIRST_US, step=STEP_US)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(CLIP), str(recording)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("drained"), line
        submitted = int(line.split()[1])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    meta = read_video_meta(recording)
    assert meta is not None and meta["origin_us"] == FIRST_US
    times = read_video_times(recording.with_suffix(".mp4"))
    # Every finished fragment (one per keyframe) survives; the open one may not.
    gop = round(KEYFRAME_INTERVAL_S * 30)
    assert len(times) >= submitted - gop
    assert times == [t - FIRST_US for t in capture_times(len(times))]


@pytest.mark.parametrize("size", [(320, 240)])
def test_a_later_frame_of_another_size_is_scaled_to_the_first(tmp_path: Path, size):
    """A reconnect with another camera size keeps one file (scaled to the first size)."""
    small = av.VideoFrame(*size, "yuv420p")
    big = av.VideoFrame(640, 480, "yuv420p")
    rec = VideoRecorder(tmp_path / "s.coachrec")
    rec.submit(small, FIRST_US)
    rec.submit(big, FIRST_US + STEP_US)
    assert rec.close()
    with av.open(str(rec.path)) as container:
        decoded = list(container.decode(video=0))
    assert [(f.width, f.height) for f in decoded] == [size, size]


def test_an_unwritable_video_drops_frames_and_still_closes(tmp_path: Path):
    """A recordings folder gone (or a full disk) must not take the session down."""
    rec = VideoRecorder(tmp_path / "gone" / "s.coachrec")
    frame = av.VideoFrame(64, 48, "yuv420p")
    for i in range(3):
        rec.submit(frame, FIRST_US + i * STEP_US)
    assert rec.close()
    assert rec.stats().written == 0 and rec.stats().dropped == 3
