"""Benchmark glTF export: a long animation (default 10 min at 60 fps) written as a proxy-head GLB,
with and without keyframe reduction; prints time, file size and the reduction's saving at its bound.

Usage: dreamtalk bench export [--minutes 10] [--fps 60] [--tol 1e-3] [--input anim.json]
Without --input the animation is synthetic speech-like motion (see make_speechlike): the saving depends
on how much of the take holds still, so quote it together with the input it was measured on.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_speechlike(frames: int, fps: float, seed: int = 0):
    """Synthetic FaceAnimation: syllable-rate jaw/lip motion in phrases separated by still pauses,
    slow brow/eye drift, blinks every few seconds, small head sway. Deterministic."""
    from ..core.animation import FaceAnimation
    from ..rigs.arkit import INDEX, MOUTH_SET
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / fps
    w = np.zeros((frames, 52), np.float64)
    # Phrases of 1.5-4 s separated by 0.3-1.2 s pauses.
    talking = np.zeros(frames, bool)
    s = 0.5
    while s < t[-1]:
        e = s + rng.uniform(1.5, 4.0)
        talking[(t >= s) & (t < e)] = True
        s = e + rng.uniform(0.3, 1.2)
    env = np.convolve(talking.astype(float), np.ones(int(0.1 * fps)) / int(0.1 * fps), mode="same")
    for name in MOUTH_SET:
        f = rng.uniform(3.0, 6.0)
        w[:, INDEX[name]] = env * rng.uniform(0.1, 0.6) * (0.5 + 0.5 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)))
    for name in ("browInnerUp", "browOuterUpLeft", "browOuterUpRight", "mouthSmileLeft", "mouthSmileRight",
                 "cheekSquintLeft", "cheekSquintRight", "eyeSquintLeft", "eyeSquintRight"):
        w[:, INDEX[name]] = 0.2 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t + rng.uniform(0, 6))
    blink = np.zeros(frames)
    for c in np.cumsum(rng.uniform(2.0, 5.0, int(t[-1] / 2) + 2)):
        blink = np.maximum(blink, np.clip(1 - np.abs(t - c) / 0.1, 0, 1))
    w[:, INDEX["eyeBlinkLeft"]] = w[:, INDEX["eyeBlinkRight"]] = blink
    head = 0.05 * np.sin(2 * np.pi * np.array([0.11, 0.07, 0.05]) * t[:, None] + np.array([0.0, 1.0, 2.0]))
    return FaceAnimation(fps, np.clip(w, 0, 1).astype(np.float32), head.astype(np.float32),
                         metadata={"source": "bench_export synthetic"})


def main(argv=None) -> int:
    """Run the benchmark and print one line per measurement."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument("--tol", type=float, default=1e-3, help="reduction bound (weights abs, rotation rad)")
    ap.add_argument("--input", help="an animation file (.json/.csv/.npz) instead of the synthetic one")
    a = ap.parse_args(argv)
    from .gltf import write_proxy_glb
    from ..rigs.proxy_head import build_proxy_head
    if a.input:
        from ..core.formats import read_animation
        anim = read_animation(a.input)
        what = a.input
    else:
        anim = make_speechlike(int(round(a.minutes * 60 * a.fps)), a.fps)
        what = "synthetic speech-like"
    build_proxy_head()  # cached: measure export, not mesh building
    with tempfile.TemporaryDirectory() as d:
        empty = write_proxy_glb(None, Path(d) / "mesh.glb")["bytes"]
        t0 = time.perf_counter()
        full = write_proxy_glb(anim, Path(d) / "full.glb")
        t_full = time.perf_counter() - t0
        t0 = time.perf_counter()
        red = write_proxy_glb(anim, Path(d) / "reduced.glb", reduce=a.tol)
        t_red = time.perf_counter() - t0
    mb = 1024 * 1024
    print(f"input: {what}, {anim.num_frames} frames at {anim.fps:g} fps ({anim.duration / 60:.2f} min)")
    print(f"mesh only (proxy head, 52 targets): {empty / mb:.2f} MiB")
    print(f"full export: {t_full:.2f} s, {full['bytes'] / mb:.2f} MiB "
          f"(animation {(full['bytes'] - empty) / mb:.2f} MiB, {full['weight_keys']} weight keys)")
    anim_full, anim_red = full["bytes"] - empty, red["bytes"] - empty
    print(f"reduced (tol {a.tol:g}): {t_red:.2f} s, {red['bytes'] / mb:.2f} MiB "
          f"(animation {anim_red / mb:.2f} MiB, {red['weight_keys']} weight keys); "
          f"saving {100 * (1 - red['bytes'] / full['bytes']):.1f}% of the file, "
          f"{100 * (1 - anim_red / anim_full):.1f}% of the animation data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
