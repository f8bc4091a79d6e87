// The replay page's ghost logic (src/ghost.js) on inputs from tests/test_dashboard_ghost.py:
// argv[2] = JSON {map, take_times_s, reference_duration_s, times_us, queries_us, frames,
// elapsed_s, span}; prints
// what the page would compute for each.
import { readFileSync } from "node:fs";
import { frameIndexAt, ghostOffset, loopedReferenceTime, referenceTimeAt, unpackFrames } from "../src/ghost.js";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const frames = unpackFrames(input.frames);
console.log(JSON.stringify({
  dtw: input.take_times_s.map((t) => referenceTimeAt(input.map, t, input.reference_duration_s)),
  start: input.take_times_s.map((t) => referenceTimeAt(null, t, input.reference_duration_s)),
  indices: input.queries_us.map((t) => frameIndexAt(input.times_us, t)),
  offset: ghostOffset([1, 0.9, -3], 0.02, [0.5, 1.2, -2], 0.3),
  offsetNoFloor: ghostOffset([1, 0.9, -3], null, [0.5, 1.2, -2], 0.3),
  frames: { count: frames.buffers.length, startUs: frames.startUs, durationS: frames.durationS, timesUs: frames.timesUs, repsSpanS: frames.repsSpanS },
  looped: input.elapsed_s.map((t) => loopedReferenceTime(t, input.span, input.reference_duration_s)),
  loopedWhole: input.elapsed_s.map((t) => loopedReferenceTime(t, null, input.reference_duration_s)),
}));
