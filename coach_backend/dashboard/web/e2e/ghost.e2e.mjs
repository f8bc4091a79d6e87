// The reference ghost in a real browser, driven by tests/test_dashboard_live_ghost.py:
//   node ghost.e2e.mjs '<json: {base, live, take, reference, token, chromium, outDir, loops,
//                               replayAt, peaksS}>'
// 1. The live page of session `live` (poses arriving): pick `reference`, Show; the ghost plays
//    its reps in a loop. Samples what the page drew for each live pose (the pose's capture time,
//    the reference time and frame shown) until the loop has wrapped `loops` times, presses
//    Restart, samples again, screenshots live_ghost.png.
// 2. The replay page of the ended session `take`: the same reference, aligned by DTW;
//    screenshots replay_ghost.png.
// 3. The session list: the reference's report link opens its report.
// Prints one JSON line with what it saw.
import { WEBGL, launchBrowser, startResult } from "./browser.mjs";

const cfg = JSON.parse(process.argv[2]);
const { result, step } = startResult();
const browser = await launchBrowser(cfg.chromium, WEBGL);

// Counts canvas samples in the ghost's light blue (see-through over the grey background: blue
// clearly above red), drawn with the athlete's body hidden for one render (the two overlap where
// their poses agree). One synchronous task: no pose arrives in between.
const ghostPixels = () => {
  const view = window.coachViewer.avatar;
  const athlete = [view.body.mesh, ...view.body.capsules.map(([, c]) => c)];
  const shown = athlete.map((o) => o.visible);
  athlete.forEach((o) => (o.visible = false));
  view.render();
  const c = view.renderer.domElement;
  const g = document.createElement("canvas");
  g.width = c.width; g.height = c.height;
  const ctx = g.getContext("2d");
  ctx.drawImage(c, 0, 0);
  athlete.forEach((o, i) => (o.visible = shown[i]));
  view.render();
  const px = ctx.getImageData(0, 0, g.width, g.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 16) if (px[i] > 120 && px[i + 2] - px[i] > 40) n++;
  return n;
};

async function showGhost(page, reference) {
  await page.fill("#ghost-ref", reference);
  await page.click("#ghost-show");
  await page.waitForFunction(() => window.coachGhost?.shown !== null && window.coachGhost?.shown !== undefined, null, { timeout: 30000 });
}

try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const live = await ctx.newPage();
  live.on("pageerror", (e) => console.error(`[live error] ${e}`));
  await live.goto(`${cfg.base}/live?session=${cfg.live}&token=${cfg.token}`);
  await live.waitForFunction(() => (window.coachViewer?.avatar?.frames || 0) >= 10 && window.coachViewer.avatar.valid, null, { timeout: 60000 });
  step("live poses arrive");
  await live.waitForFunction(() => document.querySelectorAll("#ghost-refs option").length > 0, null, { timeout: 30000 });
  result.offered = await live.evaluate(() => Array.from(document.querySelectorAll("#ghost-refs option")).map((o) => o.value));
  result.pixelsBefore = await live.evaluate(ghostPixels);
  await showGhost(live, cfg.reference);
  result.liveState = await live.evaluate(() => document.getElementById("ghost-state").textContent);
  result.frames = await live.evaluate(() => ({ startUs: window.coachGhost.frames.startUs, repsSpanS: window.coachGhost.frames.repsSpanS, durationS: window.coachGhost.frames.durationS }));
  step(`ghost shown: ${result.liveState}`);
  // Sample every live pose the page draws: one entry per "frame" the ghost was shown at.
  await live.evaluate(() => {
    window.ghostSamples = [];
    const ws = window.coachViewer.ws;
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string" && window.coachGhost.shown) window.ghostSamples.push({ ...window.coachGhost.shown, visible: window.coachViewer.avatar.ghost.mesh.visible });
    });
  });
  const loopS = result.frames.repsSpanS[1] - result.frames.repsSpanS[0];
  await live.waitForFunction((s) => window.ghostSamples.length > 0 && window.ghostSamples.at(-1).elapsedS > s, loopS * cfg.loops, { timeout: 90000 });
  result.samples = await live.evaluate(() => window.ghostSamples);
  result.ghostPixels = await live.evaluate(ghostPixels);
  step(`${result.samples.length} live samples over ${cfg.loops} loops`);
  // Restart as a coach does: when the athlete starts a rep (knees leaving the rest angle). The
  // samples are cleared and Restart pressed in one task: no pose in between.
  await live.waitForFunction(() => window.coachViewer.plots.knee.v[0].at(-1) < 10, null, { timeout: 30000, polling: "raf" });
  await live.waitForFunction(() => {
    if (window.coachViewer.plots.knee.v[0].at(-1) <= 12) return false;
    window.ghostSamples = [];
    document.getElementById("ghost-restart").click();
    return true;
  }, null, { timeout: 30000, polling: "raf" });
  await live.waitForFunction(() => window.ghostSamples.length >= 10, null, { timeout: 30000 });
  result.afterRestart = await live.evaluate(() => ({ samples: window.ghostSamples, restarts: window.coachGhost.restarts }));
  step("restarted");
  // The screenshot: both down in a squat (athlete's knees bent, ghost near a rep's bottom).
  result.bothDown = await live.waitForFunction((peaks) => {
    const k = window.coachViewer.plots.knee.v[0].at(-1), r = window.coachGhost.shown.referenceS;
    if (!(k > 60 && peaks.some((p) => Math.abs(r - p) < 0.4))) return false;
    window.coachViewer.ws.onmessage = null; // hold that moment for the screenshot (it is slow)
    return true;
  }, cfg.peaksS, { timeout: 30000, polling: "raf" }).then(() => true, () => false);
  await live.screenshot({ path: `${cfg.outDir}/live_ghost.png` });
  await live.close();

  const replay = await ctx.newPage();
  replay.on("pageerror", (e) => console.error(`[replay error] ${e}`));
  await replay.goto(`${cfg.base}/replay?session=${cfg.take}&token=${cfg.token}`);
  await replay.waitForFunction(() => (window.coachViewer?.avatar?.frames || 0) >= 5 && Number(document.getElementById("timeline").max) > 1, null, { timeout: 30000 });
  await replay.evaluate(() => window.coachReplay.send({ type: "pause" }));
  await showGhost(replay, cfg.reference);
  await replay.waitForFunction(() => window.coachGhost.map !== null, null, { timeout: 60000 });
  const duration = await replay.evaluate(() => Number(document.getElementById("timeline").max));
  // Seek to a moment mid-rep and let the page draw it (a seek while paused shows that pose).
  await replay.evaluate((t) => window.coachReplay.seek(t), duration * cfg.replayAt);
  await replay.waitForFunction((t) => window.coachGhost.shown?.aligned === "dtw" && Math.abs(window.coachGhost.shown.takeS - t) < 0.1, duration * cfg.replayAt, { timeout: 30000 });
  await replay.waitForTimeout(500); // a few animation frames, so the screenshot has the pose
  result.replay = await replay.evaluate(() => ({ shown: window.coachGhost.shown, state: document.getElementById("ghost-state").textContent,
    reportLink: document.getElementById("report-link").hidden ? null : document.getElementById("report-link").getAttribute("href") }));
  result.replayGhostPixels = await replay.evaluate(ghostPixels);
  await replay.screenshot({ path: `${cfg.outDir}/replay_ghost.png` });
  step(`replay ghost at take ${result.replay.shown.takeS.toFixed(2)} s -> reference ${result.replay.shown.referenceS.toFixed(2)} s`);
  // 3. The session list links each ended session's report; the link opens the page.
  const index = await ctx.newPage();
  await index.goto(`${cfg.base}/?token=${cfg.token}`);
  const sel = `a[href^="/api/sessions/${cfg.reference}/report?token="]`;
  await index.waitForSelector(sel, { timeout: 30000 });
  await Promise.all([index.waitForURL(/\/report\?/, { timeout: 30000 }), index.click(sel)]);
  result.report = await index.evaluate(() => ({ url: location.pathname, title: document.title,
    headline: document.querySelector("li.headline")?.textContent || "", images: document.images.length }));
  step(`report opened from the session list: ${result.report.title}`);
  result.ok = true;
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
