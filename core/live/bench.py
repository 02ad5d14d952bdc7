"""Measurements of the live stream (``dreamtalk bench live``): latency, CPU, lip-sync of what was sent, soak.

Latency of an audio sample = time from its block entering the process to the first frame sent that shows its
instant (tau >= its time) with fresh model frames. *Algorithmic*: the same with infinitely fast models (input
blocks, STFT window, look-ahead, interpolation and the frame grid only). *Wall-clock*: measured on a real-time
file session on this machine (models, threads and scheduling included).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE, speechlike_audio
from .engine import LiveEngine, lookahead_frames, model_position
from .features import frame_ready_samples
from .session import LiveSession
from .sources import BLOCK_SECONDS, FileSource, Source


class ArraySource(FileSource):
    """An in-memory signal played like a file (real-time pace)."""

    def __init__(self, audio: np.ndarray, speed: float = 1.0, log=None):
        Source.__init__(self, log)
        self.audio = np.asarray(audio, np.float32)
        self.duration = self.audio.size / SAMPLE_RATE
        self.speed = float(speed)


def algorithmic_latency(lookahead_ms: float, fps: float = 60.0, seconds: float = 10.0) -> np.ndarray:
    """(n,) latencies in seconds of samples on a 1 ms grid with instant models, 10 ms input blocks."""
    la = lookahead_frames(lookahead_ms)
    block = int(BLOCK_SECONDS * SAMPLE_RATE)
    taus = np.arange(int(seconds * fps)) / fps

    def block_end(samples: np.ndarray) -> np.ndarray:  # when the block holding sample count s has arrived
        return np.ceil(np.asarray(samples) / block) * block / SAMPLE_RATE

    need = np.array([frame_ready_samples(int(np.floor(model_position(t))) + 1 + la) for t in taus])
    offset = float(np.max(block_end(need) - taus))  # the smallest fixed delay at which every frame is fresh
    a = np.arange(0.0, seconds - 1.0, 0.001)
    arrival = block_end(np.floor(a * SAMPLE_RATE) + 1)
    shown = np.ceil(a * fps - 1e-9) / fps + offset
    return shown - arrival


def measured_latency(session: LiveSession) -> np.ndarray:
    """(n,) wall-clock latencies in seconds of samples on a 1 ms grid from a measured session's logs."""
    arr = np.array(session.arrivals, np.float64)  # (B, 2): samples so far, arrival time
    sends = np.array(session.sends, np.float64)  # (F, 3): sent time, tau, fresh
    fresh = sends[sends[:, 2] > 0]
    dur = arr[-1, 0] / SAMPLE_RATE
    a = np.arange(0.5, dur - 0.5, 0.001)
    k = np.searchsorted(arr[:, 0], np.floor(a * SAMPLE_RATE) + 1)  # first block whose end passes the sample
    arrival = arr[np.minimum(k, len(arr) - 1), 1]
    j = np.searchsorted(fresh[:, 1], a - 1e-9)  # first fresh frame showing tau >= a
    ok = j < len(fresh)
    return fresh[j[ok], 0] - arrival[ok]


def run_file_session(audio: np.ndarray, lookahead_ms: float, fps: float = 60.0, record: bool = False,
                     measure: bool = True, senders=None) -> tuple[LiveSession, float, float]:
    """Play ``audio`` through a session at real-time pace; returns (session, wall seconds, CPU seconds)."""
    engine = LiveEngine(lookahead_ms=lookahead_ms)
    s = LiveSession(ArraySource(audio, log=lambda line: None), engine, fps=fps, record=record, measure=measure,
                    senders=senders, log=lambda line: None)
    w0, c0 = time.perf_counter(), time.process_time()
    s.start()
    s.wait()
    if s.error:
        raise RuntimeError(s.error)
    return s, time.perf_counter() - w0, time.process_time() - c0


def bench_latency(seconds: float, lookaheads=(0.0, 100.0, 200.0), fps: float = 60.0, audio=None) -> dict:
    """Latency (algorithmic and wall-clock: median, p95) per look-ahead, and the CPU use of each run."""
    a = audio if audio is not None else speechlike_audio(seconds)[0]
    LiveEngine()  # load the weights before timing
    out = {}
    for la in lookaheads:
        alg = algorithmic_latency(la, fps)
        s, wall, cpu = run_file_session(a, la, fps)
        lat = measured_latency(s)
        out[f"{la:g}"] = {
            "lookahead_ms": la, "algorithmic_median_ms": 1000 * float(np.median(alg)),
            "algorithmic_p95_ms": 1000 * float(np.percentile(alg, 95)),
            "wall_median_ms": 1000 * float(np.median(lat)), "wall_p95_ms": 1000 * float(np.percentile(lat, 95)),
            "wall_max_ms": 1000 * float(lat.max()), "frames_sent": s.sent, "frames_held": s.held,
            "cpu_percent_of_one_core": 100 * cpu / wall, "audio_seconds": a.size / SAMPLE_RATE,
        }
    return out


def bench_lipsync(data: str, split: str, lookaheads, out_dir: str, fps: float = 60.0) -> dict:
    """Real-time file sessions over a dev split, recordings written as <clip id>.csv and scored."""
    from ..eval import load_clips
    from ..eval.lipsync import evaluate
    from ..formats import read_animation, write_animation
    from .sources import StreamResampler

    clips = load_clips(data, split)
    out = {}
    for la in lookaheads:
        d = Path(out_dir) / f"lookahead_{la:g}"
        d.mkdir(parents=True, exist_ok=True)
        pairs = []
        for c in clips:
            a = c.audio if c.sr == SAMPLE_RATE else StreamResampler(c.sr).push(np.r_[c.audio, np.zeros(64)])
            s, _, _ = run_file_session(a, la, fps, record=True, measure=False)
            write_animation(s.recording(), d / f"{c.id}.csv")
            pairs.append((read_animation(d / f"{c.id}.csv"), c.phones))  # scored as written
        out[f"{la:g}"] = evaluate(pairs)
    from ..eval.systems import get_system
    offline = get_system("dreamtalk")  # the same clips through `generate`, for comparison
    out["offline"] = evaluate([(offline(c.audio, c.sr, None, fps=fps), c.phones) for c in clips])
    return out


def soak(seconds: float, fps: float = 60.0, lookahead_ms: float | None = None, report_every: float = 60.0,
         log=print) -> dict:
    """A long real-time file session: frame count against duration x rate, tau drift, memory over time."""
    from .engine import DEFAULT_LOOKAHEAD_MS
    la = DEFAULT_LOOKAHEAD_MS if lookahead_ms is None else lookahead_ms
    a = speechlike_audio(seconds, seed=3)[0]
    engine = LiveEngine(lookahead_ms=la)
    s = LiveSession(ArraySource(a, log=lambda line: None), engine, fps=fps, measure=False,
                    log=lambda line: None)
    rss, lag, backlog = [], [], []
    w0, c0 = time.perf_counter(), time.process_time()
    s.start()
    while not s.wait(report_every):
        now = time.perf_counter() - s.t0
        expect = s.sent / fps
        rss.append(_rss_mib())
        lag.append(now - expect)  # sender behind its own clock (should stay ~0)
        backlog.append(s._enqueued / SAMPLE_RATE - s.last_tau)  # audio in minus audio shown: constant = no drift
        log(f"soak: {now:.0f} s, {s.sent} frames, sender {1000 * (now - expect):+.1f} ms, audio ahead of the "
            f"face {1000 * backlog[-1]:.0f} ms, rss {rss[-1]:.0f} MiB, held {s.held}")
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    dur = a.size / SAMPLE_RATE
    return {"seconds": dur, "fps": fps, "frames_sent": s.sent, "expected_frames": dur * fps,
            "frames_held": s.held, "final_tau_error_ms": 1000 * (s.sent / fps - dur),
            "sender_lag_ms": [round(1000 * x, 2) for x in lag],
            "audio_ahead_ms": [round(1000 * x, 1) for x in backlog], "rss_mib": [round(x, 1) for x in rss],
            "cpu_percent_of_one_core": 100 * cpu / wall, "error": s.error}


def _rss_mib() -> float:
    """Resident memory of this process in MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            import os
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError):
        return 0.0
