// Decodes the shared wire test vectors (unity_bridge/Tests/vectors/pose_vectors_v1.json, made by
// the Python codec) with the dashboard's decoder; prints the worst errors and one decoded message.
import { readFileSync } from "node:fs";
import { decodeMessage, decodePose } from "../src/pose.js";

const vectors = JSON.parse(readFileSync(process.argv[2], "utf8"));
let maxQuatErr = 0, maxPelvisErr = 0, validMismatch = 0;
for (const c of vectors.cases) {
  const bytes = Uint8Array.from(c.hex.match(/../g).map((h) => parseInt(h, 16)));
  const pose = decodePose(new DataView(bytes.buffer));
  if (pose.valid !== c.valid) validMismatch++;
  c.quats_xyzw.forEach((q, j) => q.forEach((x, i) => (maxQuatErr = Math.max(maxQuatErr, Math.abs(pose.quats[4 * j + i] - x)))));
  c.pelvis_m.forEach((x, i) => (maxPelvisErr = Math.max(maxPelvisErr, Math.abs(pose.pelvis[i] - x))));
}
// argv[3]: hex of one 128-byte WebSocket pose message packed by Python (wsproto.pack_frame).
const hex = process.argv[3];
const m = decodeMessage(Uint8Array.from(hex.match(/../g).map((h) => parseInt(h, 16))).buffer);
console.log(JSON.stringify({ cases: vectors.cases.length, maxQuatErr, maxPelvisErr, validMismatch,
  message: { sequence: m.sequence, captureTimeUs: m.captureTimeUs, confidence: m.confidence, flags: m.flags,
    valid: m.pose.valid, pelvis: m.pose.pelvis } }));
