"""The live server end to end with real components: aiortc publisher (MediaPlayer on a rendered
clip) -> WebRTC ingest -> SessionPipeline (MediaPipe + GC-SSN) -> gRPC subscriber, WebSocket,
recorder; HTTP auth errors; malformed SDP; a vanishing publisher (pause, resume, end).

One server for the module (pipelines are built per session: ~3 s each on 2 cores). No speed
assertions; waits are condition-based with generous timeouts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import struct
import threading
import time
import urllib.request
from pathlib import Path

import aiohttp
import grpc
import numpy as np
import pytest
from live_support import (
    ADMIN,
    ServerThread,
    http,
    make_clip,
    publish_file,
    running_server,
    wait_for,
)

from coach_backend.dashboard import MESSAGE_BYTES, unpack_frame
from coach_backend.ingest import IngestConfig
from coach_backend.recorder import read_recording
from coach_backend.stream import FLAG_VALID, PoseStreamClient, decode_pose, encode_pose, pb
from coach_backend.stream.grpc_web_endpoint import decode_frames, encode_frame

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("live")
    ingest = IngestConfig(frame_timeout_s=2.0, connect_timeout_s=15.0)
    with running_server(tmp, ingest=ingest, pause_timeout_s=4.0) as st:
        yield st


def new_session(st: ServerThread) -> tuple[str, dict[str, str]]:
    status, body = http("POST", f"{st.base}/api/sessions", ADMIN)
    assert status == 201, body
    return body["session_id"], body["tokens"]


class GrpcCollector:
    """A real gRPC subscriber in a thread, keeping every message."""

    def __init__(self, target: str, token: str, session_id: str) -> None:
        self.messages: list[pb.StreamMessage] = []
        self.client = PoseStreamClient(target, token)
        self.call = self.client.subscribe(session_id)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for msg in self.call:
                self.messages.append(msg)
        except Exception:  # cancelled at close
            pass

    def frames(self) -> list[pb.PoseFrame]:
        return [m.frame for m in self.messages if m.WhichOneof("kind") == "frame"]

    def close(self) -> None:
        self.call.cancel()
        self.client.close()


def test_aiortc_publishers_to_grpc_subscribers(server: ServerThread, clip: tuple[Path, Path]):
    """Two concurrent sessions, each with an aiortc publisher and a real gRPC subscriber."""
    sessions = [new_session(server) for _ in range(2)]
    subs = [GrpcCollector(server.grpc_target, tok["viewer"], sid) for sid, tok in sessions]
    pcs = []
    try:
        for sid, tok in sessions:
            pcs.append(server.call(publish_file(server.base, sid, tok["athlete"], clip[0]))[0])
        for sub in subs:
            wait_for(lambda sub=sub: len(sub.frames()) >= 20, 90, "20 poses over gRPC")
        for (sid, tok), sub in zip(sessions, subs, strict=True):
            first = sub.messages[0]
            assert first.WhichOneof("kind") == "info" and first.info.session_id == sid
            assert first.info.state == pb.SESSION_STATE_LIVE
            frames = sub.frames()
            decoded = [decode_pose(f.pose) for f in frames]
            # MediaPipe finds the rendered athlete: most poses carry a person.
            assert sum(d.valid for d in decoded) >= 0.8 * len(decoded)
            seqs = [f.sequence for f in frames]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            times = [f.capture_time_us for f in frames]
            assert all(b > a for a, b in zip(times, times[1:], strict=False))
            assert abs(times[-1] / 1e6 - time.time()) < 30  # Unix-epoch capture times
            status, info = http("GET", f"{server.base}/api/sessions/{sid}", tok["coach"])
            assert status == 200 and info["state"] == "live" and info["publisher"]["width"] == 640
        for pc in pcs:
            server.call(pc.close())
        for (sid, tok), sub in zip(sessions, subs, strict=True):
            status, _ = http("POST", f"{server.base}/api/sessions/{sid}/end", tok["coach"])
            assert status == 200
            wait_for(lambda sub=sub: sub.messages[-1].WhichOneof("kind") == "end", 30, "StreamEnd")
    finally:
        for sub in subs:
            sub.close()
    for sid, _ in sessions:
        rec = read_recording(server.server.config.recordings_dir / f"{sid}.coachrec")
        assert rec.complete and len(rec.frames) >= 20


def test_auth_and_bad_requests(server: ServerThread):
    base = server.base
    sid, tokens = new_session(server)
    assert http("POST", f"{base}/api/sessions")[0] == 401  # no token
    assert http("POST", f"{base}/api/sessions", tokens["coach"])[0] == 403  # not admin
    assert http("GET", f"{base}/api/recordings", "nope")[0] == 403
    assert http("GET", f"{base}/api/sessions/{sid}")[0] == 401
    assert http("GET", f"{base}/api/sessions/{sid}", "wrong")[0] == 403
    assert http("GET", f"{base}/api/sessions/nosuch", tokens["coach"])[0] == 404
    offer = f"{base}/api/sessions/{sid}/offer"
    good_shape = {"sdp": "v=0\r\n", "type": "offer"}
    assert http("POST", offer, None, good_shape)[0] == 401
    assert http("POST", offer, tokens["coach"], good_shape)[0] == 403  # coach cannot publish
    assert http("POST", offer, tokens["viewer"], good_shape)[0] == 403
    assert (
        http("POST", f"{base}/api/sessions/nosuch/offer", tokens["athlete"], good_shape)[0] == 404
    )
    # Malformed SDP / body -> 400
    no_dtls = {"sdp": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "type": "offer"}
    for body in (good_shape, {"sdp": "hello", "type": "offer"}, {"type": "offer"}, no_dtls):
        status, err = http("POST", offer, tokens["athlete"], body)
        assert status == 400, (body, status, err)
    assert http("POST", offer, tokens["athlete"], raw=b"{not json")[0] == 400
    assert http("POST", f"{base}/api/sessions/{sid}/end", tokens["viewer"])[0] == 403
    # Listing: admin sees all, a session token only its own session.
    status, listing = http("GET", f"{base}/api/sessions", tokens["viewer"])
    assert status == 200 and [s["id"] for s in listing["live"]] == [sid]
    # WebSocket auth happens before the upgrade: plain HTTP status codes.
    ws_url = f"{base}/api/sessions/{sid}/poses"
    assert http("GET", ws_url)[0] == 401
    assert http("GET", f"{ws_url}?token={tokens['athlete']}")[0] == 403
    assert http("GET", f"{base}/api/sessions/nosuch/poses?token={tokens['coach']}")[0] == 404
    # Expired tokens -> 401.
    session = server.server.manager.get(sid)
    assert session is not None
    session.expires_at = time.time() - 1
    assert http("GET", f"{base}/api/sessions/{sid}", tokens["coach"])[0] == 401
    session.expires_at = time.time() + 60
    assert http("POST", f"{base}/api/sessions/{sid}/end", ADMIN)[0] == 200
    # Publishing to an ended session is a conflict, not a crash.
    assert http("POST", offer, tokens["athlete"], good_shape)[0] == 409


async def _ws_collect(url: str, until, timeout: float = 60.0, send=None):
    texts, frames = [], []
    async with aiohttp.ClientSession() as http_session, http_session.ws_connect(url) as ws:
        deadline = time.monotonic() + timeout
        while not until(texts, frames):
            if time.monotonic() > deadline:
                raise AssertionError(f"websocket timeout: {texts[-3:]} {len(frames)} frames")
            msg = await ws.receive(timeout=timeout)
            if msg.type == aiohttp.WSMsgType.BINARY:
                assert len(msg.data) == MESSAGE_BYTES
                frames.append(unpack_frame(msg.data))
            elif msg.type == aiohttp.WSMsgType.TEXT:
                texts.append(msg.json())
                if send is not None:
                    await send(ws, texts, frames)
            else:
                break
    return texts, frames


def test_vanishing_publisher_pause_resume_end_and_replay(
    server: ServerThread, clip: tuple[Path, Path]
):
    sid, tokens = new_session(server)
    base = server.base
    state = lambda: http("GET", f"{base}/api/sessions/{sid}", tokens["coach"])[1]["state"]  # noqa: E731
    path = server.server.config.recordings_dir / f"{sid}.coachrec"

    pc, _ = server.call(publish_file(base, sid, tokens["athlete"], clip[0]))
    ws_url = f"{base.replace('http', 'ws')}/api/sessions/{sid}/poses?token={tokens['viewer']}"
    texts, frames = asyncio.run(_ws_collect(ws_url, lambda t, f: len(f) >= 10))
    assert texts[0]["type"] == "info" and texts[0]["session_id"] == sid
    assert any(decode_pose(f.pose).valid for f in frames)

    # The publisher vanishes: the session pauses; the recording on disk is readable.
    server.call(pc.close())
    wait_for(lambda: state() == "paused", 20, "paused")
    wait_for(lambda: len(read_recording(path).frames) >= 10, 10, "synced recording")
    paused_rec = read_recording(path)
    assert paused_rec.end is None and paused_rec.torn_tail_bytes == 0

    # Reconnect with the athlete token: same session id, poses continue, sequence goes on.
    before = server.server.manager.get(sid).hub.stats().published
    pc2, player2 = server.call(publish_file(base, sid, tokens["athlete"], clip[0]))
    wait_for(lambda: state() == "live", 20, "live again")
    wait_for(lambda: server.server.manager.get(sid).hub.stats().published >= before + 10, 60,
             "poses after resume")  # fmt: skip

    # This time the video just stops (no goodbye): no frames -> paused -> pause timeout -> ended.
    async def stop_video() -> None:  # on the loop thread: aiortc objects are not thread-safe
        player2.video.stop()

    server.call(stop_video())
    wait_for(lambda: state() in ("paused", "ended"), 30, "pause after frames stop")
    wait_for(lambda: state() == "ended", 30, "end after the pause timeout")
    server.call(pc2.close())
    # "ended" is reported as the release starts; the recording is closed when it finishes.
    wait_for(lambda: read_recording(path).complete, 20, "recording closed")
    rec = read_recording(path)
    assert rec.complete and "did not return" in rec.end.reason
    seqs = [f.sequence for f in rec.frames]
    assert seqs == list(range(len(seqs)))  # one timeline across both connections
    assert http("GET", f"{base}/api/recordings", ADMIN)[1]["recordings"]

    # Replay over the WebSocket: timeline, paced frames, seek to the middle.
    duration = (rec.frames[-1].capture_time_us - rec.frames[0].capture_time_us) / 1e6
    mid_us = rec.frames[0].capture_time_us + int(duration / 2 * 1e6)
    sought = {"done": False}

    async def seek(ws, texts, frames):
        if texts[-1]["type"] == "timeline" and not sought["done"]:
            sought["done"] = True
            await ws.send_json({"type": "seek", "t_s": duration / 2})

    def until(texts, frames):
        return any(t["type"] == "state" for t in texts) and any(
            f.capture_time_us >= mid_us for f in frames[1:]
        )

    texts, frames = asyncio.run(_ws_collect(ws_url, until, send=seek))
    assert texts[0]["type"] == "info" and texts[0]["state"] == "recorded"
    timeline = texts[1]
    assert timeline["type"] == "timeline" and timeline["frames"] == len(rec.frames)
    assert timeline["complete"] is True
    assert frames[0].capture_time_us == rec.frames[0].capture_time_us
    # After the seek, frames jump to the middle instead of playing through (replay is paced).
    assert any(f.capture_time_us >= mid_us for f in frames)


def test_rep_counter_exercise_choice_and_session_summary(
    server: ServerThread, clip: tuple[Path, Path]
):
    """The coach picks what reps are counted on; the stats the live page shows carry the rep
    counter, which moves on as poses arrive; the ended session keeps its summary (reps, range
    of motion, tempo from the recording) beside the recording, and the listing shows it."""
    sid, tokens = new_session(server)
    base = server.base
    url = f"{base}/api/sessions/{sid}/exercise"
    assert http("POST", url, tokens["viewer"], {"exercise": "squat"})[0] == 403
    assert http("POST", url, tokens["coach"], {"exercise": "burpee"})[0] == 400
    assert http("POST", url, tokens["coach"], raw=b"not json")[0] == 400
    assert http("POST", url, tokens["coach"], {"exercise": "squat"}) == (
        200, {"id": sid, "exercise": "squat"},
    )  # fmt: skip

    pc, _ = server.call(publish_file(base, sid, tokens["athlete"], clip[0]))
    ws_url = f"{base.replace('http', 'ws')}/api/sessions/{sid}/poses?token={tokens['coach']}"

    def counted(texts: list[dict]) -> list[dict]:
        return [t for t in texts if t["type"] == "stats" and (t.get("reps") or {}).get("frames")]

    texts, _ = asyncio.run(_ws_collect(ws_url, lambda t, f: len(counted(t)) >= 3))
    stats = counted(texts)
    assert stats[-1]["reps"]["frames"] > stats[0]["reps"]["frames"]  # updated as poses arrive
    for s in stats:
        assert s["exercise"] == "squat" and s["exercise_choices"][0] == "auto"
        assert s["reps"]["exercise"] == "squat" and s["reps"]["auto"] is False
        assert s["reps"]["driver_title"] == "knee flexion"

    server.call(pc.close())
    end_session(server, sid)
    path = server.server.config.recordings_dir / f"{sid}.summary.json"
    summary = json.loads(path.read_text())
    assert summary["format"] == "coach_backend.report/1"
    assert summary["take_path"] == f"{sid}.coachrec"
    reps = summary["session"]["reps"]
    assert reps["exercise"] == "squat" and reps["auto"] is False and reps["count"] >= 2
    listed = {r["id"]: r for r in http("GET", f"{base}/api/recordings", ADMIN)[1]["recordings"]}
    assert listed[sid]["reps"] == {
        "exercise": "squat", "auto": False, "driver_title": "knee flexion", "count": reps["count"],
    }  # fmt: skip
    assert http("POST", url, tokens["coach"], {"exercise": "auto"})[0] == 409  # ended

    # The report page, written by the same writer as a replay's report.html, from the same
    # analysis as the summary: the page shows those reps; the dashboard links to it.
    report_url = f"{base}/api/sessions/{sid}/report"
    assert listed[sid]["report"] is True
    assert http("GET", f"{base}/api/sessions/{sid}", tokens["coach"])[1]["report"] == (
        f"/api/sessions/{sid}/report"
    )
    assert http("GET", report_url)[0] == 401
    assert http("GET", report_url, tokens["athlete"])[0] == 403
    with urllib.request.urlopen(f"{report_url}?token={tokens['viewer']}", timeout=30) as resp:
        assert resp.headers["Content-Type"].startswith("text/html")
        page = resp.read().decode()
    assert page.startswith("<!DOCTYPE html>") and f"<code>{sid}.coachrec</code>" in page
    assert f"{reps['count']} reps of squat on knee flexion" in page
    assert page.count("<tr class='rep'>") == reps["count"]
    for rep in reps["reps"]:
        assert f"<td>{rep['rom_deg']:.1f}</td>" in page
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", page)  # self-contained
    assert page.count('src="data:image/') >= 2  # its plots travel inside the page


def test_ended_is_reported_once_the_recording_is_closed(server: ServerThread):
    """Whoever is told the session ended (the live WebSocket's "end", gRPC's StreamEnd, the
    session's state) and reads the recording at once finds it closed and complete. "ended"
    was reported as the release began, before the recording was closed; meanwhile the state
    is "ending" now."""
    sid, tokens = new_session(server)
    session = server.server.manager.get(sid)
    assert session is not None and session.recorder is not None
    path = server.server.config.recordings_dir / f"{sid}.coachrec"
    t0 = time.time_ns() // 1000
    pose = encode_pose(np.zeros((24, 3)), np.array([0.0, 1.0, -2.5]))
    for i in range(60):  # 2 s of poses in the session's own recording (no publisher needed)
        session.recorder.append(
            pb.PoseFrame(sequence=i, capture_time_us=t0 + i * 33_333, flags=FLAG_VALID, pose=pose)
        )
    told: dict[str, bool] = {}  # who was told it ended -> was the recording complete then

    grpc_sub = GrpcCollector(server.grpc_target, tokens["viewer"], sid)
    wait_for(lambda: grpc_sub.messages, 30, "gRPC SessionInfo")

    def grpc_watch() -> None:
        wait_for(lambda: grpc_sub.messages[-1].WhichOneof("kind") == "end", 60, "StreamEnd")
        told["grpc"] = read_recording(path).complete

    states: list[str] = []

    def poll_state() -> None:
        while (state := http("GET", f"{server.base}/api/sessions/{sid}", ADMIN)[1]["state"]) != (
            "ended"
        ):
            states.append(state)
        told["state"] = read_recording(path).complete

    async def ws_watch() -> None:
        url = f"{server.base.replace('http', 'ws')}/api/sessions/{sid}/poses?token={ADMIN}"
        async with aiohttp.ClientSession() as http_session, http_session.ws_connect(url) as ws:
            assert (await ws.receive_json(timeout=30))["type"] == "info"
            ending = asyncio.ensure_future(asyncio.to_thread(end_session, server, sid))
            while (msg := await ws.receive(timeout=60)).type == aiohttp.WSMsgType.TEXT:
                if msg.json()["type"] == "end":
                    told["ws"] = read_recording(path).complete
                    break
            await ending

    watchers = [threading.Thread(target=f, daemon=True) for f in (grpc_watch, poll_state)]
    try:
        for w in watchers:
            w.start()
        asyncio.run(ws_watch())
        for w in watchers:
            w.join(60)
    finally:
        grpc_sub.close()
    assert told == {"ws": True, "grpc": True, "state": True}, (told, states)
    assert set(states) <= {"waiting", "ending"}
    assert read_recording(path).end.reason == "ended by coach"


def test_first_pose_is_timed_once_a_pose_went_out(server: ServerThread, clip: tuple[Path, Path]):
    """A session's status reports ``first_pose_ms`` (its first video frame received -> its first
    pose published) once a pose has gone out, never before, and keeps that first figure. The
    session's MediaPipe graph is built and warmed before the athlete's first frame."""
    sid, tokens = new_session(server)
    url = f"{server.base}/api/sessions/{sid}"
    session = server.server.manager.get(sid)
    assert session is not None and session.pipeline_ready is not None
    ready = session.pipeline_ready
    wait_for(ready.done, 60, "the session's pipeline")
    assert ready.result()._detector is not None  # warmed up: the graph exists before any frame
    assert http("GET", url, ADMIN)[1]["first_pose_ms"] is None  # no athlete yet
    pc, _ = server.call(publish_file(server.base, sid, tokens["athlete"], clip[0]))
    try:
        seen: list[dict] = []

        def first_pose() -> bool:
            seen.append(http("GET", url, ADMIN)[1])
            return seen[-1]["first_pose_ms"] is not None

        wait_for(first_pose, 60, "first_pose_ms")
        # Never reported before a pose went out (published counts every pose sent).
        assert all(s["frames"] >= 1 for s in seen if s["first_pose_ms"] is not None)
        first = seen[-1]["first_pose_ms"]
        assert isinstance(first, float) and first > 0
        frames = seen[-1]["frames"]
        wait_for(lambda: http("GET", url, ADMIN)[1]["frames"] >= frames + 10, 60, "more poses")
        assert http("GET", url, ADMIN)[1]["first_pose_ms"] == first  # the first, not the latest
    finally:
        server.call(pc.close())
    end_session(server, sid)


def end_session(st: ServerThread, sid: str) -> None:
    assert http("POST", f"{st.base}/api/sessions/{sid}/end", ADMIN)[0] == 200


GRPC_WEB = "/coach.v1.PoseStream/"


def test_grpc_web_is_served_next_to_the_dashboard(server: ServerThread):
    """The HoloLens path: gRPC-Web on the live server's HTTP port (it answered 404)."""
    sid, tokens = new_session(server)
    headers = {
        "Content-Type": "application/grpc-web+proto",
        "Authorization": f"Bearer {tokens['viewer']}",
    }

    async def go() -> None:
        async with aiohttp.ClientSession() as session:
            url = server.base + GRPC_WEB
            async with session.post(
                url + "ListSessions", data=encode_frame(b""), headers=headers
            ) as resp:
                assert resp.status == 200, await resp.text()
                (_, reply), (_, trailers) = decode_frames(await resp.read())
            assert [s.session_id for s in pb.ListSessionsResponse.FromString(reply).sessions] == [
                sid
            ]
            assert b"grpc-status:0" in trailers
            request = encode_frame(pb.SubscribeRequest(session_id=sid).SerializeToString())
            async with session.post(url + "Subscribe", data=request, headers=headers) as resp:
                _, length = struct.unpack(">BI", await resp.content.readexactly(5))
                first = pb.StreamMessage.FromString(await resp.content.readexactly(length))
            assert first.info.session_id == sid

    try:
        asyncio.run(go())
    finally:
        end_session(server, sid)


def test_grpc_and_http_answer_auth_alike(server: ServerThread):
    """A wrong token: 403 over HTTP, PERMISSION_DENIED over gRPC (was OK with an empty list).
    The admin token: works over both (gRPC refused it)."""
    sid, _ = new_session(server)
    try:
        assert http("GET", f"{server.base}/api/sessions", "wrong")[0] == 403
        with PoseStreamClient(server.grpc_target, "wrong") as wrong:
            with pytest.raises(grpc.RpcError) as err:
                wrong.list_sessions()
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        status, listing = http("GET", f"{server.base}/api/sessions", ADMIN)
        assert status == 200 and sid in {s["id"] for s in listing["live"]}
        with PoseStreamClient(server.grpc_target, ADMIN) as admin:
            assert sid in {s.session_id for s in admin.list_sessions()}
            assert admin.get_session_info(sid).session_id == sid
            call = admin.subscribe(sid, timeout=60)
            assert next(call).info.session_id == sid
            call.cancel()
    finally:
        end_session(server, sid)


def _strict_json(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"the server sent {name}, which is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_replay_control_refuses_bad_numbers_and_stays_open(server: ServerThread):
    """seek to Infinity closed the socket (OverflowError); speed NaN was accepted and echoed as
    JSON browsers cannot parse. Each must be answered with an error, the socket still open."""
    sid, tokens = new_session(server)
    session = server.server.manager.get(sid)
    assert session is not None and session.recorder is not None
    t0 = time.time_ns() // 1000
    pose = encode_pose(np.zeros((24, 3)), np.array([0.0, 1.0, -2.5]))
    for i in range(90):  # 3 s of poses into the session's own recording (no publisher needed)
        session.recorder.append(
            pb.PoseFrame(sequence=i, capture_time_us=t0 + i * 33_333, flags=FLAG_VALID, pose=pose)
        )
    end_session(server, sid)
    url = f"{server.base.replace('http', 'ws')}/api/sessions/{sid}/poses?token={tokens['coach']}"
    bad = [
        '{"type": "seek", "t_s": Infinity}',
        '{"type": "speed", "value": NaN}',
        '{"type": "speed", "value": 1e999}',
        '{"type": "speed", "value": 100}',
        '{"type": "speed", "value": true}',
        '{"type": "seek", "t_s": -1}',
        '{"type": "seek", "t_s": "soon"}',
        '{"type": "seek"}',
        "[]",
    ]

    async def go() -> tuple[list[dict], dict]:
        async with aiohttp.ClientSession() as http_session, http_session.ws_connect(url) as ws:

            async def next_reply() -> dict:
                while True:
                    msg = await ws.receive(timeout=30)
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        continue  # poses
                    assert msg.type == aiohttp.WSMsgType.TEXT, f"socket closed: {msg}"
                    reply = _strict_json(msg.data)
                    if reply["type"] != "end":  # (the short replay may finish meanwhile)
                        return reply

            while (await next_reply())["type"] != "timeline":
                pass
            await ws.send_json({"type": "pause"})
            assert (await next_reply())["type"] == "state"
            errors = []
            for text in bad:
                await ws.send_str(text)
                errors.append(await next_reply())
            await ws.send_json({"type": "seek", "t_s": 1.0})  # still served
            return errors, await next_reply()

    errors, after = asyncio.run(go())
    assert [e["type"] for e in errors] == ["error"] * len(bad), errors
    assert after["type"] == "state" and after["position_us"] == pytest.approx(1e6, abs=40_000)
    assert after["speed"] == 1.0 and after["playing"] is False


def test_access_log_redacts_tokens(server: ServerThread, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    sid, tokens = new_session(server)
    secret = tokens["coach"]
    try:
        assert http("GET", f"{server.base}/api/sessions/{sid}?token={secret}")[0] == 200

        async def open_and_close_socket() -> None:
            url = f"{server.base.replace('http', 'ws')}/api/sessions/{sid}/poses?token={secret}"
            async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
                await ws.receive(timeout=30)  # info

        asyncio.run(open_and_close_socket())

        def logged(path: str) -> list[str]:
            return [r.getMessage() for r in caplog.records if path in r.getMessage()]

        wait_for(lambda: logged(f"/{sid}/poses") and logged(f"/{sid}?"), 30, "access log")
    finally:
        end_session(server, sid)
    with_token = [line for line in logged(f"/{sid}") if "token=" in line]
    assert len(with_token) == 2 and all("token=REDACTED" in line for line in with_token)
    assert not any(secret in r.getMessage() for r in caplog.records)


def test_abandoned_sessions_expire_are_capped_and_free_their_threads(tmp_path: Path):
    """Sessions no athlete joins end after the waiting timeout (recording closed); at most
    max_sessions exist (429 past that); ended sessions leave no thread behind, also one ended
    while its pipeline was still being built."""
    with running_server(tmp_path, waiting_timeout_s=2.0, max_sessions=2) as st:
        ended_at_once, _ = new_session(st)
        end_session(st, ended_at_once)
        waiting = [new_session(st)[0] for _ in range(2)]
        status, body = http("POST", f"{st.base}/api/sessions", ADMIN)
        assert status == 429 and "2 sessions" in body["error"]

        def state(sid: str) -> str:
            return http("GET", f"{st.base}/api/sessions/{sid}", ADMIN)[1]["state"]

        for sid in waiting:
            wait_for(lambda sid=sid: state(sid) == "ended", 60, "the waiting timeout")
            rec = read_recording(st.server.config.recordings_dir / f"{sid}.coachrec")
            assert rec.complete and "no athlete joined" in rec.end.reason
        ids = [ended_at_once, *waiting]

        def session_threads() -> list[str]:  # pipeline threads carry the session id
            return [t.name for t in threading.enumerate() if any(sid in t.name for sid in ids)]

        wait_for(lambda: not session_threads(), 30, "the sessions' threads to end")
        for _ in range(2):  # their slots are free again
            new_session(st)
