// The athlete's body in three.js: the open body's skinned mesh (static/body.bin, exported from
// coach_backend.body) driven by the 24 decoded joint rotations, plus a capsule skeleton.
// Wire frame = x right, y up, z towards the camera: three.js is right-handed y-up as well, so
// poses are applied as-is (no mirroring, no axis swap).
import * as THREE from "three";
import { OrbitControls } from "three/examples/jsm/controls/OrbitControls.js";

// The avatar asset is always the open body (dashboard/export_body.py); SessionInfo.body_model
// names the body whose betas the server sends (BodyModel.name).
export const AVATAR_BODY_MODEL = "open_body";

export async function loadBodyAsset(base = "/static") {
  const [meta, bin] = await Promise.all([
    fetch(`${base}/body.json`).then((r) => r.json()),
    fetch(`${base}/body.bin`).then((r) => r.arrayBuffer()),
  ]);
  const o = meta.offsets;
  return {
    meta,
    positions: new Float32Array(bin, o.positions, meta.vertices * 3),
    indices: new Uint16Array(bin, o.indices, meta.faces * 3),
    skinIndex: new Uint8Array(bin, o.skin_index, meta.vertices * 4),
    skinWeight: new Uint8Array(bin, o.skin_weight, meta.vertices * 4),
    // Shape blend shapes (V, 3, betas) as int16 * meta.shape_scale metres; absent in old assets.
    shapeDirs: o.shape_dirs === undefined ? null : new Int16Array(bin, o.shape_dirs, meta.vertices * 3 * meta.betas),
  };
}

// One body in a scene: the open body's skinned mesh on SMPL bones, optionally with the capsule
// skeleton. The athlete and the reference ghost are two of these in the same scene.
export class AvatarBody {
  constructor(scene, asset, { color = 0xc8a27a, opacity = 0.85, capsules = true } = {}) {
    const { meta } = asset;
    this.scene = scene;
    this.asset = asset;
    this.parents = meta.parents;
    this.restJoints = meta.joints; // betas 0 until the session announces its shape
    this.betas = null;
    this.bones = meta.joints.map(() => new THREE.Bone());
    this._placeBonesAtRest();
    meta.parents.forEach((par, j) => { if (par >= 0) this.bones[par].add(this.bones[j]); });
    const geom = new THREE.BufferGeometry();
    geom.setAttribute("position", new THREE.BufferAttribute(Float32Array.from(asset.positions), 3));
    geom.setIndex(new THREE.BufferAttribute(asset.indices, 1));
    geom.setAttribute("skinIndex", new THREE.Uint16BufferAttribute(Array.from(asset.skinIndex), 4));
    const w = Float32Array.from(asset.skinWeight, (x) => x / 255);
    geom.setAttribute("skinWeight", new THREE.BufferAttribute(w, 4));
    geom.computeVertexNormals();
    // A see-through body must not hide what is behind it: no depth writes below full opacity.
    const material = new THREE.MeshStandardMaterial({ color, roughness: 0.7, transparent: true, opacity, depthWrite: opacity >= 0.85 });
    this.mesh = new THREE.SkinnedMesh(geom, material);
    this.mesh.frustumCulled = false; // skinned bounds are not updated per pose
    this.mesh.add(this.bones[0]);
    this.mesh.updateMatrixWorld(true);
    this.mesh.bind(new THREE.Skeleton(this.bones));
    scene.add(this.mesh);

    // Capsule skeleton drawn over the surface, so the joints stay readable through the mesh.
    this.capsules = [];
    if (capsules) {
      const capMat = new THREE.MeshStandardMaterial({ color: 0x1f4e79, roughness: 0.5, depthTest: false });
      for (let j = 1; j < 24; j++) {
        const cap = new THREE.Mesh(new THREE.CapsuleGeometry(0.018, 1, 4, 8), capMat);
        cap.renderOrder = 2;
        scene.add(cap);
        this.capsules.push([j, cap]);
      }
    }
    this.worldJoints = this.bones.map(() => new THREE.Vector3());
    this.valid = false;
    this.frames = 0;
  }

  // Bones at the rest joints; local offset = joint - parent joint (SMPL's kinematic tree).
  _placeBonesAtRest() {
    this.restJoints.forEach((p, j) => {
      const par = this.parents[j];
      const q = par < 0 ? [0, 0, 0] : this.restJoints[par];
      this.bones[j].position.set(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
      this.bones[j].quaternion.identity();
    });
  }

  // Reshape the body to the session's betas (SessionInfo): vertices and rest joints move
  // linearly with them (SMPL's shape blend shapes), then the skeleton is bound again at rest.
  // Only betas of the avatar's own body model: another body's betas would misshape it.
  setBetas(betas, bodyModel) {
    const { meta, shapeDirs, positions } = this.asset;
    const K = meta.betas;
    if (bodyModel !== AVATAR_BODY_MODEL) return false;
    if (!shapeDirs || !betas || betas.length !== K || !betas.every(Number.isFinite)) return false;
    const out = this.mesh.geometry.attributes.position.array;
    const s = meta.shape_scale;
    for (let i = 0; i < out.length; i++) {
      let d = 0;
      for (let k = 0; k < K; k++) d += shapeDirs[i * K + k] * betas[k];
      out[i] = positions[i] + d * s;
    }
    this.restJoints = meta.joints.map((p, j) => p.map((x, c) => {
      const dirs = meta.joint_shape_dirs[j][c];
      return x + dirs.reduce((acc, v, k) => acc + v * betas[k], 0);
    }));
    const pose = this.bones.map((b) => b.quaternion.clone());
    const pelvis = this.bones[0].position.clone();
    this._placeBonesAtRest();
    this.mesh.updateMatrixWorld(true);
    this.mesh.skeleton.calculateInverses();
    this.bones.forEach((b, j) => b.quaternion.copy(pose[j]));
    if (this.valid) this.bones[0].position.copy(pelvis);
    this.mesh.geometry.attributes.position.needsUpdate = true;
    this.mesh.geometry.computeVertexNormals();
    this.mesh.updateMatrixWorld(true);
    this.betas = Array.from(betas);
    return true;
  }

  // pose = decodePose(...): quats (24 x xyzw: index 0 global, others local), pelvis (m).
  // offset: [x, y, z] added to the whole body (the ghost is moved onto the athlete).
  setPose(pose, offset = [0, 0, 0]) {
    this.valid = pose.valid;
    this.mesh.visible = pose.valid;
    if (!pose.valid) {
      for (const [, cap] of this.capsules) cap.visible = false;
      return this.worldJoints; // hold nothing: no person in view
    }
    const q = pose.quats;
    for (let j = 0; j < 24; j++) this.bones[j].quaternion.set(q[4 * j], q[4 * j + 1], q[4 * j + 2], q[4 * j + 3]);
    this.bones[0].position.set(pose.pelvis[0] + offset[0], pose.pelvis[1] + offset[1], pose.pelvis[2] + offset[2]);
    this.mesh.updateMatrixWorld(true);
    this.bones.forEach((b, j) => b.getWorldPosition(this.worldJoints[j]));
    this._placeCapsules();
    this.frames++;
    return this.worldJoints;
  }

  hide() {
    this.valid = false;
    this.mesh.visible = false;
    for (const [, cap] of this.capsules) cap.visible = false;
  }

  _placeCapsules() {
    const up = new THREE.Vector3(0, 1, 0);
    for (const [j, cap] of this.capsules) {
      const a = this.worldJoints[this.parents[j]], b = this.worldJoints[j];
      const d = b.clone().sub(a);
      const len = d.length();
      cap.position.copy(a).add(b).multiplyScalar(0.5);
      cap.scale.set(1, Math.max(len, 1e-3), 1);
      cap.quaternion.setFromUnitVectors(up, d.normalize());
      cap.visible = this.valid;
    }
  }
}

// Colour and opacity of the reference ghost: see-through and cool-toned against the athlete.
export const GHOST_STYLE = { color: 0x3a8fd9, opacity: 0.35, capsules: false };

export class AvatarView {
  constructor(container, asset) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(window.devicePixelRatio || 1);
    container.appendChild(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0xeef1f4);
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.05, 100);
    this.camera.position.set(0, 0.2, 0.5);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x667788, 1.6));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(1, 3, 2);
    this.scene.add(sun);
    this.grid = new THREE.GridHelper(10, 20, 0x99a3ad, 0xc9d0d6);
    this.scene.add(this.grid);

    this.asset = asset;
    this.body = new AvatarBody(this.scene, asset);
    this.ghost = null;
    this._target = null;
    this._floor = null;
    this._resize = () => this.resize();
    window.addEventListener("resize", this._resize);
    this.resize();
    this.renderer.setAnimationLoop(() => this.render());
  }

  // The athlete's body, as before the ghost existed (pages and tests read these).
  get restJoints() { return this.body.restJoints; }
  get betas() { return this.body.betas; }
  get valid() { return this.body.valid; }
  get frames() { return this.body.frames; }
  get worldJoints() { return this.body.worldJoints; }
  get mesh() { return this.body.mesh; }
  get floorY() { return this._floor; }
  setBetas(betas, bodyModel) { return this.body.setBetas(betas, bodyModel); }

  // The reference ghost: a second body of the same asset in this scene (made on first use).
  addGhost() {
    if (!this.ghost) this.ghost = new AvatarBody(this.scene, this.asset, GHOST_STYLE);
    return this.ghost;
  }

  resize() {
    const w = this.container.clientWidth || 400, h = this.container.clientHeight || 400;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
  }

  setPose(pose) {
    const joints = this.body.setPose(pose);
    if (pose.valid) this._follow();
    return joints;
  }

  _follow() {
    const p = this.worldJoints[0];
    if (!this._target) {
      // First pose: look at the athlete from the capture camera's side, 3 m away.
      this._target = p.clone();
      this.controls.target.copy(p);
      this.camera.position.set(p.x + 0.8, p.y + 0.4, p.z + 3.0);
    }
    const delta = p.clone().sub(this._target).multiplyScalar(0.1); // ease, keep the user's orbit
    this._target.add(delta);
    this.controls.target.add(delta);
    this.camera.position.add(delta);
    const feet = Math.min(this.worldJoints[10].y, this.worldJoints[11].y) - 0.05;
    this._floor = this._floor === null ? feet : 0.95 * this._floor + 0.05 * Math.min(feet, this._floor + 0.02);
    this.grid.position.set(this._target.x, this._floor, this._target.z);
  }

  render() {
    this.controls.update();
    this.renderer.render(this.scene, this.camera);
  }
}
