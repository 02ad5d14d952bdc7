"""The emotion layer: FACS action-unit expressions of the eight MEAD emotions, per-actor style, prosody-driven
brows and head, blinks, gaze saccades and head pose, all as ARKit curves.

Magnitudes are calibrated on the two real iPhone Live Link Face takes in ../shared/data (60 fps; measured with
a short script: ``a = read_animation(csv)``, then per channel ``np.percentile(w, [5, 50, 95])``, ``w.std()``,
``np.diff(w).std()``, FFT power per band, blink events from ``eyeBlink > 0.1 / 0.4``, least squares of
``a.eye_gaze`` on eyeLook shapes and of eyeLookDown on eyeBlink). Measured values used here:
- livelink_sample.csv (50.8 s, mostly neutral/smiling): mouthSmile L/R median 0.057/0.037, p95 0.28/0.14,
  max 0.50/0.33; cheekSquint p95 0.13/0.105, max 0.46; eyeSquint p95 0.076, max 0.28; noseSneer median 0.03,
  p95 0.16; brows p95 <= 0.04 (max 0.11); eyeWide p95 0.04; resting mouthRollLower 0.027, mouthShrugLower 0.026,
  mouthPucker 0.011, mouthPress 0.005, cheekPuff 0.004; blinks (eyeBlink > 0.4) 11.8/min.
- livelink_sad.csv (30.4 s, sad): browInnerUp median 0.17 (p95 0.23), browDown median 0.23 (p95 0.36),
  mouthFrown median 0.13/0.14 (p95 0.23/0.25), eyeSquint median 0.25 (p95 0.37), mouthShrugLower 0.10 (p95 0.17),
  mouthShrugUpper 0.07 (p95 0.13), mouthRollLower 0.09 (p95 0.13), mouthStretch p95 0.08/0.04; blinks 21.7/min.
- Small constant motion: std of upper-face channels at rest 0.014-0.017; 50-70 % of its power below 0.2 Hz,
  25-40 % in 0.2-1 Hz, < 10 % above 1 Hz.
- Blinks: eyeBlink > 0.1 lasts 130-300 ms (median ~170 ms), peaks 0.3-0.94 (median 0.5 neutral, 0.77 sad).
- Gaze vs shapes (least squares, r > 0.94): eye yaw = 0.62 rad x (eyeLookIn - eyeLookOut) for the left eye and
  0.63 x (eyeLookOut - eyeLookIn) for the right eye (positive yaw = toward the subject's right);
  eye pitch = 0.52 rad x (eyeLookDown - eyeLookUp) (positive = down). Gaze std 0.01-0.09 rad.
- eyeLookDown rises with eyeBlink: slope 0.77 / 0.44, r = 0.90 / 0.92 (30 fps).
- L/R asymmetry: smile medians differ by ~20 % in the sample take; frowns by ~7 % in the sad take.
NOT measured: both takes have zero head rotation, so head-pose amplitudes (a few degrees, the usual range of
conversational head motion) are set by hand, as are the emotion-specific blink-rate factors other than sad.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ...rigs.arkit import INDEX, NUM_BLENDSHAPES
from ..emotions import EMOTIONS, canonical_emotion
from ..lips.phones import SILENCE, Phone
from ..prosody import Prosody

# Gaze <-> eyeLook shapes, measured on the captures (rad per unit of shape).
GAZE_YAW_PER_UNIT = 0.62
GAZE_PITCH_PER_UNIT = 0.52

# Action-unit signatures at intensity 1 for a typical actor (bilateral names without Left/Right apply to both).
# Sad's numbers sit at the sad take's medians-to-p95; happy's smile at the sample take's max; the others are
# scaled to the same range (brow/eye <= 0.45, smile <= 0.5) as the specs/emotions.md table prescribes.
AU_SIGNATURES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"mouthSmile": 0.50, "cheekSquint": 0.40, "eyeSquint": 0.28, "mouthDimple": 0.06,
              "noseSneer": 0.10, "browInnerUp": 0.04},
    "sad": {"browInnerUp": 0.28, "browDown": 0.30, "mouthFrown": 0.24, "mouthShrugLower": 0.17,
            "mouthShrugUpper": 0.12, "eyeSquint": 0.24, "mouthRollLower": 0.08, "mouthStretch": 0.05},
    "surprised": {"browInnerUp": 0.45, "browOuterUp": 0.45, "eyeWide": 0.42, "jawOpen": 0.16,
                  "mouthFunnel": 0.05},
    "fear": {"browInnerUp": 0.42, "browOuterUp": 0.25, "browDown": 0.15, "eyeWide": 0.38, "eyeSquint": 0.10,
             "mouthStretch": 0.30, "jawOpen": 0.08, "mouthFrown": 0.06},
    "angry": {"browDown": 0.45, "eyeSquint": 0.22, "eyeWide": 0.10, "mouthPress": 0.30, "mouthRollLower": 0.08,
              "mouthRollUpper": 0.08, "noseSneer": 0.15, "mouthFrown": 0.08, "jawForward": 0.04},
    "disgusted": {"noseSneer": 0.40, "mouthUpperUp": 0.28, "mouthFrown": 0.20, "mouthShrugUpper": 0.20,
                  "browDown": 0.22, "eyeSquint": 0.20, "cheekSquint": 0.15, "mouthShrugLower": 0.08},
    "contempt": {"mouthSmile@": 0.35, "mouthDimple@": 0.25, "eyeSquint@": 0.06, "browDown": 0.05},
}
assert set(AU_SIGNATURES) == set(EMOTIONS)
# '@' = one side only (the actor's contempt side).

# Resting offsets every face shows (sample take medians).
REST_LEVELS = {"mouthRollLower": 0.027, "mouthShrugLower": 0.026, "mouthShrugUpper": 0.008, "mouthPucker": 0.011,
               "mouthPress": 0.005, "cheekPuff": 0.004, "noseSneer": 0.03, "cheekSquint": 0.015,
               "mouthSmile": 0.03}


@dataclass(frozen=True)
class EmotionDynamics:
    """How an emotion moves: head-motion std (rad) and bandwidth (Hz), head bias, brow accents, blinks."""

    head_amp: float
    head_bw: float
    pitch_bias: float  # rad, + = chin down
    yaw_bias: float  # rad, + = face turns to the subject's left
    roll_bias: float  # rad
    nod: float  # rad per unit pitch accent (chin-down nod on accents)
    brow_accent: float  # brow raise per unit accent
    brow_down_accent: float  # brow lowering per unit accent (angry emphasis)
    blink_factor: float
    accent_sharpness: float  # smoothing of accents in seconds (short = sharp)
    blink_depth: float = 1.0  # sad take's blinks peak at 0.77 (median) vs 0.59 in the sample take
    # Brow events on the strongest accents (a raise, or a lowering for angry emphasis), peak weight per event.
    # Ten real takes measured in issue 14 have a browInnerUp std of 0.087 (0.025 in the two shared takes):
    # conversational brows rise and fall on emphasis, not only drift.
    brow_raise: float = 0.4
    brow_lower: float = 0.0


# Gains on the prosodic brow motion of faces whose brows are not already up (version 2 of the corpus). With 1.0 the neutral corpus had a
# browInnerUp std of 0.038 against 0.087 in the ten real takes of issue 14; 1.5 and 2.0 give 0.073 (measured on
# 60 neutral held-out clips), between the two shared takes (0.025) and the ten.
BROW_ACCENT_GAIN = 1.5
BROW_EVENT_GAIN = 2.0

DYNAMICS: dict[str, EmotionDynamics] = {
    "neutral": EmotionDynamics(0.030, 0.45, 0.00, 0.00, 0.00, 0.025, 0.07, 0.00, 1.0, 0.10),
    "happy": EmotionDynamics(0.045, 0.55, -0.01, 0.00, 0.02, 0.030, 0.09, 0.00, 1.0, 0.10, brow_raise=0.45),
    "sad": EmotionDynamics(0.015, 0.25, 0.10, 0.00, 0.01, 0.010, 0.05, 0.00, 1.0, 0.18, 1.3, brow_raise=0.2),
    "angry": EmotionDynamics(0.040, 0.90, 0.04, 0.00, 0.00, 0.060, 0.00, 0.10, 0.9, 0.05, brow_raise=0.0,
                             brow_lower=0.3),
    "surprised": EmotionDynamics(0.040, 0.55, -0.07, 0.00, 0.00, 0.020, 0.14, 0.00, 0.7, 0.08, brow_raise=0.5),
    "fear": EmotionDynamics(0.030, 1.10, -0.03, 0.00, 0.00, 0.015, 0.10, 0.00, 1.3, 0.06, brow_raise=0.35),
    "disgusted": EmotionDynamics(0.035, 0.45, -0.03, 0.06, 0.00, 0.020, 0.04, 0.05, 1.0, 0.10, brow_raise=0.08,
                                 brow_lower=0.2),
    "contempt": EmotionDynamics(0.030, 0.40, -0.04, 0.04, 0.05, 0.015, 0.05, 0.00, 1.0, 0.12, brow_raise=0.18),
}


@dataclass(frozen=True)
class ActorStyle:
    """Deterministic per-actor style: gains, asymmetry, favoured AUs, head, blink and gaze habits."""

    actor: int
    channel_gain: dict = field(repr=False)  # bilateral channel name -> gain
    favour: dict = field(repr=False)  # (emotion, channel name) -> gain on that AU for that emotion
    asymmetry: float  # + = left side stronger
    contempt_side: str  # "Left" or "Right"
    head_gain: float
    blink_rate: float  # blinks per minute at neutral
    blink_peak: float
    blink_dur: float  # seconds (eyeBlink > 0.1)
    brow_react: float
    gaze_amp: float  # rad std of fixation targets
    fixation: float  # mean fixation duration, s
    rest_gain: float


def _bilateral(name: str) -> str:
    for s in ("Left", "Right"):
        if name.endswith(s):
            return name[: -len(s)]
    return name


def actor_style(actor: int) -> ActorStyle:
    """The style of actor ``actor`` (same id, same style, on every machine)."""
    rng = np.random.default_rng([int(actor) & 0xFFFFFFFF, 0x5EED5])
    bases = sorted({_bilateral(n) for n in INDEX})
    gains = {b: float(np.exp(rng.normal(0.0, 0.2))) for b in bases}
    favour = {}
    for e in EMOTIONS:
        for ch in AU_SIGNATURES[e]:
            # Each actor leans on some AUs of an emotion and plays down others (x0.45 .. x1.45).
            favour[(e, ch.rstrip("@"))] = float(rng.uniform(0.45, 1.45))
    return ActorStyle(
        actor=int(actor), channel_gain=gains, favour=favour,
        asymmetry=float(np.clip(rng.normal(0.0, 0.12), -0.3, 0.3)),
        contempt_side="Left" if rng.random() < 0.5 else "Right",
        head_gain=float(np.exp(rng.normal(0.0, 0.3))),
        # Measured: 22-24 eyelid events/min above 0.1 (10.6-21.7/min above 0.4) incl. phrase-end blinks,
        # peaks 0.3-0.94, 130-300 ms above 0.1 (full closing-opening is ~1.25x that).
        blink_rate=float(rng.uniform(12.0, 20.0)),
        blink_peak=float(rng.uniform(0.45, 0.9)),
        blink_dur=float(rng.uniform(0.20, 0.36)),
        brow_react=float(rng.uniform(0.4, 1.3)),
        gaze_amp=float(rng.uniform(0.03, 0.10)),
        fixation=float(rng.uniform(0.8, 2.5)),
        rest_gain=float(rng.uniform(0.5, 1.5)),
    )


# ---- signal helpers ---------------------------------------------------------------------------------------
def smooth_noise(rng: np.random.Generator, t: int, fps: float, bw_hz: float, width: int = 1) -> np.ndarray:
    """(T, width) unit-std low-pass Gaussian noise with a Gaussian spectrum of std ``bw_hz``."""
    n = max(64, 1 << int(np.ceil(np.log2(2 * t + 16))))  # >= 2T: the circular series' ends stay uncorrelated
    x = rng.normal(size=(n, width))
    f = np.fft.rfftfreq(n, 1.0 / fps)
    y = np.fft.irfft(np.fft.rfft(x, axis=0) * np.exp(-0.5 * (f / max(bw_hz, 1e-3)) ** 2)[:, None], n, axis=0)
    # Normalise by the whole (longer) series' std, not the clip's, so short clips are not inflated;
    # a soft cap at 2.5 std keeps rare excursions plausible.
    sd = y.std(axis=0, keepdims=True)
    y = y[:t] / np.where(sd > 1e-12, sd, 1.0)
    return 2.5 * np.tanh(y / 2.5)


def _smooth(x: np.ndarray, fps: float, sigma_s: float) -> np.ndarray:
    """Gaussian smoothing along time (edges padded)."""
    s = sigma_s * fps
    if s < 0.3:
        return x
    r = int(np.ceil(3 * s))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / s) ** 2)
    k /= k.sum()
    return np.convolve(np.pad(x, r, mode="edge"), k, mode="valid")


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


@dataclass
class EmotionLayer:
    """The emotion layer's curves."""

    weights: np.ndarray  # (T, 52) float32 in [0, 1]
    head_rotation: np.ndarray  # (T, 3) float32 radians [pitch, yaw, roll]
    eye_gaze: np.ndarray  # (T, 6) float32 radians
    envelope: np.ndarray  # (T,) expression strength over the clip (onset ramp, drift)


def accents(prosody: Prosody, sharpness: float) -> np.ndarray:
    """(T,) pitch/energy accents in [0, 1]: pitch above the clip median and rising loudness, smoothed."""
    fps = prosody.fps
    pz = np.clip(prosody.pitch_z() / 4.0, 0.0, 1.0)  # 4 semitones above median = full accent
    loud = prosody.loudness()
    onset = np.clip(np.diff(_smooth(loud, fps, 0.04), prepend=loud[0]) * fps / 4.0, 0.0, 1.0)
    a = np.maximum(pz * loud, 0.6 * onset)
    a = _smooth(a, fps, sharpness)
    m = a.max()
    return a / m if m > 1.0 else a


def brow_events(rng: np.random.Generator, acc: np.ndarray, fps: float, react: float) -> np.ndarray:
    """(T,) brow events in [0, ~1.2]: on the strongest accent peaks (>= 0.7 s apart, 3 in 4 kept), a quick
    rise (120-200 ms), a hold (0.1-0.5 s) and a slower fall (250-450 ms), scaled by the actor's reactivity."""
    t = acc.size
    peaks = [i for i in range(1, t - 1) if acc[i] >= acc[i - 1] and acc[i] > acc[i + 1] and acc[i] >= 0.35]
    kept: list[int] = []
    for i in sorted(peaks, key=lambda k: -acc[k]):
        if all(abs(i - k) >= 0.7 * fps for k in kept):
            kept.append(i)
    c = np.arange(t) / fps
    out = np.zeros(t)
    for i in sorted(kept):
        draw = rng.uniform(size=5)  # fixed draws per peak: a skipped peak does not shift the others
        if draw[0] >= 0.75:
            continue
        rise, hold, fall = 0.12 + 0.08 * draw[1], 0.1 + 0.4 * draw[2], 0.25 + 0.2 * draw[3]
        amp = react * (0.6 + 0.6 * draw[4]) * float(np.sqrt(acc[i]))
        u = c - (i / fps - rise)  # the rise ends at the accent peak
        shape = np.where(u < rise, _smoothstep(u / rise), 1.0 - _smoothstep((u - rise - hold) / fall))
        out = np.maximum(out, amp * np.where(u >= 0, shape, 0.0))
    return out


def _blinks(rng, t, fps, style: ActorStyle, dyn: EmotionDynamics, phones: Sequence[Phone]) -> np.ndarray:
    """(T,) eyeBlink curve: Poisson blinks at the actor/emotion rate, plus one after most phrase ends."""
    dur_s = t / fps
    rate = style.blink_rate * dyn.blink_factor / 60.0
    times = list(np.cumsum(rng.exponential(1.0 / rate, size=int(dur_s * rate * 3 + 5))))
    speech_seen = False
    for ph in phones:
        if ph.phone == SILENCE:
            if speech_seen and ph.duration >= 0.15 and rng.random() < 0.35:
                times.append(ph.start + rng.uniform(0.05, 0.2))
        else:
            speech_seen = True
    times = sorted(x for x in times if x < dur_s)
    kept = []
    for x in times:  # at most one blink per 0.4 s
        if not kept or x - kept[-1] >= 0.4:
            kept.append(x)
    c = (np.arange(t) + 0.5) / fps
    out = np.zeros(t)
    for x in kept:
        d = float(np.clip(style.blink_dur * rng.uniform(0.8, 1.2), 0.12, 0.38))
        peak = float(np.clip(style.blink_peak * dyn.blink_depth * rng.uniform(0.7, 1.15), 0.25, 1.0))
        close = 0.4 * d  # lids close faster than they open
        u = c - x
        up = np.where((u >= -close) & (u < 0), 0.5 - 0.5 * np.cos(np.pi * (u + close) / close), 0.0)
        down = np.where((u >= 0) & (u < d - close), 0.5 + 0.5 * np.cos(np.pi * u / (d - close)), 0.0)
        out = np.maximum(out, peak * (up + down))
    return out


def _gaze(rng, t, fps, style: ActorStyle, pitch_bias: float) -> np.ndarray:
    """(T, 2) gaze yaw/pitch: fixations joined by ~40 ms saccades, plus fixational jitter."""
    c = np.arange(t) / fps
    yaw = np.zeros(t)
    pitch = np.zeros(t)
    s, py, pp = 0.0, 0.0, pitch_bias
    first = True
    while s < t / fps:
        ny = float(np.clip(rng.normal(0.0, style.gaze_amp), -0.35, 0.35))
        npch = float(np.clip(pitch_bias + rng.normal(0.0, 0.6 * style.gaze_amp), -0.3, 0.35))
        if first:
            py, pp, first = ny, npch, False
        ramp = _smoothstep((c - s) / 0.04)
        m = c >= s
        yaw[m] = py + (ny - py) * ramp[m]
        pitch[m] = pp + (npch - pp) * ramp[m]
        py, pp = ny, npch
        s += max(0.25, rng.exponential(style.fixation))
    jit = smooth_noise(rng, t, fps, 2.0, 2) * 0.004
    return np.stack([yaw, pitch], 1) + jit


def _adder(w: np.ndarray, style: ActorStyle) -> Callable[..., None]:
    """``add(name, value, side=None)`` into (T, 52) ``w``: a bilateral name goes to both sides with the actor's
    asymmetry (or to one ``side``), a full ARKit name to its channel."""
    def add(name: str, value: np.ndarray | float, side: str | None = None) -> None:
        if name in INDEX:
            w[:, INDEX[name]] += value
            return
        sides = (side,) if side else ("Left", "Right")
        for s in sides:
            if name + s in INDEX:
                asym = 1.0 + (style.asymmetry if s == "Left" else -style.asymmetry)
                w[:, INDEX[name + s]] += value * (asym if side is None else 1.0)
    return add


def _envelope(rng: np.random.Generator, t: int, fps: float) -> np.ndarray:
    """(T,) expression strength: starts part-way, ramps up over 0.3-1 s, slow drift (+-10 %), slight release."""
    c = np.arange(t) / fps
    start = rng.uniform(0.4, 0.9)
    ramp = rng.uniform(0.3, 1.0)
    env = start + (1 - start) * _smoothstep(c / ramp)
    env *= 1.0 + 0.10 * smooth_noise(rng, t, fps, 0.15)[:, 0]
    env *= 1.0 - rng.uniform(0.0, 0.2) * _smoothstep((c - (c[-1] - 0.6)) / 0.6)
    return np.clip(env, 0.0, 1.2)


def _expression(rng, add, w: np.ndarray, emotion: str, level: float, style: ActorStyle, env: np.ndarray,
                fps: float) -> None:
    """The emotion's AU signature (actor gains, drift), the resting tone and the small constant motion, into w."""
    t = len(env)
    for ch, base in AU_SIGNATURES[emotion].items():
        one_side = ch.endswith("@")
        name = ch.rstrip("@")
        # Actor gain x favour kept within x0.4..x1.5 so level 3 stays near the captures' range.
        g = base * level * float(np.clip(style.channel_gain.get(name, 1.0) * style.favour.get((emotion, name), 1.0),
                                         0.4, 1.5))
        # Slow drift plus ~1 Hz flutter: the sad take's active channels move 0.005-0.01 per 30 fps frame.
        drift = 1.0 + 0.06 * smooth_noise(rng, t, fps, 0.2)[:, 0] + 0.12 * smooth_noise(rng, t, fps, 1.0)[:, 0]
        add(name, g * env * drift, style.contempt_side if one_side else None)
    # Resting tone every face shows, with the measured constant small motion (std ~0.015, mostly < 1 Hz).
    for name, v in REST_LEVELS.items():
        add(name, v * style.rest_gain)
    upper = [n for n in INDEX if n.startswith(("brow", "cheekSquint", "noseSneer", "eyeSquint", "eyeWide",
                                                "mouthSmile", "mouthFrown"))]
    noise = smooth_noise(rng, t, fps, 0.3, len(upper)) * 0.012
    for i, n in enumerate(upper):
        w[:, INDEX[n]] += noise[:, i]


def _prosodic_brows(rng, add, acc: np.ndarray, emotion: str, level: float, style: ActorStyle,
                    dyn: EmotionDynamics, fps: float) -> None:
    """Brows rise with pitch/energy accents, and as discrete events on the strongest (angry/disgusted emphasis
    lowers them instead)."""
    amp = style.brow_react * (0.5 + 0.5 * level) if emotion != "neutral" else style.brow_react
    # Faces whose emotion already holds the brows up (sad, surprised, fear) keep their accents: no headroom.
    lively = AU_SIGNATURES[emotion].get("browInnerUp", 0.0) < 0.2
    amp *= BROW_ACCENT_GAIN if lively else 1.0
    add("browInnerUp", dyn.brow_accent * amp * acc)
    add("browOuterUp", 0.7 * dyn.brow_accent * amp * acc)
    add("browDown", dyn.brow_down_accent * amp * acc)
    ev = brow_events(rng, acc, fps, style.brow_react * (0.5 + 0.5 * level if emotion != "neutral" else 1.0))
    ev *= BROW_EVENT_GAIN if lively else 1.0
    add("browInnerUp", dyn.brow_raise * ev)
    add("browOuterUp", 0.75 * dyn.brow_raise * ev)
    add("browDown", dyn.brow_lower * ev)


def _eyes(rng, w: np.ndarray, emotion: str, level: float, style: ActorStyle, dyn: EmotionDynamics,
          phones: Sequence[Phone], fps: float) -> np.ndarray:
    """Blinks (100-300 ms) and gaze into w (clipped to [0, 1] after); returns the (T, 6) gaze radians."""
    t = len(w)
    blink = _blinks(rng, t, fps, style, dyn, phones)
    w[:, INDEX["eyeBlinkLeft"]] += blink
    w[:, INDEX["eyeBlinkRight"]] += blink * rng.uniform(0.95, 1.05)
    gaze_pitch_bias = (0.06 * level if emotion == "sad" else 0.0) + (-0.05 * level if emotion == "surprised" else 0.0)
    gz = _gaze(rng, t, fps, style, gaze_pitch_bias)  # (T, 2) yaw (+ = subject's right), pitch (+ = down)
    yaw, pitch = gz[:, 0], gz[:, 1]
    w[:, INDEX["eyeLookInLeft"]] += np.maximum(yaw, 0) / GAZE_YAW_PER_UNIT
    w[:, INDEX["eyeLookOutLeft"]] += np.maximum(-yaw, 0) / GAZE_YAW_PER_UNIT
    w[:, INDEX["eyeLookOutRight"]] += np.maximum(yaw, 0) / GAZE_YAW_PER_UNIT
    w[:, INDEX["eyeLookInRight"]] += np.maximum(-yaw, 0) / GAZE_YAW_PER_UNIT
    for s in ("Left", "Right"):
        # Captures show eyeLookDown rising with every blink (slope 0.44-0.77, r ~0.9): eyes roll down.
        w[:, INDEX["eyeLookDown" + s]] += np.maximum(pitch, 0) / GAZE_PITCH_PER_UNIT + 0.6 * blink
        w[:, INDEX["eyeLookUp" + s]] += np.maximum(-pitch, 0) / GAZE_PITCH_PER_UNIT
        # A closing lid hides widening; wide eyes and blinks do not add up.
        w[:, INDEX["eyeWide" + s]] *= 1.0 - blink
    np.clip(w, 0.0, 1.0, out=w)
    # Gaze radians recomputed from the clipped shapes so the two stay consistent.
    ly = GAZE_YAW_PER_UNIT * (w[:, INDEX["eyeLookInLeft"]] - w[:, INDEX["eyeLookOutLeft"]])
    ry = GAZE_YAW_PER_UNIT * (w[:, INDEX["eyeLookOutRight"]] - w[:, INDEX["eyeLookInRight"]])
    lp = GAZE_PITCH_PER_UNIT * (w[:, INDEX["eyeLookDownLeft"]] - w[:, INDEX["eyeLookUpLeft"]])
    rp = GAZE_PITCH_PER_UNIT * (w[:, INDEX["eyeLookDownRight"]] - w[:, INDEX["eyeLookUpRight"]])
    zero = np.zeros(t)
    return np.stack([ly, lp, zero, ry, rp, zero], 1)


def _head(rng, acc: np.ndarray, env: np.ndarray, emotion: str, level: float, style: ActorStyle,
          dyn: EmotionDynamics, fps: float) -> np.ndarray:
    """(T, 3) head [pitch, yaw, roll]: slow wander (emotion bandwidth), accent nods, the emotion's bias ramped
    in with the expression."""
    hg = style.head_gain * (0.6 + 0.4 * level if emotion != "neutral" else 1.0)
    wander = smooth_noise(rng, len(acc), fps, dyn.head_bw, 3) * dyn.head_amp * hg * np.array([0.7, 1.0, 0.5])
    bias_env = env / max(env.max(), 1e-6)
    pitch_h = wander[:, 0] + dyn.nod * hg * acc + dyn.pitch_bias * level * bias_env
    side = 1.0 if style.contempt_side == "Left" else -1.0
    yaw_h = wander[:, 1] + dyn.yaw_bias * level * bias_env * side
    roll_h = wander[:, 2] + dyn.roll_bias * level * bias_env * side
    return np.stack([pitch_h, yaw_h, roll_h], 1)


def emotion_layer(prosody: Prosody, phones: Sequence[Phone], emotion: str, intensity: float, actor: int,
                  seed: int) -> EmotionLayer:
    """The emotion layer for ``emotion`` at ``intensity`` in [0, 1], as actor ``actor``, deterministic in seed."""
    emotion = canonical_emotion(emotion)
    intensity = float(np.clip(intensity, 0.0, 1.0))
    style = actor_style(actor)
    dyn = DYNAMICS[emotion]
    fps, t = prosody.fps, prosody.num_frames
    # One generator drawn in a fixed order (envelope, AUs, brows, eyes, head): a clip is the same on any machine.
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(actor) & 0xFFFFFFFF,
                                 zlib.crc32(emotion.encode()), 0xE307])
    w = np.zeros((t, NUM_BLENDSHAPES))
    add = _adder(w, style)
    env = _envelope(rng, t, fps)
    level = intensity ** 0.8  # level 1 (1/3) still reads as the emotion
    _expression(rng, add, w, emotion, level, style, env, fps)
    acc = accents(prosody, dyn.accent_sharpness)
    _prosodic_brows(rng, add, acc, emotion, level, style, dyn, fps)
    eye_gaze = _eyes(rng, w, emotion, level, style, dyn, phones, fps)
    head = _head(rng, acc, env, emotion, level, style, dyn, fps)
    return EmotionLayer(w.astype(np.float32), head.astype(np.float32), eye_gaze.astype(np.float32),
                        env.astype(np.float32))
