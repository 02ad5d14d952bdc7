"""Preview videos: the proxy head driven by a FaceAnimation, rendered on the CPU with numpy, audio muxed in.

``render_preview(anim, "out.mp4", audio="speech.wav")`` writes an H.264 MP4; ``render_frames`` yields the
(H, W, 3) uint8 frames; ``bench_preview`` measures frames per second of wall time.
"""
from __future__ import annotations

import math
import os
import time
from typing import Iterator

import numpy as np

from ..animation import FaceAnimation
from ..rotation import head_rotation_matrices
from ..errors import InputError

VIEWS = ("front", "three_quarter")
MIN_SIZE, MAX_SIZE = 64, 2048

# Look-at point and distance that frame the proxy head (metres, glTF frame) with room for head motion.
_TARGET = (0.0, -0.018, 0.0)
_DISTANCE = 0.68
_FOV = 25.0
_VIEW_ANGLES = {"front": (0.0, 4.0), "three_quarter": (35.0, 6.0)}  # azimuth toward +X (subject's left), elevation

# Specular strength and shininess per material (wet lips, teeth and eyes shine; skin a little).
_SPECULAR = {"skin": 0.10, "lips": 0.30, "sclera": 0.45, "iris": 0.55, "pupil": 0.6, "teeth": 0.35,
             "tongue": 0.25, "mouth": 0.05, "eyelid": 0.08}
_SHININESS = {"skin": 16.0, "lips": 40.0, "sclera": 60.0, "iris": 80.0, "pupil": 80.0, "teeth": 40.0,
              "tongue": 30.0, "mouth": 8.0, "eyelid": 16.0}


def check_view(view: str) -> str:
    """The view name, or an InputError naming the allowed ones."""
    v = str(view).replace("-", "_").lower()
    if v not in VIEWS:
        raise InputError(f"unknown view {view!r}; use one of: {', '.join(VIEWS)}")
    return v


def check_size(size: int) -> int:
    """An even image size in [64, 2048] (H.264 with yuv420p needs even sizes)."""
    try:
        s = int(size)
    except (TypeError, ValueError):
        raise InputError(f"size must be an integer, got {size!r}") from None
    if s != size or not MIN_SIZE <= s <= MAX_SIZE or s % 2:
        raise InputError(f"size must be an even number of pixels in [{MIN_SIZE}, {MAX_SIZE}], got {size}")
    return s


class HeadRenderer:
    """The proxy head with a camera and materials set up; ``frame(weights, rotation)`` renders one image."""

    def __init__(self, view: str = "front", size: int = 512):
        from ...rigs.proxy_head import build_proxy_head
        from .raster import MeshRenderer, orbit_camera

        self.view, self.size = check_view(view), check_size(size)
        head = build_proxy_head()
        self.head = head
        self.names = tuple(head.names)
        from ...rigs.arkit import ARKIT_NAMES
        # Map shape keys by NAME onto the animation's ARKit order.
        order = [head.names.index(n) for n in ARKIT_NAMES]
        v = head.vertices.shape[0]
        self.rest = head.vertices.astype(np.float64)  # (V, 3)
        self.rest_n = head.normals.astype(np.float64)  # (V, 3)
        self.deltas = np.ascontiguousarray(head.deltas[order].reshape(len(order), v * 3), dtype=np.float64)
        self.ndeltas = np.ascontiguousarray(head.normal_deltas[order].reshape(len(order), v * 3), dtype=np.float64)
        self.pivot = np.asarray(head.pivot, dtype=np.float64)
        az, el = _VIEW_ANGLES[self.view]
        cam = orbit_camera(_TARGET, _DISTANCE, az, el, self.size, _FOV)
        mats = tuple(head.materials)
        albedo = np.array([head.material_colors[m][:3] for m in mats], np.float32)
        ds = np.array([m in _double_sided(head) for m in mats])
        self.renderer = MeshRenderer(head.triangles, head.material_ids, albedo, cam,
                                     double_sided=ds[np.asarray(head.material_ids)],
                                     specular=np.array([_SPECULAR.get(m, 0.1) for m in mats]),
                                     shininess=np.array([_SHININESS.get(m, 16.0) for m in mats]),
                                     occlusion=_occlusion(head))

    def pose(self, weights: np.ndarray, rotation=None, translation=None) -> tuple[np.ndarray, np.ndarray]:
        """(V, 3) posed vertices and unit normals for (52,) ARKit-order weights and [pitch, yaw, roll]."""
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        active = np.nonzero(np.abs(w) > 1e-5)[0]  # most channels are near zero on most frames
        v = self.rest
        n = self.rest_n
        if len(active):
            v = v + (w[active] @ self.deltas[active]).reshape(-1, 3)
            n = n + (w[active] @ self.ndeltas[active]).reshape(-1, 3)
            n = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        if rotation is not None and np.any(rotation):
            r = head_rotation_matrices(np.asarray(rotation, dtype=np.float64).reshape(1, 3))[0]
            v = (v - self.pivot) @ r.T + self.pivot
            n = n @ r.T
        if translation is not None:
            v = v + np.asarray(translation, dtype=np.float64).reshape(1, 3)
        return v, n

    def frame(self, weights: np.ndarray, rotation=None, translation=None) -> np.ndarray:
        """(size, size, 3) uint8 RGB image of the posed head."""
        v, n = self.pose(weights, rotation, translation)
        return self.renderer.render(v, n)


def _double_sided(head) -> frozenset:
    # The mouth pouch closes the skin surface, so its back is never legitimately visible: culling it hides
    # places where it grazes through the lips. The eyelids are open shells and need both sides.
    from ...rigs import proxy_head
    return frozenset(getattr(proxy_head, "DOUBLE_SIDED", ("eyelid",))) - {"mouth"}


def _occlusion(head) -> np.ndarray:
    """(V,) static ambient occlusion: the mouth interior darkens with depth behind the lips."""
    from ...rigs import proxy_head
    v = head.vertices.astype(np.float64)
    occ = np.ones(len(v))
    parts = tuple(head.parts)
    pid = np.asarray(head.part_ids)
    mouth_mat = head.materials.index("mouth") if "mouth" in head.materials else -1
    inside = np.zeros(len(v), bool)
    for p in ("teethUpper", "teethLower", "tongue"):
        if p in parts:
            inside |= pid == parts.index(p)
    if mouth_mat >= 0:
        tri_m = np.asarray(head.triangles)[np.asarray(head.material_ids) == mouth_mat]
        inside[np.unique(tri_m)] = True
    if inside.any():
        mouth_y = getattr(proxy_head, "MOUTH_Y", -0.036)
        near_lip = np.abs(v[:, 0]) < 0.03
        front = v[near_lip & (np.abs(v[:, 1] - mouth_y) < 0.01) & ~inside, 2].max() if np.any(
            near_lip & ~inside) else v[:, 2].max()
        depth = np.clip(front - v[:, 2], 0.0, None)
        occ = np.where(inside, np.clip(1.0 - depth / 0.045, 0.25, 0.85), occ)
    return occ


def _audio_array(audio) -> tuple[np.ndarray, int] | None:
    """Audio given as a path or an (array, sample_rate) pair, checked, as 16 kHz mono float32."""
    if audio is None:
        return None
    from ..audio import load_audio, prepare_audio
    if isinstance(audio, (str, os.PathLike)):
        return load_audio(audio)
    if isinstance(audio, tuple) and len(audio) == 2:
        return prepare_audio(audio[0], audio[1])
    raise InputError("audio must be a file path or an (array, sample_rate) pair")


def render_frames(anim: FaceAnimation, view: str = "front", size: int = 512,
                  renderer: HeadRenderer | None = None) -> Iterator[np.ndarray]:
    """Yield one (size, size, 3) uint8 RGB frame per animation frame."""
    if not isinstance(anim, FaceAnimation):
        raise InputError("render_frames needs a FaceAnimation")
    r = renderer or HeadRenderer(view, size)
    hr = anim.head_rotation
    ht = anim.head_translation
    for k in range(anim.num_frames):
        yield r.frame(anim.weights[k], hr[k], None if ht is None else ht[k])


def render_preview(anim: FaceAnimation, out_path, audio=None, view: str = "front", size: int = 512,
                   progress: bool = True) -> dict:
    """Write an H.264 MP4 of the proxy head driven by ``anim`` with ``audio`` (path or (array, sr)) muxed in.

    The file is written whole or not at all. Returns frames, seconds, render wall time and frames/s.
    """
    from ..progress import Progress
    from .video import write_video

    if not isinstance(anim, FaceAnimation):
        raise InputError("render_preview needs a FaceAnimation")
    view, size = check_view(view), check_size(size)
    au = _audio_array(audio)  # checked before any rendering so a bad file fails fast
    renderer = HeadRenderer(view, size)
    t0 = time.perf_counter()
    with Progress(anim.num_frames, "preview", enabled=None if progress else False) as bar:
        def frames():
            for f in render_frames(anim, renderer=renderer):
                yield f
                bar.update(1)
        info = write_video(out_path, frames(), anim.fps, (size, size), audio=au, num_frames=anim.num_frames)
    wall = time.perf_counter() - t0
    info.update(seconds=anim.duration, wall_seconds=wall, fps_wall=anim.num_frames / wall if wall > 0 else math.inf,
                view=view, size=size)
    return info


def demo_animation(seconds: float = 4.0, fps: float = 30.0) -> FaceAnimation:
    """A synthetic talking-like clip (jaw, lips, smile, blinks, brows, head sway) for benchmarks and demos."""
    from ...rigs.arkit import INDEX, NUM_BLENDSHAPES
    n = max(1, int(round(seconds * fps)))
    t = np.arange(n) / fps
    w = np.zeros((n, NUM_BLENDSHAPES), np.float32)

    def put(name, x):
        w[:, INDEX[name]] = np.clip(x, 0, 1)
    syll = 0.5 + 0.5 * np.sin(2 * np.pi * 3.1 * t)
    put("jawOpen", 0.55 * syll ** 2)
    put("mouthFunnel", 0.4 * np.clip(np.sin(2 * np.pi * 0.7 * t), 0, 1))
    put("mouthClose", 0.3 * (1 - syll) ** 4)
    smile = 0.6 * np.clip(np.sin(2 * np.pi * 0.25 * t), 0, 1)
    put("mouthSmileLeft", smile)
    put("mouthSmileRight", smile)
    put("cheekSquintLeft", 0.5 * smile)
    put("cheekSquintRight", 0.5 * smile)
    blink = np.exp(-0.5 * ((np.mod(t, 2.3) - 1.2) / 0.05) ** 2)
    put("eyeBlinkLeft", blink)
    put("eyeBlinkRight", blink)
    put("browInnerUp", 0.5 * np.clip(np.sin(2 * np.pi * 0.4 * t + 1), 0, 1))
    head = np.stack([0.06 * np.sin(2 * np.pi * 0.5 * t), 0.15 * np.sin(2 * np.pi * 0.2 * t),
                     0.05 * np.sin(2 * np.pi * 0.33 * t)], -1)
    return FaceAnimation(fps, w, head.astype(np.float32), metadata={"emotion": "demo"})


def bench_preview(seconds: float = 10.0, view: str = "front", size: int = 512, encode: bool = True) -> dict:
    """Render ``seconds`` of a synthetic 30 fps clip; report render-only and render+encode frames/s of wall time."""
    import tempfile

    anim = demo_animation(seconds)
    renderer = HeadRenderer(view, size)
    renderer.frame(anim.weights[0], anim.head_rotation[0])  # warm caches
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in render_frames(anim, renderer=renderer):
        pass
    render_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    # Wall time is what a user waits; CPU time per frame shows the cost without other programs' load.
    out = {"frames": anim.num_frames, "clip_seconds": anim.duration, "size": size, "view": view,
           "render_seconds": render_s, "render_fps": anim.num_frames / render_s,
           "render_realtime_factor": anim.duration / render_s,
           "render_cpu_ms_per_frame": 1000.0 * cpu_s / anim.num_frames}
    if encode:
        from .video import write_video
        sr = 16000
        tt = np.arange(int(anim.duration * sr)) / sr
        audio = (0.1 * np.sin(2 * np.pi * 220 * tt)).astype(np.float32)
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            write_video(os.path.join(d, "bench.mp4"), render_frames(anim, renderer=renderer), anim.fps,
                        (size, size), audio=(audio, sr), num_frames=anim.num_frames)
            full_s = time.perf_counter() - t0
        out.update(video_seconds=full_s, video_fps=anim.num_frames / full_s,
                   video_realtime_factor=anim.duration / full_s)
    return out
