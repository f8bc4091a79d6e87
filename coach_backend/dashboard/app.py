"""HTTP API + WebSocket pose stream + static dashboard (aiohttp), on the same loop as aiortc.

Routes (token: ``Authorization: Bearer <t>`` or ``?token=<t>``; 401 missing/expired, 403 wrong,
404 unknown session, 400 malformed request, 409 conflicting state, 429 too many sessions,
503 pipeline failed to start):

    POST /api/sessions                 admin        -> {session_id, tokens{...}, urls}
    GET  /api/sessions                 admin: all; a session token: its own (live + recorded)
    GET  /api/sessions/{id}            any token of the session -> state, fps, latency
    POST /api/sessions/{id}/end        coach/admin
    POST /api/sessions/{id}/exercise   coach/admin  {exercise: "auto"|"squat"|...}: what the live
                                       rep counter and the end-of-session summary count on
    GET  /api/sessions/{id}/ice        athlete      -> {ice_servers} for the browser
    POST /api/sessions/{id}/offer      athlete      {sdp, type:"offer"} -> {sdp, type:"answer"}
    POST /api/sessions/{id}/video/offer coach/admin {sdp, type:"offer"} (recvonly) -> answer:
                                       the athlete's live video, relayed (409 no video now,
                                       429 past ``IngestConfig.max_video_viewers``)
    GET  /api/sessions/{id}/video      coach/admin  the recorded video (fragmented MP4, Range)
    GET  /api/sessions/{id}/poses      coach/viewer/admin, WebSocket (layout: wsproto.py);
                                       live by default, ``?mode=replay`` or an ended session:
                                       paced replay of the recording with seek/pause/speed
    GET  /api/sessions/{id}/frames     coach/admin  the whole recording at once, for a reference
                                       ghost: {info, start_us, end_us, count, frames_b64 (the
                                       replay socket's 128-byte pose messages, concatenated),
                                       reps_span_s ([first rep's start, last rep's end] in s
                                       from the first frame, from the session's summary; null
                                       without one or without reps)}
    GET  /api/sessions/{id}/report     coach/viewer/admin  the ended session's report: the
                                       self-contained HTML page (404 until the session has
                                       ended and its report is written)
    GET  /api/recordings               admin
    GET  /api/compare?reference=ID&take=ID  coach/admin of both: DTW time map, take time ->
                                       reference time (422 when the takes cannot be aligned)
    POST /coach.v1.PoseStream/{method} gRPC-Web (HoloLens/Unity): the native gRPC service and
                                       its auth, for the same sessions (stream/grpc_web_endpoint.py)
    GET  /  /athlete  /live  /replay   the web app (static, bundled three.js)

The access log writes ``?token=`` values redacted (:class:`RedactingAccessLogger`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.web_log import AccessLogger

from ..ingest import InvalidOffer
from ..recorder import RecordingError, ReplayTimeline, read_video_meta, video_paths
from ..recorder.player import PacedPlayer, as_recorded, shape_key
from ..stream import pb
from ..stream.grpc_web_endpoint import add_grpc_web_routes
from .sessions import (
    CONTROL_ROLES,
    SUMMARY_SUFFIX,
    VIDEO_ROLES,
    VIEW_ROLES,
    AuthError,
    PipelineUnavailable,
    Role,
    SessionConflict,
    SessionLimit,
    SessionManager,
    SessionState,
)
from .static_dir import STATIC_DIR
from .wsproto import BadControl, info_json, pack_frame, parse_control

log = logging.getLogger(__name__)

MANAGER: web.AppKey[SessionManager] = web.AppKey("manager", SessionManager)
PAGES = {"/": "index.html", "/athlete": "athlete.html", "/live": "live.html",
         "/replay": "replay.html"}  # fmt: skip
_WS_QUEUE = 4  # frames between the hub thread and the socket; the hub's queue drops the oldest


def create_app(manager: SessionManager) -> web.Application:
    app = web.Application(middlewares=[_errors, _security_headers], client_max_size=1 << 20)
    app[MANAGER] = manager
    r = app.router
    r.add_post("/api/sessions", create_session)
    r.add_get("/api/sessions", list_sessions)
    r.add_get("/api/sessions/{id}", get_session)
    r.add_post("/api/sessions/{id}/end", end_session)
    r.add_post("/api/sessions/{id}/exercise", set_exercise)
    r.add_get("/api/sessions/{id}/ice", ice_servers)
    r.add_post("/api/sessions/{id}/offer", offer)
    r.add_post("/api/sessions/{id}/video/offer", video_offer)
    r.add_get("/api/sessions/{id}/video", recorded_video)
    r.add_get("/api/sessions/{id}/poses", poses_ws)
    r.add_get("/api/sessions/{id}/frames", recording_frames)
    r.add_get("/api/sessions/{id}/report", session_report)
    r.add_get("/api/recordings", list_recordings)
    r.add_get("/api/compare", compare_recordings)
    r.add_get("/api/health", _health)
    r.add_get("/favicon.ico", _no_content)
    for route, page in PAGES.items():
        r.add_get(route, _page(page))
    r.add_static("/static", STATIC_DIR, show_index=False)

    async def on_shutdown(app: web.Application) -> None:
        await app[MANAGER].shutdown()

    # First: ending the sessions sends StreamEnd to every viewer, gRPC-Web ones included ...
    app.on_shutdown.append(on_shutdown)
    # ... whose streams the gRPC-Web hook then closes.
    add_grpc_web_routes(app, manager.grpc)
    return app


# -- access log --
_TOKEN_VALUE = re.compile(r"([?&]token=)[^&#\s\"]*", re.IGNORECASE)


def redact_tokens(text: str) -> str:
    """``?token=secret`` -> ``?token=REDACTED`` anywhere in ``text`` (request line, Referer)."""
    return _TOKEN_VALUE.sub(r"\1REDACTED", text)


class RedactingAccessLogger(AccessLogger):
    """aiohttp's access log, with token query values redacted: pages, WebSocket and API URLs
    carry ``?token=``, and a log file must not hand out access."""

    def _format_line(
        self, request: web.BaseRequest, response: web.StreamResponse, time: float
    ) -> Iterable[tuple[str | tuple[str, str], str]]:
        return [
            (key, redact_tokens(value) if isinstance(value, str) else value)
            for key, value in super()._format_line(request, response, time)
        ]


# -- helpers --
def _token(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query.get("token") or None


def _authorized(request: web.Request, roles: frozenset[Role]) -> tuple[SessionManager, str]:
    """The session manager and the path's session id, once the request's token holds one of
    `roles` on that session (else the manager raises the 401/403/404)."""
    manager = request.app[MANAGER]
    sid = request.match_info["id"]
    manager.authorize(sid, _token(request), roles)
    return manager, sid


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except AuthError as exc:
        return _error(exc.status, str(exc))
    except InvalidOffer as exc:
        return _error(400, str(exc))
    except SessionConflict as exc:
        return _error(409, str(exc))
    except SessionLimit as exc:
        return _error(429, str(exc))
    except PipelineUnavailable as exc:
        return _error(503, str(exc))


@web.middleware
async def _security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    resp = await handler(request)
    # No CDN, no inline script: everything comes from this origin.
    resp.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'",
    )
    resp.headers.setdefault("Referrer-Policy", "no-referrer")  # tokens ride in page URLs
    return resp


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _no_content(request: web.Request) -> web.Response:
    return web.Response(status=204)


def _page(name: str) -> Any:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / name)

    return handler


def _admin(request: web.Request) -> SessionManager:
    manager = request.app[MANAGER]
    token = _token(request)
    if not token:
        raise AuthError(401, "missing token")
    if not manager.is_admin(token):
        raise AuthError(403, "admin token required")
    return manager


# -- sessions --
async def create_session(request: web.Request) -> web.Response:
    manager = _admin(request)
    session, tokens = await manager.create()
    sid = session.id
    return web.json_response(
        {
            "session_id": sid,
            "tokens": {"athlete": tokens.athlete, "coach": tokens.coach, "viewer": tokens.viewer},
            "urls": {
                "athlete": f"/athlete?session={sid}&token={tokens.athlete}",
                "coach": f"/live?session={sid}&token={tokens.coach}",
                "viewer": f"/live?session={sid}&token={tokens.viewer}",
            },
            "grpc": {
                "port": manager.grpc.port,
                "tls": manager.grpc.config.tls,
                "tokens": ["coach", "viewer"],
            },  # fmt: skip
            "expires_at": session.expires_at,
        },
        status=201,
    )


async def list_sessions(request: web.Request) -> web.Response:
    manager = request.app[MANAGER]
    token = _token(request)
    if not token:
        raise AuthError(401, "missing token")
    admin = manager.is_admin(token)
    allowed = None if admin else set(manager.roles_of(token))
    if allowed is not None and not allowed:
        raise AuthError(403, "token unlocks no session")
    live = [s.summary() for s in manager.live_sessions() if allowed is None or s.id in allowed]
    recorded = []
    if admin:
        recorded = await asyncio.get_running_loop().run_in_executor(None, manager.recordings)
    return web.json_response({"live": live, "recorded": recorded})


async def get_session(request: web.Request) -> web.Response:
    manager = request.app[MANAGER]
    sid = request.match_info["id"]
    role = manager.authorize(sid, _token(request), frozenset(Role))
    session = manager.get(sid)
    # The report, once the ended session's is written (``null`` before).
    report = manager.report_path(sid)
    report_url = f"/api/sessions/{sid}/report" if report and report.is_file() else None
    if session is None:
        return web.json_response({"id": sid, "state": "ended", "role": str(role),
                                  "live": False, "report": report_url})  # fmt: skip
    return web.json_response({**session.summary(), "role": str(role), "report": report_url})


async def end_session(request: web.Request) -> web.Response:
    manager, sid = _authorized(request, CONTROL_ROLES)
    await manager.end(sid, "ended by coach")
    return web.json_response({"id": sid, "state": "ended"})


async def set_exercise(request: web.Request) -> web.Response:
    manager, sid = _authorized(request, CONTROL_ROLES)
    try:
        exercise = (await request.json())["exercise"]
    except (ValueError, KeyError, TypeError):
        return _error(400, 'body must be JSON {"exercise": ...}')
    try:
        manager.set_exercise(sid, exercise)
    except ValueError as exc:
        return _error(400, str(exc))
    return web.json_response({"id": sid, "exercise": exercise})


async def ice_servers(request: web.Request) -> web.Response:
    manager = request.app[MANAGER]
    manager.authorize(request.match_info["id"], _token(request), frozenset({Role.ATHLETE}))
    return web.json_response({"ice_servers": manager.config.ingest.browser_ice_servers()})


async def _offer_sdp(request: web.Request) -> str:
    try:
        body = await request.json()
        sdp, kind = body["sdp"], body.get("type", "offer")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidOffer("body must be JSON {sdp, type: 'offer'}") from exc
    if kind != "offer" or not isinstance(sdp, str):
        raise InvalidOffer("expected an SDP offer")
    return sdp


async def offer(request: web.Request) -> web.Response:
    manager, sid = _authorized(request, frozenset({Role.ATHLETE}))
    if manager.get(sid) is None:
        raise SessionConflict("session has ended")
    answer = await manager.publish(sid, await _offer_sdp(request))
    return web.json_response({"sdp": answer, "type": "answer"})


async def video_offer(request: web.Request) -> web.Response:
    manager, sid = _authorized(request, VIDEO_ROLES)
    answer = await manager.watch_video(sid, await _offer_sdp(request))
    return web.json_response({"sdp": answer, "type": "answer"})


async def session_report(request: web.Request) -> web.StreamResponse:
    manager, sid = _authorized(request, VIEW_ROLES)
    path = manager.report_path(sid)
    if path is None or not path.is_file():
        return _error(404, "no report for this session (written once it has ended)")
    return web.FileResponse(
        path, headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    )


def _video_meta(manager: SessionManager, sid: str) -> dict[str, Any] | None:
    """The recorded video's sidecar with its URL, or None (no video, or no recording)."""
    path = manager.recording_path(sid)
    meta = None if path is None else read_video_meta(path)
    return None if meta is None else {**meta, "url": f"/api/sessions/{sid}/video"}


async def recorded_video(request: web.Request) -> web.StreamResponse:
    manager, sid = _authorized(request, VIDEO_ROLES)
    path = manager.recording_path(sid)
    if path is None or _video_meta(manager, sid) is None:
        return _error(404, "no recorded video for this session")
    # FileResponse answers Range requests: the browser's <video> seeks with them.
    return web.FileResponse(video_paths(path)[0], headers={"Cache-Control": "no-store"})


async def list_recordings(request: web.Request) -> web.Response:
    manager = _admin(request)
    recs = await asyncio.get_running_loop().run_in_executor(None, manager.recordings)
    return web.json_response({"recordings": recs})


def _recording_of(manager: SessionManager, sid: str, token: str | None) -> Path:
    """The recording of ``sid`` if ``token`` is its coach (or admin); AuthError otherwise
    (404 for an unknown session or one without a recording)."""
    manager.authorize(sid, token, CONTROL_ROLES)
    path = manager.recording_path(sid)
    if path is None:
        raise AuthError(404, f"no recording for session {sid!r}")
    return path


def _read_frames(path: Path) -> dict[str, Any]:
    timeline = ReplayTimeline.read(path)
    frames = timeline.frames
    # The shape in effect at the end: by then the body shape has settled.
    info = timeline.info_at(max(len(frames) - 1, 0))
    return {
        "info": info_json(as_recorded(info)),
        "start_us": timeline.times[0] if frames else 0,
        "end_us": timeline.times[-1] if frames else 0,
        "count": len(frames),
        "frames_b64": base64.b64encode(b"".join(pack_frame(f) for f in frames)).decode(),
        "reps_span_s": _reps_span(path.with_name(f"{path.stem}{SUMMARY_SUFFIX}")),
    }


def _reps_span(summary: Path) -> list[float] | None:
    """[first rep's start, last rep's end] (s from the first frame) from a session's summary:
    what the live page's ghost loops (a reference's walk-in and walk-out are no model)."""
    try:
        reps = json.loads(summary.read_text())["session"]["reps"]["reps"]
        span = [float(reps[0]["start_s"]), float(reps[-1]["end_s"])]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # no summary (yet), no analysis, or no reps
    return span if span[1] > span[0] else None


async def recording_frames(request: web.Request) -> web.Response:
    manager = request.app[MANAGER]
    path = _recording_of(manager, request.match_info["id"], _token(request))
    try:
        body = await asyncio.get_running_loop().run_in_executor(None, _read_frames, path)
    except (RecordingError, OSError) as exc:
        return _error(422, f"unreadable recording: {exc}")
    return web.json_response(body)


@functools.lru_cache(maxsize=8)
def _time_map(reference: Path, take: Path, _stamp: tuple[int, ...]) -> dict[str, Any]:
    """DTW of the two recordings' joint angles -> take time -> reference time (seconds from
    each one's first frame). ``_stamp`` (sizes, mtimes) keys the cache: a recording still
    being written is aligned again. Imports torch (the body model), so only on first use."""
    from ..analytics import compare, load_track

    comparison = compare(load_track(reference), load_track(take))
    take_times, reference_times = comparison.reference_time_map()
    return {
        "method": "dtw",
        "take_times_s": [round(t, 4) for t in take_times.tolist()],
        "reference_times_s": [round(t, 4) for t in reference_times.tolist()],
        "reference_duration_s": comparison.reference.duration_s,
        "take_duration_s": comparison.attempt.duration_s,
        "mean_cost_deg": comparison.alignment.mean_cost,
    }


async def compare_recordings(request: web.Request) -> web.Response:
    manager = request.app[MANAGER]
    reference_id, take_id = request.query.get("reference"), request.query.get("take")
    if not reference_id or not take_id:
        return _error(400, "query parameters reference and take are required")
    token = _token(request)
    reference, take = (_recording_of(manager, sid, token) for sid in (reference_id, take_id))
    stamp = tuple(x for p in (reference, take) for x in (p.stat().st_size, p.stat().st_mtime_ns))
    try:
        body = await asyncio.get_running_loop().run_in_executor(
            None, _time_map, reference, take, stamp
        )
    except (ValueError, RecordingError, OSError) as exc:  # no frames, no person in view, ...
        return _error(422, f"cannot align these recordings: {exc}")
    return web.json_response({"reference": reference_id, "take": take_id, **body})


# -- pose WebSocket --
async def poses_ws(request: web.Request) -> web.StreamResponse:
    manager = request.app[MANAGER]
    sid = request.match_info["id"]
    role = manager.authorize(sid, _token(request), VIEW_ROLES)  # HTTP error before the upgrade
    session = manager.get(sid)
    replay_mode = request.query.get("mode") == "replay"
    live = session is not None and session.state != SessionState.ENDED and not replay_mode
    path = None if live else manager.recording_path(sid)
    if not live and path is None:
        return _error(404, "no recording for this session")
    ws = web.WebSocketResponse(heartbeat=20.0, compress=False)
    await ws.prepare(request)
    try:
        if live:
            assert session is not None
            await _stream_live(ws, manager, sid, request.remote or "?")
        else:
            assert path is not None
            video = _video_meta(manager, sid) if role in VIDEO_ROLES else None
            await _stream_replay(ws, path, video)
    finally:
        await ws.close()
    return ws


async def _stream_live(
    ws: web.WebSocketResponse, manager: SessionManager, sid: str, peer: str
) -> None:
    session = manager.get(sid)
    assert session is not None and session.hub is not None
    sub = session.hub.subscribe(peer=f"ws:{peer}", queue_size=16)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(_WS_QUEUE)

    def pump() -> None:  # blocking hub reads stay off the loop; put() back-pressures this thread
        try:
            while True:
                data = sub.next_bytes()
                fut = asyncio.run_coroutine_threadsafe(queue.put(data), loop)
                fut.result()
                if data is None:
                    return
        except Exception:  # loop closed / cancelled: the socket is gone
            sub.close()

    threading.Thread(target=pump, name=f"ws-{sid}", daemon=True).start()

    info_sent = asyncio.Event()  # the protocol promises "info" as the first message

    async def send() -> None:
        while (data := await queue.get()) is not None:
            msg = pb.StreamMessage.FromString(data)
            kind = msg.WhichOneof("kind")
            if kind == "frame":
                await ws.send_bytes(pack_frame(msg.frame))
            elif kind == "info":
                await ws.send_json(info_json(msg.info))
                info_sent.set()
            else:
                await ws.send_json({"type": "end", "reason": msg.end.reason})
                return

    async def stats() -> None:
        await info_sent.wait()
        while True:
            s = manager.get(sid)
            if s is not None:
                await ws.send_json({"type": "stats", **s.summary()})
            await asyncio.sleep(1.0)

    tasks = [asyncio.ensure_future(send()), asyncio.ensure_future(stats())]
    reader = asyncio.ensure_future(_drain_client(ws))
    try:
        await asyncio.wait([tasks[0], reader], return_when=asyncio.FIRST_COMPLETED)
    finally:
        sub.close()
        for t in (*tasks, reader):
            t.cancel()
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(None)  # unblock a pump waiting on a full queue (it sees sub closed)
        while not queue.empty():
            queue.get_nowait()


async def _drain_client(ws: web.WebSocketResponse) -> None:
    async for msg in ws:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            return


class _Player(PacedPlayer):
    """The shared pacing, plus the socket's wake-up call: set on every seek/pause/play/speed,
    so the sending task re-evaluates what is due."""

    def __init__(self, times: list[int]) -> None:
        super().__init__(times)
        self.changed = asyncio.Event()


async def _stream_replay(
    ws: web.WebSocketResponse, path: Path, video: dict[str, Any] | None
) -> None:
    loop = asyncio.get_running_loop()
    try:
        timeline = await loop.run_in_executor(None, ReplayTimeline.read, path)
    except (RecordingError, OSError) as exc:
        await ws.send_json({"type": "end", "reason": f"unreadable recording: {exc}"})
        return
    rec, frames = timeline.recording, timeline.frames
    shown_info = timeline.info_at(0)  # the shape frame 0 is drawn with, as replay() starts
    await ws.send_json(info_json(as_recorded(shown_info)))
    await ws.send_json(
        {
            "type": "timeline",
            "start_us": timeline.times[0] if frames else 0,
            "end_us": timeline.times[-1] if frames else 0,
            "frames": len(frames),
            "complete": rec.complete,
            "end_reason": rec.end.reason if rec.end else None,
            # The recorded video ({url, origin_us, ...}: a frame at t_us shows the video at
            # (t_us - origin_us) / 1e6 s) for a role that may see it, else null.
            "video": video,
        }
    )
    player = _Player(timeline.times)

    async def send_frame(index: int) -> None:
        """The frame, preceded by its body shape where that differs from the last one sent
        (crossing a shape update, or a seek across one), as the hub replay announces it."""
        nonlocal shown_info
        info = timeline.info_at(index)
        if info is not shown_info and shape_key(info) != shape_key(shown_info):
            await ws.send_json(info_json(as_recorded(info)))
        shown_info = info
        await ws.send_bytes(pack_frame(frames[index]))

    async def state() -> None:
        await ws.send_json({"type": "state", "playing": player.playing, "speed": player.speed,
                            "position_us": player.position_us()})  # fmt: skip

    async def play() -> None:
        while True:
            if not player.playing or player.at_end:
                if player.at_end and player.playing:
                    player.pause()
                    await ws.send_json({"type": "end", "reason": "replay finished"})
                    await state()
                player.changed.clear()
                await player.changed.wait()
                continue
            delay = player.due_in()
            if delay > 0:
                player.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(player.changed.wait(), delay)
                continue  # re-evaluate: a seek/pause may have happened
            await send_frame(player.index)
            player.advance()

    async def control() -> None:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                kind, value = parse_control(msg.data)
            except BadControl as exc:  # answered, and the socket stays open
                await ws.send_json({"type": "error", "error": f"bad control message: {exc}"})
                continue
            if kind == "seek":
                player.seek(value)
                # A seek while paused still shows the pose at that time.
                if not player.playing and not player.at_end:
                    await send_frame(player.index)
            elif kind == "pause":
                player.pause()
            elif kind == "play":
                player.play()
            elif kind == "speed":
                player.set_speed(value)
            else:
                continue  # unknown types are ignored: newer pages may send more
            player.changed.set()
            await state()

    player_task = asyncio.ensure_future(play())
    try:
        await control()  # returns when the browser closes the socket
    finally:
        player_task.cancel()
