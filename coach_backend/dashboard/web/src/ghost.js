// The reference ghost's timing and placement: which reference pose to show at a take time,
// and where. Pure functions (no three.js), so node tests them (tests/test_dashboard_ghost.py).

// Take time -> reference time, both in seconds from each recording's first frame.
// map: GET /api/compare's {take_times_s, reference_times_s} (the DTW path), interpolated
// linearly between its samples and held at its ends. Without a map (the alignment failed or is
// still loading): the same clock from both starts, held at the reference's end.
export function referenceTimeAt(map, takeTimeS, referenceDurationS = Infinity) {
  if (!map || !map.take_times_s || map.take_times_s.length === 0) {
    return Math.min(Math.max(takeTimeS, 0), referenceDurationS);
  }
  const xs = map.take_times_s, ys = map.reference_times_s;
  if (takeTimeS <= xs[0]) return ys[0];
  if (takeTimeS >= xs[xs.length - 1]) return ys[ys.length - 1];
  let lo = 0, hi = xs.length - 1; // xs[lo] <= t < xs[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= takeTimeS) lo = mid; else hi = mid;
  }
  const f = (takeTimeS - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + f * (ys[hi] - ys[lo]);
}

// The live page's ghost: the reference time shown elapsedS after the coach started the ghost.
// A live take has no future to align to, so the reference's reps play in a loop: span
// [start, end] (its summary's first rep start to last rep end, seconds from its first frame),
// or the whole recording [0, durationS] without one. Before the start: the span's start.
export function loopedReferenceTime(elapsedS, span, durationS) {
  const [a, b] = span && span[1] > span[0] ? span : [0, durationS];
  const length = b - a;
  if (!(length > 0) || !(elapsedS > 0)) return a;
  return a + (elapsedS % length);
}

// Index of the frame shown at tUs: the last one at or before it (the first, before any).
// timesUs: the frames' capture times, increasing.
export function frameIndexAt(timesUs, tUs) {
  let lo = 0, hi = timesUs.length; // answer in [lo, hi)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (timesUs[mid] <= tUs) lo = mid; else hi = mid;
  }
  return lo;
}

// Offset [dx, dy, dz] that puts the ghost over the athlete: pelvis on the athlete's pelvis
// horizontally, lower foot on the athlete's floor (the two takes' cameras stood at different
// places and heights, so their raw positions do not compare). athleteFloorY null: pelvis height.
export function ghostOffset(athletePelvis, athleteFloorY, ghostPelvis, ghostLowerFootY) {
  const dy = athleteFloorY === null ? athletePelvis[1] - ghostPelvis[1] : athleteFloorY - ghostLowerFootY;
  return [athletePelvis[0] - ghostPelvis[0], dy, athletePelvis[2] - ghostPelvis[2]];
}

// The ghost's frames from GET /api/sessions/{id}/frames: {info, start_us, count, frames_b64,
// reps_span_s} -> {info, startUs, durationS, timesUs, buffers (one ArrayBuffer per 128-byte
// message), repsSpanS (null: no summary with reps)}.
export function unpackFrames(body, messageBytes = 128) {
  const raw = atob(body.frames_b64);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const buffers = [];
  const timesUs = [];
  for (let o = 0; o + messageBytes <= bytes.length; o += messageBytes) {
    const buf = bytes.slice(o, o + messageBytes).buffer;
    buffers.push(buf);
    timesUs.push(Number(new DataView(buf).getBigInt64(16, true))); // header: capture time
  }
  const durationS = timesUs.length ? (timesUs[timesUs.length - 1] - timesUs[0]) / 1e6 : 0;
  const repsSpanS = body.reps_span_s ?? null;
  return { info: body.info, startUs: timesUs.length ? timesUs[0] : 0, durationS, timesUs, buffers, repsSpanS };
}
