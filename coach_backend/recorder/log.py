"""Durable per-session log: length-delimited ``coach.v1.StreamMessage`` records.

File = record*, record = varint(len) + StreamMessage bytes (the same framing as protobuf's
``writeDelimitedTo`` / C# ``WriteDelimitedTo``, so other languages can read it). The first record is
the SessionInfo, then PoseFrames, then - if the session ended cleanly - one StreamEnd. A later
SessionInfo record (same session) updates the session from that point on: the live pipeline
writes one when it announces the settled body shape (betas); readers keep the latest, and
``read_recording`` keeps each one's position, so that replays draw every frame with the shape
it was sent with (``player.ReplayTimeline``).

Durability: appends go to a userspace buffer that is flushed and ``os.fsync``ed when at least
``sync_interval_s`` has passed since the last sync (checked on every append; a feeding thread that
goes idle calls :meth:`SessionRecorder.maybe_sync`), and on close. A crash therefore loses at most
the last ~second. The reader tolerates the torn tail such a crash leaves (a truncated last record,
or a zero-filled tail after power loss) and reports it; anything else malformed is an error.
There is no checksum (the format is plain delimited protobuf): flipped bits inside a pose's
rotation codes cannot be detected, only broken framing, bad messages and bad pose headers.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from google.protobuf.message import DecodeError

from ..stream.codec import LAYOUT_VERSION, POSE_BYTES
from ..stream.hub import SessionHub, Subscription
from ..stream.proto_gen import coach_pb2 as pb

MAX_RECORD_BYTES = 1 << 16  # real records are < 1 KiB; a bigger length prefix means corruption
DEFAULT_SYNC_INTERVAL_S = 1.0
_BUFFER_BYTES = 1 << 16


class RecordingError(ValueError):
    """The file is not a coach recording, or is corrupted before its tail."""


def encode_varint(n: int) -> bytes:
    if n < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class SessionRecorder:
    """Appends one session to ``path`` (created exclusively: a recording is never overwritten)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        info: pb.SessionInfo,
        *,
        sync_interval_s: float = DEFAULT_SYNC_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not info.session_id:
            raise ValueError("SessionInfo.session_id must be set")
        self.path = Path(path)
        self.session_id = info.session_id
        self.sync_interval_s = sync_interval_s
        self._clock = clock
        self._lock = threading.Lock()  # append (feeder thread) vs close (any thread)
        # 64 KiB buffer (~15 s at 30 fps): the sync timer, not buffer size, decides when data
        # reaches the disk - one write + fsync per second. "x": never overwrite a recording.
        self._file: BinaryIO | None = open(self.path, "xb", buffering=_BUFFER_BYTES)  # noqa: SIM115
        self.frames_written = 0
        self._write(pb.StreamMessage(info=info).SerializeToString())
        self._sync()
        _fsync_dir(self.path.parent)  # make the new directory entry itself durable
        self._last_sync = self._clock()

    def append(self, message: pb.StreamMessage | pb.PoseFrame | bytes) -> None:
        """Append a PoseFrame (or a StreamMessage / its serialized bytes holding one), or a
        StreamMessage holding an updated SessionInfo of this session."""
        is_frame = True
        if isinstance(message, pb.PoseFrame):
            data = pb.StreamMessage(frame=message).SerializeToString()
        elif isinstance(message, pb.StreamMessage):
            kind = message.WhichOneof("kind")
            if kind == "info":
                if message.info.session_id != self.session_id:
                    raise ValueError(
                        f"info of session {message.info.session_id!r} in the recording of "
                        f"{self.session_id!r}"
                    )
                is_frame = False
            elif kind != "frame":
                raise ValueError("only frames and info can be appended; close(end) ends it")
            data = message.SerializeToString()
        else:
            data = bytes(message)
        with self._lock:
            self._write(data)
            self.frames_written += int(is_frame)
            if self._clock() - self._last_sync >= self.sync_interval_s:
                self._sync()

    def maybe_sync(self) -> bool:
        """Sync if the interval has passed (for idle feeders). Returns whether it synced."""
        with self._lock:
            if self._file is None or self._clock() - self._last_sync < self.sync_interval_s:
                return False
            self._sync()
            return True

    def close(self, end: pb.StreamEnd | None = None) -> None:
        """Write ``end`` (if given: marks a cleanly ended session), sync and close. Idempotent."""
        with self._lock:
            if self._file is None:
                return
            if end is not None:
                self._write(pb.StreamMessage(end=end).SerializeToString())
            self._sync()
            self._file.close()
            self._file = None

    @property
    def closed(self) -> bool:
        return self._file is None

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        if self._file is None:
            raise ValueError("recorder is closed")
        self._file.write(encode_varint(len(data)) + data)  # one write: the record stays together

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._last_sync = self._clock()


@dataclass
class Recording:
    """A fully read recording. ``torn_tail_bytes`` > 0: the writer died mid-record (ignored)."""

    path: Path
    info: pb.SessionInfo
    frames: list[pb.PoseFrame] = field(default_factory=list)
    end: pb.StreamEnd | None = None
    torn_tail_bytes: int = 0
    # The SessionInfo records in file order, each with the index of the first frame after it
    # (of several in a row, the last; ``info`` is the last of all): where the body shape
    # changed, for replays (``player.ReplayTimeline``).
    infos: list[tuple[int, pb.SessionInfo]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when the session was closed cleanly with a StreamEnd and nothing was torn."""
        return self.end is not None and self.torn_tail_bytes == 0


class RecordingReader:
    """Streams a recording: ``info`` is read on open and follows later SessionInfo records during
    iteration (so after it, it is the latest); iterate for PoseFrames. After iteration, ``end``
    holds the StreamEnd (None if the writer never closed) and ``torn_tail_bytes`` the size of an
    ignored truncated tail."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._data = self.path.read_bytes()  # recordings are small: ~4 KB/s at 30 fps
        self._pos = 0
        self.end: pb.StreamEnd | None = None
        self.torn_tail_bytes = 0
        first = self._next()
        if first is None or first.WhichOneof("kind") != "info" or not first.info.session_id:
            raise RecordingError(f"{self.path}: not a coach recording (no SessionInfo record)")
        if first.info.layout_version != LAYOUT_VERSION:
            raise RecordingError(
                f"{self.path}: unsupported pose layout version {first.info.layout_version}"
            )
        self.info: pb.SessionInfo = first.info

    def __iter__(self) -> Iterator[pb.PoseFrame]:
        while (msg := self._next()) is not None:
            kind = msg.WhichOneof("kind")
            if self.end is not None:
                raise RecordingError(f"{self.path}: record after StreamEnd at byte {self._pos}")
            if kind == "frame":
                # Protobuf cannot see damage inside `bytes`; check what the layout does define.
                pose = msg.frame.pose
                if len(pose) != POSE_BYTES or pose[0] != LAYOUT_VERSION:
                    raise RecordingError(f"{self.path}: bad pose blob before byte {self._pos}")
                yield msg.frame
            elif kind == "end":
                self.end = msg.end
            elif kind == "info":
                if (msg.info.session_id, msg.info.layout_version) != (
                    self.info.session_id,
                    self.info.layout_version,
                ):
                    raise RecordingError(
                        f"{self.path}: SessionInfo of another session or layout before byte "
                        f"{self._pos}"
                    )
                self.info = msg.info
            else:
                raise RecordingError(f"{self.path}: unexpected {kind} record at byte {self._pos}")

    def _next(self) -> pb.StreamMessage | None:
        """The next record, or None at EOF / at a torn tail (recorded in torn_tail_bytes)."""
        data, start = self._data, self._pos
        if start >= len(data):
            return None
        length, pos = 0, start
        for shift in range(0, 64, 7):
            if pos >= len(data):
                return self._torn(start)  # EOF inside the length prefix
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        else:
            return self._corrupt(start, "length prefix longer than 10 bytes")
        if length > MAX_RECORD_BYTES:
            return self._corrupt(start, f"record length {length} exceeds {MAX_RECORD_BYTES}")
        if pos + length > len(data):
            return self._torn(start)  # EOF inside the record
        msg = pb.StreamMessage()
        try:
            msg.ParseFromString(data[pos : pos + length])
        except DecodeError:
            return self._corrupt(start, "record is not a StreamMessage")
        if msg.WhichOneof("kind") is None:
            return self._corrupt(start, "empty record")
        self._pos = pos + length
        return msg

    def _torn(self, start: int) -> None:
        self.torn_tail_bytes = len(self._data) - start
        self._pos = len(self._data)
        return None

    def _corrupt(self, start: int, why: str) -> None:
        # A crash on a filesystem with delayed allocation can leave zeros after the last synced
        # record: that is a torn tail too, not corruption.
        if not any(self._data[start:]):
            return self._torn(start)
        raise RecordingError(f"{self.path}: corrupt at byte {start}: {why}")


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a whole recording. Raises RecordingError if it is not one or is corrupt mid-file."""
    reader = RecordingReader(path)
    frames: list[pb.PoseFrame] = []
    infos = [(0, reader.info)]
    for frame in reader:  # a SessionInfo record read before this frame replaced reader.info
        if reader.info is not infos[-1][1]:
            infos.append((len(frames), reader.info))
        frames.append(frame)
    if reader.info is not infos[-1][1]:  # one after the last frame
        infos.append((len(frames), reader.info))
    return Recording(reader.path, reader.info, frames, reader.end, reader.torn_tail_bytes, infos)


class HubRecording:
    """Records a live hub from a background thread (its own subscription, so disk stalls never
    reach the publisher). Stops by itself when the session ends; ``wait()`` for completion."""

    def __init__(
        self,
        hub: SessionHub,
        path: str | os.PathLike[str],
        *,
        queue_size: int = 4096,  # >2 min at 30 fps of disk stall before frames are dropped
        sync_interval_s: float = DEFAULT_SYNC_INTERVAL_S,
    ) -> None:
        self._sub: Subscription = hub.subscribe(peer="recorder", queue_size=queue_size)
        first = self._sub.next_message()
        assert first is not None and first.WhichOneof("kind") == "info"
        self.recorder = SessionRecorder(path, first.info, sync_interval_s=sync_interval_s)
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"recorder-{hub.session_id}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            idle_wake = min(self.recorder.sync_interval_s, 0.5)
            while True:
                data = self._sub.next_bytes(timeout=idle_wake)
                if data is None:
                    if not self._sub.stats().active:
                        break  # closed via stop()
                    self.recorder.maybe_sync()
                    continue
                msg = pb.StreamMessage.FromString(data)
                if msg.WhichOneof("kind") == "end":
                    self.recorder.close(msg.end)
                    break
                self.recorder.append(msg)  # frames, and info updates (the body shape)
        except BaseException as exc:  # surfaced via .error / wait(); the hub must not notice
            self.error = exc
        finally:
            self.recorder.close()
            self._sub.close()

    def stop(self) -> None:
        """Stop recording before the session ends (no StreamEnd is written)."""
        self._sub.close()
        self.wait()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
