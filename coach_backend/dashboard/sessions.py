"""Coaching sessions: tokens, lifecycle (waiting -> live <-> paused -> ended), and the glue from a
WebRTC publisher to the session's pipeline, gRPC hub and recording.

One session = one ``SessionHub`` (hosted by the gRPC server), one ``SessionRecorder`` file, one
``SessionPipeline`` fed by a ``LatestFrameWorker`` thread. Publishers come and go: a vanished
publisher pauses the session (the recording is synced to disk and stays readable); a new offer
with the athlete token resumes it; a pause longer than ``pause_timeout_s`` ends it, which closes
the recording with a StreamEnd. A session no athlete joins within ``waiting_timeout_s`` ends the
same way, and at most ``max_sessions`` exist at once (more: HTTP 429), so abandoned sessions
cannot pile up. Ending a session frees everything it holds: pipeline (threads, MediaPipe
graph), hub, recording; the GC-SSN network is loaded once and shared by all sessions.

Each session counts reps as poses arrive (``LiveRepCounter``: the same rep rule as a recording's
summary) and, once ended, keeps its exercise summary beside the recording (``<id>.summary.json``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from ..analytics import (
    AUTO,
    EXERCISE_CHOICES,
    LiveRepCounter,
    analyse_recording,
    driver_title,
)
from ..compare.report import SessionReport, write_summary
from ..ingest import IngestConfig, LatestFrameWorker, PublisherConnection, VideoViewerConnection
from ..recorder import RecordingError, RecordingReader, SessionRecorder, VideoRecorder
from ..stream import PoseStreamServer, SessionHub, make_session_info
from .native_heap import release_free_heap

log = logging.getLogger(__name__)

RECORDING_SUFFIX = ".coachrec"
META_SUFFIX = ".json"
# Beside each recording once its session ends: the session report's summary (reps, range of
# motion, tempo), the same document a replay writes as summary.json, and the report itself (the
# self-contained HTML page a replay writes as report.html), both by the one report writer.
SUMMARY_SUFFIX = ".summary.json"
REPORT_SUFFIX = ".report.html"


class Role(StrEnum):
    ATHLETE = "athlete"  # publishes video
    COACH = "coach"  # views and controls (ends the session)
    VIEWER = "viewer"  # read-only
    ADMIN = "admin"  # the server's key: creates and lists sessions


VIEW_ROLES = frozenset({Role.COACH, Role.VIEWER, Role.ADMIN})
CONTROL_ROLES = frozenset({Role.COACH, Role.ADMIN})
# The athlete's camera image (live and recorded) is for the coach: a viewer sees poses only.
VIDEO_ROLES = CONTROL_ROLES


class SessionState(StrEnum):
    WAITING = "waiting"  # created, no publisher yet
    LIVE = "live"
    PAUSED = "paused"  # publisher gone; a reconnect resumes
    ENDED = "ended"


class AuthError(Exception):
    """``status`` is the HTTP status: 401 missing/expired, 403 wrong token, 404 unknown session."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SessionConflict(Exception):
    """The session cannot do that now (e.g. publish to an ended session): HTTP 409."""


class PipelineUnavailable(Exception):
    """The session's pipeline failed to build (HTTP 503)."""


class SessionLimit(Exception):
    """``max_sessions`` sessions exist already (HTTP 429)."""


class Pipeline(Protocol):
    """What we need from ``coach_backend.pipeline.SessionPipeline``."""

    def submit(
        self, frame_bgr: Any, capture_time_us: int, on_result: Callable[[Any], None] | None = None
    ) -> None: ...

    def close(self, reason: str) -> None: ...


# (session_id, hub, recorder) -> pipeline; default builds SessionPipeline(PipelineConfig()).
PipelineFactory = Callable[[str, SessionHub, SessionRecorder], Pipeline]


def default_pipeline_factory(config: Any = None) -> PipelineFactory:
    """Builds ``SessionPipeline(config)`` per session (``PipelineConfig()`` by default), its
    MediaPipe graph warmed up (``SessionPipeline.warm_up``) so that the athlete's first frame
    gets its pose without the graph's slow first run. The GC-SSN network is loaded by the first
    session and lent to every later one: it is read-only at inference (eval mode, no grad), so
    sessions may run it at once, and a load per session cost ~0.2 s and 13 MB of allocations
    that the allocator kept after the session ended."""
    lock = threading.Lock()  # sessions are built on executor threads, possibly two at once
    with_shared_network: list[Any] = []  # the PipelineConfig, set by the first session built

    def make(session_id: str, hub: SessionHub, recorder: SessionRecorder) -> Pipeline:
        from ..pipeline import PipelineConfig, SessionPipeline  # heavy: models, mediapipe

        with lock:  # a session built while the first loads waits for its network
            base = with_shared_network[0] if with_shared_network else config or PipelineConfig()
            pipeline = SessionPipeline(session_id, base, hub=hub, recorder=recorder)
            if not with_shared_network:
                with_shared_network.append(replace(base, weights=pipeline.reconstructor.net))
        try:
            pipeline.warm_up()  # outside the lock: sessions built at once warm up at once
        except Exception:
            pipeline.close("failed to start")
            raise
        return pipeline

    return make


@dataclass(frozen=True)
class ManagerConfig:
    """The lifecycle limits have no defaults here: the live server sets them (its defaults are
    ``coach_backend.serve.ServeConfig``'s)."""

    recordings_dir: Path
    admin_token: str
    token_ttl_s: float  # session tokens (live control and replay) expire
    pause_timeout_s: float  # a paused session ends after this long without a publisher
    waiting_timeout_s: float  # a session no athlete has joined ends after this long
    max_sessions: int  # sessions at once (waiting, live or paused)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    fps: float = 30.0  # nominal rate announced in SessionInfo

    def __post_init__(self) -> None:
        if min(self.token_ttl_s, self.pause_timeout_s, self.waiting_timeout_s) <= 0:
            raise ValueError("token_ttl_s, pause_timeout_s and waiting_timeout_s must be > 0")
        if self.max_sessions < 1:
            raise ValueError("max_sessions must be >= 1")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class SessionTokens:
    athlete: str
    coach: str
    viewer: str

    @classmethod
    def new(cls) -> SessionTokens:
        return cls(*(secrets.token_urlsafe(24) for _ in range(3)))


@dataclass
class _Timing:
    """Last pipeline result summary, for the dashboard's stats line."""

    latency_ms: dict[str, float] = field(default_factory=dict)
    valid: bool = False


class Session:
    """A live (or just ended) session held in memory. Mutated only on the event loop, except
    ``timing`` (written by the worker thread, read as a whole dict swap)."""

    def __init__(
        self, session_id: str, tokens: SessionTokens, expires_at: float, path: Path
    ) -> None:
        self.id = session_id
        self.tokens = tokens
        self.created_at = time.time()
        self.expires_at = expires_at
        self.recording_path = path
        self.state = SessionState.WAITING
        self.state_reason = ""
        self.hub: SessionHub | None = None
        self.recorder: SessionRecorder | None = None
        self.pipeline: Pipeline | None = None
        self.pipeline_ready: asyncio.Future[Pipeline] | None = None
        self.worker: LatestFrameWorker | None = None
        self.publisher: PublisherConnection | None = None
        self.video: VideoRecorder | None = None  # the athlete's video beside the recording
        self.video_viewers: set[VideoViewerConnection] = set()
        self.connects = 0
        self.timing = _Timing()
        # time.monotonic() when the server received the session's first video frame (set on
        # the event loop) and when its first pose left the pipeline (set on the pipeline's
        # thread): their difference is the athlete's wait for a first skeleton.
        self.first_frame_at: float | None = None
        self.first_pose_at: float | None = None
        self.end_task: asyncio.Task[None] | None = None  # ends it unless an athlete (re)joins
        self.paused_at: float | None = None
        self.closed = asyncio.Event()  # set once end() has released everything
        # The live rep counter (fed by the pipeline thread) and what it counts: "auto" or the
        # coach's choice, which the end-of-session summary then uses too.
        self.reps = LiveRepCounter()
        self.exercise = AUTO

    @property
    def reported_state(self) -> str:
        """The state clients see: "ending" from the moment the session is ended until all it
        held is released (recording closed, summary and report written); only then "ended", so
        a client told "ended" finds the recording complete and the report there."""
        if self.state == SessionState.ENDED and not self.closed.is_set():
            return "ending"
        return str(self.state)

    @property
    def first_pose_ms(self) -> float | None:
        """Milliseconds from the first video frame received to the first pose published (the
        session's first, not a resume's); None until a pose went out."""
        if self.first_frame_at is None or self.first_pose_at is None:
            return None
        return round((self.first_pose_at - self.first_frame_at) * 1e3, 1)

    def token_hashes(self) -> dict[str, str]:
        t = self.tokens
        return {Role.ATHLETE: _hash(t.athlete), Role.COACH: _hash(t.coach),
                Role.VIEWER: _hash(t.viewer)}  # fmt: skip

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "state": self.reported_state,
            "state_reason": self.state_reason,
            "created_us": int(self.created_at * 1e6),
            "live": self.state in (SessionState.WAITING, SessionState.LIVE, SessionState.PAUSED),
            "recording": self.recording_path.name,
            "connects": self.connects,
            "first_pose_ms": self.first_pose_ms,
        }
        if self.hub is not None:
            out["frames"] = self.hub.stats().published
        if self.worker is not None:
            ws = self.worker.stats()
            out["fps"] = round(ws.fps, 2)
            out["dropped"] = ws.dropped
            out["process_ms"] = round(ws.process_ms, 2)
        out["latency_ms"] = {k: round(v, 2) for k, v in self.timing.latency_ms.items()}
        out["exercise"] = self.exercise
        out["exercise_choices"] = list(EXERCISE_CHOICES)
        out["reps"] = self.rep_status()
        out["video_viewers"] = len(self.video_viewers)
        if self.publisher is not None:
            ps = self.publisher.stats()
            out["publisher"] = {"state": ps.state, "frames": ps.frames,
                                "width": ps.width, "height": ps.height}  # fmt: skip
        return out

    def rep_status(self) -> dict[str, Any] | None:
        """The rep counter's latest status; starts a refresh off the event loop when one is due
        (nobody watching: no refresh, no work)."""
        if self.reps.claim_refresh(self.exercise):
            betas = list(self.hub.info.betas) if self.hub is not None else []
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on the loop: refresh here
                _refresh_reps(self, self.exercise, betas)
            else:
                with contextlib.suppress(RuntimeError):  # the executor stops with the server
                    loop.run_in_executor(None, _refresh_reps, self, self.exercise, betas)
        return self.reps.status


def _refresh_reps(session: Session, exercise: str, betas: list[float]) -> None:
    try:
        session.reps.refresh(exercise, betas)
    except Exception:  # the counter is a view: it must never take the session down
        log.exception("rep counter of %s failed", session.id)


class SessionManager:
    """All sessions of one server. Every public coroutine runs on the server's event loop."""

    def __init__(
        self,
        config: ManagerConfig,
        grpc_server: PoseStreamServer,
        pipeline_factory: PipelineFactory | None = None,
    ) -> None:
        self.config = config
        self.grpc = grpc_server
        self._factory = pipeline_factory or default_pipeline_factory()
        self._sessions: dict[str, Session] = {}
        self._creating = 0  # create() calls between the limit check and the registration
        self._recordings_cache: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {}
        config.recordings_dir.mkdir(parents=True, exist_ok=True)

    # -- auth --
    def authorize(self, session_id: str, token: str | None, roles: frozenset[Role]) -> Role:
        """The role ``token`` holds on ``session_id`` if it is one of ``roles``; else AuthError."""
        if not token:
            raise AuthError(401, "missing token (Authorization: Bearer ... or ?token=)")
        if Role.ADMIN in roles and self.is_admin(token):
            return Role.ADMIN
        session = self._sessions.get(session_id)
        if session is not None:
            hashes, expires = session.token_hashes(), session.expires_at
        else:
            meta = self._read_meta(session_id)
            if meta is None:
                raise AuthError(404, f"unknown session {session_id!r}")
            hashes, expires = meta.get("token_sha256", {}), float(meta.get("expires_at", 0))
        presented = _hash(token)
        matched = [Role(r) for r, h in hashes.items() if hmac.compare_digest(h, presented)]
        if not matched:
            raise AuthError(403, "token not valid for this session")
        if time.time() > expires:
            raise AuthError(401, "token expired")
        role = matched[0]
        if role not in roles:
            raise AuthError(403, f"a {role} token cannot do this")
        return role

    def is_admin(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(
            _hash(token or ""), _hash(self.config.admin_token)
        )

    def roles_of(self, token: str) -> dict[str, Role]:
        """Sessions (live and recorded) that ``token`` unlocks, with its role on each."""
        out: dict[str, Role] = {}
        presented = _hash(token)
        for s in self._sessions.values():
            for role, h in s.token_hashes().items():
                if hmac.compare_digest(h, presented) and time.time() <= s.expires_at:
                    out[s.id] = Role(role)
        return out

    # -- lifecycle --
    async def create(self) -> tuple[Session, SessionTokens]:
        """A new waiting session, or :class:`SessionLimit` when ``max_sessions`` exist."""
        if len(self._sessions) + self._creating >= self.config.max_sessions:
            raise SessionLimit(
                f"{self.config.max_sessions} sessions exist already; end one or try later"
            )
        self._creating += 1
        try:
            return await self._create()
        finally:
            self._creating -= 1

    async def _create(self) -> tuple[Session, SessionTokens]:
        session_id = time.strftime("s%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        tokens = SessionTokens.new()
        path = self.config.recordings_dir / f"{session_id}{RECORDING_SUFFIX}"
        session = Session(session_id, tokens, time.time() + self.config.token_ttl_s, path)
        # body_model: the default body, which the default pipeline runs (a pipeline running
        # another one corrects it before its first frame).
        info = make_session_info(session_id, fps=self.config.fps)
        # gRPC subscribers (headset, recorder tools) use the coach or viewer token.
        loop = asyncio.get_running_loop()
        # SessionRecorder fsyncs the new file and its directory: off the loop.
        session.recorder = await loop.run_in_executor(None, SessionRecorder, path, info)
        session.hub = self.grpc.add_session(info, token=(tokens.coach, tokens.viewer))
        self._sessions[session_id] = session
        self._write_meta(session)
        # Build the pipeline now, off the loop (loads models: seconds), so the offer is quick.
        hub, recorder = session.hub, session.recorder
        session.pipeline_ready = asyncio.ensure_future(
            loop.run_in_executor(None, self._factory, session_id, hub, recorder)
        )
        session.end_task = asyncio.ensure_future(self._end_if_unclaimed(session))
        return session, tokens

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def live_sessions(self) -> list[Session]:
        return list(self._sessions.values())

    async def publish(self, session_id: str, offer_sdp: str) -> str:
        """Accept an athlete's SDP offer (first connect or resume); returns the SDP answer."""
        session = self._sessions.get(session_id)
        if session is None or session.state == SessionState.ENDED:
            raise SessionConflict("session has ended")
        assert session.pipeline_ready is not None
        try:
            pipeline = await session.pipeline_ready
        except Exception as exc:  # e.g. GC-SSN weights missing: say so instead of a bare 500
            raise PipelineUnavailable(f"pipeline could not start: {exc}") from exc
        session.pipeline = pipeline
        if session.worker is None:
            # The worker thread runs perception; the pipeline's own thread runs the rest and
            # reports each result (two cores in use; a busy pipeline makes the worker drop).
            session.worker = LatestFrameWorker(
                lambda frame, t_us: pipeline.submit(
                    frame.to_ndarray(format="bgr24"),
                    t_us,
                    on_result=lambda result: _record_result(session, result),
                ),
                name=f"pipeline-{session_id}",
            )
        if session.video is None:
            session.video = VideoRecorder(session.recording_path, name=f"video-{session_id}")
        old = session.publisher
        worker, video = session.worker, session.video

        def sink(frame: Any, capture_time_us: int) -> None:
            if session.first_frame_at is None:
                session.first_frame_at = time.monotonic()
            worker.submit(frame, capture_time_us)
            video.submit(frame, capture_time_us)  # same capture time: video and poses align

        this: list[PublisherConnection] = []

        async def gone(reason: str) -> None:
            if this and session.publisher is this[0]:  # a replaced publisher must not pause
                await self._close_video_viewers(session)
                await self._pause(session, reason)

        conn = PublisherConnection(self.config.ingest, sink, gone)
        this.append(conn)
        answer = await conn.accept(offer_sdp)  # InvalidOffer propagates (HTTP 400)
        if session.state == SessionState.ENDED:  # ended while we negotiated
            await conn.close()
            raise SessionConflict("session has ended")
        session.publisher = conn
        session.connects += 1
        if old is not None:  # a reconnect replaces the previous publisher (e.g. page reload)
            await self._close_video_viewers(session)  # their track was the old publisher's
            await old.close("replaced by a new publisher")
        if session.end_task is not None:
            session.end_task.cancel()
            session.end_task = None
        session.paused_at = None
        session.state, session.state_reason = SessionState.LIVE, ""
        self._write_meta(session)
        return answer.sdp

    async def watch_video(self, session_id: str, offer_sdp: str) -> str:
        """A coach's recvonly offer for the athlete's live video; returns the SDP answer.
        SessionConflict (409) without a live publisher video, SessionLimit (429) past the cap."""
        session = self._sessions.get(session_id)
        if session is None or session.state != SessionState.LIVE or session.publisher is None:
            raise SessionConflict("no live athlete video in this session now")
        cap = self.config.ingest.max_video_viewers
        if len(session.video_viewers) >= cap:
            raise SessionLimit(f"{cap} video viewers watch this session already")
        track = session.publisher.subscribe_video()
        if track is None:
            raise SessionConflict("the athlete's video has not arrived yet")
        holder: list[VideoViewerConnection] = []
        conn = VideoViewerConnection(
            self.config.ingest, track, lambda: session.video_viewers.difference_update(holder)
        )
        holder.append(conn)
        session.video_viewers.add(conn)  # counted before the await: the cap holds under races
        answer = await conn.accept(offer_sdp)  # InvalidOffer propagates (HTTP 400)
        return answer.sdp

    @staticmethod
    async def _close_video_viewers(session: Session) -> None:
        for conn in list(session.video_viewers):
            try:
                await conn.close()
            except Exception:
                log.exception("closing a video viewer of %s failed", session.id)
        session.video_viewers.clear()

    async def end(self, session_id: str, reason: str = "ended by coach") -> None:
        """End the session and release all it holds; returns once that is done (also when
        another caller is ending it: shutdown must not exit before the recording is closed)."""
        session = self._sessions.get(session_id)
        if session is None:
            return
        if session.state == SessionState.ENDED:
            await session.closed.wait()
            return
        session.state, session.state_reason = SessionState.ENDED, reason
        if session.end_task is not None and session.end_task is not asyncio.current_task():
            session.end_task.cancel()
        try:
            await self._release(session, reason)
        finally:
            session.closed.set()
        log.info("session %s ended: %s", session_id, reason)

    async def _release(self, session: Session, reason: str) -> None:
        session_id = session.id
        if session.pipeline is None and session.pipeline_ready is not None:
            # A pipeline still being built must be closed too, or its threads and models
            # outlive the session.
            with contextlib.suppress(Exception):  # failed to build: nothing to close
                session.pipeline = await asyncio.shield(session.pipeline_ready)
        await self._close_video_viewers(session)
        if session.publisher is not None:
            try:
                await session.publisher.close(reason)
            except Exception:  # the recording must still be closed below
                log.exception("closing the publisher of %s failed", session_id)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._close_blocking, session, reason)
        self.grpc.remove_session(session_id, reason)  # already ended: just stop hosting it
        await loop.run_in_executor(None, self._write_summary, session)
        self._write_meta(session)
        # Forget it: memory stays bounded; auth, listing and replay go through the files now.
        self._sessions.pop(session_id, None)
        # What the session's threads and MediaPipe graph freed stays in malloc's arenas (RSS)
        # unless handed back; ~10 ms, off the loop.
        await loop.run_in_executor(None, release_free_heap)

    async def shutdown(self, reason: str = "server shutting down") -> None:
        for sid in list(self._sessions):
            await self.end(sid, reason)

    async def _end_if_unclaimed(self, session: Session) -> None:
        timeout = self.config.waiting_timeout_s
        await asyncio.sleep(timeout)
        if session.state == SessionState.WAITING:  # (a publisher cancels this task)
            session.end_task = None
            await self.end(session.id, f"no athlete joined within {timeout:g} s")

    async def _pause(self, session: Session, reason: str) -> None:
        if session.state in (SessionState.ENDED, SessionState.PAUSED):
            return
        session.state, session.state_reason = SessionState.PAUSED, reason
        session.paused_at = time.time()
        self._write_meta(session)
        session.end_task = asyncio.ensure_future(self._end_after_pause(session))

    async def _end_after_pause(self, session: Session) -> None:
        deadline = time.monotonic() + self.config.pause_timeout_s
        rec = session.recorder
        # While paused, flush the recording (the worker is idle, so nobody else would): the file
        # on disk is then complete up to the last pose and readable by the replay.
        while time.monotonic() < deadline:
            if rec is not None:
                with contextlib.suppress(ValueError):
                    await asyncio.get_running_loop().run_in_executor(None, rec.maybe_sync)
            await asyncio.sleep(min(0.5, max(deadline - time.monotonic(), 0.0)))
        session.end_task = None
        await self.end(
            session.id, f"publisher did not return within {self.config.pause_timeout_s:g} s"
        )

    def set_exercise(self, session_id: str, exercise: str) -> None:
        """What the session's reps are counted on from now (live counter and final summary)."""
        if exercise not in EXERCISE_CHOICES:
            raise ValueError(f"exercise must be one of {', '.join(EXERCISE_CHOICES)}")
        session = self._sessions.get(session_id)
        if session is None or session.state == SessionState.ENDED:
            raise SessionConflict("session has ended")
        session.exercise = exercise
        self._write_meta(session)

    def summary_path(self, session_id: str) -> Path | None:
        meta = self._meta_path(session_id)
        return None if meta is None else meta.with_name(f"{session_id}{SUMMARY_SUFFIX}")

    def report_path(self, session_id: str) -> Path | None:
        """Where the session's HTML report is (or will be, once it has ended)."""
        meta = self._meta_path(session_id)
        return None if meta is None else meta.with_name(f"{session_id}{REPORT_SUFFIX}")

    def _write_summary(self, session: Session) -> None:
        """The ended session's report beside its recording, from the recording, by the one
        report writer: ``<id>.report.html`` (plots, skeleton key frames, reps) and
        ``<id>.summary.json`` (reps: count, range of motion, tempo), as a replay's report.html
        and summary.json. The page is written first, so a listed summary has its page (unless
        drawing it failed). Never fails the ending."""
        summary_path, report_path = self.summary_path(session.id), self.report_path(session.id)
        assert summary_path is not None and report_path is not None
        try:
            analysis, _, note = analyse_recording(session.recording_path, session.exercise)
            report = SessionReport(analysis, session.recording_path.name, note=note)
        except Exception:
            log.exception("the recording of %s could not be analysed", session.id)
            return
        try:
            tmp = report_path.with_suffix(".tmp")
            tmp.write_text(report.html(), encoding="utf-8")
            os.replace(tmp, report_path)  # atomic: a link never opens half a page
        except Exception:
            log.exception("report of %s could not be written", session.id)
        try:
            tmp = summary_path.with_suffix(".tmp")
            write_summary(tmp, report.summary())
            os.replace(tmp, summary_path)  # atomic: the listing never reads half a summary
        except Exception:
            log.exception("summary of %s could not be written", session.id)

    @staticmethod
    def _close_blocking(session: Session, reason: str) -> None:
        if session.worker is not None:
            session.worker.stop()
        if session.video is not None:
            session.video.close()  # encodes what is queued and finishes the file
        pipeline = session.pipeline
        if (
            pipeline is None
            and session.pipeline_ready is not None
            and session.pipeline_ready.done()
        ):
            with contextlib.suppress(Exception):
                pipeline = session.pipeline_ready.result()
        if pipeline is not None:
            try:
                pipeline.close(reason)  # ends the hub and closes the recorder (with StreamEnd)
            except Exception:
                log.exception("pipeline.close failed for %s", session.id)
        # Idempotent backstops, e.g. when the pipeline never got built; the recording first, as
        # the pipeline does: whoever hears the end finds the file closed.
        if session.recorder is not None:
            from ..stream import pb

            sent = session.hub.stats().published if session.hub is not None else 0
            session.recorder.close(pb.StreamEnd(reason=reason, frames_sent=sent))
        if session.hub is not None:
            session.hub.end(reason)

    # -- recordings --
    def _meta_path(self, session_id: str) -> Path | None:
        if not session_id or "/" in session_id or session_id.startswith("."):
            return None  # ids become file names: no path tricks
        return self.config.recordings_dir / f"{session_id}{META_SUFFIX}"

    def _read_meta(self, session_id: str) -> dict[str, Any] | None:
        path = self._meta_path(session_id)
        if path is None or not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None

    def _write_meta(self, session: Session) -> None:
        path = self._meta_path(session.id)
        assert path is not None
        meta = {
            "id": session.id,
            "created_us": int(session.created_at * 1e6),
            "expires_at": session.expires_at,
            "state": str(session.state),
            "state_reason": session.state_reason,
            "recording": session.recording_path.name,
            "exercise": session.exercise,
            "token_sha256": session.token_hashes(),  # hashes only: the file leaks no token
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=1))
        os.replace(tmp, path)  # atomic: a crash leaves the old or the new meta, never half

    def recording_path(self, session_id: str) -> Path | None:
        meta = self._meta_path(session_id)
        if meta is None:
            return None
        path = meta.with_suffix(RECORDING_SUFFIX)
        return path if path.is_file() else None

    def recordings(self) -> list[dict[str, Any]]:
        """Every recording on disk (live ones included, read up to their synced tail)."""
        out = []
        for path in sorted(self.config.recordings_dir.glob(f"*{RECORDING_SUFFIX}")):
            summary = self._recording_summary(path)
            if summary is not None:
                out.append(summary)
        return out

    def _recording_summary(self, path: Path) -> dict[str, Any] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        summary_path = path.with_name(f"{path.stem}{SUMMARY_SUFFIX}")
        try:
            summary_mtime = summary_path.stat().st_mtime_ns
        except OSError:  # none yet: written once the session has ended
            summary_mtime = 0
        key = (st.st_size, st.st_mtime_ns, summary_mtime)
        cached = self._recordings_cache.get(path.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            reader = RecordingReader(path)
            first = last = None
            n = 0
            for frame in reader:
                first = frame.capture_time_us if first is None else first
                last = frame.capture_time_us
                n += 1
        except (RecordingError, OSError) as exc:
            return {"id": path.stem, "file": path.name, "error": str(exc)}
        summary = {
            "id": reader.info.session_id,
            "file": path.name,
            "started_us": reader.info.started_time_us,
            "frames": n,
            "duration_s": 0.0 if first is None or last is None else (last - first) / 1e6,
            "complete": reader.end is not None and reader.torn_tail_bytes == 0,
            "end_reason": reader.end.reason if reader.end is not None else None,
            "bytes": st.st_size,
            "reps": _summary_reps(summary_path) if summary_mtime else None,
            "report": path.with_name(f"{path.stem}{REPORT_SUFFIX}").is_file(),
        }
        self._recordings_cache[path.name] = (key, summary)
        return summary


def _summary_reps(path: Path) -> dict[str, Any] | None:
    """{exercise, auto, driver_title, count} from a session's summary file (None if unreadable
    or no analysis). With ``auto`` no exercise was given: ``exercise`` is only the driver's."""
    try:
        reps = (json.loads(path.read_text()).get("session") or {}).get("reps")
        if not reps:
            return None
        return {"exercise": reps["exercise"], "auto": bool(reps["auto"]),
                "driver_title": driver_title(reps["driver"]), "count": reps["count"]}  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _record_result(session: Session, result: Any) -> None:
    """Each pipeline result (a `PipelineResult`, on the pipeline's thread): its timing for the
    stats line, its wire pose for the rep counter, and when the first pose went out."""
    if session.first_pose_at is None:
        session.first_pose_at = time.monotonic()
    _record_timing(session, result)
    pose = getattr(result, "pose", None)
    if pose:
        session.reps.add(pose, int(result.capture_time_us))


def _record_timing(session: Session, result: Any) -> None:
    """Per-stage milliseconds of the latest result (a `PipelineResult`), frame in -> pose out as
    "total"."""
    lat = getattr(result, "latency_ms", None)
    stages: dict[str, float] = {}
    if lat is not None and hasattr(lat, "__dataclass_fields__"):
        stages = {k: float(getattr(lat, k)) for k in lat.__dataclass_fields__}
        stages["total"] = float(lat.total)
    session.timing = _Timing(stages, bool(getattr(result, "valid", False)))
