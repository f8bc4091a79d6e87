"""The comparison as a self-contained HTML page (plots inline as base64 PNG) and a JSON summary.

Plots are drawn with matplotlib's object API on Agg (no pyplot state, no display needed).
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from coach_backend.analytics import (
    ANGLE_INDEX,
    ANGLES,
    PHASE_NAMES,
    Comparison,
    ExerciseReps,
    angle_title,
)
from coach_backend.body.skeleton import SMPL_JOINT_NAMES, SMPL_PARENTS

FORMAT = "coach_backend.compare/1"
REPORT_NAME = "report.html"
SUMMARY_NAME = "summary.json"
OUTPUT_NAMES = (REPORT_NAME, SUMMARY_NAME)
REFERENCE_COLOR, ATTEMPT_COLOR = "#222222", "#e0661b"
# Cell colour of the per-phase table saturates at this difference (degrees).
FULL_SCALE_DEG = 20.0
DPI = 96


def write_report(result: Comparison, out_dir: Path, reference: str, attempt: str) -> list[Path]:
    """Write OUT/report.html and OUT/summary.json; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "format": FORMAT,
        "reference_path": reference,
        "attempt_path": attempt,
        "worst_sentence": worst_sentence(result),
        **result.summary(),
    }
    summary_path = out_dir / SUMMARY_NAME
    summary_path.write_text(json.dumps(summary, indent=2, default=_json_default) + "\n")
    report_path = out_dir / REPORT_NAME
    report_path.write_text(render_html(result, reference, attempt), encoding="utf-8")
    return [report_path, summary_path]


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


def render_html(result: Comparison, reference: str, attempt: str) -> str:
    ref_reps, att_reps = result.reference_reps, result.attempt_reps
    exercise = ref_reps.exercise.replace("_", " ")
    picked = " (picked automatically)" if ref_reps.auto else ""
    warn = ""
    if len(ref_reps.reps) != len(att_reps.reps):
        warn = (
            f'<p class="warn">The attempt has {len(att_reps.reps)} reps, the reference '
            f"{len(ref_reps.reps)}: the alignment pairs them as best it can; compare like "
            "with like for per-phase numbers that mean what they say.</p>"
        )
    stride = (
        f"<li>Both takes decimated by {result.stride} before aligning (long takes).</li>"
        if result.stride > 1
        else ""
    )
    sections = [
        f"<h1>Movement comparison</h1>"
        f"<ul class='meta'><li>Reference: <code>{_e(reference)}</code> "
        f"({result.reference.duration_s:.1f} s, {len(ref_reps.reps)} reps)</li>"
        f"<li>Attempt: <code>{_e(attempt)}</code> ({result.attempt.duration_s:.1f} s, "
        f"{len(att_reps.reps)} reps)</li>"
        f"<li>Exercise: {_e(exercise)}{picked}; reps counted on "
        f"{_e(' + '.join(angle_title(n).lower() for n in ref_reps.driver))}</li>"
        f"<li>Mean angle difference after alignment: {result.mean_abs_diff_deg:.1f}\u00b0 "
        f"over {len(result.compared)} angles</li>{stride}</ul>{warn}",
        f'<div class="callout"><b>Biggest difference.</b> {_e(worst_sentence(result))}</div>',
    ]
    key = _key_frame_figure(result)
    if key:
        sections.append(
            "<h2>Key frame</h2><p>Reference (dark) and attempt (orange) where the biggest "
            "difference is largest, pelvis on pelvis, each turned to face the viewer.</p>" + key
        )
    sections += [
        "<h2>Joint angles, aligned</h2><p>The attempt is time-warped onto the reference "
        "(dynamic time warping), so speed differences do not count. Shaded: the reference's "
        "reps (darker: held at the extreme).</p>" + _angles_figure(result),
        "<h2>Differences per phase</h2><p>Mean of attempt \u2212 reference over the "
        "reference's frames in each phase (degrees). Negative: less than the reference.</p>"
        + _phase_table(result),
        "<h2>Reps</h2>" + _reps_figure(result),
        "<h3>Reference</h3>" + _reps_table(ref_reps),
        "<h3>Attempt</h3>" + _reps_table(att_reps),
        "<h2>Timing</h2><p>Which attempt moment matches each reference moment; the "
        "diagonal is the same pace. Attempt / reference duration: "
        f"{result.attempt.duration_s / max(result.reference.duration_s, 1e-9):.2f}.</p>"
        + _alignment_figure(result),
        "<p class='foot'>Angle definitions, rep rule and comparison method: "
        "docs/analytics.md. Numbers: summary.json.</p>",
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Comparison: {_e(attempt)} vs {_e(reference)}</title><style>{_CSS}</style>"
        f"</head><body>{''.join(sections)}</body></html>\n"
    )


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 16px;color:#222}
h1{margin-bottom:4px} h2{margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:14px;margin:8px 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f4f4f4} td.name,th.name{text-align:left}
td.worst{outline:3px solid #c00;font-weight:bold}
.callout{background:#fff4e5;border-left:6px solid #e0661b;padding:12px 16px;font-size:17px}
.warn{background:#fdecea;padding:8px 12px} .meta li{margin:2px 0}
img{max-width:100%} .foot{color:#666;font-size:13px;margin-top:32px}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _img(fig: Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _shade_reps(ax: object, times: np.ndarray, reps: ExerciseReps) -> None:
    for r in reps.reps:
        ax.axvspan(times[r.start_frame], times[r.end_frame], color="#1f77b4", alpha=0.08, lw=0)
        ax.axvspan(
            times[r.bottom_start_frame], times[r.bottom_end_frame], color="#1f77b4", alpha=0.15,
            lw=0,
        )  # fmt: skip


def _angles_figure(result: Comparison) -> str:
    names = result.compared
    cols = 3
    rows = int(np.ceil(len(names) / cols))
    fig = Figure(figsize=(11, 2.4 * rows))
    axes = fig.subplots(rows, cols, sharex=True, squeeze=False).ravel()
    t = result.reference.times
    ref, att = result.reference.filled(), result.aligned_attempt
    for ax, name in zip(axes, names, strict=False):
        k = ANGLE_INDEX[name]
        _shade_reps(ax, t, result.reference_reps)
        ax.plot(t, ref[:, k], color=REFERENCE_COLOR, lw=1.5, label="reference")
        ax.plot(t, att[:, k], color=ATTEMPT_COLOR, lw=1.5, ls="--", label="attempt (aligned)")
        diff = result.per_angle_mean_abs_diff_deg[name]
        worst = result.worst is not None and result.worst.angle == name
        ax.set_title(
            f"{angle_title(name)}  (|\u0394| {diff:.1f}\u00b0)",
            fontsize=10, color="#c00" if worst else "black",
        )  # fmt: skip
        ax.grid(alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    for ax in axes[-cols:]:
        ax.set_xlabel("reference time (s)")
    axes[0].legend(fontsize=8, loc="best")
    axes[0].set_ylabel("degrees")
    fig.tight_layout()
    return _img(fig, "joint angles of the reference and the aligned attempt")


def _reps_figure(result: Comparison) -> str:
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(2, 1)
    for ax, track, reps, color, who in (
        (axes[0], result.reference, result.reference_reps, REFERENCE_COLOR, "Reference"),
        (axes[1], result.attempt, result.attempt_reps, ATTEMPT_COLOR, "Attempt"),
    ):
        _shade_reps(ax, track.times, reps)
        ax.plot(track.times, reps.signal, color=color, lw=1.5)
        for r in reps.reps:
            ax.plot(track.times[r.peak_frame], r.peak_deg, "v", color="#1f77b4")
            ax.annotate(
                str(r.number), (track.times[r.peak_frame], r.peak_deg),
                textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8,
            )  # fmt: skip
        driver = " + ".join(angle_title(n).lower() for n in reps.driver)
        ax.set_title(f"{who}: {len(reps.reps)} reps on {driver} (mean)", fontsize=10)
        ax.set_ylabel("degrees")
        ax.grid(alpha=0.3)
    axes[1].set_xlabel("time (s)")
    fig.tight_layout()
    return _img(fig, "rep detection on the driver angle")


def _alignment_figure(result: Comparison) -> str:
    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    path = result.alignment.path
    tr, ta = result.reference.times, result.attempt.times
    ax.plot(tr[path[:, 0]], ta[path[:, 1]], color=ATTEMPT_COLOR, lw=1.5, label="alignment")
    ax.plot([0, tr[-1]], [0, ta[-1]], color="#999", ls=":", lw=1, label="same pace")
    ax.set_xlabel("reference time (s)")
    ax.set_ylabel("attempt time (s)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _img(fig, "time alignment of the attempt to the reference")


def _facing_viewer(joints: np.ndarray) -> np.ndarray:
    """(24, 3) y-up joints, pelvis at the origin, turned about the vertical so the hip axis
    (right -> left hip) points along +x: the body faces +z, the viewer of an x-y plot."""
    j = joints - joints[0]
    hips = j[SMPL_JOINT_NAMES.index("left_hip")] - j[SMPL_JOINT_NAMES.index("right_hip")]
    yaw = np.arctan2(hips[2], hips[0])
    c, s = np.cos(yaw), np.sin(yaw)
    turn = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])  # about y, by +yaw
    return j @ turn.T


def _key_frame_figure(result: Comparison) -> str:
    w = result.worst
    ref_j, att_j = result.reference.joints, result.attempt.joints
    if w is None or ref_j is None or att_j is None:
        return ""
    ref = _facing_viewer(ref_j[w.reference_frame])
    att = _facing_viewer(att_j[w.attempt_frame])
    fig = Figure(figsize=(8, 4.4))
    axes = fig.subplots(1, 2)
    highlight = {SMPL_JOINT_NAMES.index(n) for n in _angle_joints(w.angle)}
    # Front: x (the body's left) across; side: z (the body's front) across.
    for ax, (h, view) in zip(axes, ((0, "front"), (2, "side")), strict=True):
        for joints, color in ((ref, REFERENCE_COLOR), (att, ATTEMPT_COLOR)):
            for child, parent in enumerate(SMPL_PARENTS):
                if parent >= 0:
                    bone = [parent, child]
                    ax.plot(joints[bone, h], joints[bone, 1], color=color, lw=2.2)
            pts = sorted(highlight)
            ax.plot(joints[pts, h], joints[pts, 1], "o", color=color, ms=6)
        ax.set_aspect("equal")
        ax.set_title(f"{view} view", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    rt, at = result.reference.times[w.reference_frame], result.attempt.times[w.attempt_frame]
    fig.suptitle(
        f"{angle_title(w.angle)}, {w.phase}: reference t = {rt:.2f} s, attempt t = {at:.2f} s",
        fontsize=10,
    )
    fig.tight_layout()
    return _img(fig, "key frame: reference and attempt skeletons")


def _angle_joints(angle: str) -> tuple[str, ...]:
    """Joints to mark for an angle (the limb it measures)."""
    spec = next(a for a in ANGLES if a.name == angle)
    if not spec.joints:  # trunk lean
        return ("pelvis", "neck")
    return tuple(SMPL_JOINT_NAMES[j] for j in spec.joints)


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
        f"<tr><td>{r.number}</td><td>{r.start_s:.2f}</td><td>{r.end_s:.2f}</td>"
        f"<td>{r.rom_deg:.1f}</td><td>{r.rest_deg:.1f}</td><td>{r.peak_deg:.1f}</td>"
        f"<td>{r.down_s:.2f}</td><td>{r.hold_s:.2f}</td><td>{r.up_s:.2f}</td></tr>"
        for r in reps.reps
    )
    return f"<table>{head}{rows}</table>"


__all__ = [
    "FORMAT",
    "OUTPUT_NAMES",
    "REPORT_NAME",
    "SUMMARY_NAME",
    "render_html",
    "worst_sentence",
    "write_report",
]
