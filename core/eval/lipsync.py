"""Lip-sync metric for ARKit curves on real speech, exactly as shared/specs/lipsync-metric.md defines it.

``evaluate([(animation, phones), ...])`` pools events over all clips (micro-averaged rates) and returns a dict;
``summary_line(result)`` gives the spec's one-line summary. Only numpy is needed.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from ..animation import FaceAnimation
from ..errors import InputError
from ..lips.closures import closed_threshold
from ..lips.mouth import lip_gap as mouth_lip_gap
from ..lips.phones import BILABIALS, CLOSE_VOWELS, CONSONANTS, LABIALS, ROUNDED, SILENCE, VOWELS, Phone

BILABIAL_MIN_S = 0.03
LIPS_APART_MIN_S = 0.05
VOWEL_MIN_S = 0.06
ROUNDING_MIN_S = 0.05
SILENCE_TRIM_S = 0.15
SILENCE_MIN_S = 0.3
LAGS_MS = np.arange(-200, 201, 10)
TARGET_OPENNESS = {"vowel": 1.0, "bilabial": 0.0, "consonant": 0.4, SILENCE: 0.0}
METRICS = ("bilabial", "lips_apart", "vowel", "rounding", "silence")
SUMMARY_KEYS = ("score", "bilabial", "lips_apart", "bilabial_j", "vowel", "rounding", "silence")


def _ch(anim: FaceAnimation, name: str) -> np.ndarray:
    """(T,) one channel by ARKit name, clipped to [0, 1], float64."""
    return np.clip(anim.channel(name).astype(np.float64), 0.0, 1.0)


def lip_gap(anim: FaceAnimation) -> np.ndarray:
    """(T,) lip gap g per frame (spec formula; one implementation, in core.lips.mouth)."""
    return mouth_lip_gap(anim.weights)


def rounding(anim: FaceAnimation) -> np.ndarray:
    """(T,) rounding r = max(mouthPucker, mouthFunnel)."""
    return np.maximum(_ch(anim, "mouthPucker"), _ch(anim, "mouthFunnel"))


def frames_in(start: float, end: float, fps: float, num_frames: int, nearest: bool = True) -> np.ndarray:
    """Indices of frames whose centre (k + 0.5)/fps lies in [start, end); if none, the frame nearest the midpoint."""
    lo = max(0, math.ceil(start * fps - 0.5 - 1e-9))
    hi = min(num_frames, math.ceil(end * fps - 0.5 - 1e-9))  # first k with centre >= end
    if hi > lo:
        return np.arange(lo, hi)
    if not nearest:
        return np.arange(0)
    mid = 0.5 * (start + end)
    # The frame whose span [k/fps, (k+1)/fps) holds the midpoint has the nearest centre.
    k = int(np.clip(math.floor(mid * fps), 0, num_frames - 1))
    return np.array([k])


def clip_thresholds(g: np.ndarray) -> tuple[float, float]:
    """(closed_thr, open_thr) for one clip from the 95th percentile of its lip gap."""
    return closed_threshold(g), max(0.10, 0.4 * float(np.percentile(g, 95)))


def _openness_class(ph: str) -> str:
    if ph in VOWELS:
        return "vowel"
    if ph in BILABIALS:
        return "bilabial"
    if ph == SILENCE:
        return SILENCE
    return "consonant"


def target_openness(phones: Sequence[Phone], times: np.ndarray) -> np.ndarray:
    """o(t) at ``times``: vowel 1.0, P/B/M 0.0, other consonants 0.4, SIL (and outside the alignment) 0.0."""
    o = np.zeros(len(times))
    starts = np.array([p.start for p in phones])
    idx = np.searchsorted(starts, times, side="right") - 1
    for j, t in enumerate(times):
        i = idx[j]
        if 0 <= i < len(phones) and phones[i].start <= t < phones[i].end:
            o[j] = TARGET_OPENNESS[_openness_class(phones[i].phone)]
    return o


def clip_events(anim: FaceAnimation, phones: Sequence[Phone]) -> dict:
    """Per-event hits of one clip: {metric: [bool or fraction, ...]} plus the offset inputs."""
    fps, n = anim.fps, anim.num_frames
    g, r = lip_gap(anim), rounding(anim)
    closed_thr, open_thr = clip_thresholds(g)
    tol = max(1.0 / fps, 1.0 / 30.0)
    ev: dict[str, list] = {m: [] for m in METRICS}
    ev_phones: dict[str, list] = {"bilabial": [], "lips_apart": []}  # the phone of each of those events

    # Rounding baseline: median r over frames inside non-rounded vowels.
    base = [frames_in(p.start, p.end, fps, n, nearest=False) for p in phones
            if p.phone in VOWELS and p.phone not in ROUNDED]
    base_idx = np.concatenate(base) if base else np.arange(0)
    round_thr = max(0.15, float(np.median(r[base_idx])) + 0.1) if base_idx.size else 0.15

    for i, p in enumerate(phones):
        ph, d = p.phone, p.end - p.start
        if ph in BILABIALS and d >= BILABIAL_MIN_S:
            k = frames_in(p.start - tol, p.end + tol, fps, n)
            ev["bilabial"].append(bool(g[k].min() < closed_thr))
            ev_phones["bilabial"].append(ph)
        if ph in CONSONANTS and ph not in LABIALS and d >= LIPS_APART_MIN_S:
            prev = phones[i - 1].phone if i > 0 else SILENCE  # the clip edge counts as silence
            nxt = phones[i + 1].phone if i + 1 < len(phones) else SILENCE
            if not ({prev, nxt} & (LABIALS | {SILENCE})):
                k = frames_in(p.start + d / 4, p.end - d / 4, fps, n)
                ev["lips_apart"].append(bool(np.median(g[k]) >= closed_thr))
                ev_phones["lips_apart"].append(ph)
        if ph in VOWELS and d >= VOWEL_MIN_S:
            k = frames_in(p.start, p.end, fps, n)
            mx = g[k].max()
            ev["vowel"].append(bool(mx >= closed_thr) if ph in CLOSE_VOWELS else bool(mx > open_thr))
        if ph in ROUNDED and d >= ROUNDING_MIN_S:
            k = frames_in(p.start, p.end, fps, n)
            ev["rounding"].append(bool(r[k].max() >= round_thr))
        if ph == SILENCE:
            s, e = p.start + SILENCE_TRIM_S, p.end - SILENCE_TRIM_S
            if e - s >= SILENCE_MIN_S:
                k = frames_in(s, e, fps, n)
                ev["silence"].append(float(np.mean(g[k] < open_thr)))

    centres = (np.arange(n) + 0.5) / fps
    return {"events": ev, "phones": ev_phones, "g": g, "t": centres, "o": target_openness(phones, centres),
            "thresholds": {"closed": closed_thr, "open": open_thr, "round": round_thr}}


def best_lag_ms(clips: Iterable[dict]) -> int | None:
    """Lag in [-200, 200] ms (10 ms steps) maximising Pearson r of g(t + lag) with o(t), pooled; + = late."""
    clips = list(clips)
    if not clips:
        return None
    o = np.concatenate([c["o"] for c in clips])
    if o.std() == 0:
        return None
    best, best_r = None, -np.inf
    for lag in LAGS_MS:
        gl = np.concatenate([np.interp(c["t"] + lag / 1000.0, c["t"], c["g"]) for c in clips])
        if gl.std() == 0:
            continue
        r = float(np.corrcoef(gl, o)[0, 1])
        if r > best_r + 1e-12:
            best, best_r = int(lag), r
    return best


def evaluate(pairs: Sequence[tuple[FaceAnimation, Sequence[Phone]]]) -> dict:
    """Score animations against phone alignments of the same audio (spec metrics, pooled over all clips)."""
    if not pairs:
        raise InputError("nothing to evaluate: no clips")
    per_clip = []
    for anim, phones in pairs:
        if not isinstance(anim, FaceAnimation):
            raise InputError(f"expected a FaceAnimation, got {type(anim).__name__}")
        per_clip.append(clip_events(anim, list(phones)))
    counts, hits, rates = {}, {}, {}
    for m in METRICS:
        vals = [v for c in per_clip for v in c["events"][m]]
        counts[m] = len(vals)
        hits[m] = float(np.sum(vals)) if vals else 0.0
        rates[m] = float(np.mean(vals)) if vals else None
    bj = None
    if rates["bilabial"] is not None and rates["lips_apart"] is not None:
        bj = rates["bilabial"] + rates["lips_apart"] - 1.0
    parts = [max(0.0, bj) if bj is not None else None, rates["vowel"], rates["rounding"], rates["silence"]]
    parts = [x for x in parts if x is not None]
    return {
        "per_phone": per_phone_counts(per_clip),
        "score": float(np.mean(parts)) if parts else None,
        **rates,
        "bilabial_j": bj,
        "offset_ms": best_lag_ms(per_clip),
        "counts": counts,
        "hits": hits,
        "clips": len(pairs),
    }


def per_phone_counts(per_clip: Sequence[dict]) -> dict:
    """{"missed_closures": {phone: [missed, events]}, "false_closures": {phone: [closed, events]}} pooled over
    clips: bilabials whose lips never closed, and other consonants (lips_apart events) during which they did."""
    out: dict[str, dict[str, list[int]]] = {"missed_closures": {}, "false_closures": {}}
    for c in per_clip:
        for key, metric in (("missed_closures", "bilabial"), ("false_closures", "lips_apart")):
            for ph, hit in zip(c["phones"][metric], c["events"][metric]):
                cell = out[key].setdefault(ph, [0, 0])
                cell[0] += int(not hit)
                cell[1] += 1
    return {k: dict(sorted(v.items(), key=lambda kv: (-kv[1][0], kv[0]))) for k, v in out.items()}


def per_phone_lines(result: dict) -> list[str]:
    """Two lines: which bilabials the lips miss and which other consonants they close on (counts per phone)."""
    pp = result.get("per_phone") or {}

    def fmt(d):
        return ", ".join(f"{ph} {a}/{n}" for ph, (a, n) in d.items()) or "none"
    miss = pp.get("missed_closures", {})
    false = pp.get("false_closures", {})
    return [f"missed closures ({sum(v[0] for v in miss.values())}/{sum(v[1] for v in miss.values())}): {fmt(miss)}",
            f"false closures ({sum(v[0] for v in false.values())}/{sum(v[1] for v in false.values())}): "
            f"{fmt({k: v for k, v in false.items() if v[0]})}"]


def summary_line(result: dict) -> str:
    """``score=0.xxx bilabial=0.xxx ... offset_ms=N`` (a metric without events prints n/a)."""
    def f(v):
        return "n/a" if v is None else f"{v:.3f}"
    off = result.get("offset_ms")
    return " ".join(f"{k}={f(result.get(k))}" for k in SUMMARY_KEYS) + f" offset_ms={'n/a' if off is None else off}"
