"""Portrait ``neural`` backend: LivePortrait's networks (liveportrait.py) with the user's own published weights.

Bring your own weights: nothing is downloaded. ``--checkpoint DIR`` is a folder holding LivePortrait's five
files as published (``appearance_feature_extractor``, ``motion_extractor``, ``warping_module``,
``spade_generator``, ``stitching_retargeting_module``; ``.pth`` read only with ``torch.load(weights_only=True)``,
or ``.safetensors``), flat or in its ``base_models/`` and ``retargeting_models/`` sub-folders. Every key and
shape of all five is checked, and all problems are named in one line, before anything runs.

Driving, the paper's way: the proxy head is rendered with the animation's blendshapes (head held still); the
motion extractor's expression deltas (and scale/translation) of each frame relative to the proxy's neutral
frame are added to the portrait's own keypoints; head rotation comes from the head curves (times
``head_scale``); jawOpen and eyeBlink also drive the lip and eye retargeting networks; the stitching network
keeps the face glued to the shoulders. The portrait's face is cropped (mediapipe landmarks, else a centred
square), animated at ``net_size`` (256 as trained; the generator doubles it) and pasted back into the full
portrait with a feathered edge, so the video has the portrait's own size and background.

Rendering runs in chunks saved to a work directory (one ``chunk_NNNNN.npy`` of generated crops per finished
chunk plus a ``manifest.json`` fingerprint); an interrupted run continues with ``resume``. Slow on CPU: see
``bench_neural``. Random (untrained) weights give noise: real LivePortrait weights are needed for a face.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
import time
from pathlib import Path

import numpy as np

from ...animation import FaceAnimation
from ...errors import InputError

SAFETENSORS_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
                      "I8": "i1", "U8": "u1", "BOOL": "?"}  # + BF16, widened to float32 by hand
_MAX_HEADER = 100 << 20  # a header this large is not a real checkpoint
MANIFEST = "manifest.json"
NET_SIZE = 256  # LivePortrait's training resolution; the generator outputs twice this
# Where the five files may sit inside --checkpoint DIR (flat, or LivePortrait's pretrained_weights layout).
SUBFOLDERS = ("", "base_models", "retargeting_models", "liveportrait/base_models",
              "liveportrait/retargeting_models", "pretrained_weights/liveportrait/base_models",
              "pretrained_weights/liveportrait/retargeting_models")
# LivePortrait's source crop (crop_config.py, crop.py): a square 2.5x the face's landmark box (measured along the
# eyes-to-mouth axis), its centre moved 0.125 of the crop side toward the forehead.
CROP_SCALE = 2.5
CROP_LIFT = 0.125
FEATHER = 0.12  # paste-back blend ramp, as a fraction of the crop side
LIP_GAIN = 0.5  # lip-open ratio added at jawOpen = 1 (LivePortrait's lip ratios run 0 .. ~0.8)
DEFAULT_RATIOS = (0.33, 0.33, 0.02)  # eye-open left, right, lip-open when no face landmarks are found


def _torch():
    """The torch module, or an InputError saying how to get it."""
    try:
        import torch
    except ImportError:
        raise InputError("the neural portrait backend needs PyTorch: pip install torch") from None
    return torch


def check_device(device: str):
    """A torch.device for 'cpu' or 'cuda', or an InputError when it is not usable here."""
    torch = _torch()
    name = str(device).lower()
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise InputError(f"unknown device {device!r}; use cpu or cuda")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but this PyTorch has no usable CUDA GPU; use --device cpu")
    return torch.device(name)


# ----------------------------------------------------------------------------------------- safetensors
def read_safetensors_header(path) -> tuple[dict, dict, int]:
    """({name: {dtype, shape, data_offsets}}, metadata, data start) of a .safetensors file, validated."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise InputError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > min(_MAX_HEADER, size - 8):
            raise InputError(f"{path}: not a safetensors file (header length {n} does not fit the file)")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: corrupt safetensors header ({e})") from None
    if not isinstance(header, dict):
        raise InputError(f"{path}: corrupt safetensors header (not a JSON object)")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise InputError(f"{path}: corrupt safetensors metadata")
    start = 8 + n
    for name, e in header.items():
        ok = isinstance(e, dict) and isinstance(e.get("shape"), list) and isinstance(e.get("data_offsets"), list)
        ok = ok and len(e["data_offsets"]) == 2 and all(isinstance(x, int) and x >= 0 for x in e["shape"])
        ok = ok and all(isinstance(x, int) for x in e["data_offsets"])
        if not ok:
            raise InputError(f"{path}: corrupt safetensors entry for {name!r}")
        dt = e.get("dtype")
        if dt not in SAFETENSORS_DTYPES and dt != "BF16":
            raise InputError(f"{path}: tensor {name!r} has unsupported dtype {dt!r}")
        b, en = e["data_offsets"]
        item = 2 if dt == "BF16" else np.dtype(SAFETENSORS_DTYPES[dt]).itemsize
        if not (0 <= b <= en and start + en <= size and en - b == item * math.prod(e["shape"])):
            raise InputError(f"{path}: tensor {name!r} lies outside the file or has the wrong byte size "
                             "(truncated or corrupt file)")
    return header, {str(k): str(v) for k, v in meta.items()}, start


def read_safetensors(path, names=None) -> dict[str, np.ndarray]:
    """{name: array} from a .safetensors file (little-endian as the format says; BF16 widened to float32)."""
    header, _, start = read_safetensors_header(path)
    out = {}
    with open(path, "rb") as f:
        for name in (header if names is None else names):
            e = header[name]
            b, en = e["data_offsets"]
            f.seek(start + b)
            buf = f.read(en - b)
            if e["dtype"] == "BF16":
                bits = np.frombuffer(buf, "<u2").astype(np.uint32) << 16  # bf16 is the top half of a float32
                a = bits.view(np.float32)
            else:
                a = np.frombuffer(buf, SAFETENSORS_DTYPES[e["dtype"]]).copy()
            out[name] = a.reshape(e["shape"])
    return out


def write_safetensors(path, tensors: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write {name: array} (+ string metadata) as .safetensors, atomically."""
    from ...fileio import atomic_path
    rev = {np.dtype(v): k for k, v in SAFETENSORS_DTYPES.items()}
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        a = a.astype(a.dtype.newbyteorder("<")) if a.dtype.byteorder == ">" else a
        dt = rev.get(a.dtype.newbyteorder("=")) or rev.get(a.dtype)
        if dt is None:
            raise InputError(f"cannot store tensor {name!r} of dtype {a.dtype} in safetensors")
        data = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # keep the data 8-byte aligned
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)




# ------------------------------------------------------------------------------------------ checkpoints
def _summarise(names, limit: int = 4) -> str:
    names = sorted(names)
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def shape_problems(expected: dict[str, tuple], got: dict[str, tuple]) -> list[str]:
    """Missing, unexpected and wrongly shaped keys as short phrases (empty when the layout matches)."""
    missing = set(expected) - set(got)
    unexpected = set(got) - set(expected)
    wrong = [f"{k} {tuple(got[k])} != {tuple(expected[k])}" for k in sorted(set(expected) & set(got))
             if tuple(got[k]) != tuple(expected[k])]
    out = []
    if missing:
        out.append(f"{len(missing)} missing: {_summarise(missing)}")
    if unexpected:
        out.append(f"{len(unexpected)} unexpected: {_summarise(unexpected)}")
    if wrong:
        more = f" (+{len(wrong) - 3} more)" if len(wrong) > 3 else ""
        out.append(f"{len(wrong)} wrong shape: " + "; ".join(wrong[:3]) + more)
    return out


def find_checkpoint_files(folder) -> dict[str, Path]:
    """{module name: file} of LivePortrait's five files in ``folder``; InputError naming any that are absent."""
    from .liveportrait import MODULES
    folder = Path(folder)
    if not folder.is_dir():
        hint = " (give the FOLDER holding LivePortrait's five files)" if folder.is_file() else ""
        raise InputError(f"checkpoint folder not found: {folder}{hint}; the neural backend never downloads weights")
    found, absent = {}, []
    for name in MODULES:
        hits = [folder / sub / f"{name}{ext}" for sub in SUBFOLDERS for ext in (".pth", ".safetensors")]
        hit = next((p for p in hits if p.is_file()), None)
        if hit is None:
            absent.append(f"{name}.pth")
        else:
            found[name] = hit
    if absent:
        raise InputError(f"{folder} lacks LivePortrait's {', '.join(absent)} (put the five published files in "
                         "this folder, flat or in base_models/ and retargeting_models/)")
    return found


def _pth_object(path: Path):
    """The unpickled .pth object, with weights_only=True only (no code can run)."""
    torch = _torch()
    import pickle
    try:
        return torch.load(path, map_location="cpu", weights_only=True)  # never weights_only=False
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"{path}: refused: the .pth holds objects other than tensors and plain containers "
                         f"(only weights_only=True loading is allowed; {first[:120]})") from None
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, TypeError) as e:
        raise InputError(f"{path}: not a readable .pth checkpoint ({str(e).strip().splitlines()[0][:160]})") from None


def _stitching_key(part: str, key: str) -> str:
    return f"{part}/{key if key.startswith('module.') else 'module.' + key}"


def read_module_state(name: str, path: Path) -> dict:
    """{key: tensor} of one published file (stitching keys flattened to 'retarget_mouth/module.mlp.0.weight')."""
    torch = _torch()
    from .liveportrait import STITCHING_PARTS
    if path.suffix == ".safetensors":
        read_safetensors_header(path)  # validates offsets and sizes before any data is read
        try:
            from safetensors.torch import load_file  # the official reader when installed
            flat = load_file(str(path), device="cpu")
        except ImportError:
            flat = {k: torch.from_numpy(v) for k, v in read_safetensors(path).items()}
        if name != "stitching_retargeting_module":
            return flat
        out = {}
        for k, v in flat.items():
            part, _, rest = k.replace("/", ".").partition(".")
            out[_stitching_key(part, rest) if part in STITCHING_PARTS else k] = v
        return out
    obj = _pth_object(path)
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a dict of tensors in the .pth, got {type(obj).__name__}")
    if name == "stitching_retargeting_module":
        out = {}
        for part, sd in obj.items():
            if isinstance(sd, dict):
                out.update({_stitching_key(str(part), str(k)): v for k, v in sd.items()})
            else:
                out[str(part)] = sd
        obj = out
    bad = [str(k) for k, v in obj.items() if not torch.is_tensor(v)]
    if bad:
        raise InputError(f"{path}: expected only tensors, but {_summarise(bad)} are not")
    return obj


class LivePortraitModels:
    """The five loaded networks on one device, in eval mode: F, M, W, G and S (stitching, lip, eye)."""

    def __init__(self, modules: dict, device):
        self.F = modules["appearance_feature_extractor"].to(device).eval()
        self.M = modules["motion_extractor"].to(device).eval()
        self.W = modules["warping_module"].to(device).eval()
        self.G = modules["spade_generator"].to(device).eval()
        self.S = modules["stitching_retargeting_module"].to(device).eval()
        self.device = device


def load_checkpoint(folder, device="cpu", notes: list[str] | None = None) -> LivePortraitModels:
    """LivePortrait's five networks from ``folder``, after checking every key and shape of all five files."""
    torch = _torch()
    from .liveportrait import MODULES, STITCHING_PARTS, build_module, expected_shapes
    dev = check_device(device) if not hasattr(device, "type") else device
    files = find_checkpoint_files(folder)
    states, problems = {}, []
    for name in MODULES:
        state = read_module_state(name, files[name])
        msgs = shape_problems(expected_shapes(name), {k: tuple(v.shape) for k, v in state.items()})
        if msgs:
            problems.append(f"{files[name].name}: " + ", ".join(msgs))
        states[name] = state
    if problems:
        raise InputError(f"{folder} is not LivePortrait's published layout: " + " | ".join(problems))
    modules = {}
    for name in MODULES:
        state = states.pop(name)
        bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
        if bad:
            raise InputError(f"{files[name].name} has non-finite values in: {_summarise(bad)}")
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}  # fp16 mirrors too
        if name == "stitching_retargeting_module":
            state = {f"{STITCHING_PARTS[k.split('/')[0]]}.{k.split('/module.', 1)[1]}": v for k, v in state.items()}
        with torch.device("meta"):
            m = build_module(name)
        m.load_state_dict(state, strict=True, assign=True)  # meta tensors take the loaded ones: no init cost
        modules[name] = m
    return LivePortraitModels(modules, dev)


def random_models(seed: int = 0, device="cpu") -> LivePortraitModels:
    """All five networks with random weights (benchmarks and tests: measures speed, draws no face)."""
    torch = _torch()
    from .liveportrait import MODULES, build_module
    torch.manual_seed(seed)
    return LivePortraitModels({n: build_module(n) for n in MODULES}, check_device(device))


def save_checkpoint(models: LivePortraitModels, folder, fmt: str = "pth", only=None) -> dict[str, Path]:
    """Write the five files (or those in ``only``) in the published layout (``pth`` or ``safetensors``), atomically."""
    torch = _torch()
    from ...fileio import atomic_path
    from .liveportrait import MODULES, published_state
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mods = dict(zip(MODULES, (models.F, models.M, models.W, models.G, models.S)))
    out = {}
    for name, m in mods.items():
        if only is not None and name not in only:
            continue
        st = published_state(name, m)
        if fmt == "pth":
            out[name] = folder / f"{name}.pth"
            with atomic_path(out[name]) as tmp:
                torch.save(st, tmp)
        elif fmt == "safetensors":
            if name == "stitching_retargeting_module":
                st = {f"{part}.{k}": v for part, sd in st.items() for k, v in sd.items()}
            out[name] = folder / f"{name}.safetensors"
            write_safetensors(out[name], {k: v.detach().cpu().numpy() for k, v in st.items()})
        else:
            raise InputError(f"checkpoint format must be pth or safetensors, got {fmt!r}")
    return out


def checkpoint_fingerprint(folder) -> dict:
    """{file: [bytes, mtime_ns]} of the five files: a resumed job must use the same weights."""
    return {str(p.relative_to(folder)): [p.stat().st_size, p.stat().st_mtime_ns]
            for p in find_checkpoint_files(folder).values()}


# ------------------------------------------------------------------------------------------- source image
def face_box(lm: np.ndarray) -> tuple[float, float, float]:
    """(cx, cy, side) in pixels of LivePortrait's source crop for mediapipe landmarks (478, 2+), axis-aligned.

    LivePortrait boxes its detector's jaw line, brows, eyes, nose and lips (not the forehead), so the same parts of
    the mesh are boxed here; its roll-cancelling rotation of the crop is left out (the keypoints carry the roll).
    """
    from . import landmarks as L
    oval = L.FACE_OVAL
    jaw = oval[oval.index(389):oval.index(162) + 1]  # temple to temple through the chin
    parts = (jaw + L.RIGHT_BROW + L.LEFT_BROW + L.RIGHT_EYE_UPPER + L.RIGHT_EYE_LOWER + L.LEFT_EYE_UPPER
             + L.LEFT_EYE_LOWER + L.LIPS_OUTER_UPPER + L.LIPS_OUTER_LOWER
             + (L.NOSE_TIP, L.NOSE_ALA_RIGHT, L.NOSE_ALA_LEFT))
    pts = lm[list(parts), :2].astype(np.float64)  # (N, 2)
    corners = [e[i] for e in (L.RIGHT_EYE_UPPER, L.LEFT_EYE_UPPER) for i in (0, -1)]  # both corners of both eyes
    eyes = lm[corners, :2].mean(0)
    mouth = lm[[L.MOUTH_CORNER_RIGHT, L.MOUTH_CORNER_LEFT], :2].mean(0)
    uy = mouth - eyes  # the face's "down"
    n = float(np.hypot(*uy))
    uy = uy / n if n > 1e-3 else np.array([0.0, 1.0])
    axes = np.stack([np.array([uy[1], -uy[0]]), uy])  # (2, 2) rows: face right, face down
    c0 = pts.mean(0)
    r = (pts - c0) @ axes.T  # (N, 2) in the face's frame
    lo, hi = r.min(0), r.max(0)
    side = CROP_SCALE * float((hi - lo).max())
    centre = c0 + ((lo + hi) / 2) @ axes - CROP_LIFT * side * uy
    return float(centre[0]), float(centre[1]), side


def face_ratios(lm: np.ndarray) -> tuple[float, float, float]:
    """(eye, eye, lip) open ratios from mediapipe landmarks: lid gap / eye width, inner lip gap / mouth width.

    The image-left eye (the subject's right) comes first, as LivePortrait orders them ([c_left, c_right, c_target]
    into the eye retargeting network; its 68-point code calls the image-left eye "left").
    """
    def ratio(a, b, c, d):
        return float(np.hypot(*(lm[a, :2] - lm[b, :2])) / (np.hypot(*(lm[c, :2] - lm[d, :2])) + 1e-6))
    return ratio(159, 145, 33, 133), ratio(386, 374, 263, 362), ratio(13, 14, 61, 291)


class Source:
    """The full portrait, the square crop the network animates, and the face's open ratios."""

    def __init__(self, image: np.ndarray, crop, net_rgb: np.ndarray, ratios, notes: list[str]):
        self.image, self.crop, self.net_rgb, self.ratios, self.notes = image, crop, net_rgb, ratios, notes


def source_crop(portrait, net_size: int = NET_SIZE, crop: str = "auto", notes: list[str] | None = None) -> Source:
    """Load the portrait and crop its face (``crop``: 'face', 'center' or 'auto' = face when one is found)."""
    from . import landmarks as L
    from .image_io import Crop, apply_crop, load_image
    notes = notes if notes is not None else []
    if crop not in ("auto", "face", "center"):
        raise InputError(f"unknown crop {crop!r}; use auto, face or center")
    img = load_image(portrait, notes)
    h, w = img.shape[:2]
    if min(h, w) < 64:
        raise InputError(f"the portrait is {w}x{h} px; need at least 64 px on the short side")
    faces = None
    if crop in ("auto", "face"):
        try:
            faces = L.detect_faces(img)
        except InputError:
            if crop == "face":
                raise
            notes.append("mediapipe not installed: animating a centred square crop of the portrait")
        if faces == [] and crop == "face":
            raise InputError("no face found in the portrait (need a clear, roughly frontal face)")
        if faces == []:
            notes.append("no face found: animating a centred square crop of the portrait")
    if faces:
        if len(faces) > 1:
            notes.append(f"{len(faces)} faces found; animating the largest")
        lm = faces[0]
        cx, cy, side = face_box(lm)
        side = min(side, float(min(h, w)))  # a crop past the image edge is slid back inside, not padded
        box = Crop(float(np.clip(cx - side / 2, 0, w - side)), float(np.clip(cy - side / 2, 0, h - side)), side,
                   net_size)
        ratios = face_ratios(lm)
    else:
        side = float(min(h, w))
        box = Crop((w - side) / 2, (h - side) / 2, side, net_size)
        ratios = DEFAULT_RATIOS
    if box.scale > 1.5:
        notes.append(f"the face crop is upscaled {box.scale:.1f}x and will look soft")
    return Source(img, box, apply_crop(img, box), ratios, notes)


def feather_mask(n: int, feather: float = FEATHER) -> np.ndarray:
    """(n, n, 1) float32 blend weight: 1 inside, a smooth ramp to 0 over ``feather * n`` at every edge."""
    r = max(1.0, feather * n)
    d = np.minimum(np.arange(n) + 0.5, n - np.arange(n) - 0.5) / r
    t = np.clip(d, 0, 1)
    ramp = t * t * (3 - 2 * t)  # smoothstep
    return (ramp[:, None] * ramp[None, :])[:, :, None].astype(np.float32)


class PasteBack:
    """Paste generated crops into the full portrait (scaled so its long side is ``out_size``; even sides)."""

    def __init__(self, source: Source, out_size: int | None = None):
        from .image_io import resize
        img = source.image
        h, w = img.shape[:2]
        k = 1.0 if out_size is None else out_size / max(h, w)
        ow, oh = max(2, int(round(w * k)) // 2 * 2), max(2, int(round(h * k)) // 2 * 2)  # H.264 needs even sides
        self.base = img if (ow, oh) == (w, h) else resize(img, (ow, oh))
        sx, sy = ow / w, oh / h
        c = source.crop
        self.x0, self.y0 = int(round(c.x0 * sx)), int(round(c.y0 * sy))
        self.side = max(2, min(int(round(c.side * sx)), ow - self.x0, oh - self.y0))
        self.mask = feather_mask(self.side)
        self.size = (ow, oh)

    def __call__(self, crop_rgb: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 frame: the portrait with ``crop_rgb`` blended over the face box."""
        from .image_io import resize
        face = resize(np.asarray(crop_rgb), (self.side, self.side)).astype(np.float32)
        out = self.base.copy()
        y, x, s = self.y0, self.x0, self.side
        region = out[y:y + s, x:x + s].astype(np.float32)
        out[y:y + s, x:x + s] = (region + (face - region) * self.mask).round().astype(np.uint8)
        return out


# ----------------------------------------------------------------------------------------------- render
class NeuralRenderer:
    """One portrait in the loaded networks: ``frame(k)`` -> (2S, 2S, 3) uint8 crop for animation frame k."""

    def __init__(self, models: LivePortraitModels, source: Source, anim: FaceAnimation, driver,
                 head_scale: float = 1.0, retarget: bool = True, stitch: bool = True):
        from ....rigs.arkit import ARKIT_NAMES
        from . import liveportrait as LP
        self.torch = torch = _torch()
        self.lp, self.m, self.anim, self.driver = LP, models, anim, driver
        self.device = models.device
        self.head_scale, self.retarget, self.stitch = float(head_scale), retarget, stitch
        self.jaw = ARKIT_NAMES.index("jawOpen")
        self.blink = [ARKIT_NAMES.index("eyeBlinkLeft"), ARKIT_NAMES.index("eyeBlinkRight")]
        s = source.net_rgb.shape[0]
        if s % LP.SIZE_MULTIPLE:
            raise InputError(f"the network's input size must be a multiple of {LP.SIZE_MULTIPLE}, got {s}")
        with torch.inference_mode():
            x = self._tensor(source.net_rgb)
            self.f_s = models.F(x)  # (1, 32, 16, S/4, S/4)
            info = LP.kp_info(models.M(x))
            self.kp_c, self.exp_s, self.t_s, self.scale_s = info["kp"], info["exp"], info["t"], info["scale"]
            self.rot_s = LP.rotation_rows(info["pitch"], info["yaw"], info["roll"])  # (1, 3, 3)
            self.x_s = LP.posed_keypoints(self.kp_c, self.rot_s, self.exp_s, self.scale_s, self.t_s)  # (1, 21, 3)
            self.neutral = self._proxy_info(np.zeros(anim.weights.shape[1], np.float32))
            eye_l, eye_r, lip = (float(r) for r in source.ratios)
            self.eye_s, self.lip_s = (eye_l, eye_r), lip
            self.eye_rest = self._eye_delta((eye_l + eye_r) / 2)
            self.lip_rest = self._lip_delta(lip)

    def _tensor(self, rgb: np.ndarray):
        t = self.torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).to(self.device)
        return t.permute(2, 0, 1)[None].float() / 255.0  # (1, 3, S, S)

    def _proxy_info(self, weights) -> dict:
        """Motion-extractor reading of the proxy head showing ``weights``, head held still."""
        rgb = self.driver.frame(np.asarray(weights, np.float32), np.zeros(3), None)
        return self.lp.kp_info(self.m.M(self._tensor(rgb)))

    def _mlp(self, name: str, *parts):
        x = self.torch.cat([p.reshape(1, -1).float() for p in parts], 1)
        return getattr(self.m.S, name)(x)

    def _eye_delta(self, open_ratio: float):
        r = self.torch.tensor([*self.eye_s, open_ratio], device=self.device)
        return self._mlp("eye", self.x_s, r).view(1, -1, 3)  # (1, 21, 3)

    def _lip_delta(self, open_ratio: float):
        r = self.torch.tensor([self.lip_s, open_ratio], device=self.device)
        return self._mlp("lip", self.x_s, r).view(1, -1, 3)

    def head_rows(self, k: int):
        """(1, 3, 3) row rotation of the head curves at frame k in the keypoints' frame (x right, y down, z in)."""
        from ...rotation import head_rotation_matrices
        r = head_rotation_matrices(np.asarray(self.anim.head_rotation[k], np.float64)[None] * self.head_scale)[0]
        flip = np.diag([1.0, -1.0, -1.0])  # head frame (Y up, Z to camera) -> image frame
        return self.torch.tensor((flip @ r @ flip).T, dtype=self.torch.float32, device=self.device)[None]

    def keypoints(self, k: int):
        """(1, 21, 3) driving keypoints for frame k: the portrait's own, moved as the proxy moved since rest."""
        torch, lp = self.torch, self.lp
        w = np.asarray(self.anim.weights[k], np.float32)
        d, n = self._proxy_info(w), self.neutral
        exp = self.exp_s + (d["exp"] - n["exp"])
        scale = self.scale_s * (d["scale"] / n["scale"])
        t = self.t_s + (d["t"] - n["t"])
        x_d = lp.posed_keypoints(self.kp_c, lp.driven_rotation(self.rot_s, self.head_rows(k)), exp, scale, t)
        if self.retarget:
            blink = float(np.clip(w[self.blink].mean(), 0, 1))
            x_d = x_d + self._eye_delta((sum(self.eye_s) / 2) * (1 - blink)) - self.eye_rest
            x_d = x_d + self._lip_delta(self.lip_s + LIP_GAIN * float(np.clip(w[self.jaw], 0, 1))) - self.lip_rest
        if self.stitch:
            delta = self._mlp("stitching", self.x_s, x_d)  # (1, 65): 63 keypoint moves + (tx, ty)
            x_d = x_d + delta[:, :-2].view(1, -1, 3)
            x_d = x_d + torch.nn.functional.pad(delta[:, None, -2:], (0, 1))
        return x_d

    def frame(self, k: int) -> np.ndarray:
        """(2S, 2S, 3) uint8 crop of animation frame k."""
        with self.torch.inference_mode():
            x_d = self.keypoints(k)
            img = self.m.G(self.m.W(self.f_s, x_d, self.x_s)["out"])[0]  # (3, 2S, 2S) in [0, 1]
            img = self.torch.nan_to_num(img, 0.5).clamp(0, 1)
        return (img * 255.0).round().byte().permute(1, 2, 0).cpu().numpy()


def _anim_digest(anim: FaceAnimation) -> str:
    h = hashlib.sha256(np.float64(anim.fps).tobytes())
    h.update(np.ascontiguousarray(anim.weights, np.float32).tobytes())
    h.update(np.ascontiguousarray(anim.head_rotation, np.float32).tobytes())
    if anim.head_translation is not None:
        h.update(np.ascontiguousarray(anim.head_translation, np.float32).tobytes())
    return h.hexdigest()


def _open_work_dir(work: Path, manifest: dict, resume: bool) -> None:
    """Create ``work`` with its manifest, or check that a resumed one belongs to this same job."""
    from ...fileio import atomic_write_text
    mpath = work / MANIFEST
    if resume:
        if not mpath.is_file():
            raise InputError(f"nothing to resume in {work}: no {MANIFEST} there")
        try:
            old = json.loads(mpath.read_text())
        except (OSError, json.JSONDecodeError):
            raise InputError(f"{mpath} is unreadable; delete {work} and start again") from None
        diff = sorted(k for k in set(manifest) | set(old) if manifest.get(k) != old.get(k))
        if diff:
            raise InputError(f"{work} is from a different job (differs in: {', '.join(diff)}); "
                             "use the same portrait, animation, checkpoint, chunk and view, or delete it")
        return
    if work.exists() and any(work.iterdir()):
        raise InputError(f"work directory {work} exists from an earlier run: pass --resume {work} to continue "
                         "it, or delete it")
    work.mkdir(parents=True, exist_ok=True)
    atomic_write_text(mpath, json.dumps(manifest, indent=1))


def _chunk_path(work: Path, c: int) -> Path:
    return work / f"chunk_{c:05d}.npy"


def _load_chunk(path: Path, n: int, s: int):
    """A finished chunk's (n, s, s, 3) uint8 frames, or None when absent or not what it should be."""
    if not path.is_file():
        return None
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    return a if a.shape == (n, s, s, 3) and a.dtype == np.uint8 else None


def _check_request(anim, out_path, chunk) -> Path:
    """The output path, once the animation, the .mp4 suffix and the chunk size are known good (InputError)."""
    if not isinstance(anim, FaceAnimation):
        raise InputError("render_neural needs a FaceAnimation")
    out_path = Path(out_path)
    if out_path.suffix.lower() not in (".mp4", ".m4v", ".mov"):
        raise InputError(f"{out_path}: expected a .mp4 file")
    if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
        raise InputError(f"chunk must be a positive number of frames, got {chunk!r}")
    return out_path




def _render_chunks(renderer: NeuralRenderer, work: Path, todo: list[int], chunk: int, t_frames: int, s: int,
                   progress: bool, log) -> tuple[float, int]:
    """Render and save the chunks ``todo`` with a progress bar; returns (seconds rendering, frames rendered)."""
    from ...progress import Progress

    n_todo = sum(min(chunk, t_frames - c * chunk) for c in todo)
    first, t_render, rendered = None, 0.0, 0
    if todo:
        # Time the first frame before the progress bar starts, so the speed note is not drawn over by it.
        t0 = time.perf_counter()
        first = renderer.frame(todo[0] * chunk)
        t_render, rendered = time.perf_counter() - t0, 1
        where = "on the CPU (the neural backend is slow on CPU; --device cuda uses a GPU)" \
            if renderer.device.type == "cpu" else f"on {renderer.device}"
        log(f"note: {t_render:.1f} s/frame {where}: about {t_render * n_todo / 60:.1f} min for {n_todo} frames")
    with Progress(t_frames, "neural", enabled=None if progress else False) as bar:
        bar.update(t_frames - n_todo + rendered)
        for c in todo:
            a, b = c * chunk, min(t_frames, (c + 1) * chunk)
            frames = np.empty((b - a, s, s, 3), np.uint8)  # (n, 2S, 2S, 3) generated crops
            for k in range(a, b):
                if k == a and c == todo[0]:
                    frames[0] = first
                    continue
                t0 = time.perf_counter()
                frames[k - a] = renderer.frame(k)
                t_render += time.perf_counter() - t0
                rendered += 1
                bar.update(1)
            _save_chunk(_chunk_path(work, c), frames)
    return t_render, rendered


def _video_frames(work: Path, n_chunks: int, chunk: int, t_frames: int, s: int, paste: PasteBack):
    """Yield every full frame (generated crop pasted into the portrait) from the saved chunks, in order."""
    for c in range(n_chunks):
        n = min(chunk, t_frames - c * chunk)
        a = _load_chunk(_chunk_path(work, c), n, s)
        if a is None:
            raise InputError(f"chunk {c} in {work} vanished or changed while muxing")
        for f in a:
            yield paste(f)


def _remove_work_dir(work: Path, n_chunks: int) -> None:
    """Delete the chunks and manifest, then the folder unless something else is in there."""
    for c in range(n_chunks):
        _chunk_path(work, c).unlink(missing_ok=True)
    (work / MANIFEST).unlink(missing_ok=True)
    try:
        work.rmdir()
    except OSError:
        pass  # something else is in there: leave it




def check_options(head_scale: float = 1.0, net_size: int = NET_SIZE, out_size: int | None = None) -> None:
    """InputError for a head scale outside [0, 3], a network size not a multiple of 128, an odd output size."""
    if not (isinstance(head_scale, (int, float)) and math.isfinite(head_scale) and 0 <= head_scale <= 3):
        raise InputError(f"head scale must be a number in [0, 3], got {head_scale!r}")
    if not isinstance(net_size, int) or net_size % 128 or not 128 <= net_size <= 1024:
        raise InputError(f"network size must be a multiple of 128 in [128, 1024], got {net_size}")
    if out_size is not None and (int(out_size) % 2 or not 16 <= int(out_size) <= 4096):
        raise InputError(f"output size must be an even number of pixels in [16, 4096], got {out_size}")


def render_neural(anim: FaceAnimation, portrait, out_path, checkpoint, audio=None, chunk: int = 64,
                  work_dir=None, resume: bool = False, device: str = "cpu", view: str = "front",
                  crop: str = "auto", out_size: int | None = None, head_scale: float = 1.0,
                  net_size: int = NET_SIZE, keep_work: bool = False, progress: bool = True, log=None,
                  models: LivePortraitModels | None = None) -> dict:
    """Write an MP4 of ``portrait`` (path or image) animated by ``anim`` through LivePortrait's networks.

    ``checkpoint`` is the folder of the five published files (``models``: already loaded from it). Frames are rendered
    in chunks of ``chunk`` into ``work_dir`` (default ``<out>.neural-work``); with ``resume`` the finished
    chunks there are reused. The video has the portrait's size (long side ``out_size`` when given) with
    ``audio`` muxed in, written whole or not at all; the work dir is removed after success unless
    ``keep_work``. ``log`` receives one-line notes (measured speed, resume state). Returns a summary dict.
    """
    from ..preview import HeadRenderer, _audio_array, check_view
    from ..video import write_video

    log = log or (lambda msg: None)
    out_path = _check_request(anim, out_path, chunk)
    view = check_view(view)
    check_options(head_scale, net_size, out_size)
    au = _audio_array(audio)  # a bad audio file fails before the slow part
    notes: list[str] = []
    fingerprint = checkpoint_fingerprint(checkpoint) if checkpoint is not None else "in-memory models"
    if models is None:
        models = load_checkpoint(checkpoint, device, notes)
    src = source_crop(portrait, net_size, crop, notes)
    for n in notes:
        log(f"warning: {n}")
    paste = PasteBack(src, None if out_size is None else int(out_size))
    s = 2 * net_size  # the generator doubles the input size
    t_frames = anim.num_frames
    n_chunks = (t_frames + chunk - 1) // chunk
    manifest = {"format": 2, "checkpoint": fingerprint, "net_size": net_size, "head_scale": float(head_scale),
                "source_sha256": hashlib.sha256(src.net_rgb.tobytes()).hexdigest(),
                "animation_sha256": _anim_digest(anim), "frames": t_frames, "chunk": chunk, "view": view}
    work = Path(work_dir) if work_dir is not None else out_path.with_name(out_path.name + ".neural-work")
    _open_work_dir(work, manifest, resume)
    renderer = NeuralRenderer(models, src, anim, HeadRenderer(view, net_size), head_scale)
    done = [c for c in range(n_chunks) if _load_chunk(_chunk_path(work, c), min(chunk, t_frames - c * chunk), s)
            is not None]
    if resume:
        log(f"resuming {work}: {len(done)} of {n_chunks} chunks already rendered")
    todo = [c for c in range(n_chunks) if c not in done]
    t_render, rendered = _render_chunks(renderer, work, todo, chunk, t_frames, s, progress, log)
    info = write_video(out_path, _video_frames(work, n_chunks, chunk, t_frames, s, paste), anim.fps,
                       paste.size, audio=au, num_frames=t_frames)
    if not keep_work:
        _remove_work_dir(work, n_chunks)
    info.update(backend="neural", size=list(paste.size), network_size=net_size, chunks=n_chunks,
                chunks_reused=len(done), frames_rendered=rendered,
                seconds_per_frame=(t_render / rendered) if rendered else None, device=str(renderer.device),
                work_dir=str(work), notes=notes)
    return info


def _save_chunk(path: Path, frames: np.ndarray) -> None:
    """One finished chunk as .npy, atomically (a chunk file exists only when complete)."""
    from ...fileio import atomic_path
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, frames, allow_pickle=False)


def bench_neural(sizes=(256, 512), frames: int = 2, device: str = "cpu", models=None) -> dict:
    """Seconds per frame of the whole per-frame path with random weights at each network input size.

    Per frame = proxy head render + motion extractor + retargeting and stitching + warping + generator +
    paste-back (the source pass is once per video and reported apart). Random weights: speed only.
    """
    torch = _torch()
    from ..preview import HeadRenderer, demo_animation
    from . import astronaut
    dev = check_device(device)
    t0 = time.perf_counter()
    models = models or random_models(0, dev)
    build = time.perf_counter() - t0
    anim = demo_animation((frames + 1) / 30.0)
    out = {"backend": "neural", "device": str(dev), "threads": torch.get_num_threads(),
           "parameters": sum(p.numel() for m in (models.F, models.M, models.W, models.G, models.S)
                             for p in m.parameters()),
           "build_seconds": build, "frames": frames, "sizes": {}}
    for size in sizes:
        src = source_crop(astronaut(), int(size), "center")
        paste = PasteBack(src)
        t0 = time.perf_counter()
        r = NeuralRenderer(models, src, anim, HeadRenderer("front", int(size)))
        setup = time.perf_counter() - t0
        paste(r.frame(0))  # warm-up (allocator, kernels)
        t0 = time.perf_counter()
        for k in range(1, frames + 1):
            paste(r.frame(k))
        per = (time.perf_counter() - t0) / frames
        out["sizes"][str(size)] = {"network_input": int(size), "output_crop": 2 * int(size),
                                   "source_seconds": setup, "seconds_per_frame": per}
    return out


if __name__ == "__main__":  # python -m dreamtalk.core.render.portrait.neural [size ...]
    print(json.dumps(bench_neural(tuple(int(x) for x in sys.argv[1:]) or (256, 512)), indent=1))
