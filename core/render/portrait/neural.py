"""Portrait ``neural`` backend: a Face-Vid2Vid-style network (fv2v.py) driven by the proxy head's frames.

Bring your own checkpoint: nothing is downloaded. The network sees the portrait once (appearance volume,
canonical keypoints, pose and expression); every frame of the proxy head rendered with the animation is a
driving frame whose change in pose and expression since the FIRST driving frame is added to the portrait's
(relative motion transfer, so the portrait keeps its own identity and resting pose).

Checkpoints: ``.safetensors`` (read with the ``safetensors`` package when installed, else with the small
reader here) or ``.pth`` loaded only with ``torch.load(weights_only=True)``. The config travels with the weights
(safetensors metadata / a ``config`` entry) and every key and shape is checked before anything is loaded.

Rendering runs in chunks saved to a work directory (one ``chunk_NNNNN.npy`` per finished chunk plus a
``manifest.json`` fingerprint); an interrupted run continues with ``resume``. Slow on CPU: see ``bench_neural``.
Untrained (random) weights give noise-like, nearly flat images: a trained checkpoint is needed for a face.
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
def save_checkpoint(model, path) -> None:
    """Save a FaceVid2Vid network with its config: ``.safetensors`` (metadata) or ``.pth`` (plain dict)."""
    torch = _torch()
    from ...fileio import atomic_path
    from .fv2v import FORMAT, FORMAT_VERSION
    path = Path(path)
    cfg = model.cfg.to_dict()
    sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        write_safetensors(path, {k: v.numpy() for k, v in sd.items()},
                          {"format": FORMAT, "format_version": str(FORMAT_VERSION), "config": json.dumps(cfg)})
    elif path.suffix in (".pth", ".pt"):
        with atomic_path(path) as tmp:
            torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, "config": cfg, "state_dict": sd}, tmp)
    else:
        raise InputError(f"checkpoint must end in .safetensors or .pth, got {path.name!r}")


def _summarise(names, limit: int = 6) -> str:
    names = sorted(names)
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def check_state_shapes(expected: dict[str, tuple], got: dict[str, tuple], where: str) -> None:
    """InputError naming missing, unexpected and wrongly shaped keys (all in one line), else nothing."""
    missing = set(expected) - set(got)
    unexpected = set(got) - set(expected)
    wrong = [f"{k} {tuple(got[k])} != model {tuple(expected[k])}" for k in sorted(set(expected) & set(got))
             if tuple(got[k]) != tuple(expected[k])]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing: {_summarise(missing)}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected: {_summarise(unexpected)}")
    if wrong:
        more = f" (+{len(wrong) - 6} more)" if len(wrong) > 6 else ""
        parts.append(f"{len(wrong)} wrong shape: " + "; ".join(wrong[:6]) + more)
    if parts:
        raise InputError(f"{where} does not fit the network of its config: " + " | ".join(parts))


def _config_from(raw, where: str, notes: list[str]):
    from .fv2v import FV2VConfig
    if raw is None:
        notes.append(f"{where} carries no config; assuming the default network sizes")
        return FV2VConfig()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise InputError(f"{where}: its config is not valid JSON") from None
    return FV2VConfig.from_dict(raw)


def _pth_state(path: Path):
    """(state dict of tensors, raw config or None) from a .pth, unpickled with weights_only=True only."""
    torch = _torch()
    import pickle
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)  # never weights_only=False: no code runs
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"{path}: refused: the .pth holds objects other than tensors and plain containers "
                         f"(only weights_only=True loading is allowed; {first[:160]})") from None
    except (RuntimeError, EOFError, OSError, ValueError, AttributeError, TypeError) as e:
        raise InputError(f"{path}: not a readable .pth checkpoint ({str(e).strip()[:160]})") from None
    cfg = None
    if isinstance(obj, dict) and "state_dict" in obj:
        cfg = obj.get("config")
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items()):
        raise InputError(f"{path}: expected a dict of tensors (or {{'config', 'state_dict'}}) in the .pth")
    return obj, cfg


def load_checkpoint(path, device="cpu", notes: list[str] | None = None):
    """The FaceVid2Vid network with the checkpoint's weights, in eval mode, after checking every key and shape."""
    torch = _torch()
    from .fv2v import FORMAT, empty_model, expected_shapes
    notes = notes if notes is not None else []
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint not found: {path} (the neural backend never downloads weights; "
                         "give your own with --checkpoint)")
    dev = check_device(device) if not hasattr(device, "type") else device
    where = f"checkpoint {path.name}"
    if path.suffix == ".safetensors":
        header, meta, _ = read_safetensors_header(path)
        if meta.get("format") not in (None, FORMAT):
            raise InputError(f"{where} is a {meta['format']!r} file, not {FORMAT!r}")
        cfg = _config_from(meta.get("config"), where, notes)
        check_state_shapes(expected_shapes(cfg), {k: tuple(e["shape"]) for k, e in header.items()}, where)
        try:
            from safetensors.torch import load_file  # the official reader when installed
            state = load_file(str(path), device="cpu")
        except ImportError:
            state = {k: torch.from_numpy(v) for k, v in read_safetensors(path).items()}
    elif path.suffix in (".pth", ".pt"):
        state, raw_cfg = _pth_state(path)
        cfg = _config_from(raw_cfg, where, notes)
        check_state_shapes(expected_shapes(cfg), {k: tuple(v.shape) for k, v in state.items()}, where)
    else:
        raise InputError(f"checkpoint must be .safetensors or .pth, got {path.name!r}")
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise InputError(f"{where} has non-finite values in: {_summarise(bad)}")
    model = empty_model(cfg, dev)
    model.load_state_dict(state, strict=True)
    return model.eval()


# ------------------------------------------------------------------------------------------- source image
def source_image(source, size: int, crop: str = "auto", notes: list[str] | None = None) -> np.ndarray:
    """(size, size, 3) uint8 portrait crop: the warp backend's face crop, or a centred square crop.

    ``crop``: 'face' (needs a face, mediapipe), 'center', or 'auto' (face when one is found, else centre, noted).
    """
    from .image_io import apply_crop, face_crop, load_image
    notes = notes if notes is not None else []
    if crop not in ("auto", "face", "center"):
        raise InputError(f"unknown crop {crop!r}; use auto, face or center")
    img = load_image(source, notes)
    h, w = img.shape[:2]
    if min(h, w) < size // 4:
        raise InputError(f"the portrait is {w}x{h} px; need at least {size // 4} px on the short side")
    box = None
    if crop in ("auto", "face"):
        from . import landmarks as L
        try:
            faces = L.detect_faces(img)
        except InputError:
            if crop == "face":
                raise
            faces = None
            notes.append("mediapipe not installed: using a centred square crop of the portrait")
        if faces == [] and crop == "face":
            raise InputError("no face found in the portrait (need a clear, roughly frontal face)")
        if faces == []:
            notes.append("no face found: using a centred square crop of the portrait")
        elif faces:
            if len(faces) > 1:
                notes.append(f"{len(faces)} faces found; animating the largest")
            box = face_crop(img.shape, faces[0], size)
    if box is None:
        from .image_io import Crop
        side = float(min(h, w))
        box = Crop((w - side) / 2, (h - side) / 2, side, size)
    if box.scale > 1.5:
        notes.append(f"the portrait crop is upscaled {box.scale:.1f}x and will look soft")
    return apply_crop(img, box)


# ----------------------------------------------------------------------------------------------- render
class NeuralRenderer:
    """One portrait in a loaded network: ``frame(driving_rgb)`` -> (S, S, 3) uint8, relative to the reference."""

    def __init__(self, model, source_rgb: np.ndarray, reference_rgb: np.ndarray):
        self.torch = _torch()
        self.model = model
        self.device = next(model.parameters()).device
        s = model.cfg.image_size
        for name, a in (("source", source_rgb), ("reference", reference_rgb)):
            if np.asarray(a).shape != (s, s, 3):
                raise InputError(f"{name} image must be ({s}, {s}, 3) for this checkpoint, got {np.shape(a)}")
        with self.torch.inference_mode():
            self.src = model.source(self._tensor(source_rgb))
            self.he_ref = model.pose(self._tensor(reference_rgb))

    def _tensor(self, rgb: np.ndarray):
        t = self.torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).to(self.device)
        return t.permute(2, 0, 1)[None].float() / 255.0  # (1, 3, S, S)

    def frame(self, driving_rgb: np.ndarray) -> np.ndarray:
        """The portrait moved like the driving frame moved since the reference frame."""
        m = self.model
        with self.torch.inference_mode():
            he = m.relative(self.src["he"], m.pose(self._tensor(driving_rgb)), self.he_ref)
            img = m.animate(self.src, he)[0]  # (3, S, S) in [0, 1]
        return (img.clamp(0, 1) * 255.0).round().byte().permute(1, 2, 0).cpu().numpy()


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


def _render_chunks(renderer: NeuralRenderer, driving, work: Path, todo: list[int], chunk: int, t_frames: int,
                   s: int, progress: bool, log) -> tuple[float, int]:
    """Render and save the chunks ``todo`` with a progress bar; returns (seconds rendering, frames rendered)."""
    from ...progress import Progress

    n_todo = sum(min(chunk, t_frames - c * chunk) for c in todo)
    first, t_render, rendered = None, 0.0, 0
    if todo:
        # Time the first frame before the progress bar starts, so the speed note is not drawn over by it.
        t0 = time.perf_counter()
        first = renderer.frame(driving(todo[0] * chunk))
        t_render, rendered = time.perf_counter() - t0, 1
        where = "on the CPU (the neural backend is slow on CPU; --device cuda uses a GPU)" \
            if renderer.device.type == "cpu" else f"on {renderer.device}"
        log(f"note: {t_render:.2f} s/frame {where}: about {t_render * n_todo / 60:.1f} min for {n_todo} frames")
    with Progress(t_frames, "neural", enabled=None if progress else False) as bar:
        bar.update(t_frames - n_todo + rendered)
        for c in todo:
            a, b = c * chunk, min(t_frames, (c + 1) * chunk)
            frames = np.empty((b - a, s, s, 3), np.uint8)  # (n, S, S, 3)
            for k in range(a, b):
                if k == a and c == todo[0]:
                    frames[0] = first
                    continue
                t0 = time.perf_counter()
                frames[k - a] = renderer.frame(driving(k))
                t_render += time.perf_counter() - t0
                rendered += 1
                bar.update(1)
            _save_chunk(_chunk_path(work, c), frames)
    return t_render, rendered


def _video_frames(work: Path, n_chunks: int, chunk: int, t_frames: int, s: int, out_size: int):
    """Yield every (out_size, out_size, 3) frame from the saved chunks, in order."""
    from .image_io import resize

    for c in range(n_chunks):
        n = min(chunk, t_frames - c * chunk)
        a = _load_chunk(_chunk_path(work, c), n, s)
        if a is None:
            raise InputError(f"chunk {c} in {work} vanished or changed while muxing")
        for f in a:
            yield f if out_size == s else resize(np.asarray(f), (out_size, out_size))


def _remove_work_dir(work: Path, n_chunks: int) -> None:
    """Delete the chunks and manifest, then the folder unless something else is in there."""
    for c in range(n_chunks):
        _chunk_path(work, c).unlink(missing_ok=True)
    (work / MANIFEST).unlink(missing_ok=True)
    try:
        work.rmdir()
    except OSError:
        pass  # something else is in there: leave it


def render_neural(anim: FaceAnimation, portrait, out_path, checkpoint, audio=None, chunk: int = 64,
                  work_dir=None, resume: bool = False, device: str = "cpu", view: str = "front",
                  crop: str = "auto", out_size: int | None = None, keep_work: bool = False,
                  progress: bool = True, log=None) -> dict:
    """Write an MP4 of ``portrait`` (path or image) animated by ``anim`` through the checkpoint's network.

    Frames are rendered in chunks of ``chunk`` into ``work_dir`` (default: ``<out>.neural-work``); with
    ``resume`` the finished chunks there are reused. The video (``out_size`` square, default the network's
    size) with ``audio`` muxed in is written whole or not at all; the work dir is removed after success unless
    ``keep_work``. ``log`` receives one-line notes (measured speed, resume state). Returns a summary dict.
    """
    from ...fileio import sha256_file
    from ..preview import HeadRenderer, _audio_array, check_view
    from ..video import write_video

    log = log or (lambda msg: None)
    out_path = _check_request(anim, out_path, chunk)
    view = check_view(view)
    au = _audio_array(audio)  # a bad audio file fails before the slow part
    notes: list[str] = []
    model = load_checkpoint(checkpoint, device, notes)
    cfg = model.cfg
    s = cfg.image_size
    out_size = s if out_size is None else int(out_size)
    if out_size % 2 or not 16 <= out_size <= 2048:
        raise InputError(f"output size must be an even number of pixels in [16, 2048], got {out_size}")
    src = source_image(portrait, s, crop, notes)
    for n in notes:
        log(f"warning: {n}")
    t_frames = anim.num_frames
    n_chunks = (t_frames + chunk - 1) // chunk
    manifest = {"format": 1, "checkpoint_sha256": sha256_file(checkpoint), "config": cfg.to_dict(),
                "source_sha256": hashlib.sha256(src.tobytes()).hexdigest(),
                "animation_sha256": _anim_digest(anim), "frames": t_frames, "chunk": chunk, "view": view}
    work = Path(work_dir) if work_dir is not None else out_path.with_name(out_path.name + ".neural-work")
    _open_work_dir(work, manifest, resume)

    driver = HeadRenderer(view, s)
    hr, ht = anim.head_rotation, anim.head_translation

    def driving(k: int) -> np.ndarray:
        """(S, S, 3) proxy head frame k: the network's driving image."""
        return driver.frame(anim.weights[k], hr[k], None if ht is None else ht[k])

    renderer = NeuralRenderer(model, src, driving(0))  # motion is transferred relative to driving frame 0
    done = [c for c in range(n_chunks) if _load_chunk(_chunk_path(work, c), min(chunk, t_frames - c * chunk), s)
            is not None]
    if resume:
        log(f"resuming {work}: {len(done)} of {n_chunks} chunks already rendered")
    todo = [c for c in range(n_chunks) if c not in done]
    t_render, rendered = _render_chunks(renderer, driving, work, todo, chunk, t_frames, s, progress, log)
    info = write_video(out_path, _video_frames(work, n_chunks, chunk, t_frames, s, out_size), anim.fps,
                       (out_size, out_size), audio=au, num_frames=t_frames)
    if not keep_work:
        _remove_work_dir(work, n_chunks)
    info.update(backend="neural", size=out_size, network_size=s, chunks=n_chunks, chunks_reused=len(done),
                frames_rendered=rendered, seconds_per_frame=(t_render / rendered) if rendered else None,
                device=str(renderer.device), work_dir=str(work), notes=notes)
    return info


def _save_chunk(path: Path, frames: np.ndarray) -> None:
    """One finished chunk as .npy, atomically (a chunk file exists only when complete)."""
    from ...fileio import atomic_path
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, frames, allow_pickle=False)


def bench_neural(config: str = "tiny", frames: int = 3, device: str = "cpu") -> dict:
    """Seconds per frame of a randomly initialised network ('tiny' or 'default' sizes) on random images.

    Per frame = pose/expression of the driving frame + motion field + generator (the source pass is once
    per video and reported apart). Untrained weights: this measures speed only.
    """
    torch = _torch()
    from .fv2v import FV2VConfig, build_model, count_parameters, tiny_config
    cfg = {"tiny": tiny_config, "default": FV2VConfig}.get(config)
    if cfg is None:
        raise InputError(f"unknown bench config {config!r}; use tiny or default")
    cfg = cfg()
    dev = check_device(device)
    torch.manual_seed(0)
    model = build_model(cfg, dev)
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (frames + 2, cfg.image_size, cfg.image_size, 3), dtype=np.uint8)
    t0 = time.perf_counter()
    r = NeuralRenderer(model, imgs[0], imgs[1])
    setup = time.perf_counter() - t0
    r.frame(imgs[1])  # warm-up (allocator, kernels)
    t0 = time.perf_counter()
    for k in range(frames):
        r.frame(imgs[2 + k])
    per = (time.perf_counter() - t0) / frames
    return {"backend": "neural", "config": config, "size": cfg.image_size, "parameters": count_parameters(model),
            "device": str(dev), "threads": torch.get_num_threads(), "source_seconds": setup,
            "seconds_per_frame": per, "frames": frames}


if __name__ == "__main__":  # python -m dreamtalk.core.render.portrait.neural [tiny|default] [frames]
    print(json.dumps(bench_neural(*(sys.argv[1:2] or ["tiny"]), *[int(x) for x in sys.argv[2:3]]), indent=1))
