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


def face_vector(anim: FaceAnimation) -> np.ndarray:
    """(52 - mouth set,) mean of every channel the lip network does not re-predict (the emotion's part)."""
    from ...rigs.arkit import ARKIT_NAMES, MOUTH_SET
    names = [n for n in ARKIT_NAMES if n not in MOUTH_SET]
    return anim.named_weights(names).astype(np.float64).mean(axis=0)


def style_confusion(clips: Sequence, generate: Generator, references: Sequence[tuple[str, FaceAnimation]],
                    progress: Callable[[int], None] | None = None) -> dict:
    """Confusion of style in (a reference clip's emotion) vs emotion out.

    The emotion out of a take generated with a reference as ``style`` is the label (intensity 1) whose take of
    the same audio and seed has the nearest mean face (channels outside the mouth set), averaged over ``clips``.
    """
    centroids = {}
    for emo in EMOTIONS:
        vecs = [face_vector(generate(c.audio, c.sr, emotion=emo, intensity=1.0, seed=i)) for i, c in enumerate(clips)]
        centroids[emo] = np.mean(vecs, axis=0)
        if progress is not None:
            progress(len(clips))
    matrix = {e: {o: 0 for o in EMOTIONS} for e in EMOTIONS}
    rows = []
    for emo_in, ref in references:
        v = np.mean([face_vector(generate(c.audio, c.sr, style=ref, seed=i)) for i, c in enumerate(clips)], axis=0)
        dist = {e: float(np.linalg.norm(v - centroids[e])) for e in EMOTIONS}
        out = min(dist, key=dist.get)
        matrix[emo_in][out] += 1
        rows.append({"emotion_in": emo_in, "emotion_out": out, "distances": dist})
        if progress is not None:
            progress(len(clips))
    total = len(rows)
    return {"matrix": matrix, "rows": rows, "accuracy": sum(r["emotion_in"] == r["emotion_out"] for r in rows)
            / total if total else None, "references": total}


def confusion_table(r: dict) -> str:
    """The confusion matrix as text: rows = emotion of the reference clip, columns = emotion out."""
    short = {e: e[:4] for e in EMOTIONS}
    present = [e for e in EMOTIONS if sum(r["matrix"][e].values())]
    lines = ["style in \\ out " + " ".join(f"{short[e]:>5}" for e in EMOTIONS)]
    for e in present:
        lines.append(f"{e:<15} " + " ".join(f"{r['matrix'][e][o]:>5}" for o in EMOTIONS))
    lines.append(f"style confusion: {sum(r['matrix'][e][e] for e in EMOTIONS)}/{r['references']} references give "
                 f"their own emotion (accuracy {r['accuracy']:.3f})")
    return "\n".join(lines)


TRACK_EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad")


def track_check(clips: Sequence, generate: Generator, emotions: Sequence[str] = TRACK_EMOTIONS,
                transition: float = 0.5, seed: int = 0) -> dict:
    """An emotion track over the clips' audio joined into one take, switching ``emotions`` at equal intervals.

    Each segment (away from the switches) must show its emotion's signature over a neutral take of the same audio
    and seed; the largest frame-to-frame step of the upper face and of the head around a switch (within the
    transition plus 0.25 s) must be no larger than the largest step inside the segments.
    """
    rates = {c.sr for c in clips}
    if len(rates) != 1:
        raise ValueError("track check needs clips of one sample rate")
    sr = rates.pop()
    audio = np.concatenate([c.audio for c in clips]).astype(np.float32)
    dur = audio.size / sr
    times = [dur * k / len(emotions) for k in range(len(emotions))]
    anim = generate(audio, sr, emotion_track=list(zip(times, emotions, [1.0] * len(emotions))),
                    transition=transition, seed=seed)
    ref = generate(audio, sr, emotion="neutral", seed=seed)
    t = anim.num_frames
    c = (np.arange(t) + 0.5) / anim.fps
    margin = transition / 2 + 0.25
    near = np.zeros(t, bool)
    for x in times[1:]:
        near |= np.abs(c - x) <= margin
    segments = []
    for k, emo in enumerate(emotions):
        end = times[k + 1] if k + 1 < len(emotions) else dur
        sel = (c >= times[k] + margin) & (c < end - margin)
        strengths = {e: float((signature(anim, e)[sel] - signature(ref, e)[sel]).mean())
                     for e in emotions if e != "neutral"}
        own = strengths.get(emo)
        segments.append({"emotion": emo, "start": times[k], "end": end, "strength": strengths,
                         "present": (own is not None and own >= PRESENT_MIN) if emo != "neutral"
                         else all(abs(v) < PRESENT_MIN for v in strengths.values())})
    up = np.abs(np.diff(anim.named_weights(UPPER_FACE).astype(np.float64), axis=0)).max(axis=1)  # (T-1,)
    head = (np.degrees(np.abs(np.diff(anim.head_rotation.astype(np.float64), axis=0))).max(axis=1)
            if anim.head_rotation is not None else np.zeros(t - 1))
    step_near = near[1:] | near[:-1]
    steps = {}
    for name, d in (("upper_face", up), ("head_deg", head)):
        steps[name] = {"switch": float(d[step_near].max()) if step_near.any() else 0.0,
                       "within": float(d[~step_near].max()) if (~step_near).any() else 0.0}
    smooth = all(v["switch"] <= v["within"] + 1e-9 for v in steps.values())
    return {"emotions": list(emotions), "switch_times": times[1:], "transition": transition, "seconds": dur,
            "segments": segments, "steps": steps, "all_present": all(s["present"] for s in segments),
            "no_jump": smooth}


def track_summary(r: dict) -> str:
    """One line: segment signatures and the switch vs within-segment steps."""
    seg = "  ".join(f"{s['emotion']} " + ("ok" if s["present"] else "MISSING") + " ("
                    + ", ".join(f"{e} {v:+.3f}" for e, v in s["strength"].items()) + ")" for s in r["segments"])
    st = "  ".join(f"{k} step switch {v['switch']:.3f} / within {v['within']:.3f}" for k, v in r["steps"].items())
    return (f"emotion track {' -> '.join(r['emotions'])} over {r['seconds']:.0f} s: {seg}; {st}; "
            f"{'no jump' if r['no_jump'] else 'JUMP at a switch'}")


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
