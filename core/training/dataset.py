"""Training data from a corpus directory (see notes/CORPUS_CONTRACT.md): features, motion, styles, batches.

Everything is loaded once into memory (a few hours at 30 fps is ~100 MB of features) and audio features are cached
in the run directory. Batches are drawn with a numpy Generator so a resumed run continues the same stream.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...rigs.arkit import ARKIT_NAMES, INDEX
from ..audio import features_numpy, load_audio
from ..errors import InputError
from ..fileio import atomic_path
from ..formats import read_npz
from ..models.config import EmoDiffConfig
from ..models.numpy_nn import motion_from_animation, window_slice

F32 = np.float32
STD_FLOOR = 0.02  # channels that barely move (e.g. tongueOut) must not blow up in normalised units


@dataclass
class Clip:
    """One training clip in memory."""

    id: str
    features: np.ndarray  # (T, A)
    motion: np.ndarray  # (T, 55) weights | head
    mouth: np.ndarray | None  # (T, 52) disentangled mouth track
    style_key: str | None
    emotion: str = "neutral"
    level: int = 0


@dataclass
class Corpus:
    """Clips of one split plus the style clips they refer to."""

    clips: list[Clip]
    styles: dict[str, np.ndarray] = field(default_factory=dict)  # key -> (L, 55)
    style_meta: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (emotion, level)

    def same_style(self) -> dict[str, list[int]]:
        """Clip indices per style key (cached)."""
        cache = self.__dict__.get("_same_style")
        if cache is None:
            cache = {}
            for i, c in enumerate(self.clips):
                if c.style_key:
                    cache.setdefault(c.style_key, []).append(i)
            self.__dict__["_same_style"] = cache
        return cache

    @property
    def frames(self) -> int:
        """Total frames."""
        return int(sum(len(c.motion) for c in self.clips))


def read_manifest(data_dir: str | os.PathLike) -> list[dict]:
    """All rows of clips.jsonl."""
    path = Path(data_dir) / "clips.jsonl"
    if not path.is_file():
        raise InputError(f"{data_dir}: no clips.jsonl (not a corpus directory)")
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                raise InputError(f"{path}: line {i} is not JSON") from None
    return rows


def _anim_arrays(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """(T, 55) motion and (T, 52) mouth track of an anim/<id>.npz, channels mapped by name."""
    with np.load(path, allow_pickle=False) as z:
        names = [str(n) for n in z["blendshape_names"].tolist()]
        if abs(float(z["fps"]) - 30.0) > 1e-6:
            raise InputError(f"{path.name}: anim fps {float(z['fps'])} (30 expected)")
        order = [names.index(n) for n in ARKIT_NAMES]
        w = z["weights"][:, order].astype(F32)
        head = z["head_rotation"].astype(F32) if "head_rotation" in z.files else np.zeros((len(w), 3), F32)
        mouth = z["mouth"][:, order].astype(F32) if "mouth" in z.files else None
    return np.concatenate([w, head], axis=1), mouth


def _style_key(rel: str) -> str:
    return Path(rel).stem


def load_corpus(data_dir: str | os.PathLike, split: str, cache_dir: str | os.PathLike | None = None,
                limit: int | None = None, progress=None) -> Corpus:
    """Load one split (clips with an ``anim``) with audio features computed or read from ``cache_dir``."""
    root = Path(data_dir)
    rows = [r for r in read_manifest(root) if r.get("split") == split and r.get("anim")]
    if limit:
        rows = rows[:limit]
    cache = {}
    cache_file = None
    if cache_dir is not None:
        key = hashlib.sha256(json.dumps([(r["id"], r.get("duration")) for r in rows]).encode()).hexdigest()[:16]
        cache_file = Path(cache_dir) / f"features_{split}_{key}.npz"
        if cache_file.is_file():
            with np.load(cache_file, allow_pickle=False) as z:
                cache = {k: z[k] for k in z.files}
    clips, styles, style_meta, fresh = [], {}, {}, {}
    for r in rows:
        motion, mouth = _anim_arrays(root / r["anim"])
        t = len(motion)
        feats = cache.get(r["id"])
        if feats is None or len(feats) != t:
            audio, _ = load_audio(root / r["audio"])
            feats = features_numpy(audio, num_frames_out=t)
            fresh[r["id"]] = feats
        skey = None
        if r.get("style"):
            skey = _style_key(r["style"])
            if skey not in styles:
                styles[skey] = motion_from_animation(read_npz(root / r["style"]))
                style_meta[skey] = (r.get("emotion", "neutral"), int(r.get("level", 0)))
        clips.append(Clip(r["id"], feats, motion, mouth, skey, r.get("emotion", "neutral"), int(r.get("level", 0))))
        if progress is not None:
            progress(1)
    if cache_file is not None and fresh:
        cache.update(fresh)
        with atomic_path(cache_file) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{c.id: c.features for c in clips})
    if not clips:
        raise InputError(f"{data_dir}: no '{split}' clips with animation")
    return Corpus(clips, styles, style_meta)


def load_train_val(data_dir: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                   limit: int | None = None) -> tuple[Corpus, Corpus, str]:
    """Train and validation corpora; without 'val' clips, the last tenth of train is held out (and said so)."""
    train = load_corpus(data_dir, "train", cache_dir, limit)
    try:
        return train, load_corpus(data_dir, "val", cache_dir, limit), "val split"
    except InputError:
        if len(train.clips) < 2:
            return train, train, "train split (too few clips to hold any out)"
        k = max(1, len(train.clips) // 10)
        return (Corpus(train.clips[:-k], train.styles, train.style_meta),
                Corpus(train.clips[-k:], train.styles, train.style_meta), f"last {k} train clips held out")


def motion_stats(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and floored std of (…, 55) motion over all frames."""
    allm = np.concatenate([c.motion for c in corpus.clips]).astype(np.float64)
    return allm.mean(0).astype(F32), np.maximum(allm.std(0), STD_FLOOR).astype(F32)


def _crop_or_tile(x: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    if len(x) >= length:
        s = int(rng.integers(0, len(x) - length + 1))
        return x[s:s + length]
    reps = -(-length // len(x))
    return np.concatenate([x] * reps)[:length]


def emodiff_batch(corpus: Corpus, cfg: EmoDiffConfig, batch: int, rng: np.random.Generator,
                  style_len: int | None = None, p_other_clip: float = 0.5) -> dict[str, np.ndarray]:
    """Random windows: raw target x0 (B,W,55), loss mask (B,W), audio (B,S,A), raw prefix (B,K,55) + mask,
    style clip (B,L,55) raw; ``style_len`` fixes L (else random in [60, style_max_frames]).

    The style reference is the (actor, emotion, level) style clip, or with ``p_other_clip`` another clip of the
    same cell (never the target itself): many more distinct references than style clips, same emotion.
    """
    w, k = cfg.window, cfg.prefix
    lengths = np.array([len(c.motion) for c in corpus.clips], np.float64)
    idx = rng.choice(len(corpus.clips), size=batch, p=lengths / lengths.sum())
    if style_len is None:
        style_len = int(rng.integers(min(60, cfg.style_max_frames), cfg.style_max_frames + 1))
    x0 = np.zeros((batch, w, cfg.motion_dim), F32)
    mask = np.zeros((batch, w), F32)
    audio = np.zeros((batch, cfg.seq_len, cfg.audio_dim), F32)
    prefix = np.zeros((batch, k, cfg.motion_dim), F32)
    pmask = np.zeros((batch, k), F32)
    style = np.zeros((batch, style_len, cfg.motion_dim), F32)
    for b, i in enumerate(idx):
        c = corpus.clips[i]
        t = len(c.motion)
        s = int(rng.integers(0, max(1, t - w // 2)))
        seg = c.motion[s:s + w]
        x0[b, :len(seg)] = seg
        x0[b, len(seg):] = seg[-1]  # plausible filler beyond the clip end (not in the loss)
        mask[b, :len(seg)] = 1
        audio[b] = window_slice(c.features, s, cfg)
        avail = min(k, s)
        u = rng.random()
        if avail and u > cfg.p_drop_prefix:
            keep = 1 if u < cfg.p_drop_prefix + 0.15 else avail  # sometimes only the initial state (one frame)
            prefix[b, k - keep:] = c.motion[s - keep:s]
            pmask[b, k - keep:] = 1
        src = corpus.styles.get(c.style_key) if c.style_key else None
        mates = [j for j in corpus.same_style().get(c.style_key, []) if j != i] if c.style_key else []
        if mates and (src is None or rng.random() < p_other_clip):
            src = corpus.clips[mates[int(rng.integers(len(mates)))]].motion
        style[b] = _crop_or_tile(src if src is not None else c.motion, style_len, rng)
    return {"x0": x0, "mask": mask, "audio": audio, "prefix": prefix, "prefix_mask": pmask, "style": style}


def degrade_face(face: np.ndarray, mouth_index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stand-in for EmoDiff's output when training lips: mouth channels blurred, shifted, rescaled and noised."""
    out = face.copy()
    m = out[:, mouth_index]
    width = int(rng.integers(1, 8))
    if width > 1:
        ker = np.ones(width) / width
        pad = np.pad(m, ((width // 2, width - 1 - width // 2), (0, 0)), mode="edge")
        m = np.stack([np.convolve(pad[:, j], ker, mode="valid") for j in range(m.shape[1])], axis=1)
    shift = int(rng.integers(-2, 3))
    if shift:
        m = np.roll(m, shift, axis=0)
    m = m * rng.uniform(0.6, 1.3) + rng.normal(0, 0.03, m.shape)
    out[:, mouth_index] = m
    out += rng.normal(0, 0.01, out.shape)
    return np.clip(out, 0, 1).astype(F32)


def lips_batch(corpus: Corpus, styles: dict[str, np.ndarray], mouth_names, length: int, batch: int,
               rng: np.random.Generator, target: str = "weights") -> dict[str, np.ndarray]:
    """Random segments: audio (B,L,A), degraded face (B,L,52), style vectors (B,Ds), target mouth (B,L,M), mask."""
    mouth_index = np.array([INDEX[n] for n in mouth_names])
    lengths = np.array([len(c.motion) for c in corpus.clips], np.float64)
    idx = rng.choice(len(corpus.clips), size=batch, p=lengths / lengths.sum())
    any_style = next(iter(styles.values()))
    a_dim = corpus.clips[0].features.shape[1]
    audio = np.zeros((batch, length, a_dim), F32)
    face = np.zeros((batch, length, 52), F32)
    tgt = np.zeros((batch, length, len(mouth_names)), F32)
    mask = np.zeros((batch, length), F32)
    sty = np.zeros((batch, any_style.shape[0]), F32)
    for b, i in enumerate(idx):
        c = corpus.clips[i]
        t = len(c.motion)
        s = int(rng.integers(0, max(1, t - length // 2)))
        n = min(length, t - s)
        audio[b] = window_slice(c.features, s, EmoDiffConfig(prefix=0, window=length, lookahead=0))
        full = c.motion[s:s + n, :52]
        face[b, :n] = degrade_face(full, mouth_index, rng)
        src = c.mouth[s:s + n] if (target == "mouth" and c.mouth is not None) else full
        tgt[b, :n] = src[:, mouth_index]
        mask[b, :n] = 1
        sty[b] = styles.get(c.style_key, any_style) if c.style_key else any_style
    return {"audio": audio, "face": face, "style": sty, "target": tgt, "mask": mask}
