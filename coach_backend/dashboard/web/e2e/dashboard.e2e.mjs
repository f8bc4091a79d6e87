// Browser end-to-end check, driven by tests/test_dashboard_browser.py:
//   node dashboard.e2e.mjs '<json: {base, session, athleteToken, coachToken, chromium, y4m, outDir,
//                                   reference, adminToken, peaksS}>'
// Context 1 opens the athlete page and publishes Chromium's fake camera (the y4m clip); context 2
// opens the coach's live page and waits until the avatar and the angle plots update; a third page
// shows a reference ghost beside the live athlete (with cfg.reference). Prints one
// JSON line with what it saw; screenshots go to outDir.
import { WEBGL, launchBrowser, startResult } from "./browser.mjs";

const cfg = JSON.parse(process.argv[2]);
const { result, step } = startResult();

// One browser, two isolated contexts; Chromium's fake camera plays the y4m clip.
const browser = await launchBrowser(cfg.chromium, [
  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
  `--use-file-for-fake-video-capture=${cfg.y4m}`, ...WEBGL,
]);
try {
  const athleteCtx = await browser.newContext({ viewport: { width: 800, height: 600 } });
  const athlete = await athleteCtx.newPage();
  athlete.on("console", (m) => console.error(`[athlete] ${m.text()}`));
  await athlete.goto(`${cfg.base}/athlete?session=${cfg.session}&token=${cfg.athleteToken}`);
  await athlete.click("#start");
  await athlete.waitForFunction(() => window.coachAthlete?.pc?.connectionState === "connected", null, { timeout: 45000 });
  step("athlete connected");
  await athlete.screenshot({ path: `${cfg.outDir}/athlete.png` });

  const coachCtx = await browser.newContext({ viewport: { width: 1280, height: 760 } });
  const coach = await coachCtx.newPage();
  coach.on("console", (m) => console.error(`[coach] ${m.text()}`));
  coach.on("pageerror", (e) => console.error(`[coach error] ${e}`));
  await coach.goto(`${cfg.base}/live?session=${cfg.session}&token=${cfg.coachToken}`);
  await coach.waitForFunction(() => (window.coachViewer?.avatar?.frames || 0) >= 30, null, { timeout: 60000 });
  const first = await coach.evaluate(() => ({ frames: window.coachViewer.avatar.frames, knee: window.coachViewer.plots.knee.points }));
  await coach.waitForTimeout(2500); // let plots fill a little for the screenshot
  // The athlete's video, relayed by the server, plays beside the avatar.
  await coach.waitForFunction(() => (document.getElementById("video")?.videoWidth || 0) > 0, null, { timeout: 30000 });
  result.liveVideo = await coach.evaluate(() => { const v = document.getElementById("video"); return { width: v.videoWidth, height: v.videoHeight }; });
  step(`coach video ${result.liveVideo.width}x${result.liveVideo.height}`);
  const state = await coach.evaluate(() => {
    const v = window.coachViewer;
    const c = v.avatar.renderer.domElement;
    // Sample the WebGL canvas: a rendered avatar means non-background pixels.
    const g = document.createElement("canvas");
    g.width = c.width; g.height = c.height;
    const ctx = g.getContext("2d");
    ctx.drawImage(c, 0, 0);
    const px = ctx.getImageData(0, 0, g.width, g.height).data;
    let body = 0;
    for (let i = 0; i < px.length; i += 16) if (Math.abs(px[i] - 0xee) + Math.abs(px[i + 1] - 0xf1) + Math.abs(px[i + 2] - 0xf4) > 60) body++;
    return {
      frames: v.avatar.frames, valid: v.avatar.valid, knee: v.plots.knee.points, hip: v.plots.hip.points,
      elbow: v.plots.elbow.points, trunk: v.plots.trunk.points, fps: v.stats.fps, stats: document.getElementById("stats").textContent,
      nonBackgroundSamples: body, pelvis: v.avatar.worldJoints[0].toArray(),
      betas: v.avatar.betas, restJoint0: v.avatar.restJoints[0], meshFirstVertex: Array.from(v.avatar.mesh.geometry.attributes.position.array.slice(0, 3)),
    };
  });
  step(`coach saw ${state.frames} poses`);
  await coach.screenshot({ path: `${cfg.outDir}/dashboard.png` });
  result.first = first;
  result.coach = state;

  // The rep counter: the server's counter, shown on the stats line as poses arrive (the clip
  // is one squat a second). It must move on, and count the squats.
  const reps = () => ({ ...window.coachReps, shown: document.getElementById("rep-count").textContent,
    how: document.getElementById("rep-how").textContent });
  await coach.waitForFunction(() => (window.coachReps?.frames || 0) > 0, null, { timeout: 30000 });
  const repsFirst = await coach.evaluate(reps);
  await coach.waitForFunction((n) => (window.coachReps?.frames || 0) > n && window.coachReps.count >= 2,
    repsFirst.frames, { timeout: 60000 });
  result.reps = { first: repsFirst, later: await coach.evaluate(reps) };
  step(`rep counter at ${result.reps.later.count} reps (${result.reps.later.frames} poses)`);

  // The reference ghost beside the live athlete (cfg.reference: a recording of squats). Its page
  // uses the server's key, which may read other sessions' recordings (a coach token unlocks its
  // own session only); the screenshot shows video, rep counter, avatar and ghost together.
  if (cfg.reference) {
    const lead = await coachCtx.newPage();
    lead.on("pageerror", (e) => console.error(`[ghost page error] ${e}`));
    await lead.goto(`${cfg.base}/live?session=${cfg.session}&token=${cfg.adminToken}`);
    await lead.waitForFunction(() => (window.coachViewer?.avatar?.frames || 0) >= 10 && window.coachViewer.avatar.valid
      && (document.getElementById("video")?.videoWidth || 0) > 0 && window.coachReps, null, { timeout: 60000 });
    await lead.fill("#ghost-ref", cfg.reference);
    await lead.click("#ghost-show");
    await lead.waitForFunction(() => window.coachGhost?.shown && window.coachGhost.shown.elapsedS > 1, null, { timeout: 30000 });
    // For the picture: both down in a squat (athlete's knees bent, ghost near a rep's bottom).
    await lead.waitForFunction((peaks) => {
      const knee = window.coachViewer.plots.knee.v[0].at(-1), r = window.coachGhost.shown.referenceS;
      if (!(knee > 50 && peaks.some((p) => Math.abs(r - p) < 0.5))) return false;
      window.coachViewer.ws.onmessage = null; // hold that moment for the screenshot (it is slow)
      return true;
    }, cfg.peaksS, { timeout: 30000, polling: "raf" }).catch(() => step("no moment with both down for the screenshot"));
    result.ghost = await lead.evaluate(() => ({ shown: window.coachGhost.shown, visible: window.coachViewer.avatar.ghost.mesh.visible,
      state: document.getElementById("ghost-state").textContent }));
    await lead.screenshot({ path: `${cfg.outDir}/dashboard_ghost.png` });
    step(`live ghost at reference ${result.ghost.shown.referenceS.toFixed(2)} s`);
    await lead.close();
  }

  // End the session from the coach page, then replay the recording with its timeline.
  await coach.click("#end");
  await coach.waitForFunction(() => document.getElementById("state").textContent.startsWith("ended"), null, { timeout: 30000 });
  step("session ended by the coach");
  // The report the server writes as the session ends is linked from the page.
  await coach.waitForFunction(() => !document.getElementById("report-link").hidden, null, { timeout: 60000 })
    .catch(() => step("no report link"));
  result.reportLink = await coach.evaluate(() => { const a = document.getElementById("report-link"); return a.hidden ? null : a.getAttribute("href"); });
  const replay = await coachCtx.newPage();
  replay.on("pageerror", (e) => console.error(`[replay error] ${e}`));
  await replay.goto(`${cfg.base}/replay?session=${cfg.session}&token=${cfg.coachToken}`);
  await replay.waitForFunction(() => (window.coachViewer?.avatar?.frames || 0) >= 5 && Number(document.getElementById("timeline").max) > 1, null, { timeout: 30000 });
  const duration = await replay.evaluate(() => Number(document.getElementById("timeline").max));
  await replay.evaluate((t) => window.coachReplay.seek(t), duration * 0.6);
  await replay.waitForFunction((t) => Number(document.getElementById("timeline").value) >= t - 0.5, duration * 0.6, { timeout: 20000 });
  // The recorded video follows the seek (its own seek may take a moment to land: over 20 s on
  // the 2-core VM under a full test run at low priority).
  await replay.waitForFunction(() => { const v = document.getElementById("video"); return v.readyState >= 2 && Math.abs(v.currentTime - Number(document.getElementById("timeline").value)) < 1; }, null, { timeout: 60000 })
    .catch(() => step("replay video did not follow the seek"));
  result.replay = await replay.evaluate(() => ({ duration: Number(document.getElementById("timeline").max),
    position: Number(document.getElementById("timeline").value), frames: window.coachViewer.avatar.frames,
    videoTime: document.getElementById("video").currentTime, videoReady: document.getElementById("video").readyState }));
  step(`replay at ${result.replay.position.toFixed(1)} s of ${result.replay.duration.toFixed(1)} s`);
  await replay.screenshot({ path: `${cfg.outDir}/replay.png` });
  result.ok = state.frames > first.frames && state.knee > first.knee && state.nonBackgroundSamples > 50
    && result.replay.position >= duration * 0.6 - 0.5 && result.reps.later.frames > result.reps.first.frames;
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
