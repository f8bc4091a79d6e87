// Joint angles (degrees) from world joint positions (24 x Vector3, y up), minus the same
// angles in the model's zero pose (restOffsets):
// flexion = 180 - the angle at the joint between its two segments (0 = straight limb);
// hip flexion uses the trunk (pelvis -> neck) as the upper segment; trunk lean = angle of
// pelvis -> neck from the vertical (the wire frame's y axis, i.e. the camera's up).
const J = { pelvis: 0, lhip: 1, rhip: 2, lknee: 4, rknee: 5, lankle: 7, rankle: 8, neck: 12,
  lshoulder: 16, rshoulder: 17, lelbow: 18, relbow: 19, lwrist: 20, rwrist: 21 };

function angleDeg(ax, ay, az, bx, by, bz) {
  const n = Math.hypot(ax, ay, az) * Math.hypot(bx, by, bz);
  if (n < 1e-9) return 0;
  return (Math.acos(Math.min(1, Math.max(-1, (ax * bx + ay * by + az * bz) / n))) * 180) / Math.PI;
}

function flexion(p, a, b, c) {
  // 180 - angle between (a - b) and (c - b)
  return 180 - angleDeg(p[a].x - p[b].x, p[a].y - p[b].y, p[a].z - p[b].z, p[c].x - p[b].x, p[c].y - p[b].y, p[c].z - p[b].z);
}

function hipFlexion(p, hip, knee) {
  const tx = p[J.neck].x - p[J.pelvis].x, ty = p[J.neck].y - p[J.pelvis].y, tz = p[J.neck].z - p[J.pelvis].z;
  return 180 - angleDeg(tx, ty, tz, p[knee].x - p[hip].x, p[knee].y - p[hip].y, p[knee].z - p[hip].z);
}

export const ANGLE_SERIES = [
  { key: "knee", title: "Knee flexion", names: ["left", "right"] },
  { key: "hip", title: "Hip flexion", names: ["left", "right"] },
  { key: "elbow", title: "Elbow flexion", names: ["left", "right"] },
  { key: "trunk", title: "Trunk lean", names: ["lean"] },
];

// Angles of the body model's own zero pose (standing, arms out): its joint centres are not
// exactly collinear, so raw angles there are a few degrees off 0. Subtracted so that 0 means
// "as in the zero pose" for every plotted angle.
export function restOffsets(restJoints) {
  const p = restJoints.map(([x, y, z]) => ({ x, y, z }));
  return rawAngles(p);
}

export function jointAngles(p, offsets = null) {
  const a = rawAngles(p);
  if (!offsets) return a;
  const out = {};
  for (const k of Object.keys(a)) out[k] = a[k].map((v, i) => v - offsets[k][i]);
  return out;
}

function rawAngles(p) {
  return {
    knee: [flexion(p, J.lhip, J.lknee, J.lankle), flexion(p, J.rhip, J.rknee, J.rankle)],
    hip: [hipFlexion(p, J.lhip, J.lknee), hipFlexion(p, J.rhip, J.rknee)],
    elbow: [flexion(p, J.lshoulder, J.lelbow, J.lwrist), flexion(p, J.rshoulder, J.relbow, J.rwrist)],
    trunk: [angleDeg(p[J.neck].x - p[J.pelvis].x, p[J.neck].y - p[J.pelvis].y, p[J.neck].z - p[J.pelvis].z, 0, 1, 0)],
  };
}
