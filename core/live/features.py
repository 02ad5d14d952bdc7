"""Streaming speech features: the offline front end (``core/audio.py``) fed audio as it arrives.

Mel frames are computed once, as soon as their 32 ms analysis window has arrived, with the offline STFT step
(:func:`mel_power_rows`). The per-utterance normalisation of :func:`features_from_mel` (gain, microphone colour,
loud level) then runs over a rolling history of the last ``history`` seconds instead of the whole clip, so a
frame's features need no audio after it beyond the STFT window.
"""
from __future__ import annotations

import numpy as np

from ..audio import HOP, N_FFT, N_MELS, SAMPLE_RATE, SUBFRAMES, features_from_mel, mel_power_rows
from ..prosody import prosody_features

ALIGN_SAMPLES = 1600  # 0.1 s: a whole number of mel hops (10) and of 30 fps frames (3)
ALIGN_MEL, ALIGN_FRAMES = ALIGN_SAMPLES // HOP, 3
DEFAULT_HISTORY = 10.0  # seconds of audio the normalisation statistics come from


def frame_ready_samples(k: int) -> int:
    """Audio samples (from the stream start) needed before 30 fps frame ``k``'s features are final."""
    pos = (k + (SUBFRAMES - 0.5) / SUBFRAMES) / 30.0 * SAMPLE_RATE / HOP  # last sub-point, in mel frames
    return (int(np.floor(pos)) + 1) * HOP + N_FFT // 2


class StreamingFeatures:
    """16 kHz audio in, offline-identical-in-form (T, 82) features and (T, 3) prosody out, frame by frame."""

    def __init__(self, history: float = DEFAULT_HISTORY):
        self.history_samples = max(ALIGN_SAMPLES * 10, int(history * SAMPLE_RATE) // ALIGN_SAMPLES * ALIGN_SAMPLES)
        self._audio = np.zeros(0, np.float32)  # kept samples
        self._audio0 = 0  # stream index of _audio[0] (a multiple of ALIGN_SAMPLES)
        self._mel = np.zeros((0, N_MELS))  # kept mel frames
        self._mel0 = 0  # stream index of _mel[0]
        self.samples = 0  # samples received in all

    def push(self, audio: np.ndarray) -> None:
        """Append (N,) float32 16 kHz samples and compute every mel frame whose window is complete."""
        a = np.asarray(audio, np.float32).reshape(-1)
        if a.size == 0:
            return
        self._audio = np.concatenate([self._audio, a])
        self.samples += a.size
        n_done = self._mel0 + len(self._mel)  # next mel frame to compute
        n_new = max(0, (self.samples - N_FFT // 2) // HOP + 1 - n_done)
        if n_new:
            # Frame j covers stream samples [j*HOP - N_FFT/2, j*HOP + N_FFT/2); before the start is zero padding.
            lo = n_done * HOP - N_FFT // 2
            hi = (n_done + n_new - 1) * HOP + N_FFT // 2
            seg = self._samples(lo, hi).astype(np.float64)
            frames = np.lib.stride_tricks.sliding_window_view(seg, N_FFT)[::HOP][:n_new]  # (n_new, N_FFT)
            self._mel = np.concatenate([self._mel, mel_power_rows(frames)])
        self._trim()

    def recent_samples(self, k0: int, k1: int) -> np.ndarray:
        """(N,) the kept samples of 30 fps frames [k0, k1)."""
        lo = max(k0 * SAMPLE_RATE // 30, self._audio0)
        return self._samples(lo, max(lo, min(k1 * SAMPLE_RATE // 30, self.samples)))

    def _samples(self, lo: int, hi: int) -> np.ndarray:
        """Stream samples [lo, hi), zeros before the stream start."""
        out = np.zeros(hi - lo, np.float32)
        a, b = max(lo, self._audio0), min(hi, self._audio0 + self._audio.size)
        if b > a:
            out[a - lo:b - lo] = self._audio[a - self._audio0:b - self._audio0]
        return out

    def _trim(self) -> None:
        """Drop audio and mel frames older than the history (in whole 0.1 s blocks, so frames stay aligned)."""
        keep_from = (self.samples - self.history_samples - N_FFT) // ALIGN_SAMPLES * ALIGN_SAMPLES
        if keep_from > self._audio0:
            self._audio = self._audio[keep_from - self._audio0:]
            self._audio0 = keep_from
        mel_from = keep_from // HOP
        if mel_from > self._mel0:
            self._mel = self._mel[mel_from - self._mel0:]
            self._mel0 = mel_from

    @property
    def frames_ready(self) -> int:
        """30 fps frames whose features are final (their last STFT window has arrived)."""
        k = int(self.samples * 30 // SAMPLE_RATE) + 1
        while k > 0 and frame_ready_samples(k - 1) > self.samples:
            k -= 1
        return k

    def features(self, k0: int, k1: int, prosody: bool = False) -> np.ndarray:
        """(k1-k0, 82) features of frames [k0, k1) (+ 3 prosody columns with ``prosody``), normalised over the
        history that ends at frame k1; frames before the stream start are zero rows (window_slice pads them)."""
        m_start = max(self._mel0, ((k1 * 10 // 3) - self.history_samples // HOP) // ALIGN_MEL * ALIGN_MEL)
        f_start = m_start // ALIGN_MEL * ALIGN_FRAMES  # the 30 fps frame at the same instant
        t = k1 - f_start
        n_mel = min(len(self._mel) - (m_start - self._mel0), -(-k1 * 10 // 3) + 1 - m_start)  # through frame k1-1
        mel = self._mel[m_start - self._mel0:m_start - self._mel0 + n_mel]
        feats = features_from_mel(mel, t)  # (t, 82)
        if prosody:
            a = self._samples(f_start * SAMPLE_RATE // 30, min(self.samples, k1 * SAMPLE_RATE // 30 + 1600))
            feats = np.concatenate([feats, prosody_features(a, t)], axis=1)  # (t, 85)
        width = feats.shape[1]
        out = np.zeros((k1 - k0, width), np.float32)
        lo = max(k0, f_start)
        out[lo - k0:] = feats[lo - f_start:]
        return out
