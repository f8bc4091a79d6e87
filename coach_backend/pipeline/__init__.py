"""One live coaching session: BGR frames in, smoothed SMPL + compact pose stream out.

    pipeline = SessionPipeline("s1", PipelineConfig(), hub=hub, recorder=recorder)
    result = pipeline.process(frame_bgr, capture_time_us)   # any source: file, WebRTC, camera
    result.frame (SmplFrame, camera frame), result.valid, result.pose (104 bytes),
    result.latency_ms (perception, queued, gcssn, smoothing, publish)
    pipeline.submit(frame_bgr, capture_time_us, on_result)  # live: 2 stages on 2 threads
    pipeline.close("ended")                                 # ends the hub, closes the recorder

Flow: MediaPipe representation -> GC-SSN -> causal smoothing -> wire frame -> hub + recorder.
"""

from coach_backend.pipeline.session import (
    Perceived,
    PipelineConfig,
    PipelineResult,
    PipelineStats,
    SessionPipeline,
    StageLatency,
    StageSummary,
    perceive,
)
from coach_backend.pipeline.wire import WireEncoder

__all__ = [
    "Perceived",
    "PipelineConfig",
    "PipelineResult",
    "PipelineStats",
    "SessionPipeline",
    "StageLatency",
    "StageSummary",
    "WireEncoder",
    "perceive",
]
