"""Naturalness evaluation: does generated motion move like a person (steady head, real blinks, living brows)?

Statistics are computed per animation at 30 fps and pooled over a set (duration-weighted means, event medians):
- head: jitter ratio (mean |2nd difference| / mean |1st difference| per angle; white noise gives ~1.73, a smooth
  signal well under 0.5), the largest single-frame step, angular speed percentiles, the share of head power
  above 2 Hz (over 64-frame segments of clips at least that long, so clip length does not move it);
- blinks: events per minute (peaks of mean eyeBlink over 0.25 that stand 0.15 above their surroundings), the
  width at half the peak's prominence in ms, the median peak;
- activity: std of browInnerUp, browDown, cheekSquint and mouthSmile (mean of sides), and the autocorrelation
  time (first lag where the autocorrelation falls under 0.5) of browInnerUp and of the head.
Reference sets are held-out corpus clips, the corpus's rules applied to the evaluated speech itself (design), and
real captures (their head is absent when a capture has none).
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from ..animation import FaceAnimation

FPS = 30.0
BLINK_HEIGHT = 0.25  # an event must reach this mean eyeBlink
BLINK_PROMINENCE = 0.15  # ...and stand this far above the lower of its two surrounding minima
HEAD_HF_HZ = 2.0
# The head's power spectrum is taken over segments of this many frames (50% overlap, each detrended and Hann
# windowed), not over whole clips: a longer clip wanders further at low frequency, so a whole-clip share fell with
# clip length alone (the corpus clips average 3.3 s, the test part's takes 5 s). Shorter clips do not count.
HEAD_SEGMENT = 64
# Statistics printed and compared, in this order; (name, unit, description).
STATS: tuple[tuple[str, str, str], ...] = (
    ("head_jitter", "", "head jitter ratio mean|d2|/mean|d1| (white noise 1.73)"),
    ("head_max_step", "deg", "largest single-frame head step (any angle)"),
    ("head_speed_p50", "deg/s", "median head angular speed"),
    ("head_speed_p95", "deg/s", "95th percentile head angular speed"),
    ("head_hf_share", "", f"share of head power above {HEAD_HF_HZ:g} Hz"),
    ("head_autocorr_ms", "ms", "head autocorrelation time (< 0.5)"),
    ("blinks_per_min", "1/min", "blink events per minute"),
    ("blink_width_ms", "ms", "median blink width at half prominence"),
    ("blink_peak", "", "median blink peak (mean eyeBlink)"),
    ("brow_inner_std", "", "browInnerUp standard deviation"),
    ("brow_down_std", "", "browDown (mean of sides) standard deviation"),
    ("cheek_squint_std", "", "cheekSquint (mean of sides) standard deviation"),
    ("smile_std", "", "mouthSmile (mean of sides) standard deviation"),
    ("brow_autocorr_ms", "ms", "browInnerUp autocorrelation time (< 0.5)"),
)
STAT_NAMES = tuple(s[0] for s in STATS)


def _at_30(anim: FaceAnimation) -> FaceAnimation:
    return anim if abs(anim.fps - FPS) < 1e-6 else anim.resample(FPS)


def _pair(anim: FaceAnimation, stem: str) -> np.ndarray:
    """(T,) mean of the Left/Right channels of ``stem`` (or the channel itself)."""
    if stem in anim.blendshape_names:
        return anim.channel(stem).astype(np.float64)
    return 0.5 * (anim.channel(stem + "Left").astype(np.float64) + anim.channel(stem + "Right").astype(np.float64))


def has_head(anim: FaceAnimation) -> bool:
    """Whether the animation carries head rotation that moves (captures without head tracking do not)."""
    h = anim.head_rotation
    return h is not None and h.shape[0] > 2 and float(np.abs(np.diff(h, axis=0)).max()) > 1e-7


def autocorr_time(x: np.ndarray, fps: float = FPS, level: float = 0.5) -> float | None:
    """Seconds until the autocorrelation of ``x`` (mean removed) first falls under ``level``; None if flat."""
    x = np.asarray(x, np.float64) - np.mean(x)
    n = x.size
    if n < 4 or float(x.var()) < 1e-12:
        return None
    m = 1 << int(np.ceil(np.log2(2 * n)))
    f = np.fft.rfft(x, m)
    ac = np.fft.irfft(f * np.conj(f), m)[:n]
    ac = ac / ac[0]
    below = np.nonzero(ac < level)[0]
    return float(below[0]) / fps if below.size else n / fps


def find_blinks(b: np.ndarray, height: float = BLINK_HEIGHT,
                prominence: float = BLINK_PROMINENCE) -> list[tuple[int, float, float]]:
    """Blink events in a (T,) eyelid curve: (frame, peak, width in frames at half prominence)."""
    b = np.asarray(b, np.float64)
    n = b.size
    if n < 3:
        return []
    out = []
    i = 1
    while i < n - 1:
        if b[i] > b[i - 1]:
            j = i
            while j + 1 < n and b[j + 1] == b[i]:  # plateau: the peak is its middle
                j += 1
            if j + 1 < n and b[j + 1] < b[i] and b[i] >= height:
                k = (i + j) // 2
                # Prominence as in topography: lowest point before reaching higher ground on each side.
                lo = i
                while lo > 0 and b[lo - 1] <= b[i]:
                    lo -= 1
                hi = j
                while hi < n - 1 and b[hi + 1] <= b[i]:
                    hi += 1
                base = max(b[lo:i + 1].min(), b[j:hi + 1].min())
                prom = b[i] - base
                if prom >= prominence:
                    half = b[i] - 0.5 * prom
                    left = i
                    while left > lo and b[left - 1] > half:
                        left -= 1
                    right = j
                    while right < hi and b[right + 1] > half:
                        right += 1
                    # Linear interpolation of the half-level crossings on each flank.
                    xl = left - 1 + (half - b[left - 1]) / (b[left] - b[left - 1]) if left > 0 and \
                        b[left] != b[left - 1] else float(left)
                    xr = right + (b[right] - half) / (b[right] - b[right + 1]) if right < n - 1 and \
                        b[right] != b[right + 1] else float(right)
                    out.append((k, float(b[i]), float(xr - xl)))
            i = j + 1
        else:
            i += 1
    return out


def animation_stats(anim: FaceAnimation) -> dict:
    """Raw per-animation statistics (sums and event lists) that :func:`pool` combines over a set."""
    a = _at_30(anim)
    t = a.num_frames
    s: dict = {"frames": t, "seconds": t / FPS}
    if has_head(a):
        h = np.degrees(a.head_rotation.astype(np.float64))  # (T, 3)
        d1 = np.diff(h, axis=0)
        d2 = np.diff(h, n=2, axis=0)
        s["head_d1"] = np.abs(d1).sum(axis=0)
        s["head_d2"] = np.abs(d2).sum(axis=0)
        s["head_n1"], s["head_n2"] = d1.shape[0], d2.shape[0]
        s["head_max_step"] = float(np.abs(d1).max()) if d1.size else 0.0
        s["head_speed"] = np.linalg.norm(d1, axis=1) * FPS
        s["head_power_hf"], s["head_power"] = head_power(h)
        ac = [autocorr_time(h[:, k]) for k in range(3)]
        ac = [x for x in ac if x is not None]
        s["head_autocorr"] = float(np.mean(ac)) if ac else None
    blink = _pair(a, "eyeBlink")
    s["blinks"] = find_blinks(blink)
    for key, stem in (("brow_inner_std", "browInnerUp"), ("brow_down_std", "browDown"),
                      ("cheek_squint_std", "cheekSquint"), ("smile_std", "mouthSmile")):
        s[key] = float(_pair(a, stem).std())
    s["brow_autocorr"] = autocorr_time(_pair(a, "browInnerUp"))
    return s


def head_power(h: np.ndarray) -> tuple[float, float]:
    """(power above HEAD_HF_HZ, power above DC) of (T, 3) head angles, summed over HEAD_SEGMENT-frame segments
    (50% overlap), each linearly detrended and Hann windowed; a clip shorter than a segment adds nothing (its
    spectrum would be coarser, and a short window spreads low-frequency power upward)."""
    n = HEAD_SEGMENT
    f = np.fft.rfftfreq(n, 1.0 / FPS)
    k = np.arange(n, dtype=np.float64)
    win = np.hanning(n)[:, None]
    hf = tot = 0.0
    for a in range(0, len(h) - n + 1, n // 2):
        seg = h[a:a + n]
        coef = np.polyfit(k, seg, 1)  # (2, 3)
        p = np.abs(np.fft.rfft((seg - (np.outer(k, coef[0]) + coef[1])) * win, axis=0)) ** 2
        hf += float(p[f > HEAD_HF_HZ].sum())
        tot += float(p[1:].sum())
    return hf, tot


def pool(stats: Sequence[dict]) -> dict:
    """Set-level statistics (STAT_NAMES; None where no animation has the data) from :func:`animation_stats`."""
    out: dict = {k: None for k in STAT_NAMES}
    secs = sum(s["seconds"] for s in stats)
    out["clips"], out["seconds"] = len(stats), secs
    if not stats or secs <= 0:
        return out
    hs = [s for s in stats if "head_d1" in s]
    if hs:
        d1 = sum(s["head_d1"] for s in hs) / max(1, sum(s["head_n1"] for s in hs))
        d2 = sum(s["head_d2"] for s in hs) / max(1, sum(s["head_n2"] for s in hs))
        ratios = [d2[k] / d1[k] for k in range(3) if d1[k] > 1e-9]
        out["head_jitter"] = float(np.mean(ratios)) if ratios else None
        out["head_max_step"] = max(s["head_max_step"] for s in hs)
        speed = np.concatenate([s["head_speed"] for s in hs])
        if speed.size:
            out["head_speed_p50"] = float(np.percentile(speed, 50))
            out["head_speed_p95"] = float(np.percentile(speed, 95))
        tot = sum(s["head_power"] for s in hs)
        out["head_hf_share"] = sum(s["head_power_hf"] for s in hs) / tot if tot > 0 else None
        ac = [(s["head_autocorr"], s["seconds"]) for s in hs if s["head_autocorr"] is not None]
        if ac:
            out["head_autocorr_ms"] = 1000 * sum(x * w for x, w in ac) / sum(w for _, w in ac)
    events = [e for s in stats for e in s["blinks"]]
    out["blinks_per_min"] = 60.0 * len(events) / secs
    if events:
        out["blink_width_ms"] = 1000 * float(np.median([e[2] for e in events])) / FPS
        out["blink_peak"] = float(np.median([e[1] for e in events]))
    for key in ("brow_inner_std", "brow_down_std", "cheek_squint_std", "smile_std"):
        out[key] = sum(s[key] * s["seconds"] for s in stats) / secs
    ac = [(s["brow_autocorr"], s["seconds"]) for s in stats if s["brow_autocorr"] is not None]
    if ac:
        out["brow_autocorr_ms"] = 1000 * sum(x * w for x, w in ac) / sum(w for _, w in ac)
    out["blink_events"] = [(e[1], 1000 * e[2] / FPS) for e in events]  # (peak, width ms) for plots
    out["head_speed"] = np.concatenate([s["head_speed"] for s in hs]).tolist() if hs else []
    return out


def evaluate_set(anims: Iterable[FaceAnimation]) -> dict:
    """Pooled statistics of a set of animations."""
    return pool([animation_stats(a) for a in anims])


def relative_gap(value: float | None, ref: float | None) -> float | None:
    """|value - ref| / |ref|, or None when either is missing or the reference is zero."""
    if value is None or ref is None or abs(ref) < 1e-12:
        return None
    return abs(value - ref) / abs(ref)


def design_animations(clips, emotion: str = "neutral", actors: int = 8, seed: int = 0) -> Iterable[FaceAnimation]:
    """The corpus's own rules (core/data: mouth track + emotion layer) on each real clip's speech and alignment,
    once per synthetic actor: what the training data would hold for this very speech (its pauses set the
    phrase-end blinks, its pitch accents the brows), a reference that does not depend on how much the speech
    pauses."""
    from ..data.face import synthesize_face
    for i, c in enumerate(clips):
        for actor in range(actors):
            f = synthesize_face(c.audio, c.sr, c.phones, emotion, 1.0, actor, seed + 1000 * i + actor)
            yield FaceAnimation(FPS, f["weights"], f["head_rotation"])


def naturalness_table(sets: dict[str, dict], compare_to: str | Sequence[str] | None = None) -> str:
    """Plain-text table: one row per statistic, one column per set (and the gap to each set in ``compare_to``)."""
    names = list(sets)
    refs = [compare_to] if isinstance(compare_to, str) else list(compare_to or [])
    w = max(10, *(len(n) for n in names))
    head = f"{'statistic':<18}" + "".join(f"{n:>{w + 2}}" for n in names)
    head += "".join(f"  gap({names[0]} vs {r})" for r in refs)
    lines = [head]
    for key, unit, _ in STATS:
        row = f"{key:<18}"
        for n in names:
            v = sets[n].get(key)
            row += f"{_fmt(v):>{w + 2}}"
        for r in refs:
            g = relative_gap(sets[names[0]].get(key), sets[r].get(key))
            row += f"  {'-' if g is None else f'{100 * g:.0f}%':>{len(names[0]) + len(r) + 9}}"
        lines.append(row + (f"  {unit}" if unit else ""))
    lines.append(f"{'clips / seconds':<18}" + "".join(
        f"{str(sets[n]['clips']) + ' / ' + format(sets[n]['seconds'], '.0f'):>{w + 2}}" for n in names))
    return "\n".join(lines)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and (abs(v) >= 100 or v == 0):
        return f"{v:.0f}"
    if abs(v) < 0.01:
        return f"{v:.5f}"  # the head's high-frequency share: ~0.002
    return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"


def bars(result: dict) -> dict[str, bool | None]:
    """The issue's bars for generated motion on real speech (None where a statistic is missing)."""
    def ok(key, lo=-math.inf, hi=math.inf):
        v = result.get(key)
        return None if v is None else bool(lo <= v <= hi)
    return {"head_jitter<=0.5": ok("head_jitter", hi=0.5), "head_max_step<=1deg": ok("head_max_step", hi=1.0),
            "blinks 10-30/min": ok("blinks_per_min", 10, 30), "blink_width 100-300ms": ok("blink_width_ms", 100, 300),
            "blink_peak>=0.5": ok("blink_peak", 0.5), "brow_inner_std>=0.05": ok("brow_inner_std", 0.05)}


def plot(sets: dict[str, dict], path) -> None:
    """Overlaid distributions (head speed, blink width and peak) and per-set bars of activity to a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 4, figsize=(17, 3.8))
    for name, r in sets.items():
        if r.get("head_speed"):
            ax[0].hist(np.clip(r["head_speed"], 0, 60), bins=60, range=(0, 60), density=True, histtype="step",
                       label=name, lw=1.5)
        ev = r.get("blink_events") or []
        if ev:
            ax[1].hist(np.clip([e[1] for e in ev], 0, 600), bins=24, range=(0, 600), density=True,
                       histtype="step", label=name, lw=1.5)
            ax[2].hist([e[0] for e in ev], bins=20, range=(0.2, 1.0), density=True, histtype="step", label=name,
                       lw=1.5)
    ax[0].set(title="head angular speed", xlabel="deg/s")
    ax[1].set(title="blink width at half prominence", xlabel="ms")
    ax[2].set(title="blink peak", xlabel="mean eyeBlink")
    keys = ("brow_inner_std", "brow_down_std", "cheek_squint_std", "smile_std")
    x = np.arange(len(keys))
    wd = 0.8 / max(1, len(sets))
    for i, (name, r) in enumerate(sets.items()):
        ax[3].bar(x + i * wd, [r.get(k) or 0 for k in keys], wd, label=name)
    ax[3].set_xticks(x + 0.4 - wd / 2, [k.replace("_std", "") for k in keys], fontsize=8)
    ax[3].set(title="channel std (activity)")
    for a in ax:
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
