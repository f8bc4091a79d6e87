// Live view and replay share this: a pose WebSocket -> avatar + angle plots + stats line.
import { loadBodyAsset, AvatarView } from "./avatar.js";
import { ANGLE_SERIES, jointAngles, restOffsets } from "./angles.js";
import { AnglePlot } from "./plot.js";
import { decodeMessage } from "./pose.js";
import { $, sessionId, wsUrl } from "./api.js";

export async function startViewer({ replay, onText }) {
  const asset = await loadBodyAsset();
  const avatar = new AvatarView($("avatar"), asset);
  let offsets = restOffsets(asset.meta.joints);
  const plots = ANGLE_SERIES.map((s) => {
    const canvas = document.createElement("canvas");
    canvas.className = "plot";
    $("plots").appendChild(canvas);
    return [s.key, new AnglePlot(canvas, s.title, s.names, 10, s.key === "trunk" ? [0, 90] : [0, 150])];
  });
  const stats = { frames: 0, fps: 0, ageMs: null, serverMs: null, lastSeq: -1, gaps: 0 };
  const arrivals = [];
  let t0 = null;
  const url = wsUrl(`/api/sessions/${encodeURIComponent(sessionId)}/poses${replay ? "?mode=replay" : ""}`);
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") {
      const msg = JSON.parse(ev.data);
      if (msg.type === "stats" && msg.latency_ms) stats.serverMs = msg.latency_ms.total ?? null;
      if (msg.type === "timeline") t0 = msg.start_us;
      // SessionInfo (first, and again once the body shape has settled): reshape the avatar if
      // the betas are its body model's; the plots' zero-pose offsets follow the rest joints.
      if (msg.type === "info" && msg.betas && msg.betas.some((b) => b !== 0) && avatar.setBetas(msg.betas, msg.body_model)) {
        offsets = restOffsets(avatar.restJoints);
      }
      onText && onText(msg);
      return;
    }
    const m = decodeMessage(ev.data);
    if (t0 === null) t0 = m.captureTimeUs;
    if (stats.lastSeq >= 0 && m.sequence > stats.lastSeq + 1 && !replay) stats.gaps += m.sequence - stats.lastSeq - 1;
    stats.lastSeq = m.sequence;
    stats.frames++;
    const now = performance.now();
    arrivals.push(now);
    while (arrivals.length && arrivals[0] < now - 1000) arrivals.shift();
    stats.fps = arrivals.length;
    // Glass-to-browser age; meaningful when server and browser clocks agree (NTP / same host).
    if (!replay) stats.ageMs = Date.now() - m.captureTimeUs / 1000;
    const joints = avatar.setPose(m.pose);
    if (m.pose.valid) {
      const a = jointAngles(joints, offsets);
      const tS = (m.captureTimeUs - t0) / 1e6;
      for (const [key, plot] of plots) plot.add(tS, a[key]);
    }
    // After the athlete's pose is set: the pages draw what follows it (the reference ghost).
    if (onText) onText({ type: "frame", t_us: m.captureTimeUs });
  };
  ws.onclose = () => onText && onText({ type: "closed" });
  const drawLoop = () => {
    for (const [, plot] of plots) plot.draw();
    const parts = [`${stats.fps} fps`, `${stats.frames} poses`];
    if (stats.serverMs !== null) parts.push(`pipeline ${stats.serverMs.toFixed(0)} ms`);
    if (stats.ageMs !== null) parts.push(`glass-to-screen ${stats.ageMs.toFixed(0)} ms`);
    if (!replay) parts.push(`${stats.gaps} skipped`);
    $("stats").textContent = parts.join(" · ");
    requestAnimationFrame(drawLoop);
  };
  requestAnimationFrame(drawLoop);
  // For tests and debugging.
  window.coachViewer = { ws, avatar, plots: Object.fromEntries(plots), stats, clearPlots: () => plots.forEach(([, p]) => p.clear()) };
  return window.coachViewer;
}
