"""A live session: a source feeds the engine on a worker thread; a sender thread emits frames on its own clock.

Frame n leaves at ``t0 + n / fps`` (perf_counter) and carries the timecode ``start + n / fps`` of that clock. It
shows the face at audio time tau_n, interpolated between 30 fps model frames placed at their centres
(``engine.model_position``). tau_n advances 1/fps a frame and stays ``delay`` seconds behind the audio received: for
a file the audio comes on the same clock, so nothing slews and the frame count is duration x rate; a microphone's
own clock is followed by slewing tau at most 0.5 %; input that stops (a client gone, a dropout) is replaced by
silence after 0.1 s. A microphone's audio is captured on its own clock even when it reaches us late (a stalled host,
PortAudio handing over a buffer in one go): the part of such late audio that silence already stood in for is skipped
over (tau jumps ahead by it), so a stall costs a short rest of the mouth, not a face that lags for minutes. A frame
whose model frames are not ready holds the previous values: nothing waits for the models.
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..audio import HOP, N_FFT, SAMPLE_RATE
from ..emotions import canonical_emotion, check_intensity
from ..errors import DreamTalkError
from .engine import FPS, LiveEngine, model_position

STALL_SECONDS = 0.1  # no input for this long: the input has dropped, fill with silence
LATE_SECONDS = 1.0  # a clocked input's (mic) late audio comes within this of the last silence filled, or not at all
SLEW = 0.005  # largest fractional change of tau's rate when following a microphone's clock
COMPUTE_MARGIN = 0.01  # seconds allowed for the models to turn a block into frames
JOIN_SECONDS = 5.0  # longest wait at the end for a model thread to finish its block or window


def algorithmic_delay(lookahead: int, block: float) -> float:
    """Seconds of audio that must have arrived beyond a shown instant: interpolation (up to the centre of the next
    frame, 1.5 frames to its end), the look-ahead frames, the STFT window past a frame's last mel point, and one
    input block."""
    return (1.5 + lookahead - 1.0 / 6.0) / FPS + (HOP + N_FFT // 2) / SAMPLE_RATE + block


@dataclass
class SentFrame:
    """What frame n carried."""

    n: int
    tau: float  # audio time shown, seconds
    weights: np.ndarray  # (52,) ARKit order
    head: np.ndarray  # (3,) [pitch, yaw, roll] radians
    real: bool  # False when held (its model frames were not ready)


class LiveSession:
    """Runs one live stream: ``start()``, then ``wait()`` or ``stop()``; ``set_emotion`` while it runs."""

    def __init__(self, source, engine: LiveEngine, fps: float = 60.0, senders: list | None = None,
                 on_frame: Callable[[SentFrame], None] | None = None, log: Callable[[str], None] | None = None,
                 record: bool = False, measure: bool = False, block: float = 0.01, max_seconds: float | None = None):
        fps = float(fps)
        if not 1.0 <= fps <= 240.0:
            raise DreamTalkError(f"fps must be in 1..240, got {fps:g}")
        self.source, self.engine, self.fps = source, engine, fps
        engine.background = True  # EmoDiff windows on their own thread: the lips never wait for one
        self.senders = list(senders or [])
        self.on_frame = on_frame
        self.log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.delay = algorithmic_delay(engine.lookahead, block) + COMPUTE_MARGIN
        self.record = record
        self.recorded: list[SentFrame] = []
        self.measure = measure
        self.arrivals: list[tuple[int, float]] = []  # (samples received in all, perf_counter) per block
        self.sends: list[tuple[float, float, bool]] = []  # (perf_counter sent, tau, real)
        self.max_seconds = max_seconds
        self._q: queue.Queue = queue.Queue()
        self._frames: dict[int, object] = {}
        self._lock = threading.Lock()
        self._samples = 0  # audio samples handed to the engine (incl. silence filled in)
        self._enqueued = 0  # audio samples received or filled in, not all processed yet
        self.stop_reason = ""
        self.last_tau = 0.0
        self._last_audio = 0.0
        self._ended = threading.Event()
        self._total: int | None = None  # audio samples in all, once the input has ended
        self._stop = threading.Event()
        self.done = threading.Event()
        self.error: str | None = None
        self.sent = 0
        self.held = 0
        self.skipped = 0.0  # seconds of late microphone audio skipped over (silence had stood in for it)
        self.t0 = 0.0
        self.timecode_start = 0.0  # seconds since local midnight of frame 0
        self.cpu_seconds = 0.0
        self._blas_before: int | None = None  # BLAS thread count to restore when the stream ends

    # ---- control -------------------------------------------------------------------------------
    def start(self) -> "LiveSession":
        """Start the source, the model worker and the sender."""
        from ..blas import set_blas_threads
        # One BLAS thread while streaming: OpenBLAS's idle threads spin between the per-frame GEMMs (a core's worth).
        self._blas_before = set_blas_threads(1)
        self._cpu0 = time.process_time()
        self._last_audio = time.perf_counter()
        self._models = threading.Thread(target=self._worker, name="dreamtalk-live-models", daemon=True)
        self._models.start()
        self._sender = threading.Thread(target=self._send_loop, name="dreamtalk-live-sender", daemon=True)
        self._sender.start()
        self.source.start(self._on_audio, self._on_end)
        return self

    def set_emotion(self, emotion: str | None = None, intensity: float | None = None) -> str:
        """Change the emotion and/or intensity (cross-faded); returns a one-line description."""
        emo = None if emotion is None else canonical_emotion(emotion)  # bad names fail here, in the caller
        x = None if intensity is None else check_intensity(intensity)
        self._q.put(("emotion", emo, x))
        return f"emotion {emo or self.engine.emotion} intensity {self.engine.intensity if x is None else x:g}"

    def stop(self, reason: str = "stopped") -> None:
        """Stop sending (the recording keeps what was sent)."""
        if not self._stop.is_set():
            self.stop_reason = reason
        self._stop.set()
        self.source.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the stream has ended; True if it has."""
        return self.done.wait(timeout)

    # ---- input side ----------------------------------------------------------------------------
    def _on_audio(self, a: np.ndarray, t: float) -> None:
        self._last_audio = t
        with self._lock:
            self._enqueued += len(a)
        self._q.put(("audio", a, t))

    def _on_end(self, reason: str) -> None:
        self._q.put(("end", reason, None))

    def _worker(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    kind, a, b = self._q.get(timeout=0.1)
                except queue.Empty:
                    continue
                if kind == "audio" or kind == "silence":
                    frames = self.engine.push(a)
                    with self._lock:
                        self._samples += len(a)
                        if self.measure and kind == "audio":
                            self.arrivals.append((self._samples, b))
                    self._store(frames)
                elif kind == "emotion":
                    self.engine.set_emotion(a, b)
                elif kind == "end":
                    self._store(self.engine.finish())
                    with self._lock:
                        self._total = self._samples
                    if a not in ("stopped",):
                        self.log(f"input: {a}")
                    self._ended.set()
                    return
        except Exception as e:  # a model failure stops the stream with one line, never a hang
            self.error = f"live models failed: {type(e).__name__}: {e}"
            self.stop("error")

    def _store(self, frames) -> None:
        if not frames:
            return
        with self._lock:
            for f in frames:
                self._frames[f.index] = f

    # ---- output side ---------------------------------------------------------------------------
    def _face_at(self, tau: float):
        """(weights (52,), head (3,), real) at audio time tau, or None when its model frames are not ready."""
        if tau < 0:
            rest = self.engine.rest
            return np.clip(rest[:52], 0, 1), rest[52:55].copy(), True
        pos = max(0.0, model_position(tau))
        i0 = int(np.floor(pos))
        with self._lock:
            total_frames = self.engine.total_frames
            if total_frames is not None and i0 >= total_frames - 1:
                i0 = max(0, total_frames - 1)
                f0 = self._frames.get(i0)
                return (f0.weights, f0.head, True) if f0 is not None else None
            f0, f1 = self._frames.get(i0), self._frames.get(i0 + 1)
            for k in [k for k in self._frames if k < i0 - 2]:
                del self._frames[k]
        if f0 is None or f1 is None:
            return None
        frac = pos - i0  # linear between the two model frames
        w = (f0.weights.astype(np.float64) * (1 - frac) + f1.weights.astype(np.float64) * frac).astype(np.float32)
        h = (f0.head.astype(np.float64) * (1 - frac) + f1.head.astype(np.float64) * frac).astype(np.float32)
        return w, h, True

    def _send_loop(self) -> None:
        try:
            self._run_sender()
        except Exception as e:
            self.error = f"live sender failed: {type(e).__name__}: {e}"
        finally:
            self.cpu_seconds = time.process_time() - self._cpu0
            self._stop.set()
            self.source.stop()
            # Every thread of the session ends before `done`: a host that exits right after (Blender's bpy
            # module under load) must not find one of them inside numpy (seen as a hang at exit under bpy 4.5).
            self._models.join(JOIN_SECONDS)
            self.engine.close(JOIN_SECONDS)
            if self.source.thread is not None:
                self.source.thread.join(1.0)  # a file or socket source sees the stop within a block
            for s in self.senders:
                s.close()
            if self._blas_before is not None:
                from ..blas import set_blas_threads
                set_blas_threads(self._blas_before)
            self.done.set()

    def _run_sender(self) -> None:
        live = getattr(self.source, "live", True)
        # A file's clock is ours: start once the first `delay` of audio is in, so tau_0 = 0 exactly.
        while not live and not self._stop.is_set() and not self._ended.is_set() and (
                self._enqueued < (self.delay - COMPUTE_MARGIN) * SAMPLE_RATE or self._face_at(0.0) is None):
            time.sleep(0.001)
        now = time.time()
        lt = time.localtime(now)
        self.timecode_start = round((lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec + now % 1.0) * self.fps) / self.fps
        self.t0 = time.perf_counter()
        step = 1.0 / self.fps
        tau0 = 0.0 if not live else -self.delay
        slewed = 0.0  # seconds tau has been moved off n / fps to follow the input's clock
        tau = tau0
        last = None
        n = 0
        clocked = live and getattr(self.source, "clocked", False)
        owed, last_fill = 0.0, 0.0  # clocked input: seconds of silence filled in that its late audio may repay
        while not self._stop.is_set():
            due = self.t0 + n * step
            wait = due - time.perf_counter()
            if wait > 0:
                if self._stop.wait(wait):
                    break
            with self._lock:
                have = self._enqueued / SAMPLE_RATE
                total = self._total
            if total is not None and tau >= total / SAMPLE_RATE:
                self.stop_reason = "input ended"
                break
            if self.max_seconds is not None and n >= self.max_seconds * self.fps:
                break
            backlog = have - tau - self.delay  # audio beyond what this frame needs
            if live and total is None:
                if backlog < 0 and time.perf_counter() - self._last_audio > STALL_SECONDS:
                    fill = int(np.ceil(-backlog * SAMPLE_RATE))  # the input dropped: silence keeps time
                    with self._lock:
                        self._enqueued += fill
                    self._q.put(("silence", np.zeros(fill, np.float32), None))
                    if clocked:
                        owed, last_fill = owed + fill / SAMPLE_RATE, time.perf_counter()
                if clocked and owed > 0:
                    if backlog > 0:
                        # A device's audio that arrives after silence stood in for it is audio the face has
                        # passed: skip it (the engine has its frames) rather than show everything after it late.
                        jump = min(owed, backlog)
                        slewed, tau, backlog, owed = slewed + jump, tau + jump, backlog - jump, owed - jump
                        self.skipped += jump
                        if jump >= 0.05:
                            self.log(f"input: {jump * 1000:.0f} ms of audio came late (the host or audio server "
                                     "stalled); skipped it to stay in time")
                    elif time.perf_counter() - last_fill > LATE_SECONDS:
                        owed = 0.0  # what has not come by now was lost (an overflow): the silence stays
            face = self._face_at(tau)
            real = face is not None
            if face is None:
                face = last if last is not None else (np.clip(self.engine.rest[:52], 0, 1),
                                                      self.engine.rest[52:55].copy(), False)
                self.held += 1
            w, h = face[0], face[1]
            last = (w, h, False)
            self._emit(n, tau, w, h, real)
            n += 1
            if clocked and total is None:
                slewed += step * float(np.clip(backlog / 2.0, -SLEW, SLEW))  # follow the microphone's clock
            elif live and total is None and -STALL_SECONDS < backlog < 0:
                slewed -= step * SLEW
            behind = time.perf_counter() - (self.t0 + n * step)
            if behind > 0.25:  # the host stalled: skip frames rather than burst them out
                skip = int(behind / step)
                n += skip
                self.log(f"live: {skip} frames skipped (the host stalled {behind * 1000:.0f} ms)")
            tau = tau0 + n * step + slewed  # from the frame index: no rounding drift over hours

    def _emit(self, n: int, tau: float, w: np.ndarray, h: np.ndarray, real: bool) -> None:
        frame_no = int(round(self.timecode_start * self.fps)) + n
        for s in self.senders:
            if s.kind == "livelink":
                s.send(w, h, frame_no, 0.0, int(round(self.fps)))
            else:
                s.send(w, h, n / self.fps)
        self.last_tau = tau
        sf = SentFrame(n, tau, w, h, real)
        if self.measure:
            self.sends.append((time.perf_counter(), tau, real))
        if self.record:
            self.recorded.append(sf)
        if self.on_frame is not None:
            self.on_frame(sf)
        self.sent += 1

    # ---- results -------------------------------------------------------------------------------
    def recording(self):
        """The frames sent, as a FaceAnimation at the stream's rate (timecodes from the sender's clock)."""
        from ..animation import FaceAnimation
        from ..formats import format_timecode
        if not self.recorded:
            raise DreamTalkError("nothing was sent, so nothing was recorded")
        w = np.stack([f.weights for f in self.recorded])  # (T, 52)
        h = np.stack([f.head for f in self.recorded])  # (T, 3)
        meta = {"timecode_start": format_timecode(self.timecode_start, self.fps), "emotion": self.engine.emotion,
                "intensity": self.engine.intensity, "live": True, "lookahead_ms": self.engine.lookahead * 1000 / FPS,
                "audio_time_start": float(self.recorded[0].tau), "display_delay_s": self.delay,
                "model_version": self.engine.models.version}
        return FaceAnimation(self.fps, w, h, metadata=meta)
