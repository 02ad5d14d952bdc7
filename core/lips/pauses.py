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
RAMP_FRAMES = 3  # frames from a pause's edge to full rest (0.1 s at 30 fps)


def pause_weights(loudness: np.ndarray, fps: float = 30.0) -> np.ndarray:
    """(T,) share of the resting mouth per frame, 0..1, from (T,) frame loudness."""
    loudness = np.asarray(loudness)
    level = QUIET_LEVEL
    if len(loudness):
        # Over a noise floor a pause is as loud as the noise: measured from the take's quietest frames.
        level = max(QUIET_LEVEL, float(np.percentile(loudness, FLOOR_PERCENTILE)) + FLOOR_MARGIN)
    quiet = loudness < level
    out = np.zeros(len(quiet), np.float32)
    n = int(round(MIN_PAUSE_S * fps))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))  # run starts, ends
    for a, b in zip(edges[::2], edges[1::2]):
        if b - a >= n:
            k = np.arange(a, b)
            out[a:b] = np.minimum(1.0, np.minimum(k - a + 1, b - k) / (RAMP_FRAMES + 1))
    return out
