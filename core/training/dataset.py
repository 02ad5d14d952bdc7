"""Training data from a corpus directory (see docs/corpus_format.md): features, motion, styles, batches.

Everything is loaded once into memory (a few hours at 30 fps is ~100 MB of features) and audio features are cached
in the run directory. Batches are drawn with a numpy Generator so a resumed run continues the same stream.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...rigs.arkit import ARKIT_NAMES, EMOTION_MOUTH, INDEX, MOUTH_SET
from ..audio import N_LEVELS, N_MELS, TELEPHONE_BAND, features_numpy, frame_columns, load_audio
from ..errors import InputError
from ..emotions import EMOTIONS
from ..fileio import atomic_path
from ..formats import read_npz
from ..lips.phone_scores import phone_posteriors
from ..lips.phones import PHONES, read_alignment
from ..models.config import EmoDiffConfig
from ..models.layers import energy_column, motion_from_animation, window_slice
from ..prosody import prosody_features

EMOTION_INDEX = {e: i for i, e in enumerate(EMOTIONS)}  # a clip's emotion as a number in batches

F32 = np.float32

PAD_MAX_S = 1.2  # longest silence pad (s) at each end, emodiff_batch's p_pad
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
    emotion_layer: np.ndarray | None = None  # (T, 52) the emotion layer alone (lips training only)
    phone_ids: np.ndarray | None = None  # (T,) int16 index into PHONE_CLASSES per frame, -1 unknown
    voice: str = ""  # e.g. "flite:slt" (synthetic corpus), "" when unknown
    band_features: np.ndarray | None = None  # (T, 82) the features of the audio through a telephone band-pass
    degraded_states: np.ndarray | None = None  # (T, STATE_DIM) speech states of the audio through a random channel


PHONE_CLASSES: tuple[str, ...] = tuple(sorted(PHONES))  # 39 ARPAbet phones + SIL (lips' auxiliary head)


def frame_phone_ids(phones, num_frames: int, fps: float = 30.0) -> np.ndarray:
    """(T,) int16 class of the phone under each frame centre (k + 0.5) / fps; -1 where none."""
    ids = np.full(num_frames, -1, np.int16)
    lut = {p: i for i, p in enumerate(PHONE_CLASSES)}
    for ph in phones:
        a = max(0, int(np.ceil(ph.start * fps - 0.5)))
        b = min(num_frames, int(np.ceil(ph.end * fps - 0.5)))
        if b > a and ph.phone in lut:
            ids[a:b] = lut[ph.phone]
    return ids


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


def _anim_arrays(path: Path, layer: bool = False) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(T, 55) motion, (T, 52) mouth track and (with ``layer``) (T, 52) emotion layer of an anim/<id>.npz."""
    with np.load(path, allow_pickle=False) as z:
        names = [str(n) for n in z["blendshape_names"].tolist()]
        if abs(float(z["fps"]) - 30.0) > 1e-6:
            raise InputError(f"{path.name}: anim fps {float(z['fps'])} (30 expected)")
        order = [names.index(n) for n in ARKIT_NAMES]
        w = z["weights"][:, order].astype(F32)
        head = z["head_rotation"].astype(F32) if "head_rotation" in z.files else np.zeros((len(w), 3), F32)
        mouth = z["mouth"][:, order].astype(F32) if "mouth" in z.files else None
        emo = z["emotion"][:, order].astype(F32) if layer and "emotion" in z.files else None
    return np.concatenate([w, head], axis=1), mouth, emo


def _style_key(rel: str) -> str:
    return Path(rel).stem


def load_corpus(data_dir: str | os.PathLike, split: str, cache_dir: str | os.PathLike | None = None,
                limit: int | None = None, progress=None, extras: bool = False, subframes: bool = False,
                style_prefix: str = "", phone_scores: bool = False, prosody: bool = False,
                band_view: bool = False, speech_states: bool = False, mel: bool = True,
                levels: bool = False, speech_layer: int | None = None, degraded_states: bool = False,
                degraded_channels: str = "all") -> Corpus:
    """Load one split (clips with an ``anim``) with audio features computed or read from ``cache_dir``.

    ``extras`` also loads each clip's emotion layer and per-frame phone classes (lips training);
    ``subframes`` computes the sub-frame audio features (core/audio.py) instead of the frame features;
    ``style_prefix`` keeps the style keys of several corpora apart; ``phone_scores`` appends the acoustic
    model's phone posteriors (core/lips/phone_scores.py), computed on all cores and cached apart; ``prosody`` then
    appends pitch, voicing and loudness (core/prosody.py), cached the same way; ``band_view`` also keeps each
    clip's features through a telephone band-pass (Clip.band_features), cached the same way; ``speech_states``
    appends Moonshine's encoder states (core/lips/speech_states.py), cached the same way (float16); ``mel=False``
    leaves the frame features out of Clip.features, but for their last N_LEVELS columns with ``levels``.
    ``speech_layer`` reads the states after that encoder layer; ``degraded_states`` also keeps the states of each
    clip's audio through a random channel of the group ``degraded_channels`` (Clip.degraded_states;
    augment.random_channel seeded by the clip id).
    """
    root = Path(data_dir)
    rows = [r for r in read_manifest(root) if r.get("split") == split and r.get("anim")]
    if limit:
        rows = rows[:limit]
    cache = {}
    cache_file = None
    if cache_dir is not None:
        key = _rows_key(rows)
        kind = "subframes_" if subframes else ""
        cache_file = Path(cache_dir) / f"features_{kind}{split}_{key}.npz"
        if cache_file.is_file():
            with np.load(cache_file, allow_pickle=False) as z:
                cache = {k: z[k] for k in z.files}
    posteriors = _columns_cached("phone_scores", root, rows, cache_dir, split) if phone_scores else {}
    pros = _columns_cached("prosody", root, rows, cache_dir, split) if prosody else {}
    band = _columns_cached("band", root, rows, cache_dir, split) if band_view else {}
    skind = "" if speech_layer is None else f"_l{int(speech_layer)}"
    states = _columns_cached("speech_states" + skind, root, rows, cache_dir, split) if speech_states else {}
    dkind = "degraded_states" + ("" if degraded_channels == "all" else f"_{degraded_channels}") + skind
    degraded = _columns_cached(dkind, root, rows, cache_dir, split) if degraded_states else {}
    clips, styles, style_meta, fresh = [], {}, {}, {}
    for r in rows:
        if r.get("emotion", "neutral") not in EMOTION_INDEX:
            raise InputError(f"{root / 'clips.jsonl'}: clip {r['id']} has emotion {r['emotion']!r}, "
                             f"not one of {', '.join(EMOTIONS)}")
        motion, mouth, layer = _anim_arrays(root / r["anim"], extras)
        t = len(motion)
        pids = frame_phone_ids(read_alignment(root / r["phones"]), t) if extras and r.get("phones") else None
        feats = cache.get(r["id"])
        if feats is None or len(feats) != t:
            audio, _ = load_audio(root / r["audio"])
            feats = features_numpy(audio, num_frames_out=t, subframes=subframes)
            fresh[r["id"]] = feats
        skey = None
        if r.get("style"):
            skey = style_prefix + _style_key(r["style"])
            if skey not in styles:
                styles[skey] = motion_from_animation(read_npz(root / r["style"]))
                style_meta[skey] = (r.get("emotion", "neutral"), int(r.get("level", 0)))
        feats = np.ascontiguousarray(frame_columns(feats, mel, levels))  # a column view would pin the cache array
        if phone_scores:
            feats = np.concatenate([feats, posteriors[r["id"]]], axis=1)
        if prosody:
            feats = np.concatenate([feats, pros[r["id"]]], axis=1)
        if speech_states:
            feats = np.concatenate([feats, states[r["id"]].astype(F32)], axis=1)
        clips.append(Clip(r["id"], feats, motion, mouth, skey, r.get("emotion", "neutral"), int(r.get("level", 0)),
                          layer, pids, str(r.get("voice", "")), band.get(r["id"]), degraded.get(r["id"])))
        if progress is not None:
            progress(1)
    if cache_file is not None and fresh:
        cache.update(fresh)  # the frame features themselves, whichever columns the clips kept
        with atomic_path(cache_file) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **{c.id: cache[c.id] for c in clips})
    if not clips:
        raise InputError(f"{data_dir}: no '{split}' clips with animation")
    return Corpus(clips, styles, style_meta)


def _rows_key(rows: list[dict]) -> str:
    """Cache key of a split's clip list (ids and durations)."""
    return hashlib.sha256(json.dumps([(r["id"], r.get("duration")) for r in rows]).encode()).hexdigest()[:16]


# "speech_states[_l<k>]" or "degraded_states[_<channel group>][_l<k>]"
STATES_KIND = re.compile(r"^(?P<base>speech_states|degraded_states)(?:_(?P<group>[a-z]+))?(?:_l(?P<layer>\d+))?$")


def _columns_job(args: tuple[str, str, int]) -> np.ndarray:
    kind, path, t = args
    audio, _ = load_audio(path)
    if kind == "band":
        return features_numpy(audio, num_frames_out=t, band=TELEPHONE_BAND)
    m = STATES_KIND.match(kind)
    if m:
        from ..lips.speech_states import speech_states
        layer = int(m["layer"]) if m["layer"] else None
        if m["base"] == "degraded_states":
            import zlib
            from ..data.augment import random_channel
            audio = random_channel(audio, 16000, zlib.crc32(Path(path).name.encode()), m["group"] or "all")[0]
        return speech_states(audio, t, threads=1, layer=layer).astype(np.float16)  # half the cache; far below spread
    return phone_posteriors(audio, t) if kind == "phone_scores" else prosody_features(audio, t)


def _columns_cached(kind: str, root: Path, rows: list[dict], cache_dir, split: str) -> dict[str, np.ndarray]:
    """(T, C) extra input columns per clip id (``kind`` "phone_scores", "prosody", "band", "speech_states[_l<k>]" or
    "degraded_states[_<group>][_l<k>]"), read
    from or added to ``cache_dir``; fresh ones use every core."""
    cache, cache_file = {}, None
    if cache_dir is not None:
        key = _rows_key(rows)
        cache_file = Path(cache_dir) / f"{kind}_{split}_{key}.npz"
        if cache_file.is_file():
            with np.load(cache_file, allow_pickle=False) as z:
                cache = {k: z[k] for k in z.files}
    lengths = {r["id"]: _anim_length(root / r["anim"]) for r in rows}
    todo = [r for r in rows if r["id"] not in cache or len(cache[r["id"]]) != lengths[r["id"]]]
    if todo:
        jobs = [(kind, str(root / r["audio"]), lengths[r["id"]]) for r in todo]
        workers = max(1, min(len(jobs) // 8, os.cpu_count() or 1))
        if workers > 1:
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(workers) as ex:
                out = list(ex.map(_columns_job, jobs, chunksize=16))
        else:
            out = [_columns_job(j) for j in jobs]
        cache.update({r["id"]: o for r, o in zip(todo, out)})
        if cache_file is not None:
            with atomic_path(cache_file) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, **cache)
    return cache


def _anim_length(path: Path) -> int:
    with np.load(path, allow_pickle=False) as z:
        return int(z["weights"].shape[0])


def merge_corpora(a: Corpus, b: Corpus) -> Corpus:
    """One corpus with the clips and styles of both."""
    return Corpus(a.clips + b.clips, {**a.styles, **b.styles}, {**a.style_meta, **b.style_meta})


def sampling_weights(corpus: Corpus, voice_weights: dict[str, float] | None = None) -> np.ndarray:
    """(N,) probability of drawing each clip: its length times the weight of its voice, matched by full voice
    name ("flite:slt") or engine ("espeak-ng"); unlisted voices weigh 1."""
    vw = voice_weights or {}
    for k, v in vw.items():
        if not (isinstance(v, (int, float)) and v >= 0):
            raise InputError(f"voice weight for {k!r} must be a number >= 0, got {v!r}")
    w = np.array([len(c.motion) * float(vw.get(c.voice, vw.get(c.voice.split(":")[0], 1.0)))
                  for c in corpus.clips], np.float64)
    if w.sum() <= 0:
        raise InputError("voice weights leave no clip to train on")
    return w / w.sum()


def load_train_val(data_dir: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                   limit: int | None = None, extras: bool = False,
                   subframes: bool = False, phone_scores: bool = False,
                   prosody: bool = False, band_view: bool = False, speech_states: bool = False,
                   mel: bool = True, levels: bool = False, **more) -> tuple[Corpus, Corpus, str]:
    """Train and validation corpora; without 'val' clips, the last tenth of train is held out (and said so).
    ``more``: further :func:`load_corpus` options."""
    kw = dict(extras=extras, subframes=subframes, phone_scores=phone_scores, prosody=prosody, band_view=band_view,
              speech_states=speech_states, mel=mel, levels=levels, **more)
    train = load_corpus(data_dir, "train", cache_dir, limit, **kw)
    try:
        return train, load_corpus(data_dir, "val", cache_dir, limit, **kw), "val split"
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


# Channels a silence pad holds at the clip's edge frame: speech articulation and its emotion-bearing mouth.
_ARTICULATION = np.array([INDEX[n] for n in MOUTH_SET + EMOTION_MOUTH], np.int64)


def pad_silence(features: np.ndarray, motion: np.ndarray, lead: int, trail: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``lead`` and ``trail`` (each <= T) frames of silence around a clip: (T', A) features, (T', 55) motion.

    Real recordings start and end with up to a second of silence; the corpus's TTS clips with 0.05-0.3 s, so a
    model that never saw a long leading silence read it as a pause after a phrase and blinked. The silent frames
    are drawn from the clip's quietest tenth (features are normalised per utterance, so that is the clip's own
    silence, with its own spread); the motion is the clip's edge reflected (head, brows and eyes keep their
    texture and continue without a step) with the mouth held at the edge frame, since nothing is said.
    """
    e = energy_column(features.shape[1])
    quiet = np.argsort(features[:, e])[:max(1, len(features) // 10)]
    mu, sd = features[quiet].mean(axis=0), features[quiet].std(axis=0)  # (A,)
    ml = motion[:lead][::-1].copy()  # frame -1 mirrors frame 0, -2 frame 1, ...
    mt = motion[len(motion) - trail:][::-1].copy()
    ml[:, _ARTICULATION] = motion[0, _ARTICULATION]
    mt[:, _ARTICULATION] = motion[-1, _ARTICULATION]
    fl, ft = (mu + sd * rng.standard_normal((n, features.shape[1])) for n in (lead, trail))
    return (np.concatenate([fl, features, ft]).astype(F32), np.concatenate([ml, motion, mt]).astype(F32))


def emodiff_batch(corpus: Corpus, cfg: EmoDiffConfig, batch: int, rng: np.random.Generator,
                  style_len: int | None = None, p_other_clip: float = 0.5,
                  p_pad: float = 0.0) -> dict[str, np.ndarray]:
    """Random windows: raw target x0 (B,W,55), loss mask (B,W), audio (B,S,A), raw prefix (B,K,55) + mask,
    style clip (B,L,55) raw; ``style_len`` fixes L (else random in [60, style_max_frames]).

    The style reference is the (actor, emotion, level) style clip, or with ``p_other_clip`` another clip of the
    same cell (never the target itself): many more distinct references than style clips, same emotion. With
    ``p_pad`` a clip is first given 0-``PAD_MAX_S`` s of silence before and after (:func:`pad_silence`).
    """
    w, k = cfg.window, cfg.prefix
    idx = rng.choice(len(corpus.clips), size=batch, p=sampling_weights(corpus))
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
        feats, motion = c.features, c.motion
        if p_pad > 0 and rng.random() < p_pad:
            most = min(int(PAD_MAX_S * 30), len(motion))
            feats, motion = pad_silence(feats, motion, int(rng.integers(0, most + 1)),
                                        int(rng.integers(0, most + 1)), rng)
        t = len(motion)
        s = int(rng.integers(0, max(1, t - w // 2)))
        seg = motion[s:s + w]
        x0[b, :len(seg)] = seg
        x0[b, len(seg):] = seg[-1]  # plausible filler beyond the clip end (not in the loss)
        mask[b, :len(seg)] = 1
        audio[b] = window_slice(feats, s, cfg)
        avail = min(k, s)
        u = rng.random()
        if avail and u > cfg.p_drop_prefix:
            keep = 1 if u < cfg.p_drop_prefix + 0.15 else avail  # sometimes only the initial state (one frame)
            prefix[b, k - keep:] = motion[s - keep:s]
            pmask[b, k - keep:] = 1
        src = corpus.styles.get(c.style_key) if c.style_key else None
        mates = [j for j in corpus.same_style().get(c.style_key, []) if j != i] if c.style_key else []
        if mates and (src is None or rng.random() < p_other_clip):
            src = corpus.clips[mates[int(rng.integers(len(mates)))]].motion
        style[b] = _crop_or_tile(src if src is not None else c.motion, style_len, rng)
    emotion = np.array([EMOTION_INDEX[corpus.clips[i].emotion] for i in idx], np.int64)  # (B,)
    return {"x0": x0, "mask": mask, "audio": audio, "prefix": prefix, "prefix_mask": pmask, "style": style,
            "emotion": emotion}


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


def augment_features(feats: np.ndarray, rng: np.random.Generator, n_extra: int = 0) -> np.ndarray:
    """Speaker/channel augmentation of (L, A) features: mel-axis warp (vocal tract length), band mask, noise.
    The last ``n_extra`` columns (phone posteriors, speech states) are left as they are."""
    out = feats.copy()
    n = len(out)
    n_mel = out.shape[1] - N_LEVELS - n_extra
    mel = out[:, :n_mel].reshape(n, -1, N_MELS)  # (L, 1 or SUBFRAMES, 80): the same warp for every sub-point
    alpha = rng.uniform(0.88, 1.14)  # formants scale with vocal tract length; 14 voices cover few lengths
    src = np.clip(np.arange(N_MELS) * alpha, 0, N_MELS - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, N_MELS - 1)
    fr = (src - i0)[None, :]
    warped = mel[..., i0] * (1 - fr) + mel[..., i1] * fr
    warped += mel.mean(0) - warped.mean(0)  # keep the per-band centring the front end gave
    if rng.random() < 0.5:
        w = int(rng.integers(1, 9))
        a = int(rng.integers(0, N_MELS - w))
        warped[..., a:a + w] = 0.0
    out[:, :n_mel] = (warped + rng.normal(0, 0.05, warped.shape)).reshape(n, -1)
    return out.astype(F32)


def lips_batch(corpus: Corpus, styles: dict[str, np.ndarray], mouth_names, length: int, batch: int,
               rng: np.random.Generator, target: str = "weights", p_swap: float = 0.0,
               p_feature_aug: float = 0.0, p_clip: np.ndarray | None = None,
               n_extra: int = 0, p_drop_extra: float = 0.0, p_band: float = 0.0,
               p_degraded: float = 0.0, clean_copy: bool = False) -> dict[str, np.ndarray]:
    """Random segments: audio (B,L,A), degraded face (B,L,52), style vectors (B,Ds), target mouth (B,L,M), mask,
    and phone classes (B,L) (-1 where unknown).

    With ``p_swap`` a segment's emotion is replaced by another style's: the clip's own mouth track is recombined
    with the emotion layer of a clip of that style (the corpus' own rule), so the network cannot tie an emotion
    to the voice quality of the clips that carried it (real speech in an angry style must still close the lips).
    ``p_feature_aug`` applies :func:`augment_features`; ``p_clip`` (N,) draws clips with these probabilities
    (:func:`sampling_weights`) instead of by length. The last ``n_extra`` feature columns are phone posteriors or
    speech states, not mel features; with ``p_drop_extra`` (posteriors) a segment gets a flat distribution there
    instead (no evidence), so the network learns to work without them and to weigh them, not to lean on them.
    With ``p_band`` a segment hears its clip through a telephone band-pass (Clip.band_features), so a missing
    high band is not read as a closed mouth. With ``p_degraded`` a segment's speech states (the last ``n_extra``
    columns) are those of its audio through a random channel (Clip.degraded_states); ``clean_copy`` then also
    returns every segment's clean audio columns as "audio_clean" (B,L,A), for a teacher that hears the clean take.
    """
    from ..data.face import combine_arrays, seal_from_mouth
    from ..lips.mouth import lip_gap

    mouth_index = np.array([INDEX[n] for n in mouth_names])
    idx = rng.choice(len(corpus.clips), size=batch, p=sampling_weights(corpus) if p_clip is None else p_clip)
    any_style = next(iter(styles.values()))
    a_dim = corpus.clips[0].features.shape[1]
    audio = np.zeros((batch, length, a_dim), F32)
    clean = np.zeros((batch, length, a_dim), F32) if clean_copy else None
    win = EmoDiffConfig(prefix=0, window=length, lookahead=0)  # a plain window of ``length`` frames
    face = np.zeros((batch, length, 52), F32)
    tgt = np.zeros((batch, length, len(mouth_names)), F32)
    mask = np.zeros((batch, length), F32)
    phon = np.full((batch, length), -1, np.int64)
    sty = np.zeros((batch, any_style.shape[0]), F32)
    swap_keys = [k for k, v in corpus.same_style().items() if k in styles and v] if p_swap > 0 else []
    for b, i in enumerate(idx):
        c = corpus.clips[i]
        t = len(c.motion)
        s = int(rng.integers(0, max(1, t - length // 2)))
        n = min(length, t - s)
        feats = c.features
        if clean is not None:
            clean[b] = window_slice(feats, s, win)
        if p_band > 0 and c.band_features is not None and rng.random() < p_band:
            feats = c.band_features if not n_extra else np.concatenate([c.band_features, feats[:, -n_extra:]], 1)
        if p_degraded > 0 and c.degraded_states is not None and n_extra and rng.random() < p_degraded:
            feats = np.concatenate([feats[:, :-n_extra], c.degraded_states.astype(F32)], 1)
        audio[b] = window_slice(feats, s, win)
        if p_feature_aug > 0 and rng.random() < p_feature_aug:
            audio[b] = augment_features(audio[b], rng, n_extra)
        if n_extra and p_drop_extra > 0 and rng.random() < p_drop_extra:
            audio[b, :, -n_extra:] = 1.0 / n_extra
        full = c.motion[s:s + n, :52]
        key = c.style_key
        if swap_keys and c.mouth is not None and rng.random() < p_swap:
            key = swap_keys[int(rng.integers(len(swap_keys)))]
            mates = corpus.same_style()[key]
            other = corpus.clips[mates[int(rng.integers(len(mates)))]]
            if other.emotion_layer is not None:
                layer = _crop_or_tile(other.emotion_layer, n, rng)
                m = c.mouth[s:s + n]
                full = combine_arrays(m, seal_from_mouth(m), lip_gap(m), layer)
            else:
                key = c.style_key
        face[b, :n] = degrade_face(full, mouth_index, rng)
        src = c.mouth[s:s + n] if (target == "mouth" and c.mouth is not None) else full
        tgt[b, :n] = src[:, mouth_index]
        mask[b, :n] = 1
        if c.phone_ids is not None:
            phon[b, :n] = c.phone_ids[s:s + n]
        sty[b] = styles.get(key, any_style) if key else any_style
    out = {"audio": audio, "face": face, "style": sty, "target": tgt, "mask": mask, "phones": phon}
    if clean is not None:
        out["audio_clean"] = clean
    return out
