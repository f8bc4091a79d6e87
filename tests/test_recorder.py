"""Durable session log: round trip, torn tails, corrupt files, sync policy, recording, replay."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from coach_backend.recorder import (
    HubRecording,
    RecordingError,
    RecordingReader,
    ReplayThread,
    SessionRecorder,
    read_recording,
    recorded_session_info,
    replay,
)
from coach_backend.recorder import log as log_mod
from coach_backend.stream import SessionHub, encode_pose, make_session_info, pb

TIMEOUT = 20.0


def _frame(seq: int, t0_us: int = 1_700_000_000_000_000, fps: float = 100.0) -> pb.PoseFrame:
    rv = np.zeros((24, 3))
    rv[0, 1] = seq * 0.01
    return pb.PoseFrame(
        sequence=seq,
        capture_time_us=t0_us + round(seq * 1e6 / fps),
        confidence=0.9,
        flags=1,
        pose=encode_pose(rv, np.array([0.0, 1.0, -2.0 - seq * 0.001])),
    )


def _record_size(msg: pb.StreamMessage) -> int:
    n = len(msg.SerializeToString())
    return len(log_mod.encode_varint(n)) + n


def _write(path: Path, n: int, end: bool = True) -> list[pb.PoseFrame]:
    frames = [_frame(i) for i in range(n)]
    with SessionRecorder(path, make_session_info("rec")) as rec:
        for f in frames:
            rec.append(f)
        if end:
            rec.close(pb.StreamEnd(reason="done", frames_sent=n))
    return frames


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    frames = _write(path, 50)
    rec = read_recording(path)
    assert rec.info.session_id == "rec" and rec.info.layout_version == 1
    assert rec.frames == frames
    assert rec.end is not None and rec.end.reason == "done"
    assert rec.complete and rec.torn_tail_bytes == 0


def test_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    _write(path, 1)
    with pytest.raises(FileExistsError):
        SessionRecorder(path, make_session_info("again"))


def test_torn_tail_at_every_cut(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    frames = _write(path, 5, end=False)
    data = path.read_bytes()
    last_len = _record_size(pb.StreamMessage(frame=frames[-1]))
    cut_path = tmp_path / "cut.coachrec"
    for cut in range(1, last_len):
        cut_path.write_bytes(data[: len(data) - cut])
        rec = read_recording(cut_path)
        assert rec.frames == frames[:-1], cut
        assert rec.torn_tail_bytes == last_len - cut
        assert not rec.complete
    # Zero-filled tail (delayed allocation after power loss) is also a torn tail.
    cut_path.write_bytes(data + bytes(300))
    rec = read_recording(cut_path)
    assert rec.frames == frames and rec.torn_tail_bytes == 300


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"hello, this is a text file\n" * 20,
        os.urandom(4096),
        b"\xff" * 64,
        bytes(64),
    ],
    ids=["empty", "text", "random", "ff", "zeros"],
)
def test_garbage_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "garbage.coachrec"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match="garbage.coachrec"):
        read_recording(path)


def test_corruption_mid_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    _write(path, 20)
    data = path.read_bytes()
    header = _record_size(pb.StreamMessage(info=make_session_info("rec")))
    record = _record_size(pb.StreamMessage(frame=_frame(10)))
    at = header + _record_size(pb.StreamMessage(frame=_frame(0))) + 9 * record  # frame 10 starts
    assert data[at : at + 2] == bytes([record - 1, 0x12])  # length prefix, then the `frame` tag
    cases = {
        "length prefix": data[:at] + b"\xff" * 8 + data[at + 8 :],
        "message": data[:at] + b"\x0b\xff\xff\xff" + data[at + 4 :],
        "pose header": data[: at + record - 104] + b"\x07" + data[at + record - 103 :],
    }
    for what, content in cases.items():
        path.write_bytes(content)
        with pytest.raises(RecordingError, match="corrupt at byte|bad pose") as err:
            read_recording(path)
        assert str(path) in str(err.value), what


def test_wrong_layout_version_is_an_error(tmp_path: Path) -> None:
    info = make_session_info("v2")
    info.layout_version = 2
    path = tmp_path / "s.coachrec"
    SessionRecorder(path, info).close()
    with pytest.raises(RecordingError, match="layout version 2"):
        RecordingReader(path)


def test_sync_policy_is_time_based(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(log_mod.os, "fsync", lambda fd: (syncs.append(fd), real_fsync(fd)))
    now = [100.0]
    path = tmp_path / "s.coachrec"
    rec = SessionRecorder(path, make_session_info("s"), sync_interval_s=1.0, clock=lambda: now[0])
    n0 = len(syncs)  # header synced on creation
    rec.append(_frame(0))
    now[0] += 0.5
    rec.append(_frame(1))
    assert len(syncs) == n0  # < 1 s: buffered only
    assert len(read_recording(path).frames) == 0  # not yet in the file
    now[0] += 0.6
    rec.append(_frame(2))  # >= 1 s since the last sync: flush + fsync
    assert len(syncs) == n0 + 1
    assert len(read_recording(path).frames) == 3
    rec.append(_frame(3))
    assert rec.maybe_sync() is False
    now[0] += 1.0
    assert rec.maybe_sync() is True  # idle feeder path
    assert len(read_recording(path).frames) == 4
    rec.close()
    assert len(syncs) == n0 + 3
    with pytest.raises(ValueError, match="closed"):
        rec.append(_frame(4))


def test_hub_recording_records_live_session(tmp_path: Path) -> None:
    hub = SessionHub(make_session_info("live"))
    path = tmp_path / "live.coachrec"
    recording = HubRecording(hub, path)
    frames = [_frame(i) for i in range(200)]
    for f in frames:
        hub.publish(f)
    hub.end("coach stopped")
    assert recording.wait(TIMEOUT) and recording.error is None
    rec = read_recording(path)
    assert rec.frames == frames
    assert rec.complete and rec.end.reason == "coach stopped" and rec.end.frames_dropped == 0


def test_replay_paced_into_hub(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    frames = _write(path, 30)  # 100 fps: 0.29 s of capture time
    info = recorded_session_info(path, session_id="review-1")
    assert info.state == pb.SESSION_STATE_RECORDED and info.session_id == "review-1"
    hub = SessionHub(info, queue_size=100)
    sub = hub.subscribe()
    t0 = time.monotonic()
    result = replay(path, hub)
    elapsed = time.monotonic() - t0
    assert result.frames == 30 and not result.stopped
    # Paced by capture timestamps: never faster than recorded (a lower bound only - no speed claim).
    assert elapsed >= 0.29 * 0.95
    msgs = list(sub)
    assert msgs[0].info.state == pb.SESSION_STATE_RECORDED
    assert [m.frame for m in msgs[1:-1]] == frames  # original sequences and timestamps
    assert msgs[-1].end.reason == "replay finished"


def test_replay_can_be_stopped(tmp_path: Path) -> None:
    path = tmp_path / "s.coachrec"
    # 1 fps: a full replay would take minutes.
    with SessionRecorder(path, make_session_info("slow")) as rec:
        for i in range(300):
            rec.append(_frame(i, fps=1.0))
    hub = SessionHub(recorded_session_info(path))
    sub = hub.subscribe()
    player = ReplayThread(path, hub).start()
    assert sub.next_message(timeout=TIMEOUT).HasField("info")
    assert sub.next_message(timeout=TIMEOUT).frame.sequence == 0
    player.stop()
    assert player.join(TIMEOUT) and player.result is not None and player.result.stopped
    assert hub.ended and list(sub)[-1].end.reason == "replay stopped"


def test_replay_of_garbage_fails_before_publishing(tmp_path: Path) -> None:
    path = tmp_path / "bad.coachrec"
    path.write_bytes(b"not a recording")
    hub = SessionHub(make_session_info("x"))
    with pytest.raises(RecordingError):
        replay(path, hub)
    assert hub.stats().published == 0


def test_replay_over_grpc(tmp_path: Path) -> None:
    from coach_backend.stream import PoseStreamClient, PoseStreamServer

    path = tmp_path / "s.coachrec"
    frames = _write(path, 20)
    with PoseStreamServer() as srv:
        hub = srv.add_session(recorded_session_info(path, "review"), token="coach")
        with PoseStreamClient(srv.address, "coach") as c:
            stream = iter(c.subscribe("review", timeout=TIMEOUT))
            assert next(stream).info.state == pb.SESSION_STATE_RECORDED
            done = threading.Event()
            player = ReplayThread(path, hub).start()
            got = [m for m in stream]
            done.set()
            assert player.join(TIMEOUT)
    assert [m.frame for m in got[:-1]] == frames and got[-1].end.frames_dropped == 0


def test_info_update_mid_recording(tmp_path: Path) -> None:
    """A later SessionInfo record (the settled body shape) is kept in order; readers and the
    replay follow it; another session's info is refused."""
    betas = np.linspace(0.5, -0.5, 10)
    # A live hub's info update is recorded (subscribers get it ahead of queued frames, so its
    # position among the frames is not exact; the latest shape is what matters).
    hub = SessionHub(make_session_info("rec"))
    recording = HubRecording(hub, tmp_path / "hub.coachrec")
    for i in range(10):
        hub.publish(_frame(i))
        if i == 4:
            hub.update_betas(betas)
    hub.end("done")
    assert recording.wait(TIMEOUT) and recording.error is None
    assert recording.recorder.frames_written == 10
    np.testing.assert_allclose(
        read_recording(tmp_path / "hub.coachrec").info.betas, betas, atol=1e-6
    )

    # Written in order by the pipeline's recorder: readers follow it from that point on.
    path = tmp_path / "s.coachrec"
    updated = make_session_info("rec", betas=betas)
    with SessionRecorder(path, make_session_info("rec")) as rec_w:
        for i in range(10):
            rec_w.append(_frame(i))
            if i == 4:
                rec_w.append(pb.StreamMessage(info=updated))
        rec_w.close(pb.StreamEnd(reason="done", frames_sent=10))
        assert rec_w.frames_written == 10

    reader = RecordingReader(path)
    assert list(reader.info.betas) == [0.0] * 10  # as it started
    seen = [(f.sequence, list(reader.info.betas)) for f in reader]
    assert [s for s, _ in seen] == list(range(10))
    np.testing.assert_allclose(seen[4][1], 0.0)
    np.testing.assert_allclose(seen[5][1], betas, atol=1e-6)  # from the update on
    rec = read_recording(path)
    assert rec.complete and len(rec.frames) == 10
    np.testing.assert_allclose(rec.info.betas, betas, atol=1e-6)  # the latest
    np.testing.assert_allclose(recorded_session_info(path).betas, betas, atol=1e-6)

    # Replaying into a hub that starts with the old shape announces the update in order.
    old = recorded_session_info(path)
    del old.betas[:]
    old.betas.extend([0.0] * 10)
    replay_hub = SessionHub(old, queue_size=100)
    sub = replay_hub.subscribe()
    assert sub.next_message(timeout=TIMEOUT).info.betas == [0.0] * 10
    replay(path, replay_hub, speed=100.0)
    kinds = [m.WhichOneof("kind") for m in sub]
    assert kinds.count("info") == 1 and kinds.count("frame") == 10

    with SessionRecorder(tmp_path / "x.coachrec", make_session_info("x")) as rec_x:
        with pytest.raises(ValueError, match="info of session"):
            rec_x.append(pb.StreamMessage(info=make_session_info("other")))
        with pytest.raises(ValueError, match="only frames and info"):
            rec_x.append(pb.StreamMessage(end=pb.StreamEnd(reason="x")))
    # A hand-made file with another session's info mid-file is corrupt.
    bad = tmp_path / "bad.coachrec"
    with SessionRecorder(bad, make_session_info("a")) as rec_a:
        rec_a.append(_frame(0))
        rec_a._write(pb.StreamMessage(info=make_session_info("b")).SerializeToString())
    with pytest.raises(RecordingError, match="another session"):
        read_recording(bad)
