"""Emotion evaluation: action-unit signature strength per emotion and intensity, lip-sync cost, style transfer.

A signature is a per-frame number read from named ARKit channels (shared/specs/emotions.md): the mean of the
channels that carry the emotion's action units, or for contempt the one-sided smile + dimple asymmetry |L - R|.
Its *strength* is the signature under the emotion minus the signature under neutral on the same audio and seed
(common random numbers, so the difference is the emotion's, not the noise's). Only numpy is needed here; the
animations come from a system callable (``core.eval.systems``).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ...rigs.arkit import INDEX, UPPER_FACE
from ..animation import FaceAnimation
from ..emotions import EMOTIONS
from .lipsync import evaluate

# ARKit channels carrying each emotion's prototypical action units (shared/specs/emotions.md table).
SIGNATURE_CHANNELS: dict[str, tuple[str, ...]] = {
    "happy": ("cheekSquintLeft", "cheekSquintRight", "eyeSquintLeft", "eyeSquintRight",
              "mouthSmileLeft", "mouthSmileRight"),
    "sad": ("browInnerUp", "browDownLeft", "browDownRight", "mouthFrownLeft", "mouthFrownRight", "mouthShrugLower"),
    "surprised": ("browInnerUp", "browOuterUpLeft", "browOuterUpRight", "eyeWideLeft", "eyeWideRight", "jawOpen"),
    "fear": ("browInnerUp", "browOuterUpLeft", "browOuterUpRight", "browDownLeft", "browDownRight",
             "eyeWideLeft", "eyeWideRight", "mouthStretchLeft", "mouthStretchRight", "jawOpen"),
    "angry": ("browDownLeft", "browDownRight", "mouthPressLeft", "mouthPressRight", "mouthRollLower",
              "mouthRollUpper"),
    "disgusted": ("noseSneerLeft", "noseSneerRight", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthFrownLeft",
                  "mouthFrownRight", "mouthShrugUpper"),
}
# Contempt is one-sided: the asymmetry of these left/right pairs.
CONTEMPT_PAIRS: tuple[tuple[str, str], ...] = (("mouthSmileLeft", "mouthSmileRight"),
                                               ("mouthDimpleLeft", "mouthDimpleRight"))
SIGNED_EMOTIONS: tuple[str, ...] = tuple(e for e in EMOTIONS if e != "neutral")
DEFAULT_INTENSITIES: tuple[float, ...] = (1 / 3, 2 / 3, 1.0)
PRESENT_MIN = 0.05  # strength at intensity 1 that counts as "clearly present" (weights are in [0, 1])
LIPSYNC_TOLERANCE = 0.05  # the paper's claim: emotion costs at most this much lip-sync score
LIPSYNC_CLAIM: tuple[str, ...] = ("happy", "surprised", "angry")

# system(audio, sr, emotion=..., intensity=..., style=..., seed=...) -> FaceAnimation
Generator = Callable[..., FaceAnimation]


def signature(anim: FaceAnimation, emotion: str) -> np.ndarray:
    """(T,) per-frame signature of ``emotion`` in ``anim`` (channels matched by name)."""
    w = np.clip(anim.weights.astype(np.float64), 0.0, 1.0)
    if emotion == "contempt":
        return np.mean([np.abs(w[:, INDEX[a]] - w[:, INDEX[b]]) for a, b in CONTEMPT_PAIRS], axis=0)
    if emotion not in SIGNATURE_CHANNELS:
        raise ValueError(f"no action-unit signature for {emotion!r}")
    return anim.named_weights(SIGNATURE_CHANNELS[emotion]).astype(np.float64).clip(0.0, 1.0).mean(axis=1)


def mean_signature(anims: Sequence[FaceAnimation], emotion: str) -> float:
    """Signature of ``emotion`` averaged over all frames of all ``anims`` (frame-weighted)."""
    vals = np.concatenate([signature(a, emotion) for a in anims])
    return float(vals.mean())


def upper_face_mean(anim: FaceAnimation) -> np.ndarray:
    """(len(UPPER_FACE),) mean upper-face vector of a clip, by name."""
    return anim.named_weights(UPPER_FACE).astype(np.float64).mean(axis=0)


def _is_monotonic(values: Sequence[float]) -> bool:
    return bool(np.all(np.diff(np.asarray(values, np.float64)) > 0.0))


def evaluate_emotions(clips: Sequence, generate: Generator, intensities: Sequence[float] = DEFAULT_INTENSITIES,
                      emotions: Sequence[str] = EMOTIONS, progress: Callable[[int], None] | None = None) -> dict:
    """Generate every (emotion, intensity) on ``clips`` (``core.eval.Clip``) and measure signatures and lip-sync.

    Returns {"neutral": {...}, "emotions": {emotion: {"strength": [per intensity], "value": [...],
    "monotonic", "present", "lipsync": result at the top intensity, "lipsync_delta"}}, "intensities": [...]}.
    """
    intensities = sorted(float(x) for x in intensities)
    top = intensities[-1]

    def run(emotion: str, intensity: float) -> list[FaceAnimation]:
        out = []
        for i, c in enumerate(clips):
            out.append(generate(c.audio, c.sr, emotion=emotion, intensity=intensity, seed=i))
            if progress is not None:
                progress(1)
        return out

    neutral = run("neutral", 1.0)
    neutral_ls = evaluate([(a, c.phones) for a, c in zip(neutral, clips)])
    result = {"intensities": intensities, "clips": len(clips),
              "neutral": {"lipsync": neutral_ls,
                          "signature": {e: mean_signature(neutral, e) for e in SIGNED_EMOTIONS}},
              "emotions": {}}
    for emo in emotions:
        if emo == "neutral":
            continue
        base = result["neutral"]["signature"][emo]
        values, top_anims = [], None
        for x in intensities:
            anims = run(emo, x)
            values.append(mean_signature(anims, emo))
            if x == top:
                top_anims = anims
        strength = [v - base for v in values]
        ls = evaluate([(a, c.phones) for a, c in zip(top_anims, clips)])
        delta = None if ls["score"] is None or neutral_ls["score"] is None else ls["score"] - neutral_ls["score"]
        result["emotions"][emo] = {
            "value": values, "strength": strength, "monotonic": _is_monotonic(strength),
            "present": strength[-1] >= PRESENT_MIN, "lipsync": ls, "lipsync_delta": delta,
        }
    claim = [e for e in LIPSYNC_CLAIM if e in result["emotions"]]
    deltas = [result["emotions"][e]["lipsync_delta"] for e in claim]
    result["lipsync_claim"] = {"emotions": claim, "tolerance": LIPSYNC_TOLERANCE,
                               "holds": bool(claim) and all(d is not None and d >= -LIPSYNC_TOLERANCE
                                                            for d in deltas)}
    return result


def style_check(clips: Sequence, generate: Generator, capture_a: FaceAnimation, capture_b: FaceAnimation,
                progress: Callable[[int], None] | None = None) -> dict:
    """Generate with each capture as ``style`` and compare the output's mean upper face with both captures.

    The claim is that style A's output is closer to A than to B; the B->B direction is reported too, because a
    model whose output always looks like A would pass the first check alone.
    """
    ua, ub = upper_face_mean(capture_a), upper_face_mean(capture_b)
    out = {}
    for key, cap in (("a", capture_a), ("b", capture_b)):
        vecs, frames = [], []
        for i, c in enumerate(clips):
            anim = generate(c.audio, c.sr, style=cap, seed=i)
            vecs.append(upper_face_mean(anim))
            frames.append(anim.num_frames)
            if progress is not None:
                progress(1)
        u = np.average(np.stack(vecs), axis=0, weights=frames)
        da, db = float(np.linalg.norm(u - ua)), float(np.linalg.norm(u - ub))
        out[key] = {"dist_a": da, "dist_b": db,
                    "closer_to_own": (da < db) if key == "a" else (db < da)}
    out["capture_distance"] = float(np.linalg.norm(ua - ub))
    return out


def emotion_table(result: dict) -> str:
    """The per-emotion table: signature strength per intensity, monotonic, present, lip-sync vs neutral."""
    xs = result["intensities"]
    head = (f"{'emotion':<10} " + " ".join(f"{'s@' + format(x, '.2f'):>7}" for x in xs)
            + f" {'monotonic':>9} {'present':>7} {'lipsync':>7} {'d_neutral':>9} {'bilab_j':>7}")
    lines = [head, "-" * len(head)]
    nl = result["neutral"]["lipsync"]
    f = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    lines.append(f"{'neutral':<10} " + " ".join(f"{'-':>7}" for _ in xs)
                 + f" {'-':>9} {'-':>7} {f(nl['score']):>7} {'-':>9} {f(nl['bilabial_j']):>7}")
    for emo, r in result["emotions"].items():
        d = r["lipsync_delta"]
        lines.append(f"{emo:<10} " + " ".join(f"{s:+7.3f}" for s in r["strength"])
                     + f" {'yes' if r['monotonic'] else 'NO':>9} {'yes' if r['present'] else 'NO':>7}"
                     + f" {f(r['lipsync']['score']):>7} {'n/a' if d is None else format(d, '+.3f'):>9}"
                     + f" {f(r['lipsync']['bilabial_j']):>7}")
    return "\n".join(lines)


def emotion_summary(result: dict) -> str:
    """One line: how many signatures are present and monotonic, and whether the lip-sync claim holds."""
    emos = result["emotions"]
    present = sum(r["present"] for r in emos.values())
    mono = sum(r["monotonic"] for r in emos.values())
    claim = result["lipsync_claim"]
    deltas = ", ".join(f"{e} {emos[e]['lipsync_delta']:+.3f}" if emos[e]["lipsync_delta"] is not None
                       else f"{e} n/a" for e in claim["emotions"])
    return (f"emotion: present {present}/{len(emos)} (strength@1 >= {PRESENT_MIN}), monotonic {mono}/{len(emos)}, "
            f"lip-sync vs neutral ({deltas}) within {claim['tolerance']}: "
            f"{'yes' if claim['holds'] else 'NO'}")


def style_summary(res: dict, name_a: str, name_b: str) -> str:
    """One line per direction of the style check."""
    a, b = res["a"], res["b"]
    return (f"style {name_a}: upper-face distance to A {a['dist_a']:.4f}, to B {a['dist_b']:.4f} -> "
            f"{'closer to A' if a['closer_to_own'] else 'NOT closer to A'}; "
            f"style {name_b}: to A {b['dist_a']:.4f}, to B {b['dist_b']:.4f} -> "
            f"{'closer to B' if b['closer_to_own'] else 'NOT closer to B'} "
            f"(captures are {res['capture_distance']:.4f} apart)")
