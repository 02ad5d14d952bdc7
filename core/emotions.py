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
