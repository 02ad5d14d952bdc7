"""The disentangled, emotion-free mouth track: ARKit jaw/mouth/tongue curves from phone timings.

Coarticulation follows Cohen & Massaro's dominance model: every phone has a target per articulatory
parameter and a dominance function D(t) = alpha * exp(-theta * tau(t)^2), where tau is the distance from t to
the phone's core interval (0 inside it). A parameter at time t is the dominance-weighted mean of all targets,
so strong phones (bilabial lip closure, sibilant jaw height) override weak ones (HH, K/G lip shape) and short
phones are pulled toward their neighbours (fast speech undershoots). Vowels' jaw opening also follows loudness.

Articulatory parameters (all in [0, 1]) and how they map to ARKit:
- jaw: jawOpen;      lip: lip aperture, 0 = lips sealed; mouthClose = jawOpen * (1 - lip) so the visible
  lip gap jawOpen - mouthClose = jawOpen * lip;
- pucker, funnel: mouthPucker, mouthFunnel;   roll_lo, roll_up: mouthRollLower/Upper;
- up: mouthUpperUp L/R;   down: mouthLowerDown L/R;   tongue: tongueOut;
- shrug_lo, shrug_up: mouthShrugLower/Upper;   fwd: jawForward.
Lower-lip, upper-lip and funnel shapes are multiplied by the lip aperture, so a seal stays a seal.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...rigs.arkit import INDEX, NUM_BLENDSHAPES
from .phones import SILENCE, VOWELS, Phone

PARAMS: tuple[str, ...] = ("jaw", "lip", "pucker", "funnel", "roll_lo", "roll_up", "up", "down", "tongue",
                           "shrug_lo", "shrug_up", "fwd")
P = {n: i for i, n in enumerate(PARAMS)}
REST = {n: 0.0 for n in PARAMS} | {"lip": 0.0}  # rest: jaw closed, lips together, nothing else

# ---- targets (unlisted parameters take the rest value with that phone's weak default dominance) -------------
_V = {  # vowels: jaw by height (open AA/AE/AO > mid EH/AH > close IY/UW), lips by rounding/spreading
    "AA": dict(jaw=0.50, lip=1, down=0.35, up=0.12),
    "AE": dict(jaw=0.44, lip=1, down=0.35, up=0.25),
    "AH": dict(jaw=0.38, lip=1, down=0.25, up=0.10),
    "AO": dict(jaw=0.44, lip=1, pucker=0.25, funnel=0.40, down=0.20),
    "EH": dict(jaw=0.34, lip=1, down=0.30, up=0.20),
    "ER": dict(jaw=0.30, lip=1, pucker=0.25, funnel=0.30, up=0.15, down=0.18),
    "IH": dict(jaw=0.20, lip=1, down=0.22, up=0.22),
    "IY": dict(jaw=0.13, lip=1, down=0.22, up=0.28),
    "UH": dict(jaw=0.20, lip=1, pucker=0.45, funnel=0.35, down=0.10),
    "UW": dict(jaw=0.14, lip=1, pucker=0.70, funnel=0.35, down=0.05),
    "OW": dict(jaw=0.36, lip=1, pucker=0.40, funnel=0.50, down=0.15),
}
# Diphthongs: first half / second half targets.
_DIPH = {"AW": ("AA", "UH"), "AY": ("AA", "IY"), "EY": ("EH", "IY"), "OY": ("AO", "IY"), "OW": ("OW", "UW")}
_C = {
    "P": dict(jaw=0.08, lip=0.0, roll_lo=0.15, roll_up=0.12),
    "B": dict(jaw=0.08, lip=0.0, roll_lo=0.12, roll_up=0.10),
    "M": dict(jaw=0.08, lip=0.0, roll_lo=0.10, roll_up=0.08),
    "F": dict(jaw=0.05, lip=0.35, roll_lo=0.32, up=0.18),
    "V": dict(jaw=0.05, lip=0.35, roll_lo=0.30, up=0.15),
    "TH": dict(jaw=0.12, lip=1, tongue=0.30, up=0.10, down=0.10),
    "DH": dict(jaw=0.10, lip=1, tongue=0.22, up=0.10, down=0.10),
    "T": dict(jaw=0.14, lip=1, down=0.15, up=0.12), "D": dict(jaw=0.14, lip=1, down=0.15, up=0.12),
    "N": dict(jaw=0.14, lip=1, down=0.12, up=0.10), "L": dict(jaw=0.18, lip=1, down=0.15, up=0.08),
    "S": dict(jaw=0.07, lip=1, down=0.22, up=0.22), "Z": dict(jaw=0.07, lip=1, down=0.22, up=0.22),
    "SH": dict(jaw=0.09, lip=1, pucker=0.30, funnel=0.50, down=0.22, up=0.22, shrug_up=0.10),
    "ZH": dict(jaw=0.09, lip=1, pucker=0.30, funnel=0.50, down=0.22, up=0.22, shrug_up=0.10),
    "CH": dict(jaw=0.09, lip=1, pucker=0.30, funnel=0.45, down=0.20, up=0.20, shrug_up=0.10),
    "JH": dict(jaw=0.09, lip=1, pucker=0.30, funnel=0.45, down=0.20, up=0.20, shrug_up=0.10),
    "K": dict(jaw=0.20, lip=1, down=0.15), "G": dict(jaw=0.20, lip=1, down=0.15),
    "NG": dict(jaw=0.18, lip=1, down=0.12),
    "HH": dict(jaw=0.25, lip=1),
    "R": dict(jaw=0.15, lip=1, pucker=0.35, funnel=0.25, up=0.12),
    "W": dict(jaw=0.08, lip=0.7, pucker=0.75, funnel=0.30, shrug_lo=0.08),
    "Y": dict(jaw=0.12, lip=1, down=0.18, up=0.22),
    SILENCE: dict(jaw=0.0, lip=0.0),
}

# ---- dominance: strength alpha and sharpness theta (1/s^2) per parameter ------------------------------------
# Vowels own the jaw and rounding; bilabials own the lip seal with a high, sharp peak (a closure completes
# even in fast speech, yet releases within ~40 ms); F/V own the lower-lip tuck; sibilants keep the jaw high.
_VOWEL_DOM = dict(jaw=(1.0, 250.0), lip=(0.5, 250.0), pucker=(1.0, 250.0), funnel=(1.0, 250.0),
                  up=(0.8, 250.0), down=(0.8, 250.0), tongue=(1.5, 250.0), default=(0.5, 250.0))
_CONS_DOM = dict(jaw=(0.35, 500.0), lip=(0.4, 500.0), pucker=(0.15, 500.0), funnel=(0.15, 500.0),
                 default=(0.35, 500.0))
_DOM_OVERRIDE = {
    "P": dict(lip=(60.0, 3000.0), roll_lo=(3.0, 3000.0), roll_up=(3.0, 3000.0), down=(3.0, 3000.0),
              up=(3.0, 3000.0), jaw=(0.6, 600.0)),
    "F": dict(lip=(12.0, 2500.0), roll_lo=(8.0, 2500.0), up=(3.0, 2500.0), jaw=(6.0, 1500.0),
              down=(3.0, 2500.0), tongue=(2.0, 2500.0)),
    "W": dict(pucker=(4.0, 600.0), funnel=(3.0, 600.0), lip=(3.0, 1200.0), jaw=(0.8, 600.0)),
    "TH": dict(tongue=(4.0, 2500.0), jaw=(0.8, 800.0)),
    "S": dict(jaw=(1.5, 800.0), down=(1.5, 800.0), up=(1.5, 800.0), lip=(2.0, 1200.0)),
    "SH": dict(jaw=(1.5, 800.0), pucker=(2.0, 800.0), funnel=(2.0, 800.0), lip=(2.0, 1200.0)),
    "T": dict(jaw=(0.6, 600.0), lip=(1.5, 1200.0)),
    "HH": dict(default=(0.05, 400.0)),  # HH takes the shape of the following vowel
    "K": dict(jaw=(0.3, 500.0), lip=(1.0, 1200.0), pucker=(0.05, 500.0), funnel=(0.05, 500.0)),
    "R": dict(pucker=(1.5, 600.0), funnel=(1.0, 600.0)),
    SILENCE: dict(default=(0.8, 60.0), lip=(0.8, 60.0)),
}
for _a, _bs in (("P", "B M"), ("F", "V"), ("TH", "DH"), ("S", "Z"), ("SH", "ZH CH JH"), ("T", "D N L Y"),
                ("K", "G NG")):
    for _b in _bs.split():
        _DOM_OVERRIDE[_b] = _DOM_OVERRIDE[_a]
BASELINE_DOMINANCE = 1e-4  # a rest target everywhere, so far-from-speech frames settle at rest
EXP_UNDERFLOW = 746.0  # exp(-x) is exactly 0.0 in float64 for x above this
FRAME_BLOCK = 512  # frames blended at once by articulation()


@dataclass
class MouthTrack:
    """The mouth track and the articulatory curves it came from."""

    weights: np.ndarray  # (T, 52) float32, nonzero only on MOUTH_SET channels
    params: np.ndarray  # (T, len(PARAMS)) articulatory parameters
    seal: np.ndarray  # (T,) 1 = lips sealed (bilabial), 0 = apart; used to keep closures under emotion
    openness: np.ndarray  # (T,) lip gap of the mouth track alone (the metric's g, without press/roll)


def _segments(phones: Sequence[Phone]) -> list[tuple[str, float, float, float]]:
    """(target key, start, end, phone duration) per articulatory segment; diphthongs split in two halves."""
    segs = []
    for ph in phones:
        p = ph.phone
        if p in _DIPH:
            a, b = _DIPH[p]
            mid = ph.start + 0.5 * (ph.end - ph.start)
            segs.append((a, ph.start, mid, ph.duration))
            segs.append((b, mid, ph.end, ph.duration))
        else:
            segs.append((p, ph.start, ph.end, ph.duration))
    return segs


def _target_and_dominance(key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tgt = np.array([REST[n] for n in PARAMS], np.float64)
    src = _V.get(key) if key in _V else _C.get(key, {})
    for n, v in src.items():
        tgt[P[n]] = v
    base = _VOWEL_DOM if key in _V else _CONS_DOM
    over = _DOM_OVERRIDE.get(key, {})
    alpha = np.empty(len(PARAMS))
    theta = np.empty(len(PARAMS))
    for i, n in enumerate(PARAMS):
        a, th = over.get(n, over.get("default", base.get(n, base["default"])))
        alpha[i], theta[i] = a, th
    return tgt, alpha, theta


_TABLE = {k: _target_and_dominance(k) for k in list(_V) + list(_C)}


def articulation(phones: Sequence[Phone], times: np.ndarray, rate: float = 1.0) -> np.ndarray:
    """(T, len(PARAMS)) dominance-blended articulatory parameters at ``times`` (s).

    ``rate`` scales every phone's undershoot: short vowels (fast speech) reach less of their jaw/rounding
    target. Bilabial seals are never reduced.
    """
    segs = _segments(phones)
    times = np.asarray(times, np.float64)
    if not segs:
        return np.tile(np.array([REST[n] for n in PARAMS]), (len(times), 1))
    n = len(segs)
    tgt = np.empty((n, len(PARAMS)))
    alpha = np.empty((n, len(PARAMS)))
    theta = np.empty((n, len(PARAMS)))
    start = np.empty(n)
    end = np.empty(n)
    rest = np.array([REST[k] for k in PARAMS])
    for i, (key, s, e, dur) in enumerate(segs):
        t_, a_, th_ = _TABLE.get(key, _TABLE["AH" if key in VOWELS else "T"])
        t_ = t_.copy()
        # Undershoot: a vowel shorter than ~120 ms reaches only part of its target (down to 65% at 40 ms).
        if key in _V or key in VOWELS:
            reach = float(np.clip(0.65 + 0.35 * (dur - 0.04) / 0.08, 0.65, 1.0)) ** rate
            for k in ("jaw", "pucker", "funnel", "down", "up"):
                t_[P[k]] = rest[P[k]] + reach * (t_[P[k]] - rest[P[k]])
        tgt[i], alpha[i], theta[i] = t_, a_, th_
        # A phone's core: its middle 80% (its edges belong to the transitions with its neighbours).
        pad = 0.1 * (e - s)
        start[i], end[i] = s + pad, e - pad
    # A phone's dominance is exactly 0.0 (exp underflows) beyond reach[i] of its core, so each block of frames
    # sums only the phones within reach: the cost grows with the take's length, not its square (an hour of
    # speech would otherwise hold (phones, frames, params) arrays of terabytes).
    reach = np.sqrt(EXP_UNDERFLOW / theta.min(axis=1))  # (n,) s
    lo, hi = start - reach, end + reach
    out = np.empty((len(times), len(PARAMS)))
    for a in range(0, len(times), FRAME_BLOCK):
        tb = times[a:a + FRAME_BLOCK]
        sel = np.nonzero((hi >= tb.min()) & (lo <= tb.max()))[0]
        tau = np.maximum(0.0, np.maximum(start[sel, None] - tb[None, :], tb[None, :] - end[sel, None]))  # (m, B)
        dom = alpha[sel, None, :] * np.exp(-theta[sel, None, :] * (tau ** 2)[:, :, None])  # (m, B, P)
        num = np.einsum("ntp,np->tp", dom, tgt[sel]) + BASELINE_DOMINANCE * rest[None, :]
        out[a:a + FRAME_BLOCK] = num / (dom.sum(axis=0) + BASELINE_DOMINANCE)
    return out


def to_arkit(params: np.ndarray, loudness: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, 52) ARKit weights and (T,) seal from articulatory parameters; jaw scaled by loudness in [0, 1]."""
    t = params.shape[0]
    w = np.zeros((t, NUM_BLENDSHAPES), np.float64)
    p = {k: params[:, i] for k, i in P.items()}
    jaw = p["jaw"]
    if loudness is not None:
        # Loud syllables open the jaw wider: x0.7 at 30 dB below the clip's loud frames, x1.15 at them.
        jaw = jaw * (0.7 + 0.45 * np.asarray(loudness, np.float64))
    lip = np.clip(p["lip"], 0.0, 1.0)
    w[:, INDEX["jawOpen"]] = jaw
    w[:, INDEX["mouthClose"]] = jaw * (1.0 - lip)
    w[:, INDEX["mouthFunnel"]] = p["funnel"] * lip
    w[:, INDEX["mouthPucker"]] = p["pucker"]
    w[:, INDEX["mouthRollLower"]] = p["roll_lo"]
    w[:, INDEX["mouthRollUpper"]] = p["roll_up"]
    for side in ("Left", "Right"):
        # The upper lip lifts off a labiodental tuck (aperture ~0.35) but not off a bilabial seal.
        w[:, INDEX["mouthUpperUp" + side]] = p["up"] * np.clip(lip / 0.35, 0.0, 1.0)
        w[:, INDEX["mouthLowerDown" + side]] = p["down"] * lip
    w[:, INDEX["mouthShrugLower"]] = p["shrug_lo"]
    w[:, INDEX["mouthShrugUpper"]] = p["shrug_up"]
    w[:, INDEX["tongueOut"]] = p["tongue"]
    w[:, INDEX["jawForward"]] = p["fwd"]
    return np.clip(w, 0.0, 1.0), 1.0 - lip


def lip_gap(weights: np.ndarray) -> np.ndarray:
    """(T,) the lip-sync metric's lip gap g for (T, 52) ARKit weights (specs/lipsync-metric.md)."""
    w = np.clip(np.asarray(weights, np.float64), 0.0, 1.0)
    c = lambda n: w[:, INDEX[n]]  # noqa: E731
    g = (np.clip(c("jawOpen") - c("mouthClose"), 0, 1)
         + 0.3 * 0.5 * (c("mouthLowerDownLeft") + c("mouthLowerDownRight"))
         + 0.3 * 0.5 * (c("mouthUpperUpLeft") + c("mouthUpperUpRight"))
         + 0.2 * c("mouthFunnel")
         - 0.3 * 0.5 * (c("mouthRollLower") + c("mouthRollUpper"))
         - 0.2 * 0.5 * (c("mouthPressLeft") + c("mouthPressRight")))
    return np.maximum(0.0, g)


def mouth_track(phones: Sequence[Phone], num_frames: int, fps: float = 30.0,
                loudness: np.ndarray | None = None, rate: float = 1.0) -> MouthTrack:
    """The emotion-free mouth track at frame centres (k + 0.5) / fps for a phone alignment."""
    times = (np.arange(num_frames) + 0.5) / float(fps)
    params = articulation(phones, times, rate=rate)
    w, seal = to_arkit(params, loudness)
    return MouthTrack(w.astype(np.float32), params.astype(np.float32), seal.astype(np.float32),
                      lip_gap(w).astype(np.float32))

