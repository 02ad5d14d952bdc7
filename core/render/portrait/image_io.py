"""Portrait loading: EXIF rotation, colour modes, size limits, and the square face crop the renderer works in."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ...errors import InputError

MAX_SIDE = 2048  # larger images are downscaled before detection (memory, speed; detail beyond is cropped away)
MIN_FACE_PX = 64  # below this the mesh is unreliable
SOFT_FACE_PX = 128  # below this the face is upscaled and looks soft: said in a note
CROP_FACE_HEIGHTS = 2.6  # crop side, in face heights (forehead-top to chin), leaves room for hair and shoulders


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise InputError("the portrait renderer needs Pillow: pip install dreamtalk[render]") from None
    return Image, ImageOps


def to_rgb(img, notes: list[str] | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a Pillow image or an array (grey, grey+alpha, RGB, RGBA; alpha over white)."""
    Image, _ = _pil()
    notes = notes if notes is not None else []
    if isinstance(img, Image.Image):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
        elif img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            a = np.asarray(img, dtype=np.float64)
            span = float(a.max() - a.min()) or 1.0
            img = Image.fromarray(((a - a.min()) / span * 255).round().astype(np.uint8))
            notes.append("high bit-depth image scaled to 8 bits")
        arr = np.asarray(img.convert("RGBA" if img.mode == "RGBA" else "RGB"))
    else:
        arr = np.asarray(img)
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating) and arr.size and np.nanmax(arr) <= 1.0 + 1e-6:
            arr = np.clip(np.nan_to_num(arr) * 255.0, 0, 255).round().astype(np.uint8)
        elif np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating):
            arr = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
        else:
            raise InputError(f"image array has unsupported type {arr.dtype}")
    if arr.ndim == 2:
        notes.append("grayscale image: rendered in grey")
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got shape {arr.shape}")
    if arr.shape[2] in (1, 2):
        if arr.shape[2] == 2:
            arr = np.concatenate([arr[:, :, :1]] * 3 + [arr[:, :, 1:]], axis=2)
        else:
            arr = np.repeat(arr, 3, axis=2)
        notes.append("grayscale image: rendered in grey")
    if arr.shape[2] == 4:
        a = arr[:, :, 3:4].astype(np.float32) / 255.0
        if float(a.min()) < 1.0:
            notes.append("transparent pixels composited over white")
        arr = (arr[:, :, :3].astype(np.float32) * a + 255.0 * (1.0 - a)).round().astype(np.uint8)
    if min(arr.shape[:2]) < 32:
        raise InputError(f"image is too small ({arr.shape[1]}x{arr.shape[0]} px)")
    return np.ascontiguousarray(arr)


def load_image(source, notes: list[str] | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB from a path or array: EXIF rotation applied, huge images downscaled to MAX_SIDE."""
    Image, ImageOps = _pil()
    notes = notes if notes is not None else []
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InputError(f"portrait not found: {path}")
        try:
            with Image.open(path) as im:
                im.load()
                im = ImageOps.exif_transpose(im)  # phones store rotation as a tag, not as pixels
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
            raise InputError(f"not a readable image: {path} ({e})") from None
        arr = to_rgb(im, notes)
    else:
        arr = to_rgb(source, notes)
    h, w = arr.shape[:2]
    if max(h, w) > MAX_SIDE:
        k = MAX_SIDE / max(h, w)
        arr = resize(arr, (max(1, round(w * k)), max(1, round(h * k))))
        notes.append(f"large image ({w}x{h}) downscaled to {arr.shape[1]}x{arr.shape[0]}")
    return arr


def resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize (H, W, 3) uint8 to (width, height) with Pillow's Lanczos filter (area-averaging when shrinking)."""
    Image, _ = _pil()
    return np.asarray(Image.fromarray(rgb).resize((int(size[0]), int(size[1])), Image.LANCZOS))


@dataclass
class Crop:
    """A square crop of the source image scaled to ``size``: out = (src - (x0, y0)) * scale."""

    x0: float
    y0: float
    side: float
    size: int
    notes: list[str] = field(default_factory=list)

    @property
    def scale(self) -> float:
        return self.size / self.side


def face_crop(shape: tuple[int, int], lm: np.ndarray, size: int) -> Crop:
    """The square crop around a face (landmarks in pixels), kept inside the image where it can be."""
    from .landmarks import CHIN, FOREHEAD, face_size
    h, w = shape[:2]
    fh = face_size(lm)
    side = CROP_FACE_HEIGHTS * fh
    notes = []
    if side > min(h, w):
        side = float(min(h, w))  # the face fills the image: take the largest square that fits
    # Centre slightly below the face centre so the neck and shoulders are in view.
    cx = 0.5 * (lm[FOREHEAD, 0] + lm[CHIN, 0])
    cy = 0.5 * (lm[FOREHEAD, 1] + lm[CHIN, 1]) + 0.12 * fh
    x0 = float(np.clip(cx - side / 2, 0, w - side))
    y0 = float(np.clip(cy - side / 2, 0, h - side))
    return Crop(x0, y0, side, int(size), notes)


def apply_crop(rgb: np.ndarray, crop: Crop) -> np.ndarray:
    """(size, size, 3) uint8: the crop resampled with Pillow (Lanczos), no resampling when it is 1:1."""
    Image, _ = _pil()
    x0, y0, s = crop.x0, crop.y0, crop.side
    if abs(s - crop.size) < 1e-9 and float(x0).is_integer() and float(y0).is_integer():
        return np.ascontiguousarray(rgb[int(y0):int(y0) + crop.size, int(x0):int(x0) + crop.size])
    im = Image.fromarray(rgb)
    return np.asarray(im.resize((crop.size, crop.size), Image.LANCZOS, box=(x0, y0, x0 + s, y0 + s)))
