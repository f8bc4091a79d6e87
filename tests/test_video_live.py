"""The athlete's video beside the avatar, end to end with real components on loopback: an aiortc
publisher streams the rendered clip; an aiortc recvonly coach peer receives the relayed frames
(aiortc MediaRelay); the session's recorded video lines up with its pose recording; only coach
(and admin) tokens get the video, live or recorded; the per-session viewer cap answers 429.

No speed assertions; waits are condition-based with generous timeouts.
"""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from live_support import ADMIN, ServerThread, http, make_clip, publish_file, running_server
from live_support import wait_for as wait_until

from coach_backend.ingest import IngestConfig
from coach_backend.recorder import read_recording, read_video_meta, read_video_times

pytestmark = pytest.mark.slow

FRAMES_TO_RECEIVE = 10


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip"))[0]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    ingest = IngestConfig(frame_timeout_s=2.0, connect_timeout_s=15.0, max_video_viewers=1)
    with running_server(tmp_path_factory.mktemp("live"), ingest=ingest) as st:
        yield st


async def open_coach_video(base: str, session_id: str, token: str) -> tuple[int, Any, Any]:
    """A recvonly aiortc peer, as the coach page opens it: (status, pc, received track future)."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    track: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    pc.on("track", lambda t: track.done() or track.set_result(t))
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    url = f"{base}/api/sessions/{session_id}/video/offer"
    status, answer = await asyncio.to_thread(http, "POST", url, token, offer)
    if status != 200:
        await pc.close()
        return status, None, None
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    return status, pc, track


async def receive_frames(track_future: asyncio.Future[Any], n: int) -> list[Any]:
    track = await asyncio.wait_for(track_future, 60)
    return [await asyncio.wait_for(track.recv(), 60) for _ in range(n)]


async def replay_timeline(base: str, session_id: str, token: str) -> dict[str, Any]:
    url = f"{base.replace('http', 'ws', 1)}/api/sessions/{session_id}/poses?mode=replay"
    async with aiohttp.ClientSession() as s, s.ws_connect(f"{url}&token={token}") as ws:
        while True:
            msg = await asyncio.wait_for(ws.receive_json(), 30)
            if msg["type"] == "timeline":
                return msg


def fetch(url: str, token: str) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_coach_sees_relayed_video_and_a_recording_aligned_with_the_poses(
    server: ServerThread, clip: Path
):
    base = server.base
    status, created = http("POST", f"{base}/api/sessions", ADMIN)
    assert status == 201, created
    sid, tokens = created["session_id"], created["tokens"]
    video_offer = f"{base}/api/sessions/{sid}/video/offer"

    # Before any athlete: nothing to relay.
    assert server.call(open_coach_video(base, sid, tokens["coach"]))[0] == 409
    # Authorisation, as the other coach APIs: no token 401, a viewer or athlete token 403.
    assert http("POST", video_offer, None, {"sdp": "v=0\r\n"})[0] == 401
    assert server.call(open_coach_video(base, sid, tokens["viewer"]))[0] == 403
    assert server.call(open_coach_video(base, sid, tokens["athlete"]))[0] == 403
    assert http("POST", f"{base}/api/sessions/nosuch/video/offer", tokens["coach"])[0] == 404

    publisher, _player = server.call(publish_file(base, sid, tokens["athlete"], clip))
    coach_pc = None
    try:
        session = server.server.manager.get(sid)
        assert session is not None
        wait_until(lambda: session.publisher is not None and session.publisher.stats().frames > 0,
                   60, "the athlete's first frame")  # fmt: skip
        status, coach_pc, track = server.call(open_coach_video(base, sid, tokens["coach"]))
        assert status == 200
        frames = server.call(receive_frames(track, FRAMES_TO_RECEIVE), timeout=180)
        assert len(frames) == FRAMES_TO_RECEIVE
        assert {(f.width, f.height) for f in frames} == {(640, 480)}
        assert frames[-1].to_ndarray(format="gray").std() > 5  # the rendered athlete, not blank
        # The cap (1 here): a second coach viewer is refused while the first one watches.
        assert server.call(open_coach_video(base, sid, ADMIN))[0] == 429
        wait_until(lambda: session.hub is not None and session.hub.stats().published >= 20,
                   90, "20 poses")  # fmt: skip
    finally:
        if coach_pc is not None:
            server.call(coach_pc.close())
        server.call(publisher.close())
    assert http("POST", f"{base}/api/sessions/{sid}/end", tokens["coach"])[0] == 200

    recording = server.server.config.recordings_dir / f"{sid}.coachrec"
    poses = read_recording(recording)
    meta = read_video_meta(recording)
    assert meta is not None and (meta["width"], meta["height"]) == (640, 480)
    video_times = set(read_video_times(recording.with_suffix(".mp4")))
    pose_times = [f.capture_time_us - meta["origin_us"] for f in poses.frames]
    # Each pose was made from one video frame: that frame is in the video at the pose's time.
    # (The pipeline skips frames when busy, so the video holds at least as many.)
    assert len(video_times) >= len(pose_times) >= 20
    matched = [t for t in pose_times if t in video_times]
    # All of them unless the encoder queue overflowed (a full queue drops, by design).
    assert len(matched) >= 0.9 * len(pose_times)

    # The recorded video: coach yes, viewer no; the replay announces it to the coach only.
    status, body = fetch(f"{base}/api/sessions/{sid}/video", tokens["coach"])
    assert status == 200 and body == recording.with_suffix(".mp4").read_bytes()
    assert fetch(f"{base}/api/sessions/{sid}/video", tokens["viewer"])[0] == 403
    coach_timeline = server.call(replay_timeline(base, sid, tokens["coach"]))
    assert coach_timeline["video"]["origin_us"] == meta["origin_us"]
    assert coach_timeline["video"]["url"] == f"/api/sessions/{sid}/video"
    assert server.call(replay_timeline(base, sid, tokens["viewer"]))["video"] is None
