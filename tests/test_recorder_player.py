"""One paced player for every replay: the pacing (seek, pause, play, speed) on an injected
clock, the body shape each frame is drawn with, and the hub replay and the dashboard's
WebSocket replay agreeing on frames and shapes for the same recording."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import WSMsgType

from coach_backend.dashboard import unpack_frame
from coach_backend.dashboard.app import _stream_replay
from coach_backend.recorder import (
    PacedPlayer,
    ReplayTimeline,
    SessionRecorder,
    recorded_session_info,
    replay,
)
from coach_backend.stream import SessionHub, encode_pose, make_session_info, pb

T0_US = 1_700_000_000_000_000
FRAME_US = 10_000  # 100 fps
FRAMES = 10
SHAPE_A = tuple(np.linspace(0.5, -0.5, 10))
SHAPE_B = tuple(np.linspace(-1.0, 1.0, 10))
ZERO = (0.0,) * 10
# Shape records after these frames: A from frame 4, B from frame 7; after frame 8 a record
# without a shape, which changes nothing.
EXPECTED_SHAPES = [ZERO] * 4 + [SHAPE_A] * 3 + [SHAPE_B] * 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _frame(seq: int) -> pb.PoseFrame:
    pose = encode_pose(np.zeros((24, 3)), np.array([0.0, 1.0, -2.0 - seq * 0.01]))
    return pb.PoseFrame(
        sequence=seq, capture_time_us=T0_US + seq * FRAME_US, confidence=1.0, flags=1, pose=pose
    )


def _write_shape_changes(path: Path) -> None:
    shapeless = make_session_info("rec")
    del shapeless.betas[:]
    after_frame = {
        3: make_session_info("rec", betas=SHAPE_A),
        6: make_session_info("rec", betas=SHAPE_B),
        8: shapeless,
    }
    with SessionRecorder(path, make_session_info("rec")) as rec:
        for i in range(FRAMES):
            rec.append(_frame(i))
            if i in after_frame:
                rec.append(pb.StreamMessage(info=after_frame[i]))
        rec.close(pb.StreamEnd(reason="done", frames_sent=FRAMES))


def _approx(shape: Any) -> tuple[float, ...]:
    return tuple(round(float(b), 6) for b in shape)  # (betas travel as float32)


# -- the pacing --
def test_paced_player_follows_capture_times_and_speed() -> None:
    clock = FakeClock()
    times = [T0_US + i * FRAME_US for i in range(FRAMES)]
    player = PacedPlayer(times, clock=clock)
    assert player.due_in() == pytest.approx(0.0)
    player.advance()
    assert player.due_in() == pytest.approx(0.010)
    clock.now += 0.025  # late: due at once (negative), nothing is skipped
    assert player.due_in() == pytest.approx(-0.015) and player.index == 1

    player.set_speed(2.0)  # re-anchored at frame 1: the next gap takes half as long
    player.advance()
    assert player.due_in() == pytest.approx(0.005)
    with pytest.raises(ValueError, match="speed"):
        player.set_speed(0.0)
    with pytest.raises(ValueError, match="speed"):
        PacedPlayer(times, speed=-1.0)


def test_paced_player_pause_play_and_seek() -> None:
    clock = FakeClock()
    times = [T0_US + i * FRAME_US for i in range(FRAMES)]
    player = PacedPlayer(times, clock=clock)
    player.advance()
    player.pause()
    clock.now += 60.0  # a long pause does not make the next frames late
    player.play()
    assert player.playing and player.due_in() == pytest.approx(0.0)

    player.seek(0.052)  # the first frame at or after 52 ms
    assert player.index == 6 and player.position_us() == 60_000
    assert player.due_in() == pytest.approx(0.0)  # re-anchored there
    player.seek(99.0)  # past the end: the last frame
    assert player.index == FRAMES - 1
    player.advance()
    assert player.at_end and player.position_us() == (FRAMES - 1) * FRAME_US
    player.play()  # at the end: from the start
    assert player.index == 0 and player.playing and not player.at_end

    empty = PacedPlayer([], clock=clock)
    empty.seek(1.0)
    assert empty.at_end and empty.position_us() == 0


# -- the shape each frame is drawn with --
def test_timeline_info_at_follows_shape_records(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    _write_shape_changes(path)
    timeline = ReplayTimeline.read(path)
    shapes = [_approx(timeline.info_at(i).betas) for i in range(FRAMES)]
    assert shapes == [_approx(s) for s in EXPECTED_SHAPES]
    # The hub replay starts from frame 0's shape; the latest is what a listing shows.
    assert _approx(recorded_session_info(path, at_frame=0).betas) == ZERO
    assert recorded_session_info(path).betas == []  # the shapeless record came last


# -- both players --
class _LoggingHub(SessionHub):
    """Keeps, in order, the shape announced before each frame the replay published."""

    def __init__(self, info: pb.SessionInfo) -> None:
        super().__init__(info)
        self.shown: list[tuple[int, tuple[float, ...]]] = []

    def publish(self, frame: pb.PoseFrame) -> bool:
        self.shown.append((frame.sequence, _approx(self.info.betas)))
        return super().publish(frame)


class _Message:
    def __init__(self, data: str) -> None:
        self.type, self.data = WSMsgType.TEXT, data


class _FakeSocket:
    """What ``_stream_replay`` needs of a WebSocket: it sends into ``sent``; the browser's
    control messages are ``controls`` (None closes it; with ``close_at_end``, the replay's
    end closes it too)."""

    def __init__(self, controls: list[dict[str, Any]], close_at_end: bool) -> None:
        self.sent: list[dict[str, Any] | pb.PoseFrame] = []
        self.controls: asyncio.Queue[_Message | None] = asyncio.Queue()
        for control in controls:
            self.controls.put_nowait(_Message(json.dumps(control)))
        if not close_at_end:
            self.controls.put_nowait(None)
        self.close_at_end = close_at_end

    async def send_json(self, data: dict[str, Any]) -> None:
        self.sent.append(data)
        if self.close_at_end and data["type"] == "end":
            self.controls.put_nowait(None)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(unpack_frame(data))

    def __aiter__(self) -> _FakeSocket:
        return self

    async def __anext__(self) -> _Message:
        if (msg := await self.controls.get()) is None:
            raise StopAsyncIteration
        return msg

    def shown(self) -> list[tuple[int, tuple[float, ...]]]:
        """(frame sequence, the shape the last info before it announced)."""
        out, shape = [], None
        for msg in self.sent:
            if isinstance(msg, pb.PoseFrame):
                out.append((msg.sequence, shape))
            elif msg["type"] == "info":
                assert msg["state"] == "recorded"
                shape = _approx(msg["betas"])
        return out


def _dashboard_replay(
    path: Path, controls: list[dict[str, Any]], close_at_end: bool
) -> _FakeSocket:
    ws = _FakeSocket(controls, close_at_end)
    asyncio.run(asyncio.wait_for(_stream_replay(ws, path, None), 60))  # type: ignore[arg-type]
    return ws


def test_hub_and_dashboard_replays_agree_on_frames_and_shapes(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    _write_shape_changes(path)
    expected = [(i, _approx(s)) for i, s in enumerate(EXPECTED_SHAPES)]

    # A hub set up with the latest info (no shape) still shows frame 0 with frame 0's shape.
    hub = _LoggingHub(recorded_session_info(path))
    assert replay(path, hub, speed=100.0).frames == FRAMES
    assert hub.shown == expected

    ws = _dashboard_replay(path, [], close_at_end=True)
    assert ws.shown() == expected
    infos = [m for m in ws.sent if isinstance(m, dict) and m["type"] == "info"]
    assert len(infos) == 3  # at the start, and where the shape changed (not for the shapeless)
    assert ws.sent[-2:] == [
        {"type": "end", "reason": "replay finished"},
        {"type": "state", "playing": False, "speed": 1.0, "position_us": 90_000},
    ]


def test_dashboard_seek_across_shape_updates_sends_the_shape(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    _write_shape_changes(path)
    controls = [
        {"type": "pause"},
        {"type": "seek", "t_s": 0.075},  # frame 8: shape B
        {"type": "seek", "t_s": 0.0},  # back before both updates
    ]
    ws = _dashboard_replay(path, controls, close_at_end=False)
    assert ws.shown() == [(8, _approx(SHAPE_B)), (0, ZERO)]
    states = [m for m in ws.sent if isinstance(m, dict) and m["type"] == "state"]
    assert [s["position_us"] for s in states] == [0, 80_000, 0]
    assert not any(s["playing"] for s in states)
