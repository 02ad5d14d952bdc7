"""How much of the mouth comes from timed phones and how much from the lip network, frame by frame.

A given transcript is trusted everywhere. Recognised words are not: the recogniser gives each word a confidence
(pocketsphinx a posterior probability, Moonshine its decoder's probability), and where it doubts a word (a misheard
"prickly" for "prudently" gets 0.14 from pocketsphinx), the network, which heard the same audio without guessing
words, keeps more of the mouth. Between words the phones say silence, which is only to be believed where the audio
is quiet: speech the recogniser did not hear at all (Moonshine often hears nothing in a stretch of words said one
by one) is left to the network, not shut.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

TRANSCRIPT_SHARE = 0.8  # share of the aligned mouth track when a transcript is given
# (doubted word, sure word) per recognition engine: chosen on the real-speech selection parts (docs/training.md).
RECOGNIZED_SHARE = {"pocketsphinx": (0.1, 0.6), "moonshine": (0.2, 0.9)}


def recognized_share(words: Sequence, num_frames: int, fps: float = 30.0,
                     lo: float = RECOGNIZED_SHARE["pocketsphinx"][0],
                     hi: float = RECOGNIZED_SHARE["pocketsphinx"][1],
                     pause: np.ndarray | None = None) -> np.ndarray:
    """(T,) phone-track share per frame: lo + (hi - lo) x the confidence of the recognised word under the frame;
    between words hi x ``pause`` ((T,) 0..1, 1 = a pause by loudness; None: all pauses)."""
    t = int(num_frames)
    conf = np.ones(t)
    between = np.ones(t, bool)
    for w in words:
        a = max(0, int(w.start * fps))
        b = min(t, int(np.ceil(w.end * fps)))
        conf[a:b] = float(np.clip(w.confidence, 0.0, 1.0))
        between[a:b] = False
    share = lo + (hi - lo) * conf
    if pause is not None:
        share = np.where(between, hi * np.clip(np.asarray(pause, np.float64), 0.0, 1.0), share)
    return share.astype(np.float32)
