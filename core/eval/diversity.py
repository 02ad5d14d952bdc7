"""Diversity evaluation: how much samples from different seeds differ, by region, and whether closures stay.

For every clip, the system is run once per seed; for every pair of seeds the per-frame mean absolute difference
of each region (brows, eyes incl. blinks, the whole upper face, head in degrees, mouth set) is averaged over
frames, then over pairs and clips. A diffusion model should vary the upper face and head between seeds while the
mouth, which the audio determines, stays put; bilabial closure recall (lip-sync metric) per seed shows closures
survive every sample.
"""
from __future__ import annotations

import itertools
from typing import Callable, Sequence

import numpy as np

from ...rigs.arkit import GROUPS, MOUTH_SET, UPPER_FACE
from ..animation import FaceAnimation
from .lipsync import evaluate

# Region -> ARKit channel names; "head" is the head rotation (degrees), handled apart.
REGIONS: dict[str, tuple[str, ...]] = {
    "brows": tuple(GROUPS["brows"]),
    "eyes": tuple(GROUPS["eyes"]),
    "upper_face": tuple(UPPER_FACE),
    "mouth": tuple(MOUTH_SET),
}
REGION_ORDER: tuple[str, ...] = ("brows", "eyes", "upper_face", "head", "mouth")
BLINK_THRESHOLD = 0.5  # mean eyeBlink above this = eyes closed


def region_difference(a: FaceAnimation, b: FaceAnimation) -> dict[str, float]:
    """Per-frame mean |a - b| of each region, averaged over frames; head in degrees."""
    n = min(a.num_frames, b.num_frames)
    out = {}
    for name, chans in REGIONS.items():
        wa = a.named_weights(chans)[:n].astype(np.float64)
        wb = b.named_weights(chans)[:n].astype(np.float64)
        out[name] = float(np.abs(wa - wb).mean())
    ha, hb = a.head_rotation[:n].astype(np.float64), b.head_rotation[:n].astype(np.float64)
    out["head"] = float(np.degrees(np.abs(ha - hb)).mean())
    return out


def blink_count(anim: FaceAnimation) -> int:
    """Number of blink events (mean eyeBlink crossing up through BLINK_THRESHOLD)."""
    b = 0.5 * (anim.channel("eyeBlinkLeft") + anim.channel("eyeBlinkRight")) > BLINK_THRESHOLD
    return int(b[0]) + int(np.sum(b[1:] & ~b[:-1]))


def evaluate_diversity(clips: Sequence, generate: Callable[..., FaceAnimation], seeds: Sequence[int],
                       progress: Callable[[int], None] | None = None, **gen_kwargs) -> dict:
    """Run ``generate(audio, sr, seed=s, **gen_kwargs)`` for each clip and seed; pairwise region distances.

    Returns {"pairwise": {region: mean}, "per_seed": [{"seed", "lipsync", "blinks_per_min"}], "ratio_*": ...}.
    """
    seeds = [int(s) for s in seeds]
    if len(seeds) < 2:
        raise ValueError("diversity needs at least two seeds")
    by_seed: dict[int, list[FaceAnimation]] = {s: [] for s in seeds}
    for c in clips:
        for s in seeds:
            by_seed[s].append(generate(c.audio, c.sr, seed=s, **gen_kwargs))
            if progress is not None:
                progress(1)
    sums = {r: 0.0 for r in REGION_ORDER}
    n_terms = 0
    for k in range(len(clips)):
        for s1, s2 in itertools.combinations(seeds, 2):
            d = region_difference(by_seed[s1][k], by_seed[s2][k])
            for r in REGION_ORDER:
                sums[r] += d[r]
            n_terms += 1
    pairwise = {r: sums[r] / n_terms for r in REGION_ORDER}
    per_seed = []
    for s in seeds:
        anims = by_seed[s]
        minutes = sum(a.duration for a in anims) / 60.0
        per_seed.append({"seed": s, "lipsync": evaluate([(a, c.phones) for a, c in zip(anims, clips)]),
                         "blinks_per_min": sum(blink_count(a) for a in anims) / minutes if minutes > 0 else 0.0})
    mouth = pairwise["mouth"]
    return {"seeds": seeds, "clips": len(clips), "pairwise": pairwise, "per_seed": per_seed,
            "ratio_upper_to_mouth": pairwise["upper_face"] / mouth if mouth > 0 else None}


def diversity_table(result: dict) -> str:
    """Two tables: pairwise differences by region, and per-seed closure recall and blink rate."""
    pw = result["pairwise"]
    lines = [f"{'region':<11} {'mean |diff| between seeds':>26}", "-" * 38]
    for r in REGION_ORDER:
        unit = " deg" if r == "head" else ""
        lines.append(f"{r:<11} {pw[r]:>22.4f}{unit}")
    lines.append("")
    f = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    head = f"{'seed':>6} {'bilabial':>8} {'bilab_j':>7} {'score':>6} {'blinks/min':>10}"
    lines += [head, "-" * len(head)]
    for p in result["per_seed"]:
        ls = p["lipsync"]
        lines.append(f"{p['seed']:>6} {f(ls['bilabial']):>8} {f(ls['bilabial_j']):>7} {f(ls['score']):>6} "
                     f"{p['blinks_per_min']:>10.1f}")
    return "\n".join(lines)


def diversity_summary(result: dict) -> str:
    """One line: upper face and head vs mouth differences, and the bilabial recall range over seeds."""
    pw = result["pairwise"]
    bil = [p["lipsync"]["bilabial"] for p in result["per_seed"] if p["lipsync"]["bilabial"] is not None]
    ratio = result["ratio_upper_to_mouth"]
    rng = f"{min(bil):.3f}..{max(bil):.3f}" if bil else "n/a"
    return (f"diversity over {len(result['seeds'])} seeds x {result['clips']} clips: upper_face={pw['upper_face']:.4f} "
            f"head={pw['head']:.3f}deg mouth={pw['mouth']:.4f} (upper/mouth "
            f"{'n/a' if ratio is None else format(ratio, '.2f')}); bilabial recall per seed {rng}")
