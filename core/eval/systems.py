"""Reference lip-sync systems for ``dreamtalk eval``: each is ``system(audio, sr, phones_or_None, fps=30)``.

- ``oracle``: a target mouth pose per phone straight from the alignment, piecewise constant, no smoothing
  (the ceiling the metric should give ~1.0);
- ``jawflap``: jaw opening follows the loudness envelope, as cheap lip-sync plug-ins do (no phones needed);
- ``dreamtalk``: the project's model through ``core.pipeline.generate`` when it is available.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ...rigs.arkit import INDEX, NUM_BLENDSHAPES
from ..animation import FaceAnimation
from ..errors import DreamTalkError, InputError
from ..lips.phones import BILABIALS, CLOSE_VOWELS, LABIODENTALS, SILENCE, VOWELS, Phone
from .lipsync import frames_in

System = Callable[..., FaceAnimation]

# Mouth poses for the oracle, by ARKit name (unlisted = 0).
_OPEN = {"jawOpen": 0.6, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3}
_CLOSE_VOWEL = {"jawOpen": 0.3, "mouthStretchLeft": 0.2, "mouthStretchRight": 0.2}
_ROUND_VOWEL = {"jawOpen": 0.35, "mouthPucker": 0.6, "mouthFunnel": 0.3}
POSES: dict[str, dict[str, float]] = {
    SILENCE: {},
    "bilabial": {"mouthPressLeft": 0.2, "mouthPressRight": 0.2},  # lips pressed together, jaw shut
    "labiodental": {"jawOpen": 0.1, "mouthRollLower": 0.6, "mouthUpperUpLeft": 0.1, "mouthUpperUpRight": 0.1},
    "W": {"jawOpen": 0.15, "mouthPucker": 0.8, "mouthFunnel": 0.2},
    "consonant": {"jawOpen": 0.3, "mouthLowerDownLeft": 0.1, "mouthLowerDownRight": 0.1},
    "vowel": _OPEN,
    "close_vowel": _CLOSE_VOWEL,
    "UW": {**_ROUND_VOWEL, "jawOpen": 0.25},
    "UH": {**_CLOSE_VOWEL, "mouthPucker": 0.3},
    "OW": _ROUND_VOWEL,
    "OY": _ROUND_VOWEL,
    "AO": {"jawOpen": 0.55, "mouthFunnel": 0.3},
}


def pose_class(ph: str) -> str:
    """Which oracle pose a phone uses."""
    if ph in POSES:
        return ph
    if ph in BILABIALS:
        return "bilabial"
    if ph in LABIODENTALS:
        return "labiodental"
    if ph in CLOSE_VOWELS:
        return "close_vowel"
    if ph in VOWELS:
        return "vowel"
    return "consonant"


def _pose_vector(ph: str) -> np.ndarray:
    v = np.zeros(NUM_BLENDSHAPES, np.float32)
    for name, w in POSES[pose_class(ph)].items():
        v[INDEX[name]] = w
    return v


def _num_frames(audio: np.ndarray, sr: int, fps: float) -> int:
    return max(1, int(round(len(audio) / float(sr) * fps)))


def oracle(audio: np.ndarray, sr: int, phones: Sequence[Phone] | None, fps: float = 30.0) -> FaceAnimation:
    """Per-phone target poses sampled at frame centres; a phone no centre falls in takes the frame nearest its
    midpoint (bilabials and vowels only, so short closures and vowels are never lost)."""
    if not phones:
        raise InputError("the oracle system needs a phone alignment")
    n = _num_frames(audio, sr, fps)
    w = np.zeros((n, NUM_BLENDSHAPES), np.float32)  # (T, 52)
    centres = (np.arange(n) + 0.5) / fps
    for p in phones:
        k = frames_in(p.start, p.end, fps, n, nearest=False)
        w[k] = _pose_vector(p.phone)
    for p in phones:
        if p.phone in BILABIALS or p.phone in VOWELS:
            k = frames_in(p.start, p.end, fps, n, nearest=False)
            if k.size == 0 and p.start < centres[-1] + 0.5 / fps:
                w[frames_in(p.start, p.end, fps, n)] = _pose_vector(p.phone)
    return FaceAnimation(fps, w, metadata={"system": "oracle"})


def jawflap(audio: np.ndarray, sr: int, phones: Sequence[Phone] | None = None, fps: float = 30.0) -> FaceAnimation:
    """jawOpen follows the RMS loudness per frame (noise-gated, normalised to the clip's loud frames)."""
    a = np.asarray(audio, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise InputError("jawflap needs non-empty mono audio")
    n = _num_frames(a, sr, fps)
    hop = sr / fps
    rms = np.zeros(n)
    for k in range(n):  # window = the frame's own span
        seg = a[int(round(k * hop)):max(int(round((k + 1) * hop)), int(round(k * hop)) + 1)]
        rms[k] = np.sqrt(np.mean(seg ** 2)) if seg.size else 0.0
    db = 20 * np.log10(rms + 1e-9)
    loud = np.percentile(db, 95)
    # 0 at 30 dB below the loud frames, 1 at their level: the classic gate + gain of loudness-driven jaws.
    jaw = np.clip((db - (loud - 30.0)) / 30.0, 0.0, 1.0) * 0.7
    w = np.zeros((n, NUM_BLENDSHAPES), np.float32)
    w[:, INDEX["jawOpen"]] = jaw
    return FaceAnimation(fps, w, metadata={"system": "jawflap"})


def dreamtalk(audio: np.ndarray, sr: int, phones: Sequence[Phone] | None = None, fps: float = 30.0,
              **kwargs) -> FaceAnimation:
    """The project's own model (``core.pipeline.generate``), neutral emotion unless told otherwise."""
    try:
        from ..pipeline import generate
    except ImportError as e:
        raise DreamTalkError(f"the dreamtalk model is not available ({e})") from None
    anim = generate(audio, sr, fps=fps, **kwargs)
    return anim.resample(fps) if abs(anim.fps - fps) > 1e-9 else anim


LIVE_OPTIONS = ("emotion", "intensity", "seed", "steps", "weights_dir", "lookahead_ms")


def live(audio: np.ndarray, sr: int, phones: Sequence[Phone] | None = None, fps: float = 30.0,
         **options) -> FaceAnimation:
    """The streaming engine (``core.live.LiveEngine``) fed the clip in 10 ms blocks, as fast as it computes: the
    frames a live session shows (upper face delayed as on screen), without the sender's clock."""
    from ..audio import resample
    from ..live.engine import LiveEngine
    from ..models.bundle import load_models

    unknown = sorted(set(options) - set(LIVE_OPTIONS))
    if unknown:
        raise InputError(f"the live system takes no {', '.join(unknown)}")
    a16 = resample(np.asarray(audio, np.float32), sr)
    engine = LiveEngine(load_models(options.pop("weights_dir", None)), **options)
    frames = []
    for i in range(0, a16.size, 160):
        frames += engine.push(a16[i:i + 160])
    frames += engine.finish()
    w = np.stack([f.weights for f in frames]) if frames else np.zeros((0, NUM_BLENDSHAPES), np.float32)
    h = np.stack([f.head for f in frames]) if frames else np.zeros((0, 3), np.float32)
    anim = FaceAnimation(30.0, w, h, metadata={"system": "live", "emodiff_delay_frames": engine.emodiff_delay})
    return anim.resample(fps) if abs(fps - 30.0) > 1e-9 else anim


SYSTEMS: dict[str, System] = {"oracle": oracle, "jawflap": jawflap, "dreamtalk": dreamtalk, "live": live}
NEEDS_PHONES = {"oracle"}


def register(name: str, system: System) -> None:
    """Add a system under ``name`` (e.g. a trained checkpoint wrapper)."""
    SYSTEMS[name] = system


def get_system(name: str) -> System:
    """The system called ``name``, or a one-line error listing the known ones."""
    if name not in SYSTEMS:
        raise InputError(f"unknown system {name!r}; known: {', '.join(sorted(SYSTEMS))}")
    if SYSTEMS[name] is dreamtalk:
        import importlib.util
        if importlib.util.find_spec(f"{__package__.rsplit('.', 1)[0]}.pipeline") is None:
            raise DreamTalkError("the dreamtalk model is not available yet (no core.pipeline module)")
    return SYSTEMS[name]
