"""Per-frame prosody from audio (numpy only): RMS energy in dB, voicing and pitch (f0) at a given frame rate."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lips.phones import SILENCE, VOWELS

F0_MIN = 60.0  # Hz: lowest male speaking pitch we look for
F0_MAX = 400.0  # Hz: highest female/child speaking pitch we look for
SILENCE_DB = -80.0  # floor for the energy of digital silence


@dataclass
class Prosody:
    """Frame-rate prosody: frame k covers [k/fps, (k+1)/fps) and is measured around its centre."""

    fps: float
    rms_db: np.ndarray  # (T,) dBFS, floored at SILENCE_DB
    voiced: np.ndarray  # (T,) bool
    f0: np.ndarray  # (T,) Hz, 0 where unvoiced

    @property
    def num_frames(self) -> int:
        return int(self.rms_db.shape[0])

    def loudness(self) -> np.ndarray:
        """(T,) energy in [0, 1]: 0 at 30 dB below the clip's loud frames (95th percentile), 1 at that level."""
        ref = float(np.percentile(self.rms_db, 95))
        return np.clip((self.rms_db - (ref - 30.0)) / 30.0, 0.0, 1.0)

    def pitch_z(self) -> np.ndarray:
        """(T,) f0 in semitones relative to the clip's median voiced pitch, 0 where unvoiced."""
        out = np.zeros(self.num_frames)
        v = self.voiced & (self.f0 > 0)
        if v.sum() >= 3:
            st = 12.0 * np.log2(self.f0[v] / np.median(self.f0[v]))
            out[v] = st
        return out


def num_frames(num_samples: int, sr: int, fps: float) -> int:
    """Frame count for an audio length: round(duration * fps), at least 1."""
    return max(1, int(round(num_samples / float(sr) * fps)))


def _frames(audio: np.ndarray, sr: int, fps: float, frames: np.ndarray, win: int) -> np.ndarray:
    """(len(frames), win) windows centred on the given frames' centres, zero-padded at the ends."""
    centres = np.round((np.asarray(frames) + 0.5) / fps * sr).astype(np.int64)
    half = win // 2
    idx = centres[:, None] + np.arange(win)[None, :] - half  # sample indices into the audio
    out = np.zeros(idx.shape, np.float32)
    ok = (idx >= 0) & (idx < len(audio))
    out[ok] = audio[idx[ok]]
    return out


BLOCK = 1024  # frames analysed at once: memory stays bounded on long takes (a 4 h take is 432,000 frames)


def analyze(audio: np.ndarray, sr: int, fps: float = 30.0, num_frames_out: int | None = None) -> Prosody:
    """RMS dB, voicing and autocorrelation pitch per frame; windows of max(1/fps, 40 ms) at frame centres."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    t = num_frames_out if num_frames_out is not None else num_frames(len(audio), sr, fps)
    # 40 ms holds two periods of the lowest f0 we search, enough for a stable autocorrelation peak.
    win = int(round(max(1.0 / fps, 0.040) * sr))
    rms = np.empty(t)
    for s in range(0, t, BLOCK):
        fr = _frames(audio, sr, fps, np.arange(s, min(t, s + BLOCK)), win).astype(np.float64)  # (B, win)
        rms[s:s + len(fr)] = np.sqrt(np.mean(fr ** 2, axis=1))
    rms_db = np.maximum(20.0 * np.log10(rms + 1e-10), SILENCE_DB)

    loud_ref = float(np.percentile(rms_db, 95)) if t else SILENCE_DB
    # Only frames loud enough to count as voiced get a pitch search (the rest stay unvoiced, f0 0).
    loud = np.flatnonzero((rms_db > loud_ref - 35.0) & (rms_db > SILENCE_DB + 10))
    voiced = np.zeros(t, bool)
    f0 = np.zeros(t)
    for s in range(0, loud.size, BLOCK):
        rows = loud[s:s + BLOCK]
        peak, f0_loud = _autocorr_pitch(_frames(audio, sr, fps, rows, win).astype(np.float64), sr, win)
        voiced[rows] = peak > 0.45  # periodic: a clear autocorrelation peak
        f0[rows] = np.where(voiced[rows], f0_loud, 0.0)
    return Prosody(float(fps), rms_db.astype(np.float64), voiced, f0.astype(np.float64))


def _autocorr_pitch(fr: np.ndarray, sr: int, win: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, win) frames -> (N,) normalised autocorrelation peak and f0 in Hz at that peak."""
    n = fr.shape[0]
    # Normalised autocorrelation via FFT (Hann window), corrected for the window's own autocorrelation.
    lo = max(2, int(sr / F0_MAX))
    hi = min(win - 2, int(sr / F0_MIN))
    hann = np.hanning(win)
    x = (fr - fr.mean(axis=1, keepdims=True)) * hann
    # Circular autocorrelation is exact for lags < nfft - win: lags up to hi + 1 need no more (not 2 * win).
    nfft = 1 << int(np.ceil(np.log2(win + hi + 2)))
    n_lag = hi + 2
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, nfft)) ** 2, nfft)[:, :n_lag]
    wac = np.fft.irfft(np.abs(np.fft.rfft(hann, nfft)) ** 2, nfft)[:n_lag]
    ac = ac / np.maximum(wac, 1e-9)
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    seg = ac[:, lo:hi]
    # The shortest-lag local maximum within 10% of the best one: avoids sub-octave (period-doubling) errors.
    best = seg.max(axis=1, keepdims=True)
    is_peak = np.zeros_like(seg, dtype=bool)
    is_peak[:, 1:-1] = (seg[:, 1:-1] >= seg[:, :-2]) & (seg[:, 1:-1] >= seg[:, 2:])
    ok = is_peak & (seg >= 0.9 * best)
    lag = np.where(ok.any(axis=1), np.argmax(ok, axis=1), np.argmax(seg, axis=1)) + lo
    rows = np.arange(n)
    peak = seg[rows, lag - lo]
    # Parabolic interpolation around the peak for sub-sample lag.
    a, b, c = ac[rows, lag - 1], ac[rows, lag], ac[rows, np.minimum(lag + 1, n_lag - 1)]
    den = a - 2 * b + c
    shift = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(np.abs(den) > 1e-12, den, 1.0), 0.0)
    return peak, sr / np.maximum(lag + np.clip(shift, -0.5, 0.5), 1.0)


def from_phones(phones, fps: float, t: int, seed: int = 0) -> Prosody:
    """Plausible prosody without audio (for style clips): energy on vowels, a declining f0 with accents."""

    rng = np.random.default_rng(seed)
    centres = (np.arange(t) + 0.5) / fps
    rms_db = np.full(t, SILENCE_DB)
    voiced = np.zeros(t, bool)
    for ph in phones:
        m = (centres >= ph.start) & (centres < ph.end)
        if ph.phone == SILENCE:
            continue
        level = -18.0 if ph.phone in VOWELS else -30.0
        rms_db[m] = level + rng.normal(0, 2.0)
        voiced[m] = ph.phone in VOWELS or ph.phone in ("M", "N", "NG", "L", "R", "W", "Y", "V", "Z", "B", "D", "G")
    base = 120.0 * 2 ** (rng.normal(0, 0.3))
    decl = base * (1.0 - 0.15 * centres / max(centres[-1], 1e-3))
    accents = np.zeros(t)
    for c in rng.uniform(0, centres[-1], size=max(1, int(centres[-1] / 1.2))):
        accents += np.exp(-0.5 * ((centres - c) / 0.12) ** 2)
    f0 = np.where(voiced, decl * 2 ** (3.0 * accents / 12.0), 0.0)
    return Prosody(float(fps), rms_db, voiced, f0)


PROSODY_DIM = 3  # columns of prosody_features


def prosody_features(audio: np.ndarray, num_frames_out: int, sr: int = 16000, fps: float = 30.0) -> np.ndarray:
    """(T, 3) float32 network inputs: pitch in semitones over the clip's median / 4 (0 unvoiced), voicing,
    loudness. Mel features show pitch only as harmonic spacing; brows and nods follow pitch accents."""
    p = analyze(audio, sr, fps, num_frames_out)
    pz = np.clip(p.pitch_z() / 4.0, -1.5, 1.5)
    return np.stack([pz, p.voiced.astype(np.float64), p.loudness()], axis=1).astype(np.float32)
