"""Portrait renderer: animate a still photo with an ARKit animation.

``warp`` backend (no weights): mediapipe face-mesh landmarks (optional extra ``dreamtalk[render]``), a
geometric blendshape -> landmark displacement basis (basis.py), head pose as a 3D rotation of the landmarks
about a pivot in the neck, a dense piecewise-affine warp (warp.py), and a mouth interior and eyelids drawn with
soft masks (compose.py). ``neural`` backend (neural.py, liveportrait.py): LivePortrait's networks with the
user's own published weights, driven by the rendered proxy head. Typical use of ``warp``::

    portrait = prepare_portrait("me.jpg")           # detect, crop to 512x512, build basis and mesh
    render_portrait(anim, portrait, "out.mp4", audio="speech.wav")
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ...animation import FaceAnimation
from ...rotation import head_rotation_matrices
from ...errors import InputError
from . import landmarks as L

BACKENDS = ("warp", "neural")
_NECK_BELOW_CHIN = 0.45  # pivot below the chin, in face heights
_PIVOT_DEPTH = 0.9  # pivot behind the face surface, in eye distances


@dataclass
class Portrait:
    """A portrait ready to animate: the square crop, its landmarks, basis and warp mesh."""

    image: np.ndarray  # (S, S, 3) uint8 RGB, the rest frame
    landmarks: np.ndarray  # (478, 3) pixels in the crop (z scaled like x, away from the camera)
    basis: np.ndarray  # (52, 478, 2) pixel displacements at weight 1, ARKit order
    head: np.ndarray  # (K, 3) head-ring points that rotate with the head
    anchors: np.ndarray  # (A, 2) fixed points
    mesh: object  # warp.WarpMesh over [landmarks, head ring, anchors]
    pivot: np.ndarray  # (3,) head rotation pivot in crop pixels
    eye_distance: float  # pixels
    rest_gap: float  # lip gap at rest, pixels
    notes: list[str] = field(default_factory=list)  # things the user should know (several faces, upscaled ...)

    @property
    def size(self) -> int:
        return int(self.image.shape[0])


def check_backend(backend: str) -> str:
    """The backend name, or an InputError saying which exist."""
    if backend not in BACKENDS:
        raise InputError(f"unknown portrait backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    return backend


def prepare_portrait(source, size: int = 512) -> Portrait:
    """Load a portrait (path or image array), find the face, crop to ``size`` square and build the warp rig."""
    from .basis import build_basis
    from .image_io import MIN_FACE_PX, SOFT_FACE_PX, apply_crop, face_crop, load_image
    from .warp import WarpMesh, anchor_points, head_points, remove_close

    size = int(size)
    if size < 64 or size > 2048 or size % 2:
        raise InputError(f"portrait size must be an even number of pixels in [64, 2048], got {size}")
    notes: list[str] = []
    img = load_image(source, notes)
    faces = L.detect_faces(img)
    if not faces:
        raise InputError("no face found in the portrait (need a clear, roughly frontal face)")
    if len(faces) > 1:
        notes.append(f"{len(faces)} faces found; animating the largest")
    lm = faces[0]
    fh = L.face_size(lm)
    if fh < MIN_FACE_PX:
        raise InputError(f"the face is only {fh:.0f} px tall; need at least {MIN_FACE_PX} px (use a larger photo)")
    crop = face_crop(img.shape, lm, size)
    if fh < SOFT_FACE_PX or crop.scale > 1.5:
        notes.append(f"the face is {fh:.0f} px tall (forehead to chin); it is upscaled {crop.scale:.1f}x and will "
                     "look soft")
    frame = apply_crop(img, crop)
    lm_c = lm.copy()
    lm_c[:, 0] = (lm[:, 0] - crop.x0) * crop.scale
    lm_c[:, 1] = (lm[:, 1] - crop.y0) * crop.scale
    lm_c[:, 2] = lm[:, 2] * crop.scale
    inside = (lm_c[:, :2] >= 0).all(1) & (lm_c[:, :2] <= size - 1).all(1)
    if not inside.all():
        raise InputError("the face is cut off by the image edge; use a photo with the whole face in view")
    basis = build_basis(lm_c)
    head = head_points(lm_c, size)
    anchors = anchor_points(lm_c, size)
    pts = np.concatenate([lm_c[:, :2], head[:, :2], anchors])
    n_lm, n_head = L.NUM_LANDMARKS, len(head)
    keep = remove_close(pts, n_lm)  # near-duplicate mesh points would make sliver triangles
    head = head[keep[(keep >= n_lm) & (keep < n_lm + n_head)] - n_lm]
    anchors = anchors[keep[keep >= n_lm + n_head] - n_lm - n_head]
    mesh = WarpMesh(np.concatenate([lm_c[:, :2], head[:, :2], anchors]), size)
    s = L.eye_distance(lm_c)
    chin = lm_c[L.CHIN]
    pivot = np.array([chin[0], chin[1] + _NECK_BELOW_CHIN * L.face_size(lm_c),
                      float(np.median(lm_c[:, 2])) + _PIVOT_DEPTH * s])
    from .compose import mouth_opening
    return Portrait(frame, lm_c, basis, head, anchors, mesh, pivot, s, mouth_opening(lm_c[:, :2]), notes)


class PortraitRenderer:
    """Renders frames of a prepared portrait: landmarks from weights and head pose, warp, composite."""

    def __init__(self, portrait: Portrait):
        self.p = portrait
        self._flip = np.diag([1.0, -1.0, -1.0])  # head frame (Y up, Z to camera) <-> image (y down, z away)

    def landmarks(self, weights: np.ndarray, head_rotation=None) -> tuple[np.ndarray, np.ndarray]:
        """Moved (478, 2) landmarks and (K, 2) head-ring points for (52,) weights and [pitch, yaw, roll]."""
        p = self.p
        w = np.asarray(weights, np.float32).reshape(-1)
        lm = p.landmarks.copy()
        lm[:, :2] += np.tensordot(w, p.basis, axes=(0, 0))
        head = p.head.copy()
        if head_rotation is not None and np.any(head_rotation):
            r = head_rotation_matrices(np.asarray(head_rotation, np.float64).reshape(1, 3))[0]
            r_img = self._flip @ r @ self._flip
            lm = (lm - p.pivot) @ r_img.T + p.pivot
            head = (head - p.pivot) @ r_img.T + p.pivot
        return lm[:, :2], head[:, :2]

    def frame(self, weights: np.ndarray, head_rotation=None) -> np.ndarray:
        """(S, S, 3) uint8 RGB frame."""
        from .compose import compose
        p = self.p
        lm2, head2 = self.landmarks(weights, head_rotation)
        out = p.mesh.warp(p.image, np.concatenate([lm2, head2, p.anchors]))
        compose(out, lm2, p.landmarks[:, :2], p.image, p.eye_distance, np.asarray(weights, np.float32).reshape(-1))
        return out

    def frames(self, anim: FaceAnimation) -> Iterator[np.ndarray]:
        """One frame per animation frame."""
        for k in range(anim.num_frames):
            yield self.frame(anim.weights[k], anim.head_rotation[k])


def render_portrait(anim: FaceAnimation, portrait, out_path, audio=None, backend: str = "warp",
                    size: int = 512, progress: bool = True) -> dict:
    """Write an MP4 of ``portrait`` (Portrait, path or image) driven by ``anim``, with ``audio`` muxed in.

    Written whole or not at all. Returns frames, size, render wall time, frames/s and the portrait's notes.
    """
    from ...progress import Progress

    if check_backend(backend) == "neural":
        raise InputError("the neural backend needs LivePortrait's weights: use core.render.portrait.neural."
                         "render_neural (or `dreamtalk render --backend neural --checkpoint DIR`)")
    from ..preview import _audio_array
    from ..video import write_video

    check_backend(backend)
    if not isinstance(anim, FaceAnimation):
        raise InputError("render_portrait needs a FaceAnimation")
    au = _audio_array(audio)
    if not isinstance(portrait, Portrait):
        portrait = prepare_portrait(portrait, size)
    r = PortraitRenderer(portrait)
    t0 = time.perf_counter()
    with Progress(anim.num_frames, "portrait", enabled=None if progress else False) as bar:
        def frames():
            for f in r.frames(anim):
                yield f
                bar.update(1)
        info = write_video(out_path, frames(), anim.fps, (portrait.size, portrait.size), audio=au,
                           num_frames=anim.num_frames)
    wall = time.perf_counter() - t0
    info.update(wall_seconds=wall, fps_wall=anim.num_frames / wall if wall > 0 else math.inf,
                backend=backend, notes=list(portrait.notes))
    return info


def astronaut() -> np.ndarray:
    """scikit-image's astronaut portrait (512x512 RGB), used by tests, benchmarks and docs."""
    try:
        from skimage import data
    except ImportError:
        raise InputError("the sample portrait needs scikit-image: pip install scikit-image") from None
    return np.ascontiguousarray(data.astronaut())


def bench_warp(seconds: float = 5.0, size: int = 512, encode: bool = False) -> dict:
    """Render ``seconds`` of a synthetic 30 fps clip on the astronaut portrait; frames/s of wall time."""
    from ..preview import demo_animation

    t0 = time.perf_counter()
    portrait = prepare_portrait(astronaut(), size)
    setup_s = time.perf_counter() - t0
    anim = demo_animation(seconds)
    r = PortraitRenderer(portrait)
    r.frame(anim.weights[0], anim.head_rotation[0])
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in r.frames(anim):
        pass
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {"backend": "warp", "frames": anim.num_frames, "size": size, "setup_seconds": setup_s,
           "render_seconds": wall, "render_fps": anim.num_frames / wall,
           "render_cpu_ms_per_frame": 1000.0 * cpu / anim.num_frames}
    if encode:
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            render_portrait(anim, portrait, os.path.join(d, "bench.mp4"), progress=False)
            full = time.perf_counter() - t0
        out.update(video_seconds=full, video_fps=anim.num_frames / full)
    return out
