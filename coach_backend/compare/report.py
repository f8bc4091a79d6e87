"""The session report: one self-contained HTML page (plots and pictures inline as base64) and a
JSON summary, for one take, plus its comparison with a reference when one is given.

One writer for every caller (:class:`SessionReport`): ``python -m coach_backend.compare``, the
end of a replay, and the live server's end-of-session summary. Plots are drawn with
matplotlib's object API on Agg (no pyplot state, no display needed).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from coach_backend.analytics import (
    ANGLE_INDEX,
    ANGLE_NAMES,
    ANGLES,
    PHASE_NAMES,
    AngleTrack,
    Comparison,
    ExerciseReps,
    KeyMoment,
    SessionAnalysis,
    angle_title,
    driver_title,
)
from coach_backend.body.skeleton import SMPL_JOINT_NAMES, SMPL_PARENTS
from coach_backend.compare.names import OUTPUT_NAMES, REPORT_NAME, SUMMARY_NAME

FORMAT = "coach_backend.report/1"
REFERENCE_COLOR, ATTEMPT_COLOR = "#222222", "#e0661b"
REP_COLOR = "#1f77b4"
# Cell colour of the per-phase table saturates at this difference (degrees).
FULL_SCALE_DEG = 20.0
DPI = 96
# Video key frames are scaled to this height (one row reads as a strip) and stored as JPEG: a
# page of a few hundred kB rather than megabytes of PNG.
KEY_FRAME_HEIGHT = 250
KEY_FRAME_JPEG_QUALITY = 85


@dataclass(frozen=True)
class KeyFrameImage:
    """A video frame at a key moment with the body drawn over it (BGR, uint8)."""

    moment: KeyMoment
    image_bgr: np.ndarray


@dataclass(frozen=True)
class SessionReport:
    """What one report shows: a take's analysis (None: nothing to analyse, ``note`` says why),
    where the take came from, and its comparison with a reference when there is one."""

    session: SessionAnalysis | None
    take: str
    comparison: Comparison | None = None
    reference: str | None = None
    key_frames: Sequence[KeyFrameImage] = ()
    note: str = ""

    def summary(self) -> dict[str, object]:
        """The JSON summary (summary.json; a live session's <id>.summary.json)."""
        doc: dict[str, object] = {
            "format": FORMAT,
            "take_path": self.take,
            "session": None if self.session is None else self.session.summary(),
            "comparison": None,
        }
        if self.note:
            doc["note"] = self.note
        if self.comparison is not None:
            doc["comparison"] = {
                "reference_path": self.reference,
                "worst_sentence": worst_sentence(self.comparison),
                **self.comparison.summary(),
            }
        return doc

    def html(self) -> str:
        return render_html(self)

    def write(self, out_dir: Path) -> list[Path]:
        """Write OUT/report.html and OUT/summary.json (OUTPUT_NAMES); returns their paths."""
        out_dir.mkdir(parents=True, exist_ok=True)
        summary = write_summary(out_dir / SUMMARY_NAME, self.summary())
        report_path = out_dir / REPORT_NAME
        report_path.write_text(self.html(), encoding="utf-8")
        return [report_path, summary]


def write_summary(path: Path, doc: dict[str, object]) -> Path:
    path.write_text(json.dumps(doc, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def worst_sentence(result: Comparison) -> str:
    """One line for the coach, e.g. "Left knee flexion in the bottom phase: 19.9 deg less than
    the reference (mean over the phase)"."""
    w = result.worst
    if w is None:
        return "No phase long enough to compare."
    more_less = "more" if w.mean_diff_deg > 0 else "less"
    return (
        f"{angle_title(w.angle)} in the {w.phase} phase: {abs(w.mean_diff_deg):.1f}\u00b0 "
        f"{more_less} than the reference (mean over the phase)"
    )


def render_html(report: SessionReport) -> str:
    comparison = report.comparison
    title = "Session report" + (" and comparison" if comparison is not None else "")
    if report.session is None:
        sections = [
            f"<h1>{title}</h1><ul class='meta'><li>Take: <code>{_e(report.take)}</code></li>"
            f"</ul><p class='warn'>Nothing to analyse: "
            f"{_e(report.note or 'no frame with a person')}.</p>"
        ]
    else:
        compared = comparison is not None
        sections = _session_sections(report.session, report.take, report.key_frames, compared)
        if comparison is not None:
            sections += _comparison_sections(comparison, report.reference or "")
    sections.append(
        "<p class='foot'>Angle definitions, rep rule and comparison method: "
        "docs/analytics.md. Numbers: summary.json.</p>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}: {_e(report.take)}</title><style>{_CSS}</style>"
        f"</head><body>{''.join(sections)}</body></html>\n"
    )


def _session_sections(
    session: SessionAnalysis, take: str, key_frames: Sequence[KeyFrameImage], compared: bool
) -> list[str]:
    track, reps = session.track, session.reps
    seen = 100.0 * track.valid.mean()
    of = " of the reference" if compared else ""
    how = (
        f"No exercise was given: reps are counted on the angle with the largest periodic "
        f"range{of} (name the exercise with <code>--exercise</code>, or on the live page)."
        if reps.auto
        else "The exercise was given (<code>--exercise</code>, or the coach's choice on the "
        "live page)."
    )
    sections = [
        "<h1>Session report</h1>"
        f"<ul class='meta'><li>Take: <code>{_e(take)}</code> ({track.duration_s:.1f} s, "
        f"{len(track.times)} frames, person seen in {seen:.0f} %)</li>"
        f"<li class='headline'><b>{_e(session.headline())}</b> (driver: mean of left and "
        f"right)</li><li>{how}</li></ul>"
    ]
    moments = session.key_moments()
    if key_frames:
        sections.append(
            "<h2>Key frames</h2><p>The video with the reconstructed body drawn over it.</p>"
            + _key_frame_images(key_frames)
        )
    elif moments and track.joints is not None:
        sections.append(
            "<h2>Key frames</h2><p>The reconstructed skeleton, front and side, turned to face "
            "the viewer; the joints the reps are counted on are marked.</p>"
            + _key_moments_figure(track, reps, moments)
        )
    sections += [
        "<h2>Reps</h2><p>The driver angle (smoothed, as the reps are found on it); shaded: "
        "each rep (darker: held at the extreme).</p>"
        + _take_reps_figure(track, reps)
        + _reps_table(reps),
        "<h2>Joint angles</h2><p>Every angle of the take over time; the reps shaded.</p>"
        + _take_angles_figure(track, reps),
    ]
    return sections


def _comparison_sections(result: Comparison, reference: str) -> list[str]:
    ref_reps, att_reps = result.reference_reps, result.attempt_reps
    warn = ""
    if len(ref_reps.reps) != len(att_reps.reps):
        warn = (
            f'<p class="warn">The take has {len(att_reps.reps)} reps, the reference '
            f"{len(ref_reps.reps)}: the alignment pairs them as best it can; compare like "
            "with like for per-phase numbers that mean what they say.</p>"
        )
    stride = (
        f"<li>Both takes decimated by {result.stride} before aligning (long takes).</li>"
        if result.stride > 1
        else ""
    )
    sections = [
        "<h1 class='part'>Comparison with the reference</h1>"
        f"<ul class='meta'><li>Reference: <code>{_e(reference)}</code> "
        f"({result.reference.duration_s:.1f} s, {len(ref_reps.reps)} reps)</li>"
        f"<li>Mean angle difference after alignment: {result.mean_abs_diff_deg:.1f}\u00b0 "
        f"over {len(result.compared)} angles</li>{stride}</ul>{warn}",
        f'<div class="callout"><b>Biggest difference.</b> {_e(worst_sentence(result))}</div>',
    ]
    key = _worst_key_frame_figure(result)
    if key:
        sections.append(
            "<h2>Key frame of the difference</h2><p>Reference (dark) and take (orange) where "
            "the biggest difference is largest, pelvis on pelvis, each turned to face the "
            "viewer.</p>" + key
        )
    sections += [
        "<h2>Joint angles, aligned</h2><p>The take is time-warped onto the reference "
        "(dynamic time warping), so speed differences do not count. Shaded: the reference's "
        "reps (darker: held at the extreme).</p>" + _aligned_angles_figure(result),
        "<h2>Differences per phase</h2><p>Mean of take \u2212 reference over the "
        "reference's frames in each phase (degrees). Negative: less than the reference.</p>"
        + _phase_table(result),
        "<h2>Reps of both</h2>" + _both_reps_figure(result),
        "<h3>Reference reps</h3>" + _reps_table(ref_reps),
        "<h2>Timing</h2><p>Which moment of the take matches each reference moment; the "
        "diagonal is the same pace. Take / reference duration: "
        f"{result.attempt.duration_s / max(result.reference.duration_s, 1e-9):.2f}.</p>"
        + _alignment_figure(result),
    ]
    return sections


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}
h1{margin-bottom:4px} h1.part{margin-top:48px;border-top:3px solid #222;padding-top:16px}
h2{margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:14px;margin:8px 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f4f4f4} td.name,th.name{text-align:left}
td.worst{outline:3px solid #c00;font-weight:bold}
.callout{background:#fff4e5;border-left:6px solid #e0661b;padding:12px 16px;font-size:17px}
.warn{background:#fdecea;padding:8px 12px} .meta li{margin:2px 0}
.frames{display:flex;flex-wrap:wrap;gap:12px} .frames figure{margin:0;width:min-content}
.frames img{max-width:none}
.frames figcaption{font-size:13px;color:#444}
img{max-width:100%} .foot{color:#666;font-size:13px;margin-top:32px}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _img(fig: Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _key_frame_images(key_frames: Sequence[KeyFrameImage]) -> str:
    from PIL import Image  # (matplotlib's own image library)

    figures = []
    for k in key_frames:
        rgb = np.ascontiguousarray(k.image_bgr[..., ::-1])
        image = Image.fromarray(rgb)
        width = max(1, round(image.width * KEY_FRAME_HEIGHT / image.height))
        image = image.resize((width, KEY_FRAME_HEIGHT), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=KEY_FRAME_JPEG_QUALITY)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        caption = _e(k.moment.caption)
        figures.append(
            f'<figure><img class="keyframe" alt="{caption}" '
            f'src="data:image/jpeg;base64,{data}"><figcaption>{caption}</figcaption></figure>'
        )
    return f"<div class='frames'>{''.join(figures)}</div>"


def _shade_reps(ax: object, times: np.ndarray, reps: ExerciseReps) -> None:
    for r in reps.reps:
        ax.axvspan(times[r.start_frame], times[r.end_frame], color=REP_COLOR, alpha=0.08, lw=0)
        ax.axvspan(
            times[r.bottom_start_frame], times[r.bottom_end_frame], color=REP_COLOR, alpha=0.15,
            lw=0,
        )  # fmt: skip


def _plot_driver(ax: object, times: np.ndarray, reps: ExerciseReps, color: str, who: str) -> None:
    """The driver signal with each rep shaded and numbered at its extreme."""
    _shade_reps(ax, times, reps)
    ax.plot(times, reps.signal, color=color, lw=1.5)
    for r in reps.reps:
        ax.plot(times[r.peak_frame], r.peak_deg, "v", color=REP_COLOR)
        ax.annotate(
            str(r.number), (times[r.peak_frame], r.peak_deg),
            textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8,
        )  # fmt: skip
    ax.set_title(f"{who}{len(reps.reps)} reps on {driver_title(reps.driver)} (mean)", fontsize=10)
    ax.set_ylabel("degrees")
    ax.grid(alpha=0.3)


def _take_reps_figure(track: AngleTrack, reps: ExerciseReps) -> str:
    fig = Figure(figsize=(11, 2.6))
    ax = fig.subplots()
    _plot_driver(ax, track.times, reps, ATTEMPT_COLOR, "")
    ax.set_xlabel("time (s)")
    fig.tight_layout()
    return _img(fig, "rep detection on the driver angle")


def _both_reps_figure(result: Comparison) -> str:
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(2, 1)
    _plot_driver(
        axes[0], result.reference.times, result.reference_reps, REFERENCE_COLOR, "Reference: "
    )
    _plot_driver(axes[1], result.attempt.times, result.attempt_reps, ATTEMPT_COLOR, "Take: ")
    axes[1].set_xlabel("time (s)")
    fig.tight_layout()
    return _img(fig, "rep detection on the driver angle of both takes")


def _angle_grid(names: Sequence[str]) -> tuple[Figure, np.ndarray]:
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig = Figure(figsize=(11, 2.4 * rows))
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    return fig, axes


def _take_angles_figure(track: AngleTrack, reps: ExerciseReps) -> str:
    fig, axes = _angle_grid(ANGLE_NAMES)
    t, angles = track.times, track.filled()
    for ax, name in zip(axes, ANGLE_NAMES, strict=False):
        _shade_reps(ax, t, reps)
        ax.plot(t, angles[:, ANGLE_INDEX[name]], color=ATTEMPT_COLOR, lw=1.2)
        bold = name in reps.driver
        ax.set_title(angle_title(name), fontsize=10, fontweight="bold" if bold else "normal")
        ax.grid(alpha=0.3)
    for ax in axes[len(ANGLE_NAMES) - 3 : len(ANGLE_NAMES)]:
        ax.set_xlabel("time (s)")
        ax.xaxis.set_tick_params(labelbottom=True)
    axes[0].set_ylabel("degrees")
    fig.tight_layout()
    return _img(fig, "joint angles of the take")


def _aligned_angles_figure(result: Comparison) -> str:
    names = result.compared
    fig, axes = _angle_grid(names)
    t = result.reference.times
    ref, att = result.reference.filled(), result.aligned_attempt
    for ax, name in zip(axes, names, strict=False):
        k = ANGLE_INDEX[name]
        _shade_reps(ax, t, result.reference_reps)
        ax.plot(t, ref[:, k], color=REFERENCE_COLOR, lw=1.5, label="reference")
        ax.plot(t, att[:, k], color=ATTEMPT_COLOR, lw=1.5, ls="--", label="take (aligned)")
        diff = result.per_angle_mean_abs_diff_deg[name]
        worst = result.worst is not None and result.worst.angle == name
        ax.set_title(
            f"{angle_title(name)}  (|\u0394| {diff:.1f}\u00b0)",
            fontsize=10, color="#c00" if worst else "black",
        )  # fmt: skip
        ax.grid(alpha=0.3)
    for ax in axes[len(names) - 3 : len(names)]:
        ax.set_xlabel("reference time (s)")
        ax.xaxis.set_tick_params(labelbottom=True)
    axes[0].legend(fontsize=8, loc="best")
    axes[0].set_ylabel("degrees")
    fig.tight_layout()
    return _img(fig, "joint angles of the reference and the aligned take")


def _alignment_figure(result: Comparison) -> str:
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    path = result.alignment.path
    tr, ta = result.reference.times, result.attempt.times
    ax.plot(tr[path[:, 0]], ta[path[:, 1]], color=ATTEMPT_COLOR, lw=1.5, label="alignment")
    ax.plot([0, tr[-1]], [0, ta[-1]], color="#999", ls=":", lw=1, label="same pace")
    ax.set_xlabel("reference time (s)")
    ax.set_ylabel("take time (s)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _img(fig, "time alignment of the take to the reference")


def _facing_viewer(joints: np.ndarray) -> np.ndarray:
    """(24, 3) y-up joints, pelvis at the origin, turned about the vertical so the hip axis
    (right -> left hip) points along +x: the body faces +z, the viewer of an x-y plot."""
    j = joints - joints[0]
    hips = j[SMPL_JOINT_NAMES.index("left_hip")] - j[SMPL_JOINT_NAMES.index("right_hip")]
    yaw = np.arctan2(hips[2], hips[0])
    c, s = np.cos(yaw), np.sin(yaw)
    turn = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])  # about y, by +yaw
    return j @ turn.T


def _draw_skeleton(
    ax: object, joints: np.ndarray, across: int, color: str, marked: Sequence[int]
) -> None:
    """Bones of (24, 3) facing-viewer joints; ``across``: 0 front view (x), 2 side view (z)."""
    for child, parent in enumerate(SMPL_PARENTS):
        if parent >= 0:
            bone = [parent, child]
            ax.plot(joints[bone, across], joints[bone, 1], color=color, lw=2.2)
    pts = sorted(marked)
    ax.plot(joints[pts, across], joints[pts, 1], "o", color=color, ms=6)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def _key_moments_figure(track: AngleTrack, reps: ExerciseReps, moments: Sequence[KeyMoment]) -> str:
    assert track.joints is not None
    marked = sorted({j for name in reps.driver for j in _angle_joints(name)})
    fig = Figure(figsize=(2.7 * len(moments), 5.6))
    axes = fig.subplots(2, len(moments), squeeze=False)
    for k, moment in enumerate(moments):
        joints = _facing_viewer(track.joints[moment.frame])
        for row, (across, view) in enumerate(((0, "front"), (2, "side"))):
            _draw_skeleton(axes[row, k], joints, across, ATTEMPT_COLOR, marked)
            axes[row, k].set_title(view, fontsize=9)
        axes[0, k].set_title(moment.caption.replace(": ", ":\n", 1), fontsize=9)
    fig.tight_layout()
    return _img(fig, "key frames: the skeleton at the extreme of the reps")


def _worst_key_frame_figure(result: Comparison) -> str:
    w = result.worst
    ref_j, att_j = result.reference.joints, result.attempt.joints
    if w is None or ref_j is None or att_j is None:
        return ""
    ref = _facing_viewer(ref_j[w.reference_frame])
    att = _facing_viewer(att_j[w.attempt_frame])
    fig = Figure(figsize=(8, 4.4))
    axes = fig.subplots(1, 2)
    marked = _angle_joints(w.angle)
    for ax, (across, view) in zip(axes, ((0, "front"), (2, "side")), strict=True):
        for joints, color in ((ref, REFERENCE_COLOR), (att, ATTEMPT_COLOR)):
            _draw_skeleton(ax, joints, across, color, marked)
        ax.set_title(f"{view} view", fontsize=10)
    rt, at = result.reference.times[w.reference_frame], result.attempt.times[w.attempt_frame]
    fig.suptitle(
        f"{angle_title(w.angle)}, {w.phase}: reference t = {rt:.2f} s, take t = {at:.2f} s",
        fontsize=10,
    )
    fig.tight_layout()
    return _img(fig, "key frame: reference and take skeletons")


def _angle_joints(angle: str) -> tuple[int, ...]:
    """SMPL joint indices to mark for an angle (the limb it measures)."""
    spec = next(a for a in ANGLES if a.name == angle)
    if not spec.joints:  # trunk lean
        return (SMPL_JOINT_NAMES.index("pelvis"), SMPL_JOINT_NAMES.index("neck"))
    return spec.joints


def _phase_table(result: Comparison) -> str:
    phases = result.phases
    head = "".join(f"<th>{_e(p.phase)}<br><small>{p.frames} fr</small></th>" for p in phases)
    rows = []
    for name in result.compared:
        cells = []
        for p in phases:
            v = p.mean_diff_deg[name]
            alpha = min(abs(v) / FULL_SCALE_DEG, 1.0) * 0.8
            rgb = "220,60,30" if v < 0 else "30,110,220"
            worst = (
                result.worst is not None
                and result.worst.angle == name
                and result.worst.phase == p.phase
            )
            cls = " class='worst'" if worst else ""
            cells.append(f"<td{cls} style='background:rgba({rgb},{alpha:.2f})'>{v:+.1f}</td>")
        rows.append(f"<tr><td class='name'>{_e(angle_title(name))}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th class='name'>angle</th>{head}</tr>{''.join(rows)}</table>"


def _reps_table(reps: ExerciseReps) -> str:
    if not reps.reps:
        return "<p>No reps found (the driver angle moves less than the rep rule needs).</p>"
    _, down, hold, up = PHASE_NAMES[reps.exercise]
    head = (
        "<tr><th>#</th><th>start (s)</th><th>end (s)</th><th>range of motion (\u00b0)</th>"
        f"<th>at rest (\u00b0)</th><th>extreme (\u00b0)</th><th>{_e(down)} (s)</th>"
        f"<th>{_e(hold)} (s)</th><th>{_e(up)} (s)</th></tr>"
    )
    rows = "".join(
        f"<tr class='rep'><td>{r.number}</td><td>{r.start_s:.2f}</td><td>{r.end_s:.2f}</td>"
        f"<td>{r.rom_deg:.1f}</td><td>{r.rest_deg:.1f}</td><td>{r.peak_deg:.1f}</td>"
        f"<td>{r.down_s:.2f}</td><td>{r.hold_s:.2f}</td><td>{r.up_s:.2f}</td></tr>"
        for r in reps.reps
    )
    return f"<table class='reps'>{head}{rows}</table>"


__all__ = [
    "FORMAT",
    "OUTPUT_NAMES",
    "REPORT_NAME",
    "SUMMARY_NAME",
    "KeyFrameImage",
    "SessionReport",
    "render_html",
    "worst_sentence",
    "write_summary",
]
