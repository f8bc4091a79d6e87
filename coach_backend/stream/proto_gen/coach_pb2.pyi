from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_STATE_UNSPECIFIED: _ClassVar[SessionState]
    SESSION_STATE_LIVE: _ClassVar[SessionState]
    SESSION_STATE_ENDED: _ClassVar[SessionState]
    SESSION_STATE_RECORDED: _ClassVar[SessionState]

class CoordinateFrame(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COORDINATE_FRAME_UNSPECIFIED: _ClassVar[CoordinateFrame]
    COORDINATE_FRAME_GL_VIEWER: _ClassVar[CoordinateFrame]
SESSION_STATE_UNSPECIFIED: SessionState
SESSION_STATE_LIVE: SessionState
SESSION_STATE_ENDED: SessionState
SESSION_STATE_RECORDED: SessionState
COORDINATE_FRAME_UNSPECIFIED: CoordinateFrame
COORDINATE_FRAME_GL_VIEWER: CoordinateFrame

class SessionInfo(_message.Message):
    __slots__ = ("session_id", "body_model", "betas", "fps", "coordinate_frame", "joint_names", "layout_version", "started_time_us", "state")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_MODEL_FIELD_NUMBER: _ClassVar[int]
    BETAS_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    COORDINATE_FRAME_FIELD_NUMBER: _ClassVar[int]
    JOINT_NAMES_FIELD_NUMBER: _ClassVar[int]
    LAYOUT_VERSION_FIELD_NUMBER: _ClassVar[int]
    STARTED_TIME_US_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    body_model: str
    betas: _containers.RepeatedScalarFieldContainer[float]
    fps: float
    coordinate_frame: CoordinateFrame
    joint_names: _containers.RepeatedScalarFieldContainer[str]
    layout_version: int
    started_time_us: int
    state: SessionState
    def __init__(self, session_id: _Optional[str] = ..., body_model: _Optional[str] = ..., betas: _Optional[_Iterable[float]] = ..., fps: _Optional[float] = ..., coordinate_frame: _Optional[_Union[CoordinateFrame, str]] = ..., joint_names: _Optional[_Iterable[str]] = ..., layout_version: _Optional[int] = ..., started_time_us: _Optional[int] = ..., state: _Optional[_Union[SessionState, str]] = ...) -> None: ...

class PoseFrame(_message.Message):
    __slots__ = ("sequence", "capture_time_us", "confidence", "flags", "pose")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_US_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    POSE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    capture_time_us: int
    confidence: float
    flags: int
    pose: bytes
    def __init__(self, sequence: _Optional[int] = ..., capture_time_us: _Optional[int] = ..., confidence: _Optional[float] = ..., flags: _Optional[int] = ..., pose: _Optional[bytes] = ...) -> None: ...

class StreamEnd(_message.Message):
    __slots__ = ("reason", "frames_sent", "frames_dropped")
    REASON_FIELD_NUMBER: _ClassVar[int]
    FRAMES_SENT_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DROPPED_FIELD_NUMBER: _ClassVar[int]
    reason: str
    frames_sent: int
    frames_dropped: int
    def __init__(self, reason: _Optional[str] = ..., frames_sent: _Optional[int] = ..., frames_dropped: _Optional[int] = ...) -> None: ...

class StreamMessage(_message.Message):
    __slots__ = ("info", "frame", "end")
    INFO_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    info: SessionInfo
    frame: PoseFrame
    end: StreamEnd
    def __init__(self, info: _Optional[_Union[SessionInfo, _Mapping]] = ..., frame: _Optional[_Union[PoseFrame, _Mapping]] = ..., end: _Optional[_Union[StreamEnd, _Mapping]] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions",)
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[SessionInfo]
    def __init__(self, sessions: _Optional[_Iterable[_Union[SessionInfo, _Mapping]]] = ...) -> None: ...

class GetSessionInfoRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...
