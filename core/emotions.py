"""The eight MEAD emotions and their intensity levels."""
from __future__ import annotations

from .errors import InputError

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "surprised", "fear", "disgusted", "contempt")
# MEAD records three levels; as a continuous intensity in [0, 1] they sit at these values.
INTENSITY_LEVELS: dict[int, float] = {1: 1 / 3, 2: 2 / 3, 3: 1.0}
ALIASES = {"surprise": "surprised", "fearful": "fear", "afraid": "fear", "disgust": "disgusted",
           "anger": "angry", "mad": "angry", "happiness": "happy", "joy": "happy", "sadness": "sad",
           "calm": "neutral", "none": "neutral"}


def canonical_emotion(name: str) -> str:
    """The MEAD emotion for a name or common alias; a clear error for anything else."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    if key not in EMOTIONS:
        raise InputError(f"unknown emotion {name!r}; choose one of: {', '.join(EMOTIONS)}")
    return key


def check_intensity(x: float) -> float:
    """Validate an intensity in [0, 1]."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"intensity must be a number in [0, 1], got {x!r}") from None
    if not 0.0 <= v <= 1.0:
        raise InputError(f"intensity must be in [0, 1], got {v}")
    return v


# ---- emotion over time --------------------------------------------------------------------------------------
DEFAULT_TRANSITION = 0.5  # seconds of cross-fade between two emotion keys


class EmotionKey(tuple):
    """(time in seconds, emotion, intensity): from this time on, the take plays this emotion."""

    __slots__ = ()

    def __new__(cls, time: float, emotion: str, intensity: float = 1.0):
        return super().__new__(cls, (float(time), canonical_emotion(emotion), check_intensity(intensity)))

    time = property(lambda self: self[0])
    emotion = property(lambda self: self[1])
    intensity = property(lambda self: self[2])

    def label(self) -> str:
        """``2.5:happy@0.8`` (the spec form)."""
        return f"{self.time:g}:{self.emotion}@{self.intensity:g}"


def parse_emotion_track(track) -> list[EmotionKey]:
    """Emotion keys from ``"0:neutral,2.5:happy@0.8"``, a .json/.csv file, or a list of (time, emotion, intensity)
    tuples or dicts; sorted by time, the first at 0 (an earlier emotion is held back to the start)."""
    import json
    import os
    from pathlib import Path

    items: list = []
    if isinstance(track, (str, os.PathLike)) and str(track).lower().endswith((".json", ".csv")):
        path = Path(track)
        if not path.is_file():
            raise InputError(f"emotion track {path}: no such file")
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix.lower() == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise InputError(f"emotion track {path}: not JSON ({e.msg} at line {e.lineno})") from None
            items = data.get("keys", []) if isinstance(data, dict) else data
        else:
            import csv
            rows = list(csv.DictReader(text.splitlines()))
            if rows and "time" not in rows[0]:
                raise InputError(f"emotion track {path}: CSV needs a header with time,emotion[,intensity]")
            items = rows
    elif isinstance(track, str):
        for part in track.split(","):
            if not part.strip():
                continue
            when, sep, what = part.partition(":")
            if not sep:
                raise InputError(f"emotion track entry {part.strip()!r}: write TIME:EMOTION[@INTENSITY]")
            emo, _, inten = what.partition("@")
            items.append((when, emo, inten or 1.0))
    else:
        items = list(track)
    keys = []
    for it in items:
        if isinstance(it, dict):
            it = (it.get("time"), it.get("emotion"), it.get("intensity", 1.0) if it.get("intensity") != "" else 1.0)
        try:
            t = float(it[0])
        except (TypeError, ValueError, IndexError):
            raise InputError(f"emotion track entry {it!r}: time must be a number of seconds") from None
        if not t >= 0 or t != t or t == float("inf"):
            raise InputError(f"emotion track entry {it!r}: time must be >= 0 seconds")
        keys.append(EmotionKey(t, it[1], it[2] if len(it) > 2 else 1.0))
    if not keys:
        raise InputError("emotion track is empty; give at least one TIME:EMOTION")
    keys.sort(key=lambda k: k.time)
    if len({k.time for k in keys}) != len(keys):
        raise InputError("emotion track has two keys at the same time")
    if keys[0].time > 0:
        keys[0] = EmotionKey(0.0, keys[0].emotion, keys[0].intensity)
    return keys


def track_weights(keys, num_frames: int, fps: float = 30.0, transition: float = DEFAULT_TRANSITION):
    """(T, K) share of each key per frame: a smoothstep cross-fade of ``transition`` seconds centred on each key's
    time (shortened to the gap between keys so fades never overlap); rows sum to 1."""
    import numpy as np

    if transition < 0:
        raise InputError(f"transition must be >= 0 seconds, got {transition}")
    t = (np.arange(num_frames) + 0.5) / fps
    k = len(keys)
    times = [key.time for key in keys]
    # u_j in [0, 1]: how far the fade into key j has gone (key 0 is there from the start).
    w = np.zeros((num_frames, k))
    prev_in = np.ones(num_frames)
    for j in range(1, k):
        gap = min(times[j] - times[j - 1], (times[j + 1] - times[j]) if j + 1 < k else np.inf)
        half = 0.5 * min(transition, gap)
        if half <= 0:
            u = (t >= times[j]).astype(float)
        else:
            x = np.clip((t - (times[j] - half)) / (2 * half), 0.0, 1.0)
            u = x * x * (3 - 2 * x)
        w[:, j - 1] = prev_in * (1 - u)
        prev_in = u
    w[:, k - 1] = prev_in
    # Fades of neighbouring keys never overlap, so each frame mixes at most two keys.
    return w / w.sum(axis=1, keepdims=True)
