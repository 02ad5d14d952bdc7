"""The streaming face engine: audio blocks in, 30 fps face frames out with a bounded look-ahead.

Two paths, both the offline models:

- EmoDiff (upper face, emotion, blinks, head) samples an 80-frame window every ``hop`` frames (25), as soon as
  the audio of the hop and the model's own 10-frame look-ahead has arrived. The window ends one hop after the new
  one; its frames before the hop are the ones already final, fixed by inpainting
  (``EmoDiffNumpy.sample_window(known=...)``), and each hop cross-fades from the previous window's guess at it to
  the new window's frames (eyelids and brows over its first frames only: ``BLEND_FRAMES``). Its frames are shown
  ``emodiff_delay`` frames (hop + look-ahead + slack: 41, 1.4 s) after their audio: nothing in them has to meet
  the lips.
- The lip network re-predicts the mouth set of every frame from features up to ``lookahead`` frames ahead (its
  dilated stack sees 31 frames either side offline; what lies beyond the look-ahead is padded exactly like the
  end of a clip), on the delayed EmoDiff face.

Emotion changes cross-fade the style over ``transition`` seconds, for the lips at once and for EmoDiff from its
next hop.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ...rigs.arkit import MOUTH_INDEX
from ..emotions import canonical_emotion, check_intensity
from ..errors import InputError
from .features import StreamingFeatures

FPS = 30.0
MAX_LOOKAHEAD_MS = 200.0
DEFAULT_LOOKAHEAD_MS = 33.0  # one frame: measured in docs/live.md (quality at 0..200 ms, latency goal 150 ms)
EMODIFF_SLACK = 6  # frames (200 ms) a background EmoDiff window has before its first frame is needed
# Frames each EmoDiff window adds (chosen in docs/live.md): the upper face's delay grows with it, the CPU use shrinks.
EMODIFF_HOP = 25
SILENCE_DB = -60.0  # peak level below which nothing is said (as audio.is_silent): the mouth rests
VOICE_HOLD = 1.5  # seconds after the last voiced sound the mouth still follows the audio (then rests)
LIPS_CONTEXT = 31  # past frames the lip network's dilated stack reaches (receptive field 63 = 31 + 1 + 31)


EASE_IN_FRAMES = 15  # model frames (0.5 s) over which EmoDiff takes over from the rest pose


# Frames over which each hop cross-fades from the previous window's guess, per channel group (the rest and the head:
# the whole hop). The whole hop halves a blink or a brow raise that only one window has; a short ramp keeps it,
# and eyelids and brows move fast enough that it leaves no step larger than their own (docs/live.md).
BLEND_FRAMES = {"eyeBlink": 6, "brow": 12}


def hop_ramps(hop: int, motion_dim: int = 55) -> np.ndarray:
    """(hop, motion_dim) cross-fade weights of the new window per frame of a hop and channel, rising 0 -> 1."""
    from ...rigs.arkit import ARKIT_NAMES
    from ..models.emodiff_numpy import crossfade_ramp

    out = np.repeat(crossfade_ramp(hop)[:, None], motion_dim, axis=1)
    for prefix, k in BLEND_FRAMES.items():
        short = np.ones(hop)
        short[:min(k, hop)] = crossfade_ramp(min(k, hop))
        for i, name in enumerate(ARKIT_NAMES):
            if name.startswith(prefix):
                out[:, i] = short
    return out


def model_position(tau: float) -> float:
    """Fractional 30 fps model frame at audio time ``tau`` seconds: frame k describes the audio at its centre
    (k + 0.5) / 30, where its training target was sampled (``core.lips.mouth.mouth_track``)."""
    return tau * FPS - 0.5


def lookahead_frames(ms: float) -> int:
    """Whole 30 fps frames of look-ahead for ``ms`` milliseconds (0..200)."""
    ms = float(ms)
    if not 0.0 <= ms <= MAX_LOOKAHEAD_MS:
        raise InputError(f"look-ahead must be 0..{MAX_LOOKAHEAD_MS:g} ms, got {ms:g}")
    return int(round(ms * FPS / 1000.0))


@dataclass
class LiveFrame:
    """One 30 fps model frame: frame ``index`` covers audio [index/30, (index+1)/30) s."""

    index: int
    weights: np.ndarray  # (52,) ARKit order, [0, 1]
    head: np.ndarray  # (3,) [pitch, yaw, roll] radians
    ready: float = field(default=0.0)  # time.perf_counter() when it was computed


class StyleSchedule:
    """Per-frame style: each change cross-fades from the curve so far to its target over ``transition`` frames."""

    def __init__(self, initial: np.ndarray, transition: float):
        self.base = np.asarray(initial, np.float32)  # (Ds,)
        self.changes: list[tuple[int, np.ndarray]] = []  # (start frame, target (Ds,))
        self.transition = max(0, int(round(transition)))

    def change(self, frame: int, target: np.ndarray) -> None:
        """Start a cross-fade to ``target`` (Ds,) at ``frame``."""
        self.changes.append((int(frame), np.asarray(target, np.float32)))

    def _ramp(self, frames: np.ndarray, start: int) -> np.ndarray:
        if self.transition == 0:
            return (frames >= start).astype(np.float32)
        x = np.clip((frames - start + 0.5) / self.transition, 0.0, 1.0)
        return (0.5 - 0.5 * np.cos(np.pi * x)).astype(np.float32)  # eased: no kink at either end

    def at(self, frames: np.ndarray) -> np.ndarray:
        """(n, Ds) styles at ``frames`` (n,) frame indices."""
        f = np.asarray(frames, np.float64)
        out = np.broadcast_to(self.base, (f.size, self.base.size)).astype(np.float32)
        for start, target in self.changes:
            r = self._ramp(f, start)[:, None]
            out = out + (target - out) * r
        return out

    def forget_before(self, frame: int) -> None:
        """Fold changes whose cross-fade ended before ``frame`` (no later query reaches them) into the base."""
        while self.changes and self.changes[0][0] + self.transition < frame:
            self.base = self.changes.pop(0)[1]


class LiveEngine:
    """Push 16 kHz audio, pull :class:`LiveFrame` s; numpy only, deterministic for a seed and the same audio.

    With ``background`` the EmoDiff windows are sampled on their own thread (same results), so a window's
    25 ms never delays the lips.
    """

    def __init__(self, models=None, emotion: str = "neutral", intensity: float = 1.0,
                 lookahead_ms: float = DEFAULT_LOOKAHEAD_MS, seed: int = 0, steps: int | None = None,
                 transition: float = 0.5, history: float = 10.0, head: bool = True, weights_dir=None,
                 background: bool = False, hop: int = EMODIFF_HOP):
        from ..models.bundle import load_models

        self.models = models if models is not None else load_models(weights_dir)
        self.lips = self.models.mel_lips  # frame by frame: mel features only
        if self.lips is None:
            raise InputError("live needs a lip network on mel features (weights/lips.npz or lips_mel.npz)")
        self.emo = self.models.emodiff
        c = self.emo.cfg
        self.lookahead = lookahead_frames(lookahead_ms)
        self.steps = c.sample_steps if steps is None else int(steps)
        self.head = bool(head)
        self.seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self.features = StreamingFeatures(history)
        self.emotion, self.intensity = canonical_emotion(emotion), check_intensity(intensity)
        self.styles = StyleSchedule(self.emo.emotion_style(self.emotion, self.intensity), transition * FPS)
        self.hop = int(hop)
        if not 1 <= self.hop <= (c.window - c.prefix) // 2:
            raise InputError(f"the EmoDiff hop must be 1..{(c.window - c.prefix) // 2} frames, got {hop}")
        self.ramp = hop_ramps(self.hop, c.motion_dim)  # (H, 55) rises 0 -> 1 within a hop
        # A hop's frames wait for their audio and the model's look-ahead; the slack lets the window be sampled on
        # a background thread without ever holding up the lips.
        self.emodiff_delay = self.hop + c.lookahead + EMODIFF_SLACK
        self.background = bool(background)
        self._jobs: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._cond = threading.Condition()
        self._emo_final = 0  # EmoDiff frames below this are final
        self.failure: str | None = None
        self._win = 0  # next EmoDiff hop: it makes frames [hop * _win, hop * (_win + 1))
        self._emo: dict[int, np.ndarray] = {}  # EmoDiff frame -> (55,) raw motion, final
        self._ahead: np.ndarray | None = None  # (H, 55) raw: the last window's guess at the next hop
        self.rest = self._rest_motion()  # (55,) shown before EmoDiff's first frames arrive
        from ..lips.mouth import mouth_track
        self._rest_mouth = mouth_track([], 1).weights[0]  # (52,) the closed resting mouth of a silent file
        self._voice_checked = 0  # samples checked for voicing so far
        self._last_voiced = -10 ** 9  # sample index of the last voiced sound heard
        self.next_frame = 0  # next model frame to produce
        self.total_frames: int | None = None  # set when the input has ended

    # ---- control -------------------------------------------------------------------------------
    def set_emotion(self, emotion: str | None = None, intensity: float | None = None) -> None:
        """Change emotion and/or intensity from the next frame on (cross-faded)."""
        emo = self.emotion if emotion is None else canonical_emotion(emotion)
        x = self.intensity if intensity is None else check_intensity(intensity)
        self.emotion, self.intensity = emo, x
        self.styles.change(self.next_frame, self.emo.emotion_style(emo, x))

    def _rest_motion(self) -> np.ndarray:
        """(55,) the style's face over a silent window (no speech): the pose before speech has been heard."""
        from ..models.layers import window_slice
        c = self.emo.cfg
        silent = window_slice(np.zeros((0, c.audio_dim), np.float32), 0, c)  # (S, A) padding only
        m = self.emo.sample_window(silent, self.styles.at(np.arange(1))[0], np.random.default_rng(0),
                                   steps=self.steps)
        rest = np.median(m, axis=0).astype(np.float32)
        rest[52:] = 0.0  # head straight until EmoDiff moves it
        return rest

    # ---- input ---------------------------------------------------------------------------------
    def push(self, audio16: np.ndarray) -> list[LiveFrame]:
        """Feed (N,) float32 16 kHz samples; returns the frames that became final (possibly none)."""
        a = np.asarray(audio16, np.float32)
        self.features.push(a)
        self._check_voicing()
        return self._advance(self.features.frames_ready)

    def _check_voicing(self) -> None:
        """Find voiced sound (a pitch) in each new 0.1 s: hiss and noise have none, speech has plenty."""
        from ..prosody import analyze
        block = 1600
        while self._voice_checked + block + 640 <= self.features.samples:
            lo = self._voice_checked
            seg = self.features._samples(lo - 640, lo + block + 640)  # 40 ms either side for the pitch windows
            p = analyze(seg, 16000, 30.0)
            if p.voiced[1:-1].any():
                self._last_voiced = lo + block
            self._voice_checked += block

    def finish(self) -> list[LiveFrame]:
        """The input has ended: produce every remaining frame (features past the end padded as offline)."""
        from ..audio import N_FFT, num_frames
        if self.total_frames is None:
            n = self.features.samples
            self.total_frames = num_frames(n) if n else 0
            self.features.push(np.zeros(N_FFT, np.float32))  # the offline STFT's end padding
        return self._advance(self.total_frames, final=True)

    def _advance(self, ready: int, final: bool = False) -> list[LiveFrame]:
        """Produce frames whose audio (through the look-ahead) is final; ``ready`` = final feature frames."""
        if self.total_frames is not None:
            ready = min(ready, self.total_frames)
            final = True
        c = self.emo.cfg
        # (at the end, only hops whose frames will be shown: frame f shows EmoDiff frame f - emodiff_delay)
        while (self._win * self.hop < (self.total_frames or 0) - self.emodiff_delay if final
               else (self._win + 1) * self.hop + c.lookahead <= ready):
            job = self._window_inputs(ready)
            if self.background:
                self._start_worker()
                self._jobs.put(job)
            else:
                self._sample_window(*job)
        out = []
        while True:
            f = self.next_frame
            if self.total_frames is not None and f >= self.total_frames:
                break
            if not final and f + self.lookahead + 1 > ready:
                break
            end = min(ready, f + self.lookahead + 1)
            self._wait_emodiff(end - 1 - self.emodiff_delay)
            out.append(self._frame(f, end))
            self.next_frame += 1
        if out:  # drop frames neither the lips' context nor a window's known part or prefix reaches any more
            keep = out[-1].index - self.emodiff_delay - max(LIPS_CONTEXT, c.window + c.prefix) - 1
            with self._cond:
                for k in [k for k in self._emo if k < keep]:
                    del self._emo[k]
            self.styles.forget_before(self.next_frame - 2 * self.emodiff_delay - c.window)
        return out

    # ---- EmoDiff path --------------------------------------------------------------------------
    def _window_inputs(self, ready: int) -> tuple:
        """(start, first new frame, audio (S, A), style (S, Ds)) of the next hop's window from the features so far.

        The window ends a hop after the hop's last frame (or starts at 0 while fewer frames exist); what it covers
        before the hop is already final and is inpainted."""
        from ..models.layers import window_slice
        c = self.emo.cfg
        e = self._win * self.hop
        s = max(0, e + 2 * self.hop - c.window)
        base = max(0, s - c.prefix)
        hi = min(ready, s + c.window + c.lookahead)
        feats = self.features.features(base, hi, prosody=bool(c.prosody))  # (hi-base, A)
        audio = window_slice(feats, s - base, c)  # (S, A), beyond ``hi`` padded as at a clip's end
        span = np.arange(s - c.prefix, s + c.window + c.lookahead)
        style = self.styles.at(span + self.emodiff_delay)  # (S, Ds): shown emodiff_delay frames later
        self._win += 1
        return s, e, audio, style

    def _sample_window(self, s: int, e: int, audio: np.ndarray, style: np.ndarray) -> None:
        """Sample the window starting at frame ``s`` around its final frames [s, e); store frames [e, e + hop).

        Inpainting alone leaves a step where the fixed frames end (1-2 degrees of head): each hop is cross-faded
        from the previous window's guess at it (its last hop) to this window's frames, as the offline windows are."""
        c = self.emo.cfg
        with self._cond:
            known = np.stack([self._emo[f] for f in range(s, e)]) if e > s else None  # (e - s, 55)
            if s == 0:
                prefix = np.zeros((c.prefix, c.motion_dim), np.float32)
                prefix[-1] = self.rest  # start from the rest pose already on screen
                mask = np.zeros(c.prefix, np.float32)
                mask[-1] = 1.0
            else:
                fr = range(s - c.prefix, s)
                prefix = np.stack([self._emo.get(f, self.rest) for f in fr]).astype(np.float32)
                mask = np.array([1.0 if f >= 0 else 0.0 for f in fr], np.float32)
        # Blinks and head moves come from the noise: a noise seeded by the seed alone would give every session the
        # same blinks at the same moments (seed 0: none for 30 s). Each window's noise also depends on its audio.
        key = int(np.round(float(np.abs(audio).sum()) * 16.0)) & 0xFFFFFFFF
        rng = np.random.default_rng([self.seed, e, key])
        x = self.emo.sample_window(audio, style, rng, prefix=prefix, prefix_mask=mask, steps=self.steps,
                                   known=known)  # (W, 55) raw
        h = self.hop
        if self._ahead is not None:
            x[e - s:e - s + h] = self._ahead * (1.0 - self.ramp) + x[e - s:e - s + h] * self.ramp
        self._ahead = x[e + h - s:e + 2 * h - s].copy()
        with self._cond:
            for f in range(e, e + h):
                self._emo[f] = x[f - s].astype(np.float32)
            self._emo_final = e + h
            self._cond.notify_all()

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="dreamtalk-live-emodiff", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._sample_window(*job)
            except Exception as e:  # reported to the frames waiting for it
                with self._cond:
                    self.failure = f"EmoDiff failed: {type(e).__name__}: {e}"
                    self._cond.notify_all()
                return

    def close(self, timeout: float = 0.0) -> None:
        """Stop the background EmoDiff thread, if any, waiting up to ``timeout`` s for its window to finish."""
        if self._worker is not None:
            self._jobs.put(None)
            if timeout > 0 and self._worker is not threading.current_thread():
                self._worker.join(timeout)

    def _wait_emodiff(self, frame: int) -> None:
        """Block until EmoDiff frame ``frame`` is final (at once without the background thread)."""
        if not self.background or frame < 0:
            return
        with self._cond:
            while self._emo_final <= frame and self.failure is None:
                if not self._cond.wait(timeout=5.0):
                    raise RuntimeError("EmoDiff fell 5 s behind the audio")
            if self.failure is not None:
                raise RuntimeError(self.failure)

    def _emodiff_at(self, frames: np.ndarray) -> np.ndarray:
        """(n, 55) EmoDiff motion shown at model ``frames`` (its frame f - emodiff_delay; rest before it)."""
        out = np.empty((len(frames), 55), np.float32)
        with self._cond:
            for i, f in enumerate(frames):
                e = int(f) - self.emodiff_delay
                out[i] = self._emo.get(e, self.rest) if e >= 0 else self.rest
                if 0 <= e < EASE_IN_FRAMES:
                    # The first window starts near the rest pose, not on it: ease in so the head never pops.
                    r = (e + 1) / EASE_IN_FRAMES
                    r = r * r * (3.0 - 2.0 * r)  # smoothstep
                    out[i] = (1.0 - r) * self.rest + r * out[i]
        return out

    # ---- lip path ------------------------------------------------------------------------------
    def _frame(self, f: int, end: int) -> LiveFrame:
        """Model frame ``f`` from features of frames [f - LIPS_CONTEXT, end) (end = f + 1 + look-ahead)."""
        lo = max(0, f - LIPS_CONTEXT)
        feats = self.features.features(lo, end)  # (n, 82)
        frames = np.arange(lo, end)
        motion = self._emodiff_at(frames)  # (n, 55)
        weights = np.clip(motion[:, :52], 0.0, 1.0)
        style = self.styles.at(frames)  # (n, Ds)
        w = np.clip(self.lips.apply(feats, weights, style)[f - lo], 0.0, 1.0)  # (52,) mouth re-predicted
        # Gain-free features make a long silence or hiss look like speech: with nothing voiced for VOICE_HOLD
        # seconds, or digital silence, the mouth rests (offline does so for a silent file), faded, never jumping.
        seg = self.features.recent_samples(lo, end)
        peak = 20.0 * np.log10(float(np.max(np.abs(seg))) + 1e-12) if seg.size else SILENCE_DB
        since = (end * 16000 // 30 - self._last_voiced) / 16000.0  # seconds from the last voiced sound
        gate = float(min(np.clip((peak - SILENCE_DB) / 6.0, 0.0, 1.0), np.clip((VOICE_HOLD + 0.5 - since) / 0.5, 0, 1)))
        if gate < 1.0:
            w[MOUTH_INDEX] = gate * w[MOUTH_INDEX] + (1.0 - gate) * self._rest_mouth[MOUTH_INDEX]
        head = motion[f - lo, 52:55].copy() if self.head else np.zeros(3, np.float32)
        return LiveFrame(f, w.astype(np.float32), head.astype(np.float32), time.perf_counter())
