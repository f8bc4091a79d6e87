"""One live coaching session: BGR frames in, smoothed SMPL + compact pose stream out.

    pipeline = SessionPipeline("s1", PipelineConfig(), hub=hub, recorder=recorder)
    result = pipeline.process(frame_bgr, capture_time_us)   # any source: file, WebRTC, camera
    result.frame (SmplFrame, camera frame), result.valid, result.pose (104 bytes),
    result.latency_ms (perception, queued, gcssn, smoothing, publish)
    pipeline.submit(frame_bgr, capture_time_us, on_result)  # live: 2 stages on 2 threads
    pipeline.close("ended")                                 # ends the hub, closes the recorder

Flow: MediaPipe representation -> GC-SSN -> causal smoothing -> wire frame -> hub + recorder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach_backend.lazy import lazy_exports

if TYPE_CHECKING:  # what the lazy names are, for type checkers and readers
    from coach_backend.pipeline.session import Perceived as Perceived
    from coach_backend.pipeline.session import PipelineConfig as PipelineConfig
    from coach_backend.pipeline.session import PipelineResult as PipelineResult
    from coach_backend.pipeline.session import PipelineStats as PipelineStats
    from coach_backend.pipeline.session import SessionPipeline as SessionPipeline
    from coach_backend.pipeline.session import StageLatency as StageLatency
    from coach_backend.pipeline.session import StageSummary as StageSummary
    from coach_backend.pipeline.session import perceive as perceive
    from coach_backend.pipeline.wire import WireEncoder as WireEncoder

# Imported on first use (coach_backend.lazy): a command's --help and the light
# modules of this package do not pay for the others' imports.
__getattr__, __dir__, _LAZY = lazy_exports(
    __name__,
    {
        "session": (
            "Perceived",
            "PipelineConfig",
            "PipelineResult",
            "PipelineStats",
            "SessionPipeline",
            "StageLatency",
            "StageSummary",
            "perceive",
        ),
        "wire": ("WireEncoder",),
    },
)

__all__ = _LAZY  # every public name is a lazy one
