"""Readers and writers for FaceAnimation: JSON, Live Link Face CSV and NPZ (format from the suffix)."""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from ..rigs.arkit import ARKIT_NAMES, LLF_BLENDSHAPE_ORDER, LLF_COLUMNS, LLF_POSE_COLUMNS, normalize_name, reorder
from .animation import FaceAnimation
from .errors import InputError
from .fileio import atomic_path, atomic_write_text

JSON_FORMAT = "dreamtalk.face-animation"
JSON_VERSION = 1
MAX_INPUT_BYTES = 2 << 30  # refuse inputs over 2 GiB rather than exhausting memory
READ_SUFFIXES = (".json", ".csv", ".npz")
WRITE_SUFFIXES = (".json", ".csv", ".npz")
_TIMECODE = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[:;.](\d+)(?:\.(\d+))?\s*$")
_COMMON_FPS = (24.0, 25.0, 30.0, 48.0, 50.0, 60.0, 120.0)


def _check_input(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an animation file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: file is empty")
    if size > MAX_INPUT_BYTES:
        raise InputError(f"{path}: file is {size / 2**30:.1f} GiB, larger than the 2 GiB limit")


def read_animation(path: str | os.PathLike, fps: float | None = None) -> FaceAnimation:
    """Read a FaceAnimation from .json, .csv (Live Link Face) or .npz; ``fps`` overrides CSV detection."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise InputError(f"{path}: unsupported animation format {suffix or '(no suffix)'}; "
                         f"use one of {', '.join(READ_SUFFIXES)}")
    _check_input(path)
    try:
        if suffix == ".json":
            return read_json(path)
        if suffix == ".csv":
            return read_livelink_csv(path, fps=fps)
        return read_npz(path)
    except InputError as e:
        msg = str(e)
        raise InputError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


def write_animation(anim: FaceAnimation, path: str | os.PathLike) -> Path:
    """Write ``anim`` atomically in the format given by the suffix of ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        write_json(anim, path)
    elif suffix == ".csv":
        write_livelink_csv(anim, path)
    elif suffix == ".npz":
        write_npz(anim, path)
    else:
        raise InputError(f"{path}: unsupported output format {suffix or '(no suffix)'}; "
                         f"use one of {', '.join(WRITE_SUFFIXES)}")
    return path


# ---- JSON -----------------------------------------------------------------------------------------
def to_json_dict(anim: FaceAnimation) -> dict[str, Any]:
    """The documented JSON shape as a dict."""
    d: dict[str, Any] = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "fps": anim.fps,
        "blendshape_names": list(ARKIT_NAMES),
        "weights": np.round(anim.weights.astype(np.float64), 7).tolist(),
        "head_rotation": np.round(anim.head_rotation.astype(np.float64), 7).tolist(),
        "head_rotation_convention": "radians [pitch, yaw, roll]; +pitch chin down, +yaw face to subject's left, "
                                    "+roll toward subject's right shoulder; R = Ry(yaw) Rx(pitch) Rz(roll)",
        "metadata": _jsonable(anim.metadata),
    }
    if anim.head_translation is not None:
        d["head_translation"] = np.round(anim.head_translation.astype(np.float64), 7).tolist()
    if anim.eye_gaze is not None:
        d["eye_gaze"] = np.round(anim.eye_gaze.astype(np.float64), 7).tolist()
    return d


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(anim: FaceAnimation, path: str | os.PathLike) -> None:
    """Write the documented JSON format."""
    atomic_write_text(path, json.dumps(to_json_dict(anim), separators=(",", ":")) + "\n")


def from_json_dict(d: Any) -> FaceAnimation:
    """Build a FaceAnimation from the documented JSON shape, validating every field."""
    if not isinstance(d, dict):
        raise InputError("JSON top level must be an object")
    if d.get("format") != JSON_FORMAT:
        raise InputError(f"not a {JSON_FORMAT} file (format is {d.get('format')!r})")
    if d.get("version") != JSON_VERSION:
        raise InputError(f"unsupported version {d.get('version')!r}; this reader knows version {JSON_VERSION}")
    for key in ("fps", "blendshape_names", "weights"):
        if key not in d:
            raise InputError(f"missing key {key!r}")
    names = d["blendshape_names"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InputError("blendshape_names must be a list of strings")
    if len(names) != 52:
        raise InputError(f"blendshape_names has {len(names)} names, expected 52")
    w = _float_array(d["weights"], "weights", len(names))
    hr = _float_array(d["head_rotation"], "head_rotation", 3) if d.get("head_rotation") is not None else None
    ht = _float_array(d["head_translation"], "head_translation", 3) if d.get("head_translation") is not None else None
    eg = _float_array(d["eye_gaze"], "eye_gaze", 6) if d.get("eye_gaze") is not None else None
    try:
        fps = float(d["fps"])
    except (TypeError, ValueError):
        raise InputError(f"fps must be a number, got {d['fps']!r}") from None
    meta = d.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InputError("metadata must be an object")
    return FaceAnimation(fps, w, hr, ht, eg, meta, tuple(names))


def _float_array(v: Any, what: str, width: int) -> np.ndarray:
    if not isinstance(v, list):
        raise InputError(f"{what} must be a list of frames")
    if v and any(not isinstance(row, list) or len(row) != width for row in v):
        bad = next(i for i, row in enumerate(v) if not isinstance(row, list) or len(row) != width)
        raise InputError(f"{what} frame {bad} does not have {width} values")
    try:
        a = np.array(v, dtype=np.float64).reshape(len(v), width)
    except (TypeError, ValueError):
        raise InputError(f"{what} contains values that are not numbers") from None
    if not np.all(np.isfinite(a)):
        bad = np.argwhere(~np.isfinite(a))[0]
        raise InputError(f"{what} value is not a number at frame {bad[0]}")
    return a


def read_json(path: str | os.PathLike) -> FaceAnimation:
    """Read the documented JSON format."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        d = json.loads(text, parse_constant=lambda c: float("nan"))
    except UnicodeDecodeError:
        raise InputError("not a text file (JSON expected)") from None
    except json.JSONDecodeError as e:
        raise InputError(f"corrupt JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    return from_json_dict(d)


# ---- Live Link Face CSV ---------------------------------------------------------------------------
def parse_timecode(tc: str, fps: float) -> float:
    """Seconds for an ``HH:MM:SS:FF[.fff]`` timecode (``.fff`` is a fraction of a frame)."""
    m = _TIMECODE.match(tc)
    if not m:
        raise InputError(f"bad timecode {tc!r} (expected HH:MM:SS:FF.mmm)")
    h, mi, s, ff = (int(m.group(i)) for i in range(1, 5))
    frac = float("0." + m.group(5)) if m.group(5) else 0.0
    return h * 3600 + mi * 60 + s + (ff + frac) / fps


def format_timecode(seconds: float, fps: float) -> str:
    """``HH:MM:SS:FF.mmm`` for a time in seconds (``mmm`` = thousandths of a frame)."""
    rate = max(1, int(round(fps)))
    total_frames = seconds * rate
    whole = int(math.floor(total_frames + 1e-9))
    sub = int(round((total_frames - whole) * 1000))
    if sub >= 1000:
        whole, sub = whole + 1, 0
    ff = whole % rate
    secs = whole // rate
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}:{ff:02d}.{sub:03d}"


def detect_timecode_fps(frames: list[int]) -> float:
    """Frame rate implied by the frame field of timecodes: the smallest common rate above its maximum."""
    top = max(frames) if frames else 0
    for rate in _COMMON_FPS:
        if top < rate and (top >= 29 or rate >= 30):
            return rate
    return 60.0


def read_livelink_csv(path: str | os.PathLike, fps: float | None = None) -> FaceAnimation:
    """Read a Live Link Face CSV (columns mapped by name; each row is one frame)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a text file (Live Link Face CSV expected)") from None
    if "\x00" in text:
        raise InputError("not a text file (Live Link Face CSV expected)")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise InputError(f"corrupt CSV: {e}") from None
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows:
        raise InputError("CSV has no header")
    header = [h.strip() for h in rows[0]]
    col = {normalize_name(h): i for i, h in enumerate(header)}
    if "timecode" not in col:
        raise InputError("CSV has no Timecode column: not a Live Link Face take")
    missing = [c for c in LLF_COLUMNS[:52] if normalize_name(c) not in col]
    if missing:
        raise InputError(f"CSV is missing {len(missing)} blendshape column(s): {', '.join(missing[:6])}"
                         + (" ..." if len(missing) > 6 else ""))
    data = rows[1:]
    if not data:
        raise InputError("CSV has a header but no frames")
    bs_idx = [col[normalize_name(c)] for c in LLF_COLUMNS[:52]]
    pose_idx = [col.get(normalize_name(c)) for c in LLF_POSE_COLUMNS]
    n = len(data)
    vals = np.zeros((n, 52), np.float64)
    pose = np.zeros((n, 9), np.float64)
    frame_field = []
    tcs = []
    for r, row in enumerate(data, start=2):
        if len(row) < len(header):
            raise InputError(f"CSV line {r} has {len(row)} fields, header has {len(header)}")
        tc = row[col["timecode"]].strip()
        m = _TIMECODE.match(tc)
        if not m:
            raise InputError(f"CSV line {r}: bad timecode {tc!r} (expected HH:MM:SS:FF.mmm)")
        frame_field.append(int(m.group(4)))
        tcs.append(tc)
        try:
            vals[r - 2] = [float(row[i]) for i in bs_idx]
            pose[r - 2] = [float(row[i]) if i is not None else 0.0 for i in pose_idx]
        except ValueError:
            bad = next(header[i] for i in bs_idx + [i for i in pose_idx if i is not None]
                       if not _is_float(row[i]))
            raise InputError(f"CSV line {r}: column {bad} is not a number") from None
    if fps:
        rate = float(fps)
    else:
        rate = detect_timecode_fps(frame_field)
        # iPhones run slightly off nominal (59.9 fps for "60"): over a long take the timecode span gives the
        # true rate, which keeps audio in sync. Short takes keep the nominal rate.
        if n >= 10 * rate:
            t = np.array([parse_timecode(tc, rate) for tc in tcs])
            t = np.where(t < t[0], t + 86400.0, t)  # a take that runs past midnight
            k = np.arange(n, dtype=np.float64)
            slope = float(np.polyfit(k, t, 1)[0])  # seconds per row, robust to sub-frame jitter
            if slope > 0:
                measured = 1.0 / slope
                if 0.0005 < abs(measured - rate) / rate < 0.01:
                    rate = round(measured, 4)
    if not np.all(np.isfinite(vals)) or not np.all(np.isfinite(pose)):
        r = int(np.argwhere(~np.isfinite(np.concatenate([vals, pose], 1)))[0][0]) + 2
        raise InputError(f"CSV line {r}: value is not a number")
    meta = {"source_format": "livelink_csv", "timecode_start": tcs[0],
            "timecode_rate": detect_timecode_fps(frame_field) if not fps else round(float(fps))}
    names = tuple(LLF_BLENDSHAPE_ORDER)
    head = pose[:, [1, 0, 2]]  # LLF yaw, pitch, roll -> our [pitch, yaw, roll]
    has_gaze = all(i is not None for i in pose_idx[3:])
    return FaceAnimation(rate, vals, head, None, pose[:, 3:] if has_gaze else None, meta, names)


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def livelink_values(weights: np.ndarray, head_rotation: np.ndarray, eye_gaze: np.ndarray | None = None) -> np.ndarray:
    """(T, 61) Live Link Face channels (LLF_COLUMNS order) from (T, 52) ARKit-order weights, (T, 3) [pitch, yaw,
    roll] and optional (T, 6) gaze: the one mapping the CSV writer and the UDP sender share."""
    w = reorder(weights, ARKIT_NAMES, LLF_BLENDSHAPE_ORDER)  # matched by name: JawRight before JawLeft
    hr = np.asarray(head_rotation)
    gaze = eye_gaze if eye_gaze is not None else np.zeros((hr.shape[0], 6), np.float32)
    return np.concatenate([w, hr[:, [1, 0, 2]], gaze], axis=1)  # LLF: yaw, pitch, roll


def write_livelink_csv(anim: FaceAnimation, path: str | os.PathLike) -> None:
    """Write a Live Link Face CSV: Timecode, BlendshapeCount=61, 61 named channels."""
    start = 0.0
    tc0 = anim.metadata.get("timecode_start")
    if isinstance(tc0, str):
        try:
            start = parse_timecode(tc0, round(anim.fps))
        except InputError:
            start = 0.0
    rows = livelink_values(anim.weights, anim.head_rotation, anim.eye_gaze)  # (T, 61)
    buf = io.StringIO()
    buf.write("Timecode,BlendshapeCount," + ",".join(LLF_COLUMNS) + "\n")
    rate = anim.fps
    for k in range(anim.num_frames):
        tc = format_timecode(start + k / rate, rate)
        vals = ",".join(f"{v:.10f}" for v in rows[k].astype(np.float64))
        buf.write(f"{tc},61,{vals}\n")
    atomic_write_text(path, buf.getvalue())


# ---- NPZ ------------------------------------------------------------------------------------------
def write_npz(anim: FaceAnimation, path: str | os.PathLike) -> None:
    """Write an NPZ with named arrays (no pickles)."""
    arrays = {
        "format": np.array(JSON_FORMAT),
        "version": np.array(JSON_VERSION),
        "fps": np.array(anim.fps, np.float64),
        "blendshape_names": np.array(ARKIT_NAMES),
        "weights": anim.weights.astype(np.float32),
        "head_rotation": anim.head_rotation.astype(np.float32),
        "metadata": np.array(json.dumps(_jsonable(anim.metadata))),
    }
    if anim.head_translation is not None:
        arrays["head_translation"] = anim.head_translation
    if anim.eye_gaze is not None:
        arrays["eye_gaze"] = anim.eye_gaze
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def read_npz(path: str | os.PathLike) -> FaceAnimation:
    """Read an NPZ written by :func:`write_npz` (or any NPZ with fps, blendshape_names and weights)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            keys = set(z.files)
            for key in ("fps", "blendshape_names", "weights"):
                if key not in keys:
                    raise InputError(f"NPZ has no {key!r} array")
            names = tuple(str(n) for n in z["blendshape_names"].tolist())
            if len(names) != 52:
                raise InputError(f"blendshape_names has {len(names)} names, expected 52")
            meta = json.loads(str(z["metadata"])) if "metadata" in keys else {}
            return FaceAnimation(float(z["fps"]), z["weights"], z["head_rotation"] if "head_rotation" in keys else None,
                                 z["head_translation"] if "head_translation" in keys else None,
                                 z["eye_gaze"] if "eye_gaze" in keys else None, meta, names)
    except InputError:
        raise
    except (ValueError, OSError, KeyError, EOFError) as e:
        raise InputError(f"corrupt NPZ: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    except Exception as e:  # zipfile.BadZipFile and friends
        raise InputError(f"corrupt NPZ: {type(e).__name__}") from None
