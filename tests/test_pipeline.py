"""SessionPipeline end to end: rendered frames + a blank one -> MediaPipe -> an untrained GC-SSN
(the real network, random weights) -> smoothing -> a real gRPC subscriber and a recording."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from coach_backend.body import BodyParams, load_body_model
from coach_backend.gcssn.lifter import KeypointLifter
from coach_backend.gcssn.network import GCSSN
from coach_backend.mocap import load_bvh, retarget
from coach_backend.perception import Camera, PerceptionConfig
from coach_backend.perception.render import BodyRenderer
from coach_backend.pipeline import PipelineConfig, SessionPipeline, WireEncoder
from coach_backend.recorder import SessionRecorder, read_recording
from coach_backend.smoothing import SmplFrame
from coach_backend.stream import (
    FLAG_VALID,
    POSE_BYTES,
    PoseStreamClient,
    PoseStreamServer,
    SessionHub,
    StreamConfig,
    decode_pose,
    make_session_info,
    pb,
    wire_to_camera,
)

FIXTURES = Path(__file__).parent / "fixtures" / "cmu"
TIMEOUT = 30.0
PERSON = [True, True, False, True, True]  # frame 2 is blank: the timeline must not break


def wait_until(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def body():
    return load_body_model()


@pytest.fixture(scope="module")
def frames(body) -> list[np.ndarray]:
    """640x480 shaded renders of the open body in CMU poses, with one blank frame."""
    camera = Camera.default_for(640, 480)
    renderer = BodyRenderer(body, PerceptionConfig(camera=camera))
    motion = retarget(load_bvh(FIXTURES / "006_15_shot.bvh"))
    rx180 = Rotation.from_euler("x", 180, degrees=True)
    out = []
    for i, person in enumerate(PERSON):
        if not person:
            out.append(np.full((480, 640, 3), (172, 168, 160), np.uint8))
            continue
        go = (rx180 * Rotation.from_rotvec(motion.global_orient[2 * i])).as_rotvec()
        params = BodyParams(
            global_orient=torch.tensor(go[None], dtype=torch.float32),
            body_pose=torch.tensor(motion.body_pose[2 * i][None], dtype=torch.float32),
            betas=torch.zeros(1, 10),
            transl=torch.tensor([[0.0, 0.25, 3.5]]),
        )
        out.append(renderer.render_shaded(params, camera))
    return out


def untrained_config() -> PipelineConfig:
    torch.manual_seed(0)
    return PipelineConfig(weights=GCSSN(), fps=30.0)


def test_pipeline_to_grpc_and_recording(frames, body, tmp_path: Path) -> None:
    server = PoseStreamServer(StreamConfig())
    server.start()
    try:
        hub = server.add_session(make_session_info("s1", fps=30.0), token="tok")
        recorder = SessionRecorder(tmp_path / "s1.coachrec", hub.info)
        received: list[pb.StreamMessage] = []

        def listen() -> None:
            with PoseStreamClient(server.address, "tok") as client:
                received.extend(client.subscribe("s1", timeout=TIMEOUT))

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        wait_until(lambda: any(s.active for s in hub.stats().subscribers))

        pipeline = SessionPipeline("s1", untrained_config(), hub=hub, recorder=recorder, body=body)
        results = [pipeline.process(f, 1_000_000 + 33_333 * i) for i, f in enumerate(frames)]
        stats = pipeline.stats
        pipeline.close("coach left")
        pipeline.close()  # idempotent
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    finally:
        server.stop(grace=0.5)

    # Per-frame results: the blank frame is invalid, the sequence goes on.
    assert [r.valid for r in results] == PERSON
    assert [r.sequence for r in results] == list(range(len(frames)))
    for r in results:
        assert isinstance(r.frame, SmplFrame) and r.frame.is_finite()
        assert len(r.pose) == POSE_BYTES and bool(r.pose[1] & FLAG_VALID) == r.valid
        lat = r.latency_ms
        assert min(lat.perception, lat.gcssn, lat.smoothing, lat.publish) >= 0.0
        assert lat.queued < 1.0  # process(): both stages in this thread, nothing waits
        assert lat.compute == pytest.approx(
            lat.perception + lat.gcssn + lat.smoothing + lat.publish
        )
        assert lat.total == pytest.approx(lat.compute + lat.queued)
        assert (r.confidence > 0.3) == r.valid
    assert results[2].latency_ms.gcssn < 5.0  # no person: the network is skipped
    # Betas are held steady per person by the smoother (identical input -> identical betas).
    valid = [r.frame for r in results if r.valid]
    for f in valid[1:]:
        np.testing.assert_allclose(f.betas, valid[0].betas, atol=1e-5)

    assert stats.frames == 5 and stats.valid_frames == 4 and stats.published == 5
    assert stats.detected_fraction == pytest.approx(0.8)
    assert set(stats.latency) == {"perception", "queued", "gcssn", "smoothing", "publish", "total"}
    assert stats.stage2_errors == 0

    # The gRPC subscriber got the info, every frame in order, then the end.
    kinds = [m.WhichOneof("kind") for m in received]
    assert kinds == ["info"] + ["frame"] * 5 + ["end"]
    got = [m.frame for m in received[1:-1]]
    assert [f.sequence for f in got] == list(range(5))
    assert [f.capture_time_us for f in got] == [r.capture_time_us for r in results]
    assert [f.pose for f in got] == [r.pose for r in results]
    assert [bool(f.flags & FLAG_VALID) for f in got] == PERSON
    assert received[-1].end.reason == "coach left"

    # The recording holds the same frames and closed cleanly.
    rec = read_recording(tmp_path / "s1.coachrec")
    assert rec.complete and rec.info.session_id == "s1" and rec.end.reason == "coach left"
    assert [f.pose for f in rec.frames] == [r.pose for r in results]
    assert pipeline.stats.recorded == 5 and pipeline.stats.record_error is None


def test_submit_runs_stage_two_on_its_own_thread_with_the_same_result(frames, body) -> None:
    """`submit` (two stages, two threads) must give exactly the stream `process` gives: same
    order, same poses; results arrive on the pipeline's thread; close() finishes every frame."""
    times = [33_333 * i for i in range(len(frames))]
    with SessionPipeline("sync", untrained_config(), body=body) as pipeline:
        expected = [pipeline.process(f, t) for f, t in zip(frames, times, strict=True)]

    got: list = []
    threads: set[str] = set()

    def on_result(result) -> None:
        threads.add(threading.current_thread().name)
        got.append(result)

    pipeline = SessionPipeline("staged", untrained_config(), body=body)
    for f, t in zip(frames, times, strict=True):
        pipeline.submit(f, t, on_result=on_result)
    pipeline.close()  # must not drop what was submitted
    assert threads == {"pipeline-stage2-staged"}
    assert [r.sequence for r in got] == list(range(len(frames)))
    assert [r.capture_time_us for r in got] == times
    assert [r.pose for r in got] == [r.pose for r in expected]
    assert all(r.latency_ms.queued >= 0.0 for r in got)
    assert pipeline.stats.frames == len(frames) and pipeline.stats.stage2_errors == 0
    with pytest.raises(RuntimeError, match="closed"):
        pipeline.submit(frames[0], 10**7)


def test_close_from_on_result_while_the_feeder_waits_does_not_deadlock(
    body, tmp_path: Path
) -> None:
    """An on_result callback ends the session (close) while the feeding thread is blocked on
    the full stage-2 queue. Both threads must get through; the recording closes. (submit used
    to hold the feeding lock across that blocking put, which close needs.)"""
    hub = SessionHub(make_session_info("cb", fps=30.0))
    recorder = SessionRecorder(tmp_path / "cb.coachrec", hub.info)
    pipeline = SessionPipeline("cb", untrained_config(), hub=hub, recorder=recorder, body=body)
    blank = np.zeros((480, 640, 3), np.uint8)  # no person: quick, and enough to fill the queue
    # Stage 2 is stuck in the first callback, so the queue holds frames 1 and 2 and the submit
    # of frame 3 blocks: that is the moment to close.
    blocking_submit = 3
    feeder_at_blocking_submit = threading.Event()
    closed_by_callback = threading.Event()
    feeder_stopped_by: list[BaseException] = []

    def on_result(result) -> None:
        if result.sequence == 0:
            feeder_at_blocking_submit.wait(TIMEOUT)
            pipeline.close("ended from a callback")
            closed_by_callback.set()

    def feed() -> None:
        try:
            for i in range(50):
                if i == blocking_submit:
                    feeder_at_blocking_submit.set()
                pipeline.submit(blank, 33_333 * i, on_result=on_result)
        except RuntimeError as exc:  # "closed": the feeder learns the session ended
            feeder_stopped_by.append(exc)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    feeder.join(TIMEOUT)
    assert not feeder.is_alive(), "feeder deadlocked"
    assert closed_by_callback.wait(TIMEOUT), "close() from the callback deadlocked"
    assert feeder_stopped_by and "closed" in str(feeder_stopped_by[0])
    wait_until(lambda: "pipeline-stage2-cb" not in {t.name for t in threading.enumerate()})
    assert pipeline.closed and hub.ended
    rec = read_recording(tmp_path / "cb.coachrec")
    assert rec.complete and rec.end.reason == "ended from a callback"
    pipeline.close()  # idempotent


def test_settled_betas_are_announced_to_subscribers(frames, body, tmp_path: Path) -> None:
    """The wire pose carries no shape: once the betas have settled the pipeline announces them
    in SessionInfo, once (unchanged input does not re-announce)."""
    hub = SessionHub(make_session_info("s5", fps=30.0), queue_size=100)
    sub = hub.subscribe()
    first = sub.next_message(timeout=TIMEOUT)
    assert first.info.betas == [0.0] * 10  # unknown at the start
    recorder = SessionRecorder(tmp_path / "s5.coachrec", hub.info)
    with SessionPipeline(
        "s5", untrained_config(), hub=hub, recorder=recorder, body=body
    ) as pipeline:
        results = [pipeline.process(frames[0], 33_333 * i) for i in range(20)]
    kinds = ["info"]
    infos = [first.info]
    while (m := sub.next_message(timeout=TIMEOUT)) is not None:
        kinds.append(m.WhichOneof("kind"))
        if kinds[-1] == "info":
            infos.append(m.info)
    assert kinds.count("info") == 2 and kinds.count("frame") == 20 and kinds[-1] == "end"
    np.testing.assert_allclose(infos[1].betas, results[-1].frame.betas, atol=1e-5)
    rec = read_recording(tmp_path / "s5.coachrec")  # the recording keeps the shape as well
    assert rec.complete and len(rec.frames) == 20 and pipeline.stats.recorded == 20
    np.testing.assert_allclose(rec.info.betas, infos[1].betas, atol=1e-6)
    assert infos[1].body_model == rec.info.body_model == body.name  # whose betas these are


def test_session_info_names_the_body_that_runs(body, tmp_path: Path) -> None:
    """Whoever made the SessionInfo may not know the pipeline's body: the pipeline corrects
    it before its first frame, for subscribers and in the recording, so that no client applies
    its betas to another body's mesh."""
    hub = SessionHub(make_session_info("s6", body_model="smpl", fps=30.0), queue_size=100)
    sub = hub.subscribe()
    assert sub.next_message(timeout=TIMEOUT).info.body_model == "smpl"
    recorder = SessionRecorder(tmp_path / "s6.coachrec", hub.info)
    SessionPipeline("s6", untrained_config(), hub=hub, recorder=recorder, body=body).close()
    assert hub.info.body_model == body.name == "open_body"
    update = sub.next_message(timeout=TIMEOUT)
    assert update.WhichOneof("kind") == "info" and update.info.body_model == "open_body"
    assert read_recording(tmp_path / "s6.coachrec").info.body_model == "open_body"


def test_wire_pose_matches_smoothed_frame(frames, body) -> None:
    with SessionPipeline("s2", untrained_config(), body=body) as pipeline:
        result = pipeline.process(frames[0], 0)
    assert result.valid
    decoded = decode_pose(result.pose)
    go_cam, pelvis_cam = wire_to_camera(decoded.rotvecs[0], decoded.pelvis_m)
    frame = result.frame
    with torch.no_grad():
        out = body(
            BodyParams(
                global_orient=torch.tensor(frame.global_orient[None], dtype=torch.float32),
                body_pose=torch.tensor(frame.body_pose[None], dtype=torch.float32),
                betas=torch.tensor(frame.betas[None], dtype=torch.float32),
                transl=torch.tensor(frame.transl[None], dtype=torch.float32),
            )
        )
    # Pelvis on the wire = the body model's pelvis joint (mm quantisation).
    np.testing.assert_allclose(pelvis_cam, out.joints[0, 0].numpy(), atol=1.5e-3)
    np.testing.assert_allclose(WireEncoder(body).pelvis(frame), out.joints[0, 0], atol=1e-4)
    rel = Rotation.from_rotvec(go_cam).inv() * Rotation.from_rotvec(frame.global_orient)
    assert np.degrees(rel.magnitude()) < 0.3
    assert result.camera == Camera.default_for(640, 480)


def test_closed_pipeline_refuses_frames(frames, body) -> None:
    pipeline = SessionPipeline("s3", untrained_config(), body=body)
    pipeline.close()
    assert pipeline.closed and pipeline.stats.closed
    with pytest.raises(RuntimeError, match="closed"):
        pipeline.process(frames[0], 0)


def test_warm_up_leaves_no_trace_in_the_session(frames, body) -> None:
    """The live server warms each session's MediaPipe graph on a blank frame before the athlete's
    first frame: nothing is published for it, and the frames that follow get the poses a cold
    pipeline gives them (the graph is left searching, not tracking a place)."""
    times = [33_333 * i for i in range(len(frames))]
    with SessionPipeline("cold", untrained_config(), body=body) as pipeline:
        expected = [pipeline.process(f, t) for f, t in zip(frames, times, strict=True)]

    hub = SessionHub(make_session_info("warm", fps=30.0))
    pipeline = SessionPipeline("warm", untrained_config(), hub=hub, body=body)
    pipeline.warm_up()
    assert pipeline.stats.frames == 0 and hub.stats().published == 0
    got = [pipeline.process(f, t) for f, t in zip(frames, times, strict=True)]
    pipeline.close()
    assert [r.sequence for r in got] == list(range(len(frames)))
    assert [r.valid for r in got] == PERSON
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a.frame.body_pose, b.frame.body_pose, atol=1e-4)
        np.testing.assert_allclose(a.frame.transl, b.frame.transl, atol=1e-4)
    assert hub.stats().published == len(frames)
    with pytest.raises(RuntimeError, match="closed"):
        pipeline.warm_up()

    # A camera given in the config sets the blank frame's size (MediaPipe refuses others).
    camera = Camera.default_for(1280, 720)
    config = replace(untrained_config(), perception=PerceptionConfig(camera=camera))
    with SessionPipeline("hd", config, body=body) as pipeline:
        pipeline.warm_up()
        assert pipeline.stats.frames == 0


def test_missing_weights_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"not found.*gcssn\.train_lifter --export"):
        SessionPipeline("s4", PipelineConfig(weights=tmp_path / "nope.pt"))


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="fps"):
        PipelineConfig(fps=0)
    with pytest.raises(ValueError, match="refine_steps"):
        PipelineConfig(refine_steps=-1)


def test_person_mask_only_for_networks_that_read_it(body) -> None:
    """MediaPipe's mask is a large share of its time: the pipeline turns it off for the
    keypoint lifter, keeps it for the CNN GC-SSN (and for an explicit False keeps it off)."""
    lifter = SessionPipeline("lifter", PipelineConfig(weights=KeypointLifter()), body=body)
    cnn = SessionPipeline("cnn", PipelineConfig(weights=GCSSN()), body=body)
    off = PipelineConfig(weights=GCSSN(), perception=PerceptionConfig(segmentation=False))
    cnn_off = SessionPipeline("cnn-off", off, body=body)
    try:
        assert not lifter.reconstructor.needs_silhouette
        assert lifter.config.perception.segmentation is False
        assert cnn.reconstructor.needs_silhouette and cnn.config.perception.segmentation
        assert cnn_off.config.perception.segmentation is False
    finally:
        for pipeline in (lifter, cnn, cnn_off):
            pipeline.close()
