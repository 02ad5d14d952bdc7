"""Moonshine's encoder states at 30 fps: phone evidence learnt from real speech, as lip-network input.

The lip network learns from synthetic voices; read from mel features, what it learns carries over poorly to real
ones. Moonshine's encoder (core/lips/asr.py) was trained on a large body of real English speech, and its states
name the sounds in a way that does not depend on the voice: a bilabial-against-other-consonant probe trained on
the synthetic corpus separates the real selection clips as well as the synthetic val voices (frame AUC 0.978
against 0.975; from mel features 0.777 against 0.837; docs/training.md, session 16). Only the encoder runs (the
int8 tiny model in weights/moonshine, onnxruntime), on chunks with a little context on each side so its cost
grows with the audio's length, not its square.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio import FPS
from ..errors import InputError, MissingDependency
from .asr import MIN_SECONDS, PACKAGE_MODEL, SAMPLE_RATE

STATE_DIM = 288  # width of the tiny model's states; a lip network records it in its config
CHUNK_S, CONTEXT_S = 8.0, 1.0  # chunk hop; audio heard on each side of it (the cross-fade is twice that)
# Output frame j of the encoder's three strided convolutions (kernels 127, 7, 3; strides 64, 3, 2) is centred on
# sample 384 j + 447.
STATE_HOP, STATE_OFFSET = 384, 447


def encoder_path(layer: int | None = None) -> Path | None:
    """The tiny encoder file (DREAMTALK_MOONSHINE_DIR, else weights/moonshine), or None; the states after an inner
    ``layer`` need the .onnx file (its graph is cut in memory)."""
    env = os.environ.get("DREAMTALK_MOONSHINE_DIR", "").strip()
    d = Path(env) if env else PACKAGE_MODEL
    names = ("encoder_model.onnx",) if layer is not None else ("encoder_model.ort", "encoder_model.onnx")
    return next((d / n for n in names if (d / n).is_file()), None)


def available(layer: int | None = None) -> bool:
    """Whether onnxruntime and the encoder file (for ``layer``) are present (nothing is loaded)."""
    import importlib.util
    return encoder_path(layer) is not None and importlib.util.find_spec("onnxruntime") is not None


def layer_tensor(layer: int) -> str:
    """Name of the tensor after encoder layer ``layer`` (0-based) in the tiny encoder's ONNX export."""
    return f"/layers.{int(layer)}/Add_1_output_0"


@lru_cache(maxsize=4)
def _session(path: str, threads: int, layer: int | None):
    try:
        import onnxruntime as ort
    except ImportError:
        raise MissingDependency("the lip network's speech states need the 'onnxruntime' package") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)  # 0 = onnxruntime's choice (all cores)
    opts.log_severity_level = 3
    model: str | bytes = path
    if layer is not None:
        from ..onnx_proto import cut_model
        with open(path, "rb") as f:
            model = cut_model(f.read(), layer_tensor(layer), ("batch_size", "frames", STATE_DIM))
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


def speech_states(audio: np.ndarray, num_frames: int, threads: int = 0, layer: int | None = None) -> np.ndarray:
    """(T, STATE_DIM) float32 encoder states of (N,) 16 kHz mono audio, linearly resampled to frame centres
    (k + 0.5) / FPS; audio longer than a chunk is encoded in overlapping chunks, cross-faded over the overlap.
    ``layer`` (0-based) reads the states after that encoder layer, and runs no further (None: the last hidden
    state). ``threads`` > 0: that many onnxruntime threads, chunk after chunk in this thread; 0: chunks at once on
    every core (:func:`start_speech_states`); the states are the same either way."""
    if threads == 0:
        return start_speech_states(audio, num_frames, layer).result()
    return SpeechStatesJob(audio, num_frames, layer, threads=int(threads)).result()


def start_speech_states(audio: np.ndarray, num_frames: int, layer: int | None = None) -> "SpeechStatesJob":
    """Begin :func:`speech_states` in worker threads, one chunk each, so the encoder runs while the caller does
    other work; ``.result()`` waits and joins the chunks."""
    return SpeechStatesJob(audio, num_frames, layer, workers=os.cpu_count() or 1)


@lru_cache(maxsize=1)
def _pool(workers: int):
    from concurrent.futures import ThreadPoolExecutor
    return ThreadPoolExecutor(workers, thread_name_prefix="speech-states")


class SpeechStatesJob:
    """The encoder's chunks under way: in ``workers`` threads (one onnxruntime thread each: on two cores two
    one-thread runs side by side beat one two-thread run after another, and the threads overlap whatever the
    caller runs meanwhile), or, with ``workers`` 0, each run by ``result`` on ``threads`` threads."""

    def __init__(self, audio: np.ndarray, num_frames: int, layer: int | None = None, workers: int = 0,
                 threads: int = 1) -> None:
        self.path = encoder_path(layer)
        if self.path is None:
            kind = "Moonshine's encoder as .onnx" if layer is not None else "Moonshine's encoder"
            raise MissingDependency(f"the lip network's speech states need {kind} (python tools/fetch_moonshine.py, "
                                    "or DREAMTALK_MOONSHINE_DIR)")
        self.sess = _session(str(self.path), 1 if workers > 1 else int(threads),
                             None if layer is None else int(layer))
        a = np.asarray(audio, np.float32).reshape(-1)
        self.t = int(num_frames)
        self.chunks = _plan(a.size) if self.t > 0 else []
        self._inputs = [self._input(a, lo, hi) for lo, hi in self.chunks]
        self._futures = None  # None: result() runs the chunks one by one
        if workers > 1 and len(self._inputs) > 1:
            self._futures = [_pool(int(workers)).submit(self._run, x) for x in self._inputs]

    @staticmethod
    def _input(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
        x = a[lo:hi]
        min_len = int(MIN_SECONDS * SAMPLE_RATE) + 2 * STATE_OFFSET
        if x.size < min_len:  # a short file: silence after it gives the encoder frames
            x = np.pad(x, (0, min_len - x.size))
        return x[None]  # (1, N)

    def _run(self, x: np.ndarray) -> np.ndarray:
        s = self.sess.run(None, {"input_values": x})[0][0]  # (S, D)
        if s.shape[1] != STATE_DIM:
            raise InputError(f"{self.path}: encoder states have {s.shape[1]} columns, the lip network reads "
                             f"{STATE_DIM}")
        return s

    def result(self) -> np.ndarray:
        """(T, STATE_DIM) float32 states (waits for the chunks)."""
        t, fade = self.t, 2 * CONTEXT_S  # s: neighbouring chunks overlap by twice the context
        if t <= 0:
            return np.zeros((0, STATE_DIM), np.float32)
        tq = (np.arange(t) + 0.5) / FPS
        acc = np.zeros((t, STATE_DIM), np.float64)
        wsum = np.zeros(t, np.float64)
        last = len(self.chunks) - 1
        for k, (lo, hi) in enumerate(self.chunks):
            s = self._futures[k].result() if self._futures else self._run(self._inputs[k])
            tc = (STATE_HOP * np.arange(len(s)) + STATE_OFFSET + lo) / SAMPLE_RATE
            # The frames this chunk covers, and its weight on them: a ramp up over the overlap with the chunk
            # before, down over the next (only these frames: the cost stays linear in the audio's length).
            f0 = 0 if k == 0 else int(np.searchsorted(tq, lo / SAMPLE_RATE))
            f1 = t if k == last else int(np.searchsorted(tq, hi / SAMPLE_RATE))
            q = tq[f0:f1]
            w = np.ones(len(q))
            if k > 0:
                w *= np.clip((q - lo / SAMPLE_RATE) / fade, 0.0, 1.0)
            if k < last:
                w *= np.clip((hi / SAMPLE_RATE - q) / fade, 0.0, 1.0)
            acc[f0:f1] += w[:, None] * _resample(tc, s, q)
            wsum[f0:f1] += w
        return (acc / np.maximum(wsum, 1e-9)[:, None]).astype(np.float32)  # (T, D)

    def cancel(self) -> None:
        """Drop the chunks not yet started and wait for those running (so no thread of this job is inside
        onnxruntime when the caller goes on, e.g. to fork recognition workers)."""
        from concurrent.futures import wait
        for f in self._futures or []:
            f.cancel()
        wait(self._futures or [])


def _plan(n: int) -> list[tuple[int, int]]:
    """[lo, hi) audio samples of each chunk: a hop of CHUNK_S with CONTEXT_S more on each side where there is
    audio (inside the take, a chunk starts ctx before its hop and ends ctx after it)."""
    hop, ctx = int(CHUNK_S * SAMPLE_RATE), int(CONTEXT_S * SAMPLE_RATE)
    starts = list(range(0, max(n, 1), hop))
    if len(starts) > 1 and n - starts[-1] < ctx:  # a short tail joins the chunk before it
        starts.pop()
    return [(max(0, s - ctx), n if k == len(starts) - 1 else min(n, s + hop + ctx)) for k, s in enumerate(starts)]


def _resample(tc: np.ndarray, s: np.ndarray, tq: np.ndarray) -> np.ndarray:
    """(len(tq), D) states ``s`` at times ``tc`` linearly interpolated at ``tq`` (held beyond the ends)."""
    if len(tc) == 1:
        return np.repeat(s, len(tq), axis=0)
    j = np.clip(np.searchsorted(tc, tq) - 1, 0, len(tc) - 2)
    w = np.clip((tq - tc[j]) / (tc[j + 1] - tc[j]), 0.0, 1.0)[:, None]
    return s[j] * (1 - w) + s[j + 1] * w
