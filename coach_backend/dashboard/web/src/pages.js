import { $, api, sessionId, token } from "./api.js";
import { frameIndexAt, ghostOffset, loopedReferenceTime, referenceTimeAt, unpackFrames } from "./ghost.js";
import { decodeMessage } from "./pose.js";
import { followReplayVideo, startLiveVideo } from "./video.js";
import { startViewer } from "./viewer.js";

const link = (href, text) => `<a href="${href}">${text}</a>`;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const words = (s) => String(s).replace(/_/g, " ");
const q = (id) => `session=${encodeURIComponent(id)}&token=${encodeURIComponent(token)}`;
const reportUrl = (id) => `/api/sessions/${encodeURIComponent(id)}/report?token=${encodeURIComponent(token)}`;

// Shows the header's report link once the ended session's report is written (the server
// writes it as the session ends); asks up to `tries` times, a second apart.
async function linkReport(tries = 1) {
  for (let i = 0; i < tries; i++) {
    const s = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}`).catch(() => null);
    if (s && s.report) {
      $("report-link").href = reportUrl(sessionId);
      $("report-link").hidden = false;
      return true;
    }
    if (i + 1 < tries) await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

export async function indexPage() {
  const refresh = async () => {
    try {
      const data = await api("GET", "/api/sessions");
      $("live").innerHTML = data.live.length
        ? data.live.map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.state)}</td><td>${s.fps ?? "-"}</td><td>${s.frames ?? 0}</td>
            <td>${s.live ? link(`/live?${q(s.id)}`, "watch") : ""} ${link(`/replay?${q(s.id)}`, "replay")}</td></tr>`).join("")
        : `<tr><td colspan="5">no live sessions</td></tr>`;
      $("recorded").innerHTML = data.recorded.length
        ? data.recorded.map((r) => `<tr><td>${esc(r.id)}</td><td>${r.frames ?? "-"}</td><td>${(r.duration_s ?? 0).toFixed(1)} s</td>
            <td>${r.reps ? `${r.reps.count} ${r.reps.auto ? `on ${esc(r.reps.driver_title)}` : esc(words(r.reps.exercise))}` : "-"}</td>
            <td>${r.complete ? "complete" : "open / torn"}</td><td>${link(`/replay?${q(r.id)}`, "replay")}
            ${r.report ? link(reportUrl(r.id), "report") : ""}</td></tr>`).join("")
        : `<tr><td colspan="6">no recordings</td></tr>`;
      $("error").textContent = "";
    } catch (e) {
      $("error").textContent = String(e);
    }
  };
  $("create").onclick = async () => {
    try {
      const s = await api("POST", "/api/sessions");
      const abs = (u) => `${location.origin}${u}`;
      $("created").innerHTML = `Session ${esc(s.session_id)}: athlete ${link(s.urls.athlete, "publish link")} ·
        coach ${link(s.urls.coach, "live view")} · viewer ${link(s.urls.viewer, "read-only view")}
        <br><small>Send the athlete: <code>${esc(abs(s.urls.athlete))}</code></small>`;
      refresh();
    } catch (e) {
      $("error").textContent = String(e);
    }
  };
  refresh();
  setInterval(refresh, 2000);
}

export async function athletePage() {
  $("title").textContent = `Athlete · ${sessionId}`;
  let pc = null;
  let stream = null;
  const setState = (s) => ($("state").textContent = s);
  const connect = async () => {
    $("start").disabled = true;
    try {
      const { ice_servers } = await api("GET", `/api/sessions/${encodeURIComponent(sessionId)}/ice`);
      if (!stream) {
        stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 }, audio: false });
        $("preview").srcObject = stream;
      }
      if (pc) pc.close();
      pc = new RTCPeerConnection({ iceServers: ice_servers });
      pc.addTransceiver(stream.getVideoTracks()[0], { direction: "sendonly", streams: [stream] });
      pc.onconnectionstatechange = () => {
        setState(`connection: ${pc.connectionState}`);
        if (pc.connectionState === "failed") setTimeout(connect, 2000); // resume the same session
      };
      await pc.setLocalDescription(await pc.createOffer());
      // Non-trickle: wait for all candidates, then one offer/answer exchange.
      await new Promise((resolve) => {
        if (pc.iceGatheringState === "complete") return resolve();
        const t = setTimeout(resolve, 3000);
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && (clearTimeout(t), resolve());
      });
      const answer = await api("POST", `/api/sessions/${encodeURIComponent(sessionId)}/offer`, { sdp: pc.localDescription.sdp, type: "offer" });
      await pc.setRemoteDescription(answer);
      setState("publishing…");
    } catch (e) {
      setState(`error: ${e}`);
    } finally {
      $("start").disabled = false;
      $("start").textContent = "Reconnect";
    }
  };
  $("start").onclick = connect;
  window.coachAthlete = { get pc() { return pc; } };
}

function watchEnd(msg) {
  if (msg.type === "end") {
    $("state").textContent = `ended: ${msg.reason}`;
    linkReport(120);
  }
  if (msg.type === "stats") $("state").textContent = `${msg.state}${msg.state_reason ? ` (${msg.state_reason})` : ""}`;
  if (msg.type === "closed" && !$("state").textContent.startsWith("ended")) $("state").textContent = "disconnected";
}

// The rep counter line of the live page, from a stats message: `exercise` (what the coach
// chose, "auto" by default), `exercise_choices`, and `reps` (the server's rep counter: the same
// rep rule as the recording's summary; null until the first poses are analysed).
function showReps(msg) {
  const select = $("exercise");
  if (!select.options.length && msg.exercise_choices) {
    select.innerHTML = msg.exercise_choices.map((e) => `<option value="${esc(e)}">${esc(words(e))}</option>`).join("");
  }
  if (document.activeElement !== select && msg.exercise) select.value = msg.exercise;
  const r = msg.reps;
  window.coachReps = r;
  if (!r) return;
  const [, down, hold, up] = r.phase_names;
  $("rep-count").textContent = String(r.count);
  $("rep-current").textContent = `this rep: ${r.current_rom_deg.toFixed(0)}°`;
  const last = r.last_rep;
  $("rep-last").textContent = last
    ? `last: ${last.rom_deg.toFixed(0)}° · ${down} ${last.down_s.toFixed(1)} s · ${hold} ${last.hold_s.toFixed(1)} s · ${up} ${last.up_s.toFixed(1)} s`
    : "";
  $("rep-how").textContent = r.auto
    ? `auto: counted on ${r.driver_title}, the most active angle so far (no exercise chosen)`
    : `${words(r.exercise)} on ${r.driver_title}, chosen by the coach`;
}

export async function livePage() {
  $("title").textContent = `Live · ${sessionId}`;
  $("replay-link").href = `/replay?${q(sessionId)}`;
  const path = `/api/sessions/${encodeURIComponent(sessionId)}`;
  $("end").onclick = async () => {
    try {
      await api("POST", `${path}/end`);
    } catch (e) {
      $("state").textContent = String(e);
    }
  };
  $("exercise").onchange = async () => {
    try {
      await api("POST", `${path}/exercise`, { exercise: $("exercise").value });
      $("rep-how").textContent = "counting again…";
    } catch (e) {
      $("rep-how").textContent = String(e);
    }
  };
  api("GET", path).then((s) => {
    if (s.role === "viewer") $("exercise").disabled = true; // the coach chooses
  }).catch(() => {});
  startLiveVideo();
  let ghost = null; // the reference ghost's controller, once the viewer is up
  const viewer = await startViewer({
    replay: false,
    onText: (msg) => {
      watchEnd(msg);
      if (msg.type === "stats") showReps(msg);
      if (msg.type === "frame" && ghost) ghost.show(msg.t_us);
    },
  });
  ghost = referenceGhost(viewer, { live: true });
}

// The reference ghost of the replay and live pages: the coach names a recording (offered from
// /api/recordings when the token may list them); its poses are fetched at once and drawn
// see-through over the athlete.
// Replay: show(take seconds) draws the reference at the time the DTW map gives for the shown
// take time; by start time until that map arrives, or if the takes cannot be aligned.
// Live: show(capture time, us) of each live pose. A live take has no future to align to, so
// the reference's reps (its summary's span; the whole recording without one) loop from the
// moment the coach presses Show, paced by the live poses' capture times; Restart starts them
// again (press it as the athlete starts), so the ghost is a pacer to follow and to compare with.
function referenceGhost(viewer, { live = false } = {}) {
  let ghost = null; // {ref, frames, map, body, originUs}
  let latest = live ? null : 0; // the latest show() argument
  const say = (text) => ($("ghost-state").textContent = text);
  api("GET", "/api/recordings").then((d) => {
    $("ghost-refs").innerHTML = d.recordings.filter((r) => r.id !== sessionId && !r.error)
      .map((r) => `<option value="${esc(r.id)}">${r.frames} frames, ${(r.duration_s ?? 0).toFixed(1)} s</option>`).join("");
  }).catch(() => say("type the reference's session id"));
  const show = (t) => {
    latest = t;
    if (!ghost) return;
    const { frames, body } = ghost;
    let shown;
    if (live) {
      if (ghost.originUs === null) ghost.originUs = t;
      const elapsedS = (t - ghost.originUs) / 1e6;
      const referenceS = loopedReferenceTime(elapsedS, frames.repsSpanS, frames.durationS);
      shown = { tUs: t, originUs: ghost.originUs, elapsedS, referenceS, aligned: "loop" };
    } else {
      const referenceS = referenceTimeAt(ghost.map, t, frames.durationS);
      shown = { takeS: t, referenceS, aligned: ghost.map ? "dtw" : "start" };
    }
    const index = frameIndexAt(frames.timesUs, frames.startUs + shown.referenceS * 1e6);
    const pose = decodeMessage(frames.buffers[index]).pose;
    const athlete = viewer.avatar;
    if (!pose.valid || !athlete.valid) return body.hide();
    const raw = body.setPose(pose);
    const floor = athlete.floorY === null ? null : athlete.floorY + 0.05; // where its feet are
    body.setPose(pose, ghostOffset(athlete.worldJoints[0].toArray(), floor, raw[0].toArray(), Math.min(raw[10].y, raw[11].y)));
    window.coachGhost.shown = { ...shown, index };
  };
  const loopWords = (frames) => {
    const [a, b] = frames.repsSpanS || [0, frames.durationS];
    return `${frames.repsSpanS ? "its reps" : "the whole recording"} (${a.toFixed(1)}-${b.toFixed(1)} s) loop from Show; Restart as the athlete starts`;
  };
  $("ghost-show").onclick = async () => {
    const ref = $("ghost-ref").value.trim();
    if (!ref) return;
    say("loading…");
    try {
      const frames = unpackFrames(await api("GET", `/api/sessions/${encodeURIComponent(ref)}/frames`));
      if (!frames.buffers.length) throw new Error("the reference has no poses");
      const body = viewer.avatar.addGhost();
      body.setBetas(frames.info.betas, frames.info.body_model);
      ghost = { ref, frames, map: null, body, originUs: latest };
      window.coachGhost.shown = null;
      if (live) {
        say(`${ref}: ${loopWords(frames)}`);
        if (latest !== null) show(latest);
        return;
      }
      say(`${ref}: aligned by start time (DTW alignment loading…)`);
      show(latest);
      const query = `reference=${encodeURIComponent(ref)}&take=${encodeURIComponent(sessionId)}`;
      const map = await api("GET", `/api/compare?${query}`).catch((e) => e);
      if (!ghost || ghost.ref !== ref) return; // another reference was picked meanwhile
      if (map instanceof Error) return say(`${ref}: aligned by start time (DTW failed: ${map.message})`);
      ghost.map = map;
      say(`${ref}: time-aligned by DTW over joint angles`);
      show(latest);
    } catch (e) {
      say(String(e));
    }
  };
  if ($("ghost-restart")) {
    $("ghost-restart").onclick = () => {
      if (!ghost) return;
      ghost.originUs = latest;
      window.coachGhost.restarts++;
    };
  }
  $("ghost-hide").onclick = () => {
    if (ghost) ghost.body.hide();
    ghost = null;
    say("");
  };
  window.coachGhost = { get map() { return ghost && ghost.map; }, get frames() { return ghost && ghost.frames; }, shown: null, restarts: 0 };
  return { show };
}

export async function replayPage() {
  $("title").textContent = `Replay · ${sessionId}`;
  linkReport(1);
  let timeline = null;
  let dragging = false;
  let ghost = null; // the reference ghost's controller, once the viewer is up
  const slider = $("timeline");
  const video = followReplayVideo(token);
  const fmt = (s) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, "0")}`;
  const viewer = await startViewer({
    replay: true,
    onText: (msg) => {
      if (msg.type === "timeline") {
        timeline = msg;
        slider.max = String((msg.end_us - msg.start_us) / 1e6);
        $("duration").textContent = fmt((msg.end_us - msg.start_us) / 1e6);
        video.timeline(msg);
      } else if (msg.type === "frame" && timeline && !dragging) {
        slider.value = String((msg.t_us - timeline.start_us) / 1e6);
        $("position").textContent = fmt((msg.t_us - timeline.start_us) / 1e6);
        video.frame(msg.t_us);
        if (ghost) ghost.show((msg.t_us - timeline.start_us) / 1e6);
      } else if (msg.type === "state") {
        $("play").textContent = msg.playing ? "Pause" : "Play";
        video.state(msg);
      } else if (msg.type === "end") {
        $("play").textContent = "Play";
        video.end();
      }
    },
  });
  ghost = referenceGhost(viewer);
  const send = (m) => viewer.ws.readyState === 1 && viewer.ws.send(JSON.stringify(m));
  slider.oninput = () => (dragging = true);
  slider.onchange = () => {
    dragging = false;
    viewer.clearPlots();
    send({ type: "seek", t_s: Number(slider.value) });
  };
  $("play").onclick = () => send({ type: $("play").textContent === "Pause" ? "pause" : "play" });
  $("speed").onchange = () => send({ type: "speed", value: Number($("speed").value) });
  window.coachReplay = { seek: (t) => { viewer.clearPlots(); send({ type: "seek", t_s: t }); }, send };
}
