"""Synthetic RGB-D pairs of procedural rooms, and a loader for the real ScanNet RGB-D pair layout.

A scene is an axis-aligned room (floor, four walls, ceiling) with axis-aligned boxes standing on the
floor. Every face carries a procedural texture evaluated in *world* coordinates, so the same surface
point has the same colour in every view. A pinhole camera ray-casts the scene analytically (slab
test per box) into RGB (2 x 2 supersampled, Lambertian shading) and metric depth (the pixel-centre
ray). A second view is drawn under a random relative pose with enough motion (5-20 degrees,
0.1-0.4 m) and enough overlap (>= 40 % of view 0 visible and unoccluded in view 1); depth gets
Gaussian noise and holes, and each view its own brightness gain/offset.

Two scene families make fusion necessary:

* ``"textured"`` — geometrically plain (floor and walls, at most one low box) with strong, varied
  textures: the RGB branch has something to match, the geometric branch sees planes;
* ``"geometric"`` — many boxes of different sizes, all in one pale colour with a faint repeated
  pattern: the geometry is distinctive, the image is nearly uniform.

Conventions: cameras are OpenCV (x right, y down, z forward); ``T`` is the 4 x 4 relative pose that
maps view-0 camera coordinates to view-1 camera coordinates, ``x1 = R x0 + t``, i.e.
``T = inv(C1) @ C0`` for camera-to-world poses ``C0, C1`` (the same as UR&R / PointMBF's
``Rt_1 = inv(P_1) @ P_0``). Ground-truth poses are for metrics (and the supervised oracle) only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FAMILIES = ("textured", "geometric")


@dataclass(frozen=True)
class RoomConfig:
    height: int = 48
    width: int = 64
    focal: float = 50.0
    depth_noise: float = 0.005  # metres (sigma)
    hole_frac: float = 0.02  # share of pixels with depth 0
    rot_deg: tuple[float, float] = (5.0, 20.0)
    trans_m: tuple[float, float] = (0.1, 0.4)
    min_overlap: float = 0.4
    gain: tuple[float, float] = (0.93, 1.07)
    offset: float = 0.02
    supersample: int = 2


def intrinsics(cfg: RoomConfig = RoomConfig()) -> np.ndarray:
    """Pinhole intrinsics for the configured image size (principal point at the image centre)."""
    return np.array([[cfg.focal, 0.0, (cfg.width - 1) / 2.0],
                     [0.0, cfg.focal, (cfg.height - 1) / 2.0],
                     [0.0, 0.0, 1.0]], dtype=np.float64)


def check_intrinsics(K) -> np.ndarray:
    """Validate a 3 x 3 pinhole matrix: finite, upper triangular, positive focal lengths, last row 0 0 1."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3):
        raise ValueError(f"intrinsics must be a 3x3 matrix, got shape {K.shape}")
    if not np.all(np.isfinite(K)):
        raise ValueError(f"intrinsics contain non-finite values: {K.tolist()}")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise ValueError(f"intrinsics need positive focal lengths fx, fy; got fx={K[0, 0]}, fy={K[1, 1]}")
    if not np.allclose(K[2], [0, 0, 1]) or K[1, 0] != 0:
        raise ValueError(f"intrinsics must be upper triangular with last row [0, 0, 1]; got {K.tolist()}")
    return K


def check_rgbd(rgb, depth) -> None:
    """RGB (3, H, W) or (H, W, 3) and depth (H, W) must share H, W; depth needs a valid (> 0) pixel."""
    rgb, depth = np.asarray(rgb), np.asarray(depth)
    if depth.ndim == 3 and depth.shape[0] == 1:
        depth = depth[0]
    if depth.ndim != 2:
        raise ValueError(f"depth must be (H, W) or (1, H, W), got shape {depth.shape}")
    hw = rgb.shape[1:] if rgb.ndim == 3 and rgb.shape[0] == 3 else rgb.shape[:2]
    if rgb.ndim != 3 or tuple(hw) != depth.shape:
        raise ValueError(f"RGB {rgb.shape} and depth {depth.shape} have different image sizes")
    if not np.any(depth > 0):
        raise ValueError("depth map has no valid pixel (all <= 0): nothing to back-project")


def backproject(depth, K) -> np.ndarray:
    """(H, W) depth -> (H, W, 3) camera points ``d K^-1 [u, v, 1]``; invalid depth (<= 0) gives (0, 0, 0)."""
    K = check_intrinsics(K)
    depth = np.asarray(depth, dtype=np.float64)
    if depth.ndim != 2:
        raise ValueError(f"depth must be (H, W), got shape {depth.shape}")
    H, W = depth.shape
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    x = (u - K[0, 2] - K[0, 1] * (v - K[1, 2]) / K[1, 1]) / K[0, 0]
    y = (v - K[1, 2]) / K[1, 1]
    d = np.where(depth > 0, depth, 0.0)
    return np.stack([x * d, y * d, d], -1)


def project(points, K) -> tuple[np.ndarray, np.ndarray]:
    """(..., 3) camera points -> (..., 2) pixel coordinates (u, v) and (...) depth z."""
    K = check_intrinsics(K)
    p = np.asarray(points, dtype=np.float64)
    z = p[..., 2]
    zs = np.where(np.abs(z) > 1e-9, z, 1e-9)
    uvw = p @ K.T
    return uvw[..., :2] / zs[..., None], z


def transform(points, T) -> np.ndarray:
    T = np.asarray(T, dtype=np.float64)
    return np.asarray(points, dtype=np.float64) @ T[:3, :3].T + T[:3, 3]


def overlap(depth0, depth1, K, T, tol: float = 0.05) -> float:
    """Share of view 0's valid pixels that land inside view 1 and agree with its depth (not occluded)."""
    X0 = backproject(depth0, K)
    valid = np.asarray(depth0) > 0
    if not valid.any():
        return 0.0
    X1 = transform(X0[valid], T)
    uv, z = project(X1, K)
    H, W = np.asarray(depth1).shape
    ui, vi = np.round(uv[:, 0]).astype(int), np.round(uv[:, 1]).astype(int)
    inside = (z > 0) & (ui >= 0) & (ui < W) & (vi >= 0) & (vi < H)
    d1 = np.zeros_like(z)
    d1[inside] = np.asarray(depth1)[vi[inside], ui[inside]]
    ok = inside & (d1 > 0) & (np.abs(d1 - z) < tol * np.maximum(z, 1.0))
    return float(ok.sum() / valid.sum())


# ----------------------------------------------------------------------------- scenes and textures

@dataclass
class Scene:
    room_lo: np.ndarray  # (3,) world, z up
    room_hi: np.ndarray
    boxes: np.ndarray  # (M, 2, 3) lo, hi
    textures: list  # one texture dict per surface id: 0..5 room faces, 6 + 6 * m + f box faces
    family: str


def _palette(rng, pale: bool) -> np.ndarray:
    if pale:
        base = rng.uniform(0.55, 0.75)
        return np.clip(base + rng.normal(0, 0.015, 3), 0, 1)
    return rng.uniform(0.05, 0.95, 3)


def _texture(rng, family: str) -> dict:
    if family == "geometric":  # one pale colour, faint repeated stripes: the image says little
        return {"kind": "stripes", "c0": np.array([0.62, 0.62, 0.6]), "c1": np.array([0.66, 0.66, 0.64]),
                "period": 0.25, "angle": 0.0, "phase": 0.0}
    kind = rng.choice(["noise", "stripes", "checker", "blobs"])
    t = {"kind": str(kind), "c0": _palette(rng, False), "c1": _palette(rng, False)}
    if kind == "noise":
        t.update(cell=rng.uniform(0.15, 0.35), lattice=rng.uniform(0, 1, (64, 64)))
    elif kind == "stripes":
        t.update(period=rng.uniform(0.3, 0.7), angle=rng.uniform(0, np.pi), phase=rng.uniform(0, 1))
    elif kind == "checker":
        t.update(cell=rng.uniform(0.2, 0.45))
    else:
        n = 40
        t.update(centres=rng.uniform(-3, 3, (n, 2)), radii=rng.uniform(0.1, 0.35, n), cols=rng.uniform(0, 1, (n, 3)))
    return t


def _eval_texture(t: dict, uv: np.ndarray) -> np.ndarray:
    """Colour (N, 3) of texture ``t`` at 2-D surface coordinates ``uv`` (N, 2), metres."""
    k = t["kind"]
    if k == "noise":
        g = uv / t["cell"] + 32.0
        i0 = np.floor(g).astype(int)
        f = g - i0
        f = f * f * (3 - 2 * f)
        L = t["lattice"]
        n = L.shape[0]
        a = L[i0[:, 0] % n, i0[:, 1] % n]
        b = L[(i0[:, 0] + 1) % n, i0[:, 1] % n]
        c = L[i0[:, 0] % n, (i0[:, 1] + 1) % n]
        d = L[(i0[:, 0] + 1) % n, (i0[:, 1] + 1) % n]
        s = (a * (1 - f[:, 0]) + b * f[:, 0]) * (1 - f[:, 1]) + (c * (1 - f[:, 0]) + d * f[:, 0]) * f[:, 1]
    elif k == "stripes":
        proj = uv[:, 0] * np.cos(t["angle"]) + uv[:, 1] * np.sin(t["angle"])
        s = 0.5 + 0.5 * np.sin(2 * np.pi * (proj / t["period"] + t["phase"]))
    elif k == "checker":
        s = ((np.floor(uv[:, 0] / t["cell"]) + np.floor(uv[:, 1] / t["cell"])) % 2).astype(float)
    elif k == "blobs":
        d2 = ((uv[:, None, :] - t["centres"][None]) ** 2).sum(-1) / t["radii"][None] ** 2
        w = np.exp(-d2)
        col = t["c0"][None] * (1 - w.max(1, keepdims=True)) + (w[..., None] * t["cols"][None]).sum(1) / (
            w.sum(1, keepdims=True) + 1e-6) * w.max(1, keepdims=True)
        return col
    else:  # pragma: no cover - constructed internally
        raise ValueError(f"unknown texture kind {k!r}")
    return t["c0"][None] * (1 - s[:, None]) + t["c1"][None] * s[:, None]


def make_scene(rng: np.random.Generator, family: str) -> Scene:
    """A random room of the given family (``"textured"`` or ``"geometric"``)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown scene family {family!r}; choose one of {FAMILIES}")
    sx, sy, sz = rng.uniform(3.5, 5.0), rng.uniform(3.5, 5.0), rng.uniform(2.4, 2.8)
    lo, hi = np.array([-sx / 2, -sy / 2, 0.0]), np.array([sx / 2, sy / 2, sz])
    boxes = []
    n_boxes = int(rng.integers(0, 2)) if family == "textured" else int(rng.integers(7, 12))
    for _ in range(n_boxes):
        for _try in range(20):
            size = rng.uniform([0.25, 0.25, 0.2], [0.9, 0.9, 1.4]) if family == "geometric" \
                else rng.uniform([0.8, 0.8, 0.3], [1.5, 1.5, 0.5])
            c = rng.uniform(lo[:2] + size[:2] / 2 + 0.05, hi[:2] - size[:2] / 2 - 0.05)
            b = np.array([[c[0] - size[0] / 2, c[1] - size[1] / 2, 0.0], [c[0] + size[0] / 2, c[1] + size[1] / 2, size[2]]])
            if np.linalg.norm(c) > 1.0:  # keep the middle free for the camera
                boxes.append(b)
                break
    boxes = np.array(boxes, dtype=np.float64).reshape(-1, 2, 3)
    textures = [_texture(rng, family) for _ in range(6 + 6 * len(boxes))]
    return Scene(lo, hi, boxes, textures, family)


def _raycast(scene: Scene, origin: np.ndarray, dirs: np.ndarray):
    """Nearest hit of rays (origin, dirs (N, 3)) with the room (from inside) and the boxes (from outside).

    Returns t (N,), surface id (N,), normal (N, 3), hit point (N, 3).
    """
    N = dirs.shape[0]
    inv = 1.0 / np.where(np.abs(dirs) < 1e-12, 1e-12, dirs)
    # room interior: exit distance per axis
    t_room = np.where(dirs > 0, (scene.room_hi - origin) * inv, (scene.room_lo - origin) * inv)
    axis = np.argmin(t_room, 1)
    t = t_room[np.arange(N), axis]
    side = (dirs[np.arange(N), axis] > 0).astype(int)  # 1: hit the hi face
    sid = 2 * axis + side
    normal = np.zeros((N, 3))
    normal[np.arange(N), axis] = np.where(side == 1, -1.0, 1.0)
    for m, (blo, bhi) in enumerate(scene.boxes):
        t1, t2 = (blo - origin) * inv, (bhi - origin) * inv
        tmin, tmax = np.minimum(t1, t2), np.maximum(t1, t2)
        t_near, t_far = tmin.max(1), tmax.min(1)
        hit = (t_near <= t_far) & (t_near > 1e-6) & (t_near < t)
        if hit.any():
            ax = np.argmax(tmin[hit], 1)
            sgn = np.where(dirs[hit, ax] > 0, -1.0, 1.0)  # the face we enter
            t[hit] = t_near[hit]
            sid[hit] = 6 + 6 * m + 2 * ax + (sgn > 0).astype(int)
            nrm = np.zeros((hit.sum(), 3))
            nrm[np.arange(hit.sum()), ax] = sgn
            normal[hit] = nrm
    return t, sid, normal, origin + t[:, None] * dirs


def _shade(scene: Scene, sid, normal, point) -> np.ndarray:
    col = np.zeros((len(sid), 3))
    for s in np.unique(sid):
        m = sid == s
        ax = int(np.argmax(np.abs(normal[m][0])))
        uv = np.delete(point[m], ax, axis=1)
        col[m] = _eval_texture(scene.textures[s], uv)
    light = np.array([0.3, 0.5, 0.8])
    light /= np.linalg.norm(light)
    lam = 0.75 + 0.25 * np.abs(normal @ light)
    return np.clip(col * lam[:, None], 0, 1)


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """Camera-to-world 4 x 4 pose of an OpenCV camera at ``eye`` looking at ``target`` (world z up)."""
    eye, target, up = (np.asarray(a, dtype=np.float64) for a in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    C = np.eye(4)
    C[:3, :3] = np.stack([x, y, z], 1)
    C[:3, 3] = eye
    return C


def render(scene: Scene, cam_to_world: np.ndarray, cfg: RoomConfig = RoomConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free RGB (H, W, 3) in [0, 1] (supersampled) and depth (H, W) in metres (pixel-centre rays)."""
    K = intrinsics(cfg)
    H, W, s = cfg.height, cfg.width, cfg.supersample
    R, o = cam_to_world[:3, :3], cam_to_world[:3, 3]
    # depth: pixel-centre rays
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    d_cam = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1).reshape(-1, 3)
    t, _, _, _ = _raycast(scene, o, d_cam @ R.T)
    depth = (t * d_cam[:, 2]).reshape(H, W)  # z-depth (d_cam has z = 1)
    # colour: s x s sub-pixel rays
    off = (np.arange(s) + 0.5) / s - 0.5
    vv, uu = np.mgrid[0:H * s, 0:W * s].astype(np.float64)
    uu = uu // s + off[(uu % s).astype(int)]
    vv = vv // s + off[(vv % s).astype(int)]
    d_sub = np.stack([(uu - K[0, 2]) / K[0, 0], (vv - K[1, 2]) / K[1, 1], np.ones_like(uu)], -1).reshape(-1, 3)
    _, sid, nrm, pt = _raycast(scene, o, d_sub @ R.T)
    col = _shade(scene, sid, nrm, pt).reshape(H, s, W, s, 3).mean((1, 3))
    return col.astype(np.float32), depth.astype(np.float32)


def _random_rotation(rng, deg_lo, deg_hi) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    ang = np.deg2rad(rng.uniform(deg_lo, deg_hi))
    return Rotation.from_rotvec(axis * ang).as_matrix()


def sample_pair(rng: np.random.Generator, family: str, cfg: RoomConfig = RoomConfig(), max_tries: int = 50) -> dict:
    """One RGB-D pair of a fresh scene of ``family`` with a known relative pose and enough overlap."""
    for _ in range(max_tries):
        scene = make_scene(rng, family)
        centre = (scene.room_lo + scene.room_hi) / 2
        eye = np.array([*(centre[:2] + rng.uniform(-0.5, 0.5, 2)), rng.uniform(1.2, 1.7)])
        if family == "geometric" and len(scene.boxes):  # look at a box so the geometry is in view
            b = scene.boxes[rng.integers(len(scene.boxes))]
            tgt = np.array([*((b[0, :2] + b[1, :2]) / 2), rng.uniform(0.1, 0.6)])
        else:
            yaw = rng.uniform(0, 2 * np.pi)
            tgt = eye + np.array([np.cos(yaw), np.sin(yaw), 0.0]) * 2.0
            tgt[2] = rng.uniform(0.3, 0.9)
        C0 = look_at(eye, tgt)
        # relative motion in view-0 camera coordinates: x1 = R x0 + t
        Rr = _random_rotation(rng, *cfg.rot_deg)
        tdir = rng.normal(size=3)
        tr = tdir / np.linalg.norm(tdir) * rng.uniform(*cfg.trans_m)
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = Rr, tr
        C1 = C0 @ np.linalg.inv(T)  # T = inv(C1) @ C0
        c1 = C1[:3, 3]
        if np.any(c1 < scene.room_lo + 0.2) or np.any(c1 > scene.room_hi - 0.2):
            continue
        if any(np.all(c1 > b[0] - 0.2) and np.all(c1 < b[1] + 0.2) for b in scene.boxes):
            continue
        rgb0, dep0 = render(scene, C0, cfg)
        rgb1, dep1 = render(scene, C1, cfg)
        if dep0.min() < 0.4 or dep1.min() < 0.4:  # camera too close to a surface
            continue
        ov = overlap(dep0, dep1, intrinsics(cfg), T)
        if ov < cfg.min_overlap:
            continue
        out = {"rgb": [], "depth": []}
        for rgb, dep in ((rgb0, dep0), (rgb1, dep1)):
            g, b = rng.uniform(*cfg.gain), rng.uniform(-cfg.offset, cfg.offset)
            out["rgb"].append(np.clip(rgb * g + b, 0, 1).transpose(2, 0, 1))
            d = dep + rng.normal(0, cfg.depth_noise, dep.shape) * (dep / 2.0)
            d[rng.uniform(size=d.shape) < cfg.hole_frac] = 0.0
            out["depth"].append(d[None].astype(np.float32))
        return {"rgb": np.stack(out["rgb"]).astype(np.float32), "depth": np.stack(out["depth"]),
                "K": intrinsics(cfg).astype(np.float32), "T": T.astype(np.float32), "family": family,
                "overlap": ov}
    raise RuntimeError(f"could not draw a {family!r} pair with overlap >= {cfg.min_overlap} in {max_tries} tries")


def generate(n: int, seed: int, families=FAMILIES, cfg: RoomConfig = RoomConfig()) -> dict:
    """``n`` pairs, families alternating. Arrays: rgb (n, 2, 3, H, W) in [0, 1], depth (n, 2, 1, H, W) metres
    (0 = hole), K (3, 3), T (n, 4, 4) view-0 -> view-1, family (n,) index into ``families``, overlap (n,)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    for f in families:
        if f not in FAMILIES:
            raise ValueError(f"unknown scene family {f!r}; choose from {FAMILIES}")
    rng = np.random.default_rng(seed)
    pairs = [sample_pair(rng, families[i % len(families)], cfg) for i in range(n)]
    return {
        "rgb": np.stack([p["rgb"] for p in pairs]), "depth": np.stack([p["depth"] for p in pairs]),
        "K": pairs[0]["K"], "T": np.stack([p["T"] for p in pairs]),
        "family": np.array([list(families).index(p["family"]) for p in pairs]),
        "families": tuple(families), "overlap": np.array([p["overlap"] for p in pairs]),
    }


# ----------------------------------------------------------------------------- real data: ScanNet layout

def write_scannet_sample(root, n_frames: int = 3, seed: int = 0, cfg: RoomConfig = RoomConfig(height=60, width=80),
                         scene_name: str = "scene0000_00", split: str = "test", family: str = "textured") -> Path:
    """Write a tiny sequence in the ScanNet RGB-D layout UR&R / PointMBF read.

    ``<root>/<split>/scans/<scene>/color/<id>.jpg``, ``depth/<id>.png`` (uint16 millimetres),
    ``pose/<id>.txt`` (4 x 4 camera-to-world), ``intrinsic/intrinsic_color.txt`` (4 x 4).
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    scene = make_scene(rng, family)
    base = Path(root) / split / "scans" / scene_name
    for sub in ("color", "depth", "pose", "intrinsic"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    K4 = np.eye(4)
    K4[:3, :3] = intrinsics(cfg)
    np.savetxt(base / "intrinsic" / "intrinsic_color.txt", K4, fmt="%.6f")
    eye = np.array([0.0, 0.0, 1.4])
    for i in range(n_frames):
        yaw = 0.15 * i
        C = look_at(eye + np.array([0.1 * i, 0.0, 0.0]), eye + np.array([2 * np.cos(yaw), 2 * np.sin(yaw), -0.8]))
        rgb, dep = render(scene, C, cfg)
        fid = 20 * i  # UR&R pairs frames 20 apart
        Image.fromarray((rgb * 255).round().astype(np.uint8)).save(base / "color" / f"{fid}.jpg", quality=95)
        Image.fromarray((dep * 1000).round().astype(np.uint16)).save(base / "depth" / f"{fid}.png")
        np.savetxt(base / "pose" / f"{fid}.txt", C, fmt="%.8f")
    return base


def scannet_pairs(root, split: str = "test", spacing: int = 20) -> list[tuple[str, int, int]]:
    """(scene, frame0, frame1) pairs ``spacing`` frames apart (strided like UR&R's test split)."""
    scans = Path(root) / split / "scans"
    if not scans.is_dir():
        raise FileNotFoundError(f"no ScanNet scans folder at {scans}")
    pairs = []
    for sdir in sorted(p for p in scans.iterdir() if p.name.startswith("scene")):
        ids = sorted(int(p.stem) for p in (sdir / "color").glob("*.jpg"))
        ids = [i for i in ids if np.all(np.isfinite(np.loadtxt(sdir / "pose" / f"{i}.txt")))]
        for a, b in zip(ids, ids[1:]):
            if b - a == spacing:
                pairs.append((sdir.name, a, b))
    if not pairs:
        raise FileNotFoundError(f"no frame pairs {spacing} apart under {scans}")
    return pairs


def _center_crop_resize(img: np.ndarray, size: tuple[int, int], nearest: bool) -> tuple[np.ndarray, float, float, float]:
    """Crop the centre to the target aspect, resize; returns image, x offset, y offset, scale."""
    from PIL import Image

    H, W = img.shape[:2]
    th, tw = size
    scale = min(H / th, W / tw)
    ch, cw = int(round(th * scale)), int(round(tw * scale))
    y0, x0 = (H - ch) // 2, (W - cw) // 2
    crop = img[y0:y0 + ch, x0:x0 + cw]
    mode = Image.NEAREST if nearest else Image.BILINEAR
    pil = Image.fromarray(crop)
    out = np.asarray(pil.resize((tw, th), mode))
    return out, x0, y0, tw / cw


def load_scannet_pair(root, scene: str, frame0: int, frame1: int, split: str = "test",
                      size: tuple[int, int] = (48, 64)) -> dict:
    """One pair from the ScanNet RGB-D layout, centre-cropped and resized to ``size`` (H, W).

    Returns the same keys as :func:`sample_pair`: rgb (2, 3, H, W) in [0, 1], depth (2, 1, H, W) in metres,
    K (3, 3) adjusted for crop and resize, T (4, 4) view-0 -> view-1 (``inv(P1) @ P0``).
    """
    from PIL import Image

    base = Path(root) / split / "scans" / scene
    if not base.is_dir():
        raise FileNotFoundError(f"scene folder {base} does not exist")
    K = check_intrinsics(np.loadtxt(base / "intrinsic" / "intrinsic_color.txt")[:3, :3])
    rgbs, deps, poses = [], [], []
    for fid in (frame0, frame1):
        rgb = np.asarray(Image.open(base / "color" / f"{fid}.jpg").convert("RGB"))
        dep = np.asarray(Image.open(base / "depth" / f"{fid}.png")).astype(np.float32) / 1000.0
        if dep.shape != rgb.shape[:2]:  # raw ScanNet depth is 640x480 while colour is 1296x968
            dep = np.asarray(Image.fromarray(dep).resize((rgb.shape[1], rgb.shape[0]), Image.NEAREST))
        check_rgbd(rgb, dep)
        P = np.loadtxt(base / "pose" / f"{fid}.txt")
        if P.shape != (4, 4) or not np.all(np.isfinite(P)):
            raise ValueError(f"pose {base / 'pose' / f'{fid}.txt'} is not a finite 4x4 matrix")
        r, x0, y0, s = _center_crop_resize(rgb, size, nearest=False)
        d, _, _, _ = _center_crop_resize(dep, size, nearest=True)
        rgbs.append(r.astype(np.float32).transpose(2, 0, 1) / 255.0)
        deps.append(d.astype(np.float32)[None])
        poses.append(P)
    Kn = K.copy()
    Kn[0, 2] -= x0
    Kn[1, 2] -= y0
    Kn[:2] *= s
    T = np.linalg.inv(poses[1]) @ poses[0]
    return {"rgb": np.stack(rgbs), "depth": np.stack(deps), "K": Kn.astype(np.float32), "T": T.astype(np.float32),
            "family": "scannet", "overlap": overlap(deps[0][0], deps[1][0], Kn, T)}
