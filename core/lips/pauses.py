"""Where the voice has stopped, the mouth rests.

The lip network reads Moonshine's speech states, which after the last word of a phrase still carry its last
vowel for a few hundred milliseconds: on a take's trailing silence the lips hung half open for about 0.4 s
(docs/training.md, session 16). The synthetic clips it learnt from stop within 0.3 s of their last phone, so it
never saw a long pause after speech. A pause is told by loudness alone: a run of frames far below the take's loud
frames, long enough not to be a stop consonant's closure (and resting closes the lips, so a closure is never
lost). Inside a pause the mouth eases to rest and leaves it again before the next sound.
"""
from __future__ import annotations

import numpy as np

QUIET_LEVEL = 0.5  # frame loudness feature (core/audio.py: 1 = the loud frames, 0 = 50 dB under them): ~25 dB under
MIN_PAUSE_S = 0.3  # shorter quiet runs are consonants and catch breaths
# Noisy takes: quiet means within FLOOR_MARGIN of the take's 5th-percentile loudness, where that is above
# QUIET_LEVEL (pink noise at 15 dB SNR puts pauses at 0.58 median; clean pauses sit at 0.36).
FLOOR_PERCENTILE, FLOOR_MARGIN = 5.0, 0.1
FLOOR_MIN_MARGIN = 0.03  # the least a softer passage's level keeps over the floor
RAMP_FRAMES = 3  # frames from a pause's edge to full rest (0.1 s at 30 fps)
# Long takes: the quiet level follows the loud frames of the LOCAL_S seconds around each frame, down to LOCAL_DROP
# under the take's, so a softer passage is not read as a pause (60 s takes of joined selection2 clips: false
# closures 22 -> 18, docs/training.md, session 18); a pause longer than the window still rests. Takes up to
# LOCAL_S long are unchanged.
LOCAL_S, LOCAL_DROP, LOCAL_PERCENTILE = 8.0, 0.2, 95.0


def pause_weights(loudness: np.ndarray, fps: float = 30.0) -> np.ndarray:
    """(T,) share of the resting mouth per frame, 0..1, from (T,) frame loudness."""
    loudness = np.asarray(loudness, np.float64)
    level = np.full(len(loudness), QUIET_LEVEL)
    if len(loudness):
        # Over a noise floor a pause is as loud as the noise: measured from the take's quietest frames.
        floor = float(np.percentile(loudness, FLOOR_PERCENTILE))
        level = np.maximum(level, floor + FLOOR_MARGIN)
        local = local_loudness(loudness, fps)
        # A softer passage lowers the level with it; a stretch with nothing over the level (a long pause) not.
        shift = np.where(local > level + FLOOR_MARGIN, np.clip(local - np.percentile(loudness, LOCAL_PERCENTILE),
                                                               -LOCAL_DROP, 0.0), 0.0)
        level = np.maximum(level + shift, floor + FLOOR_MIN_MARGIN)
    quiet = loudness < level
    out = np.zeros(len(quiet), np.float32)
    n = int(round(MIN_PAUSE_S * fps))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))  # run starts, ends
    for a, b in zip(edges[::2], edges[1::2]):
        if b - a >= n:
            k = np.arange(a, b)
            out[a:b] = np.minimum(1.0, np.minimum(k - a + 1, b - k) / (RAMP_FRAMES + 1))
    return out


def local_loudness(loudness: np.ndarray, fps: float = 30.0) -> np.ndarray:
    """(T,) the LOCAL_PERCENTILE loudness of the LOCAL_S seconds around each frame (the take's own for a take no
    longer than that)."""
    x = np.asarray(loudness, np.float64)
    t, w = len(x), int(round(LOCAL_S * fps))
    if t <= w:
        return np.full(t, np.percentile(x, LOCAL_PERCENTILE) if t else 0.0)
    hop = max(1, w // 16)
    centres = np.append(np.arange(w // 2, t - w // 2, hop), t - w // 2)  # window centres, every LOCAL_S / 16
    wins = np.lib.stride_tricks.sliding_window_view(x, w)[centres - w // 2]  # (C, w) one window per centre
    return np.interp(np.arange(t), centres, np.percentile(wins, LOCAL_PERCENTILE, axis=1))
