"""Synthetic talking faces: the emotion-free mouth track combined with the emotion layer the way faces combine.

Combination rules (why): emotional mouth shapes (smile, frown, stretch, dimple, press) add to the articulation,
but a lip seal wins over emotion, so P/B/M close even under surprise's jaw drop or disgust's raised upper lip:
during a seal the emotion's jawOpen is attenuated, its lip-opening shapes are scaled by the lip aperture and
mouthClose follows the total jaw. Lip pressing/rolling (anger) shows fully only while the mouth is near closed
(lips cannot press while the jaw is open for a vowel). A smile flattens lip rounding a little.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ...rigs.arkit import INDEX
from ..animation import FaceAnimation
from ..emotions import check_intensity, canonical_emotion
from ..errors import InputError
from ..lips.mouth import MouthTrack, mouth_track
from ..lips.phones import CONSONANTS, SILENCE, VOWELS, Phone, validate
from ..prosody import Prosody, analyze, from_phones, num_frames
from .emotion_layer import EmotionLayer, emotion_layer

_LIP_OPENERS = ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthFunnel")
_CLOSERS = ("mouthPressLeft", "mouthPressRight", "mouthRollLower", "mouthRollUpper")


def combine(mouth: MouthTrack, layer: EmotionLayer) -> np.ndarray:
    """(T, 52) float32 full face from the mouth track and the emotion layer (rules in the module docstring)."""
    return combine_arrays(mouth.weights, mouth.seal, mouth.openness, layer.weights)


def combine_arrays(mouth: np.ndarray, seal: np.ndarray, openness: np.ndarray, emotion: np.ndarray) -> np.ndarray:
    """:func:`combine` on plain arrays: mouth (T, 52), seal (T,), openness (T,), emotion layer (T, 52)."""
    m = np.asarray(mouth, np.float64)
    e = np.asarray(emotion, np.float64)
    seal = np.clip(np.asarray(seal, np.float64), 0.0, 1.0)
    w = m + e
    j = INDEX["jawOpen"]
    w[:, j] = m[:, j] + e[:, j] * (1.0 - 0.8 * seal)
    for n in _LIP_OPENERS:
        w[:, INDEX[n]] = m[:, INDEX[n]] + e[:, INDEX[n]] * (1.0 - seal)
    w[:, INDEX["mouthClose"]] = np.clip(w[:, j], 0.0, 1.0) * seal + e[:, INDEX["mouthClose"]]
    open_ = np.clip(np.asarray(openness, np.float64) / 0.25, 0.0, 1.0)
    for n in _CLOSERS:
        w[:, INDEX[n]] = m[:, INDEX[n]] + e[:, INDEX[n]] * (0.35 + 0.65 * (1.0 - open_))
    smile = 0.5 * (e[:, INDEX["mouthSmileLeft"]] + e[:, INDEX["mouthSmileRight"]])
    w[:, INDEX["mouthPucker"]] = m[:, INDEX["mouthPucker"]] * (1.0 - 0.4 * np.clip(smile, 0, 1)) \
        + e[:, INDEX["mouthPucker"]]
    return np.clip(w, 0.0, 1.0).astype(np.float32)


def seal_from_mouth(mouth: np.ndarray) -> np.ndarray:
    """(T,) the lip seal of a stored mouth track (T, 52): mouthClose = jawOpen * seal (see core/lips/mouth.py)."""
    jaw = np.asarray(mouth[:, INDEX["jawOpen"]], np.float64)
    close = np.asarray(mouth[:, INDEX["mouthClose"]], np.float64)
    # A (near) shut jaw hides the ratio: then lips that neither part nor lift count as sealed.
    apart = mouth[:, INDEX["mouthLowerDownLeft"]] + mouth[:, INDEX["mouthUpperUpLeft"]]
    shut = np.where(apart < 1e-4, 1.0, 0.0)
    return np.where(jaw > 1e-6, np.clip(close / np.maximum(jaw, 1e-6), 0.0, 1.0), shut)


def _check_phones(phones: Sequence[Phone]) -> list[Phone]:
    out = []
    for p in phones:
        if not isinstance(p, Phone):
            try:
                p = Phone(str(p[0]), float(p[1]), float(p[2]))
            except (TypeError, ValueError, IndexError):
                raise InputError(f"phones must be (phone, start, end) triples, got {p!r}") from None
        out.append(p)
    return validate(out, "phones")


def synthesize_from_prosody(prosody: Prosody, phones: Sequence[Phone], emotion: str, intensity: float,
                            actor: int, seed: int) -> dict:
    """The face dict for already-computed prosody (frame count = prosody.num_frames)."""
    t, fps = prosody.num_frames, prosody.fps
    mouth = mouth_track(phones, t, fps, loudness=prosody.loudness())
    layer = emotion_layer(prosody, phones, emotion, intensity, actor, seed)
    weights = combine(mouth, layer)
    return {
        "weights": weights,  # (T, 52)
        "mouth": np.clip(mouth.weights, 0.0, 1.0).astype(np.float32),  # (T, 52)
        "emotion": layer.weights,  # (T, 52)
        "head_rotation": layer.head_rotation,  # (T, 3)
        "eye_gaze": layer.eye_gaze,  # (T, 6)
    }


def synthesize_face(audio: np.ndarray, sr: int, phones: Sequence[Phone], emotion: str, intensity: float,
                    actor: int, seed: int, fps: float = 30.0) -> dict:
    """Full synthetic face for one clip: weights, mouth, emotion (T, 52), head_rotation (T, 3), eye_gaze (T, 6)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0:
        raise InputError(f"audio must be a non-empty mono (N,) array, got shape {audio.shape}")
    if int(sr) <= 0:
        raise InputError(f"sample rate must be positive, got {sr}")
    if not np.isfinite(fps) or fps <= 0:
        raise InputError(f"fps must be positive, got {fps}")
    phones = _check_phones(phones)
    emotion = canonical_emotion(emotion)
    intensity = check_intensity(intensity)
    t = num_frames(len(audio), int(sr), float(fps))
    prosody = analyze(audio, int(sr), float(fps), t)
    return synthesize_from_prosody(prosody, phones, emotion, intensity, int(actor), int(seed))


_GEN_VOWELS = sorted(VOWELS)
_GEN_CONS = sorted(CONSONANTS)


def generic_phones(seconds: float, seed: int) -> list[Phone]:
    """A speech-like phone sequence (random CV(C) syllables in 1.5-3 s phrases between pauses)."""
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x57E1])
    out: list[Phone] = []
    t = 0.0
    lead = float(rng.uniform(0.2, 0.5))
    out.append(Phone(SILENCE, 0.0, lead))
    t = lead
    while t < seconds - 0.4:
        phrase_end = min(seconds - 0.3, t + rng.uniform(1.5, 3.0))
        while t < phrase_end:
            for kind in ("C", "V", "C" if rng.random() < 0.4 else ""):
                if not kind:
                    continue
                if kind == "V":
                    ph, d = _GEN_VOWELS[rng.integers(len(_GEN_VOWELS))], rng.uniform(0.07, 0.2)
                else:
                    ph, d = _GEN_CONS[rng.integers(len(_GEN_CONS))], rng.uniform(0.04, 0.11)
                out.append(Phone(ph, t, t + d))
                t += d
        pause = float(rng.uniform(0.2, 0.6))
        out.append(Phone(SILENCE, t, t + pause))
        t += pause
    if t < seconds:
        out.append(Phone(SILENCE, t, seconds))
    # Trim anything past the end.
    return [Phone(p.phone, p.start, min(p.end, seconds)) for p in out if p.start < seconds]


def style_clip(actor: int, emotion: str, intensity: float, seconds: float, seed: int,
               fps: float = 30.0) -> FaceAnimation:
    """A reference-style clip: actor ``actor`` speaking generic syllables with ``emotion`` at ``intensity``."""
    emotion = canonical_emotion(emotion)
    intensity = check_intensity(intensity)
    if not np.isfinite(seconds) or seconds <= 0:
        raise InputError(f"style clip length must be positive, got {seconds}")
    t = max(1, int(round(seconds * fps)))
    phones = generic_phones(t / fps, seed)
    prosody = from_phones(phones, float(fps), t, seed)
    d = synthesize_from_prosody(prosody, phones, emotion, intensity, int(actor), int(seed))
    return FaceAnimation(float(fps), d["weights"], head_rotation=d["head_rotation"], eye_gaze=d["eye_gaze"],
                         metadata={"emotion": emotion, "intensity": intensity, "seed": int(seed),
                                   "actor": int(actor), "source": "dreamtalk.core.data.face.style_clip"})


__all__ = ["synthesize_face", "style_clip", "combine", "generic_phones", "synthesize_from_prosody"]
