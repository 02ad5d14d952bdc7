"""``dreamtalk bench [generate|render|export]``: speed measured against a baseline in the same run.

Hosts here swing up to 3x in speed, so every figure is printed next to a baseline timed in the same process
(the `jawflap` loudness-follower for generation), and the ratio is the number to compare.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

HELP = "benchmarks: generation speed and memory, preview/portrait rendering, glTF export"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", nargs="?", default="generate", choices=("generate", "render", "export"))
    p.add_argument("--seconds", type=float, default=60.0, help="audio length for `generate` (default 60)")
    p.add_argument("--memory-minutes", type=float, default=10.0,
                   help="audio length for the peak-memory run of `generate` (0 skips it)")
    p.add_argument("--repeat", type=int, default=3, help="timed repetitions (best is reported)")
    p.add_argument("--recognize", action="store_true",
                   help="also time `generate --recognize` (speech recognition) on the same audio, once")
    p.add_argument("--audio", default=None, help="time `generate` on this file instead of --seconds of "
                                                 "speech-like sound (recognition needs real speech)")
    p.add_argument("--json", default=None, help="also write the results here")


def speechlike_audio(seconds: float, sr: int = 16000, seed: int = 0):
    """Deterministic speech-like signal: voiced syllables with formant-ish resonances and pauses."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.3 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syll = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6)), 0, None) ** 2
    phrase = (np.sin(2 * np.pi * 0.25 * t) > -0.6).astype(float)
    sig = voice * syll * phrase + 0.01 * rng.standard_normal(n)
    return (0.3 * sig / np.abs(sig).max()).astype(np.float32), sr


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_generate(seconds: float, repeat: int, memory_minutes: float, recognize: bool = False,
                   audio_path: str | None = None) -> dict:
    """Time generate() on ``seconds`` of audio (or a file) against jawflap, and peak memory on a long file."""
    from ..eval.systems import get_system
    from ..pipeline import load_models, generate

    if audio_path:
        from ..audio import load_audio
        audio, sr = load_audio(audio_path)  # (N,) at 16 kHz
        seconds = len(audio) / sr
    else:
        audio, sr = speechlike_audio(seconds)
    load_models()
    generate(audio[: sr * 2], sr)  # warm caches
    t_model = _best(lambda: generate(audio, sr), repeat)
    jawflap = get_system("jawflap")
    t_base = _best(lambda: jawflap(audio, sr, None, fps=30), repeat)
    out = {"audio_seconds": seconds, "generate_seconds": t_model, "realtime_factor": seconds / t_model,
           "jawflap_seconds": t_base, "jawflap_realtime_factor": seconds / t_base,
           "generate_vs_jawflap_time_ratio": t_model / t_base}
    if recognize:
        t_rec = _best(lambda: generate(audio, sr, recognize=True), 1)
        out.update({"recognize_seconds": t_rec, "recognize_realtime_factor": seconds / t_rec,
                    "recognize_vs_generate_time_ratio": t_rec / t_model})
    if memory_minutes > 0:
        code = ("import resource,sys;from dreamtalk.core.commands.bench import speechlike_audio;"
                "from dreamtalk.core.pipeline import generate;"
                f"a,sr=speechlike_audio({memory_minutes * 60});generate(a,sr);"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if r.returncode == 0:
            out["memory_minutes"] = memory_minutes
            out["peak_rss_mib"] = int(r.stdout.split()[-1]) / 1024
        else:
            out["memory_error"] = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"
    return out


def bench_render() -> dict:
    """Preview and portrait-warp rendering speed (frames per second of wall time)."""
    from ..render.preview import bench_preview

    out = {"preview": bench_preview(10)}
    try:
        from ..render.portrait import bench_warp
    except ImportError:
        out["warp"] = "not available"
    else:
        try:
            out["warp"] = bench_warp(5)
        except Exception as e:  # a missing optional extra (mediapipe) is reported, not fatal
            out["warp"] = f"not available: {e}"
    return out


def run(args: argparse.Namespace) -> int:
    from ..fileio import atomic_write_text

    if args.what == "generate":
        r = bench_generate(args.seconds, args.repeat, args.memory_minutes, args.recognize, args.audio)
        print(f"generate: {r['audio_seconds']:.0f} s of audio in {r['generate_seconds']:.3f} s "
              f"= {r['realtime_factor']:.0f}x real time")
        print(f"jawflap baseline (same run): {r['jawflap_seconds']:.4f} s = {r['jawflap_realtime_factor']:.0f}x "
              f"real time; generate/jawflap time ratio = {r['generate_vs_jawflap_time_ratio']:.1f}")
        if "recognize_seconds" in r:
            print(f"generate --recognize: {r['recognize_seconds']:.2f} s = {r['recognize_realtime_factor']:.1f}x "
                  f"real time; --recognize/plain time ratio = {r['recognize_vs_generate_time_ratio']:.0f}")
        if "peak_rss_mib" in r:
            print(f"peak memory for {r['memory_minutes']:g} min of audio: {r['peak_rss_mib']:.0f} MiB")
        elif "memory_error" in r:
            print(f"memory run failed: {r['memory_error']}")
    elif args.what == "render":
        r = bench_render()
        print(json.dumps(r, indent=1, default=str))
    else:
        from ...exporters.bench import main as export_main
        return export_main([])
    if args.json:
        atomic_write_text(args.json, json.dumps(r, indent=1, default=str) + "\n")
    return 0
