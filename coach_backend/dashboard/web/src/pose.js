// Decoding of the browser pose stream. Layout: coach_backend/dashboard/wsproto.py (128-byte
// message = 24-byte header + 104-byte compact pose v1, docs/CONTRIBUTING-internal.md).

const INV_SQRT2 = Math.SQRT1_2;
const SPAN = 2 * INV_SQRT2;
export const MESSAGE_BYTES = 128;
export const NUM_JOINTS = 24;

// Decode a "smallest three" uint32 into [x, y, z, w] (scipy order, same as three.js).
export function unpackQuat(u, out, o) {
  const largest = u >>> 30;
  const c = [(u >>> 20) & 1023, (u >>> 10) & 1023, u & 1023].map((k) => (k / 1023) * SPAN - INV_SQRT2);
  let k = 0;
  let sum = 0;
  for (let i = 0; i < 4; i++) {
    if (i === largest) continue;
    out[o + i] = c[k];
    sum += c[k] * c[k];
    k++;
  }
  out[o + largest] = Math.sqrt(Math.max(0, 1 - sum));
}

// 104-byte pose at byteOffset -> {version, valid, quats: Float32Array(96) xyzw per joint, pelvis}.
export function decodePose(view, byteOffset = 0) {
  const version = view.getUint8(byteOffset);
  const flags = view.getUint8(byteOffset + 1);
  const quats = new Float32Array(NUM_JOINTS * 4);
  for (let j = 0; j < NUM_JOINTS; j++) unpackQuat(view.getUint32(byteOffset + 2 + 4 * j, true), quats, 4 * j);
  const pelvis = [0, 1, 2].map((i) => view.getInt16(byteOffset + 98 + 2 * i, true) / 1000);
  return { version, valid: (flags & 1) === 1, quats, pelvis };
}

// One binary WebSocket message -> {sequence, captureTimeUs, confidence, flags, pose}.
export function decodeMessage(buffer) {
  if (buffer.byteLength !== MESSAGE_BYTES) throw new Error(`pose message must be ${MESSAGE_BYTES} bytes`);
  const v = new DataView(buffer);
  if (v.getUint8(0) !== 1) throw new Error("not a pose message");
  return {
    flags: v.getUint8(1),
    confidence: v.getFloat32(4, true),
    sequence: Number(v.getBigUint64(8, true)),
    captureTimeUs: Number(v.getBigInt64(16, true)),
    pose: decodePose(v, 24),
  };
}
