"""Audio robustness augmentation that keeps phone timings exact.

Every operation takes ``(audio (N,) float32, sr, phones)`` and returns ``(audio, phones, description)``.
Only speed perturbation changes the length; it rescales every phone time by the exact length ratio.
Pitch shift, vocal-tract-length warping, reverberation (direct path at t=0), noise, telephone band and
gain/clipping all keep the length and the alignment. Randomness comes only from explicit seeds.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..lips.phones import SILENCE, Phone

Result = tuple[np.ndarray, list[Phone], dict]


def _check(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim != 1 or len(a) == 0:
        raise InputError(f"augmentation needs non-empty mono audio, got shape {a.shape}")
    return a


def _fit_length(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if len(x) >= n else np.concatenate([x, np.zeros(n - len(x), x.dtype)])


def _resample_ratio(x: np.ndarray, ratio: float) -> np.ndarray:
    """Resample by ``ratio`` (output length ~ len * ratio) with a rational polyphase filter."""
    from scipy.signal import resample_poly
    fr = Fraction(ratio).limit_denominator(200)
    return resample_poly(x.astype(np.float64), fr.numerator, fr.denominator).astype(np.float32)


def speech_power(audio: np.ndarray, sr: int, phones: Sequence[Phone]) -> float:
    """Mean power over the non-silent phones (whole signal if there are none)."""
    mask = np.zeros(len(audio), bool)
    for p in phones:
        if p.phone != SILENCE:
            mask[int(p.start * sr):int(np.ceil(p.end * sr))] = True
    seg = audio[mask] if mask.any() else audio
    return float(np.mean(seg.astype(np.float64) ** 2)) + 1e-12


# ---- length-changing ------------------------------------------------------------------------------
def speed(audio: np.ndarray, sr: int, phones: Sequence[Phone], factor: float) -> Result:
    """Speed perturbation (tempo and pitch together, like tape): every phone time scales by 1/factor."""
    a = _check(audio)
    if not 0.5 <= factor <= 2.0:
        raise InputError(f"speed factor must be in [0.5, 2], got {factor}")
    out = _resample_ratio(a, 1.0 / factor)
    scale = len(out) / len(a)  # the exact ratio, so the last phone still ends at the last sample
    new = [Phone(p.phone, p.start * scale, p.end * scale) for p in phones]
    if new:
        new[-1] = Phone(new[-1].phone, new[-1].start, len(out) / sr)
    return out, new, {"factor": round(float(factor), 4)}


# ---- length-preserving ----------------------------------------------------------------------------
def wsola(x: np.ndarray, n_out: int, win: int = 320, tol: int = 80) -> np.ndarray:
    """Waveform-similarity overlap-add time stretch of ``x`` to exactly ``n_out`` samples."""
    hop = win // 2
    w = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)).astype(np.float32)  # periodic Hann: sums to 1
    alpha = len(x) / max(n_out, 1)
    pad = win // 2 + tol
    xp = np.concatenate([np.zeros(pad, np.float32), x.astype(np.float32), np.zeros(pad + win + hop, np.float32)])
    n_frames = n_out // hop + 2
    y = np.zeros(n_frames * hop + win, np.float32)
    prev = None
    for k in range(n_frames):
        ideal = pad + int(round(k * hop * alpha)) - win // 2
        ideal = min(max(ideal, tol), len(xp) - win - tol)
        if prev is None:
            pos = ideal
        else:
            nat = prev + hop  # the natural continuation of the previous frame
            target = xp[nat:nat + win]
            region = xp[ideal - tol:ideal + tol + win]
            corr = np.correlate(region, target, mode="valid")
            pos = ideal - tol + int(np.argmax(corr)) if np.any(corr) else ideal
        y[k * hop:k * hop + win] += xp[pos:pos + win] * w
        prev = pos
    return y[win // 2:win // 2 + n_out]


def pitch_shift(audio: np.ndarray, sr: int, phones: Sequence[Phone], semitones: float) -> Result:
    """Shift pitch by resampling, then WSOLA back to the original length.

    WSOLA follows the ideal time map within +-5 ms plus half a 20 ms window, so events move by at most ~15 ms.
    """
    a = _check(audio)
    r = 2.0 ** (semitones / 12.0)
    squeezed = _resample_ratio(a, 1.0 / r)  # played at sr: pitch * r, duration / r
    out = wsola(squeezed, len(a))
    return out.astype(np.float32), list(phones), {"semitones": round(float(semitones), 3)}


def _warp_hz(f: np.ndarray, alpha: float, sr: int, f_hi: float) -> np.ndarray:
    """Piecewise-linear VTLP frequency warp (Jaitly & Hinton 2013): f -> alpha f below a knee, then to Nyquist."""
    nyq = sr / 2.0
    knee = f_hi * min(alpha, 1.0) / alpha
    return np.where(f <= knee, f * alpha, nyq - (nyq - f_hi * min(alpha, 1.0)) / (nyq - knee) * (nyq - f))


def vtlp(audio: np.ndarray, sr: int, phones: Sequence[Phone], alpha: float, f_hi: float = 4800.0,
         n_ceps: int = 20) -> Result:
    """Vocal-tract-length perturbation: move the spectral envelope (formants) along the VTLP warp, keep f0.

    Per STFT frame, the cepstrally smoothed log envelope is warped and the frame is multiplied by the ratio of
    warped to original envelope: a smooth, real gain, so phases and harmonics stay coherent.
    """
    from scipy.signal import istft, stft
    a = _check(audio)
    nper, hop = 512, 128
    f, _, z = stft(a, fs=sr, nperseg=nper, noverlap=nper - hop)
    mag = np.abs(z)
    # floor 50 dB under each frame's peak so deep valleys between harmonics do not dominate the envelope
    logmag = np.log(np.maximum(mag, 10 ** (-50 / 20) * mag.max(axis=0, keepdims=True)) + 1e-9)  # (F, T)
    ceps = np.fft.irfft(logmag, axis=0)  # (nper, T) real cepstrum
    ceps[n_ceps:-n_ceps + 1] = 0.0  # lifter: keep the envelope (low quefrencies, symmetric)
    env = np.fft.rfft(ceps, axis=0).real[:len(f)]  # (F, T) smooth log envelope
    src_hz = np.interp(f, _warp_hz(f, alpha, sr, f_hi), f)  # where each output frequency comes from
    pos = src_hz / (sr / nper)
    lo = np.clip(np.floor(pos).astype(int), 0, len(f) - 1)
    hi = np.minimum(lo + 1, len(f) - 1)
    w = (pos - lo)[:, None]
    env_w = (1 - w) * env[lo] + w * env[hi]
    gain = np.exp(np.clip(env_w - env, -np.log(10.0), np.log(10.0)))  # at most +-20 dB per bin
    _, y = istft(z * gain, fs=sr, nperseg=nper, noverlap=nper - hop)
    y = _fit_length(y.astype(np.float32), len(a))
    # keep the loudness so later SNR / gain steps mean what they say
    y *= np.sqrt((np.mean(a.astype(np.float64) ** 2) + 1e-12) / (np.mean(y.astype(np.float64) ** 2) + 1e-12))
    return y.astype(np.float32), list(phones), {"alpha": round(float(alpha), 4)}


def make_noise(kind: str, n: int, sr: int, seed: int) -> np.ndarray:
    """Synthetic noise: 'white', 'pink', 'brown' (1/f^beta) or 'babble' (several modulated speech-shaped talkers)."""
    rng = np.random.default_rng(seed)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    f[0] = f[1] if n > 1 else 1.0

    def colored(beta: float, shape=None) -> np.ndarray:
        spec = np.fft.rfft(rng.standard_normal(n)) * f ** (-beta / 2.0)
        if shape is not None:
            spec *= shape
        return np.fft.irfft(spec, n)

    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = colored(1.0)
    elif kind == "brown":
        x = colored(2.0)
    elif kind == "babble":
        # speech-shaped spectrum (peak near 500 Hz, -12 dB/oct above 1 kHz), syllable-rate (3-6 Hz) envelopes
        shape = (f / 500.0) / (1.0 + (f / 500.0) ** 2) / (1.0 + (f / 3000.0) ** 2)
        x = np.zeros(n)
        t = np.arange(n) / sr
        for _ in range(int(rng.integers(4, 9))):
            talker = colored(0.0, shape)
            env = np.zeros(n)
            for _ in range(3):
                env += np.sin(2 * np.pi * rng.uniform(2.0, 7.0) * t + rng.uniform(0, 2 * np.pi))
            env = np.clip(0.4 + 0.6 * env / 3.0, 0.0, None)
            x += talker / (np.std(talker) + 1e-12) * env
    else:
        raise InputError(f"unknown noise kind {kind!r}")
    return (x / (np.sqrt(np.mean(x ** 2)) + 1e-12)).astype(np.float32)  # unit power (brown noise has DC)


def add_noise(audio: np.ndarray, sr: int, phones: Sequence[Phone], snr_db: float, kind: str, seed: int) -> Result:
    """Add synthetic noise at ``snr_db`` relative to the speech (non-silent phones) power."""
    a = _check(audio)
    noise = make_noise(kind, len(a), sr, seed)
    gain = np.sqrt(speech_power(a, sr, phones) / 10.0 ** (snr_db / 10.0))
    return (a + gain * noise).astype(np.float32), list(phones), {"kind": kind, "snr_db": round(float(snr_db), 2)}


def room_ir(rt60: float, sr: int, seed: int) -> np.ndarray:
    """Synthetic room impulse response: direct path at t=0, sparse early reflections, exponential tail."""
    rng = np.random.default_rng(seed)
    n = max(int(rt60 * sr), 16)
    t = np.arange(n) / sr
    ir = np.zeros(n)
    ir[0] = 1.0
    for _ in range(int(rng.integers(4, 10))):  # early reflections within 2-40 ms
        k = int(rng.uniform(0.002, 0.040) * sr)
        if k < n:
            ir[k] += rng.uniform(0.2, 0.7) * rng.choice([-1.0, 1.0])
    onset = int(0.005 * sr)
    tail = rng.standard_normal(n) * np.exp(-6.908 * t / rt60)  # -60 dB at rt60
    tail[:onset] = 0.0
    tail *= rng.uniform(0.1, 0.4) / (np.sqrt(np.sum(tail ** 2)) + 1e-12) * np.sqrt(n / sr / 0.1)
    return (ir + tail).astype(np.float64)


def reverb(audio: np.ndarray, sr: int, phones: Sequence[Phone], rt60: float, seed: int) -> Result:
    """Convolve with a synthetic room (RT60 in seconds); same length and loudness, timings unchanged."""
    from scipy.signal import fftconvolve
    a = _check(audio)
    ir = room_ir(rt60, sr, seed)
    y = fftconvolve(a.astype(np.float64), ir)[:len(a)]
    y *= np.sqrt((np.mean(a.astype(np.float64) ** 2) + 1e-12) / (np.mean(y ** 2) + 1e-12))
    return y.astype(np.float32), list(phones), {"rt60": round(float(rt60), 3)}


def telephone(audio: np.ndarray, sr: int, phones: Sequence[Phone], mu_law: bool = True) -> Result:
    """8 kHz telephone channel: down to 8 kHz, 300-3400 Hz band-pass, optional 8-bit mu-law, back up."""
    from scipy.signal import butter, sosfilt
    a = _check(audio)
    x = _resample_ratio(a, 8000.0 / sr).astype(np.float64)
    sos = butter(4, [300.0, 3400.0], btype="bandpass", fs=8000.0, output="sos")
    x = sosfilt(sos, x)
    if mu_law:
        peak = np.max(np.abs(x)) + 1e-12
        mu = 255.0
        c = np.sign(x / peak) * np.log1p(mu * np.abs(x / peak)) / np.log1p(mu)
        c = np.round(c * 127.0) / 127.0
        x = np.sign(c) * ((1 + mu) ** np.abs(c) - 1) / mu * peak
    y = _fit_length(_resample_ratio(x.astype(np.float32), sr / 8000.0), len(a))
    return y.astype(np.float32), list(phones), {"band_hz": [300, 3400], "mu_law": bool(mu_law)}


def mp3(audio: np.ndarray, sr: int, phones: Sequence[Phone], kbps: int = 64) -> Result:
    """MP3 round trip through ffmpeg (LAME) at ``kbps``; ffmpeg trims the encoder delay, so timings hold."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    from ..errors import DreamTalkError
    a = _check(audio)
    if shutil.which("ffmpeg") is None:
        raise DreamTalkError("the MP3 round trip needs ffmpeg")
    pcm = (np.clip(a, -1, 1) * 32767).astype("<i2").tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "x.mp3"
        common = ["ffmpeg", "-v", "error", "-y"]
        subprocess.run(common + ["-f", "s16le", "-ar", str(sr), "-ac", "1", "-i", "-", "-b:a", f"{kbps}k", str(f)],
                       input=pcm, check=True, capture_output=True)
        out = subprocess.run(common + ["-i", str(f), "-f", "s16le", "-ar", str(sr), "-ac", "1", "-"],
                             check=True, capture_output=True).stdout
    y = np.frombuffer(out, "<i2").astype(np.float32) / 32768.0
    return _fit_length(y, len(a)), list(phones), {"mp3_kbps": int(kbps)}


CHANNELS = ("telephone", "noise", "reverb", "telephone+noise", "reverb+noise")
# Named subsets of CHANNELS a training run may restrict its degraded copies to.
CHANNEL_GROUPS = {"all": CHANNELS, "telephone": ("telephone",)}


def random_channel(audio: np.ndarray, sr: int, seed: int, group: str = "all") -> Result:
    """The audio through a channel of ``group`` drawn by ``seed``: telephone, noise (5-25 dB SNR, any kind), a
    room, or a telephone or room with noise; real input arrives this way, and a quiet room's hiss fills its pauses."""
    if group not in CHANNEL_GROUPS:
        raise ValueError(f"unknown channel group {group!r}; choose from {', '.join(CHANNEL_GROUPS)}")
    kinds = CHANNEL_GROUPS[group]
    rng = np.random.default_rng(seed)
    a = _check(audio)
    kind = kinds[int(rng.integers(len(kinds)))]
    desc: dict = {"channel": kind}
    if kind.startswith("reverb"):
        a, _, d = reverb(a, sr, [], float(rng.uniform(0.3, 1.0)), int(rng.integers(2**31)))
        desc.update(d)
    if kind.startswith("telephone"):
        a, _, d = telephone(a, sr, [], mu_law=bool(rng.random() < 0.5))
        desc.update(d)
    if kind.endswith("noise"):
        noise_kind = ("white", "pink", "brown", "babble")[int(rng.integers(4))]
        a, _, d = add_noise(a, sr, [], float(rng.uniform(5.0, 25.0)), noise_kind, int(rng.integers(2**31)))
        desc.update(d)
    return a, [], desc


def gain_clip(audio: np.ndarray, sr: int, phones: Sequence[Phone], gain_db: float, clip_fraction: float = 0.0) -> Result:
    """Apply gain; with ``clip_fraction`` > 0, hard-clip that fraction of samples like an overdriven input."""
    a = _check(audio).astype(np.float64) * 10.0 ** (gain_db / 20.0)
    desc = {"gain_db": round(float(gain_db), 2)}
    if clip_fraction > 0:
        thr = float(np.quantile(np.abs(a), 1.0 - clip_fraction)) + 1e-9
        a = np.clip(a / thr, -1.0, 1.0) * 0.99  # too hot for the converter: that fraction hits full scale
        desc["clip_fraction"] = round(float(clip_fraction), 4)
    return np.clip(a, -1.0, 1.0).astype(np.float32), list(phones), desc


# ---- random chains ----------------------------------------------------------------------------------
ORDER = ("speed", "pitch", "vtlp", "reverb", "noise", "telephone", "gain")
PROBS = {"speed": 0.35, "pitch": 0.3, "vtlp": 0.3, "reverb": 0.3, "noise": 0.5, "telephone": 0.15, "gain": 0.5}


def sample_plan(seed: int) -> list[dict]:
    """A random, non-empty chain of augmentation steps (deterministic for ``seed``), in ``ORDER``."""
    rng = np.random.default_rng(seed)
    chosen = [op for op in ORDER if rng.random() < PROBS[op]]
    if not chosen:
        chosen = [ORDER[int(rng.integers(len(ORDER)))]]
    plan = []
    for op in ORDER:
        if op not in chosen:
            continue
        if op == "speed":
            plan.append({"op": op, "factor": float(rng.uniform(0.85, 1.15))})
        elif op == "pitch":
            plan.append({"op": op, "semitones": float(rng.uniform(-3.0, 3.0))})
        elif op == "vtlp":
            plan.append({"op": op, "alpha": float(rng.uniform(0.88, 1.12))})
        elif op == "reverb":
            plan.append({"op": op, "rt60": float(rng.uniform(0.2, 0.8)), "seed": int(rng.integers(2 ** 31))})
        elif op == "noise":
            plan.append({"op": op, "snr_db": float(rng.uniform(0.0, 30.0)),
                         "kind": str(rng.choice(["white", "pink", "brown", "babble"])),
                         "seed": int(rng.integers(2 ** 31))})
        elif op == "telephone":
            plan.append({"op": op, "mu_law": bool(rng.random() < 0.5)})
        elif op == "gain":
            plan.append({"op": op, "gain_db": float(rng.uniform(-18.0, 6.0)),
                         "clip_fraction": float(rng.uniform(0.001, 0.02)) if rng.random() < 0.3 else 0.0})
    return plan


def apply_step(audio: np.ndarray, sr: int, phones: Sequence[Phone], step: dict) -> Result:
    """Apply one plan step."""
    op = step["op"]
    if op == "speed":
        return speed(audio, sr, phones, step["factor"])
    if op == "pitch":
        return pitch_shift(audio, sr, phones, step["semitones"])
    if op == "vtlp":
        return vtlp(audio, sr, phones, step["alpha"])
    if op == "reverb":
        return reverb(audio, sr, phones, step["rt60"], step["seed"])
    if op == "noise":
        return add_noise(audio, sr, phones, step["snr_db"], step["kind"], step["seed"])
    if op == "telephone":
        return telephone(audio, sr, phones, step["mu_law"])
    if op == "gain":
        return gain_clip(audio, sr, phones, step["gain_db"], step["clip_fraction"])
    raise InputError(f"unknown augmentation {op!r}")


def apply_plan(audio: np.ndarray, sr: int, phones: Sequence[Phone], plan: Sequence[dict]) -> Result:
    """Apply a chain; the description maps each op to its parameters."""
    a, ph, desc = _check(audio), list(phones), {}
    for step in plan:
        a, ph, d = apply_step(a, sr, ph, step)
        desc[step["op"]] = d
    return a, ph, desc


def augment(audio: np.ndarray, sr: int, phones: Sequence[Phone], seed: int) -> Result:
    """A random augmentation chain for ``seed``: ``(audio, phones, description)``."""
    return apply_plan(audio, sr, phones, sample_plan(seed))
