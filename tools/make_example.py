"""Write the bundled example ``examples/hello_livelink.csv``: a synthetic 4 s Live Link Face take at 30 fps.

Synthesized here (not a capture): blinks, four jaw-open syllables with lip rounding, a growing smile, brow
raises and a small head nod and turn. Run: ``python tools/make_example.py``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def bump(t: np.ndarray, center: float, width: float) -> np.ndarray:
    """A smooth 0..1..0 pulse (raised cosine) of total ``width`` seconds."""
    x = np.clip((t - center) / (width / 2), -1.0, 1.0)
    return 0.5 * (1 + np.cos(np.pi * x))


def example_animation(seconds: float = 4.0, fps: float = 30.0):
    """The example as a FaceAnimation."""
    from dreamtalk.core.animation import FaceAnimation
    from dreamtalk.rigs.arkit import INDEX

    t = np.arange(int(round(seconds * fps))) / fps  # (T,)
    w = np.zeros((t.size, 52), np.float64)  # (T, 52)

    def add(name, curve):
        w[:, INDEX[name]] = np.clip(w[:, INDEX[name]] + curve, 0, 1)

    for c in (0.6, 2.3, 3.6):  # blinks
        add("eyeBlinkLeft", bump(t, c, 0.25))
        add("eyeBlinkRight", 0.95 * bump(t, c + 0.01, 0.25))
    for c, rounded in ((0.9, 0.0), (1.4, 0.6), (2.0, 0.1), (2.7, 0.8)):  # syllables
        add("jawOpen", 0.55 * bump(t, c, 0.35))
        add("mouthFunnel", rounded * 0.5 * bump(t, c, 0.3))
        add("mouthPucker", rounded * 0.4 * bump(t, c + 0.05, 0.3))
        add("mouthClose", 0.15 * bump(t, c + 0.2, 0.2))
    smile = np.clip((t - 1.0) / 2.0, 0, 1) * 0.6
    add("mouthSmileLeft", smile)
    add("mouthSmileRight", 0.9 * smile)
    add("cheekSquintLeft", 0.4 * smile)
    add("cheekSquintRight", 0.4 * smile)
    add("browInnerUp", 0.5 * bump(t, 1.5, 1.0))
    add("browOuterUpLeft", 0.3 * bump(t, 1.5, 1.0))
    add("browOuterUpRight", 0.3 * bump(t, 1.5, 1.0))
    add("jawLeft", 0.1 * bump(t, 2.0, 0.8))
    add("mouthRight", 0.15 * bump(t, 3.0, 0.6))
    head = np.stack([0.08 * np.sin(2 * np.pi * 0.5 * t),  # pitch: slow nod
                     0.12 * np.sin(2 * np.pi * 0.25 * t),  # yaw: turn
                     0.03 * np.sin(2 * np.pi * 0.4 * t + 1.0)], 1)  # roll
    return FaceAnimation(fps, w, head, metadata={"emotion": "happy", "source": "synthetic example"})


def main() -> int:
    """Write examples/hello_livelink.csv."""
    from dreamtalk.core.formats import write_animation
    out = write_animation(example_animation(), ROOT / "examples" / "hello_livelink.csv")
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
