"""SessionHub fan-out in-process: ordering, drop-oldest accounting, late joiners, end."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from coach_backend.stream import SessionHub, decode_pose, make_session_info, pb

TIMEOUT = 10.0  # generous: the CI box is a loaded 2-core machine


def _frame(seq: int) -> pb.PoseFrame:
    return pb.PoseFrame(sequence=seq, capture_time_us=1_000_000 + seq, confidence=1.0, flags=1)


def _drain(sub) -> tuple[pb.SessionInfo, list[int], pb.StreamEnd]:
    msgs = []
    while (m := sub.next_message(timeout=TIMEOUT)) is not None:
        msgs.append(m)
    assert msgs[0].WhichOneof("kind") == "info"
    assert msgs[-1].WhichOneof("kind") == "end"
    assert all(m.WhichOneof("kind") == "frame" for m in msgs[1:-1])
    return msgs[0].info, [m.frame.sequence for m in msgs[1:-1]], msgs[-1].end


def test_info_frames_end_in_order() -> None:
    hub = SessionHub(make_session_info("s"), queue_size=100)
    sub = hub.subscribe()
    for i in range(10):
        assert hub.publish(_frame(i))
    hub.end("done")
    info, seqs, end = _drain(sub)
    assert info.session_id == "s" and info.state == pb.SESSION_STATE_LIVE
    assert seqs == list(range(10))
    assert (end.reason, end.frames_sent, end.frames_dropped) == ("done", 10, 0)
    assert sub.next_message(timeout=0) is None  # finished for good
    assert hub.info.state == pb.SESSION_STATE_ENDED


def test_full_queue_drops_oldest_and_counts() -> None:
    hub = SessionHub(make_session_info("s"), queue_size=4)
    slow, fast = hub.subscribe(peer="slow"), hub.subscribe(peer="fast", queue_size=1000)
    for i in range(10):
        hub.publish(_frame(i))  # nobody reads: the publisher must not block
    stats = {s.peer: s for s in hub.stats().subscribers}
    assert (stats["slow"].dropped, stats["slow"].queued) == (6, 4)
    assert (stats["fast"].dropped, stats["fast"].queued) == (0, 10)
    hub.end()
    _, slow_seqs, slow_end = _drain(slow)
    _, fast_seqs, fast_end = _drain(fast)
    assert slow_seqs == [6, 7, 8, 9]  # newest kept
    assert (slow_end.frames_sent, slow_end.frames_dropped) == (4, 6)
    assert fast_seqs == list(range(10)) and fast_end.frames_dropped == 0
    final = {s.peer: s for s in hub.stats().subscribers}
    assert final["slow"].sent == 4 and not final["slow"].active
    assert hub.stats().published == 10


def test_late_joiner_gets_info_then_only_new_frames() -> None:
    hub = SessionHub(make_session_info("s", fps=25.0))
    for i in range(5):
        hub.publish(_frame(i))
    late = hub.subscribe()
    hub.publish(_frame(5))
    hub.end()
    info, seqs, _ = _drain(late)
    assert info.fps == 25.0 and list(info.joint_names)[:2] == ["pelvis", "left_hip"]
    assert seqs == [5]


def test_subscribe_after_end_and_publish_after_end() -> None:
    hub = SessionHub(make_session_info("s"))
    hub.end("bye")
    hub.end("again")  # idempotent
    assert hub.publish(_frame(0)) is False
    info, seqs, end = _drain(hub.subscribe())
    assert info.state == pb.SESSION_STATE_ENDED and seqs == [] and end.reason == "bye"


def test_close_wakes_blocked_consumer() -> None:
    hub = SessionHub(make_session_info("s"))
    sub = hub.subscribe()
    assert sub.next_message(timeout=TIMEOUT).WhichOneof("kind") == "info"
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(sub.next_bytes()))  # no timeout: blocks
    t.start()
    sub.close()
    t.join(TIMEOUT)
    assert not t.is_alive() and got == [None]
    assert hub.stats().subscribers[0].active is False


def test_publish_pose_encodes_and_numbers_frames() -> None:
    hub = SessionHub(make_session_info("s"))
    sub = hub.subscribe()
    rv = np.zeros((24, 3))
    hub.publish_pose(rv, np.array([0.0, 1.0, -2.0]), capture_time_us=5)
    hub.publish_pose(rv, np.zeros(3), valid=False, confidence=0.5)
    hub.end()
    msgs = list(sub)
    frames = [m.frame for m in msgs if m.HasField("frame")]
    assert [f.sequence for f in frames] == [0, 1]
    assert [f.flags for f in frames] == [1, 0]
    assert frames[0].capture_time_us == 5 and frames[1].confidence == 0.5
    np.testing.assert_allclose(decode_pose(frames[0].pose).pelvis_m, [0.0, 1.0, -2.0])


def test_concurrent_publishers_lose_nothing() -> None:
    hub = SessionHub(make_session_info("s"), queue_size=10_000)
    sub = hub.subscribe()
    threads = [
        threading.Thread(target=lambda k=k: [hub.publish(_frame(k * 1000 + i)) for i in range(500)])
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    hub.end()
    _, seqs, end = _drain(sub)
    assert sorted(seqs) == sorted(k * 1000 + i for k in range(4) for i in range(500))
    assert end.frames_sent == 2000


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        SessionHub(pb.SessionInfo())
    with pytest.raises(ValueError):
        SessionHub(make_session_info("s"), queue_size=0)
    with pytest.raises(ValueError, match="10 values"):
        make_session_info("s", betas=[0.0] * 9)


def test_betas_update_reaches_every_subscriber_ahead_of_queued_frames() -> None:
    hub = SessionHub(make_session_info("s"), queue_size=100)
    sub = hub.subscribe()
    assert sub.next_message(timeout=TIMEOUT).info.betas == [0.0] * 10
    hub.publish(_frame(0))
    betas = np.linspace(-1.0, 1.0, 10)
    assert hub.update_betas(betas)
    first = sub.next_message(timeout=TIMEOUT)  # the update overtakes the queued frame
    assert first.WhichOneof("kind") == "info"
    np.testing.assert_allclose(first.info.betas, betas, atol=1e-6)
    assert sub.next_message(timeout=TIMEOUT).frame.sequence == 0

    # A consumer blocked waiting for frames wakes up for an update.
    got: list[pb.StreamMessage] = []
    waiter = threading.Thread(target=lambda: got.append(sub.next_message(timeout=TIMEOUT)))
    waiter.start()
    assert hub.update_betas(betas * 2)
    waiter.join(TIMEOUT)
    assert got and got[0].WhichOneof("kind") == "info"
    np.testing.assert_allclose(got[0].info.betas, betas * 2, atol=1e-6)

    late = hub.subscribe()  # late joiners get the current shape first
    np.testing.assert_allclose(late.next_message(timeout=TIMEOUT).info.betas, betas * 2, atol=1e-6)
    with pytest.raises(ValueError, match="10 finite"):
        hub.update_betas(np.zeros(3))
    with pytest.raises(ValueError, match="10 finite"):
        hub.update_betas(np.full(10, np.nan))
    hub.end("done")
    assert not hub.update_betas(betas)


def test_session_info_carries_the_body_model_its_betas_belong_to() -> None:
    """Default: the body `load_body_model()` runs (no made-up name); a shape update may name
    the body with its betas; clients check it before applying them."""
    from coach_backend.body import load_body_model

    hub = SessionHub(make_session_info("s"), queue_size=10)
    assert hub.info.body_model == load_body_model().name == "open_body"
    assert hub.update_betas(np.ones(10), body_model="smpl")
    assert hub.info.body_model == "smpl"
    assert hub.update_betas(np.zeros(10))  # no name given: the body stays as announced
    assert hub.info.body_model == "smpl"
    with pytest.raises(ValueError, match="body_model"):
        hub.update_betas(np.zeros(10), body_model="")
