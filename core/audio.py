"""Audio front end: load any common audio file as 16 kHz mono float32, and compute 30 fps speech features.

Features are computed by :func:`features_numpy` (numpy only, for inference and training alike).

Per 30 fps frame k (covering [k/30, (k+1)/30) s) the feature vector is:
- 80 log-mel bands (25 ms Hann window, 10 ms hop, 512-point FFT, 20 Hz..8 kHz), averaged over three points
  inside the frame, then normalised per utterance: per-band mean over the clip's speech frames removed (cancels
  gain and microphone colour), divided by one global spread (keeps the spectral shape);
- log energy relative to the clip's loud frames (gain-free, tells speech from silence);
- spectral flux (positive log-mel change; marks onsets such as plosive releases).
"""
from __future__ import annotations

import io
import math
import os
import shutil
import struct
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import InputError

SAMPLE_RATE = 16000
FPS = 30.0
N_FFT = 512
WIN = 400  # 25 ms
HOP = 160  # 10 ms -> 100 mel frames per second
N_MELS = 80
FMIN, FMAX = 20.0, 8000.0
TELEPHONE_BAND = (300.0, 3400.0)  # Hz: the narrowband channel much real speech arrives through
SUBFRAMES = 3  # mel sampling points inside one 30 fps frame
N_LEVELS = 2  # the frame features' last columns: loudness against the loud frames, spectral flux
FEATURE_DIM = N_MELS + N_LEVELS
# Sub-frame features: the three mel points inside each frame kept apart (10 ms detail: plosive bursts and
# formant transitions tell a lip closure from a tongue closure) instead of averaged.
SUBFRAME_FEATURE_DIM = N_MELS * SUBFRAMES + N_LEVELS
FLOOR_DB = 50.0  # mel power floor below the clip's loudest band: TTS digital silence and mic hiss look alike
MIN_RATE, MAX_RATE = 8000, 192000
MIN_SECONDS = 1.0 / FPS  # shorter audio cannot fill one frame
_CHUNK = 4096  # mel frames per STFT chunk (bounds memory on hour-long files)


# ---- loading ----------------------------------------------------------------------------------------
def load_audio(path: str | os.PathLike) -> tuple[np.ndarray, int]:
    """Read an audio file as ``((N,) float32 mono at 16 kHz, 16000)``; WAV natively, others via soundfile/ffmpeg."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"audio file not found: {p}")
    if p.is_dir():
        raise InputError(f"audio path is a directory: {p}")
    if p.stat().st_size == 0:
        raise InputError(f"audio file is empty: {p}")
    with open(p, "rb") as f:
        head = f.read(12)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        audio, sr = _read_wav(p)
    else:
        audio, sr = _read_other(p)
    return prepare_audio(audio, sr)


def prepare_audio(audio: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
    """Check an in-memory signal ``(N,)`` or ``(N, channels)`` and return it as 16 kHz mono float32."""
    a = np.asarray(audio)
    if a.dtype.kind not in "fiu":
        raise InputError(f"audio must be numeric samples, got dtype {a.dtype}")
    try:
        sr = int(sr)
    except (TypeError, ValueError):
        raise InputError(f"sample rate must be an integer, got {sr!r}") from None
    if not MIN_RATE <= sr <= MAX_RATE:
        raise InputError(f"sample rate {sr} Hz is not supported (use {MIN_RATE}..{MAX_RATE} Hz)")
    if a.ndim == 2:
        # Channels are the short axis; (channels, N) arrays from some libraries are accepted too.
        if a.shape[0] < a.shape[1] and a.shape[0] <= 16:
            a = a.T
        a = _to_float(a).mean(axis=1, dtype=np.float64).astype(np.float32) if a.shape[1] > 1 else _to_float(a[:, 0])
    elif a.ndim == 1:
        a = _to_float(a)
    else:
        raise InputError(f"audio must be (samples,) or (samples, channels), got shape {a.shape}")
    if a.size == 0:
        raise InputError("audio has no samples")
    if not np.all(np.isfinite(a)):
        i = int(np.argwhere(~np.isfinite(a))[0][0])
        raise InputError(f"audio sample {i} ({i / sr:.3f} s) is not a number")
    if a.size / sr < MIN_SECONDS:
        raise InputError(f"audio is too short ({a.size / sr * 1000:.1f} ms); need at least {MIN_SECONDS * 1000:.0f} ms")
    if sr != SAMPLE_RATE:
        a = resample(a, sr, SAMPLE_RATE)
    return np.ascontiguousarray(a, dtype=np.float32), SAMPLE_RATE


def _to_float(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        return a.astype(np.float32, copy=False)
    if a.dtype.kind == "u":
        bits = a.dtype.itemsize * 8
        return ((a.astype(np.float64) - 2 ** (bits - 1)) / 2 ** (bits - 1)).astype(np.float32)
    bits = a.dtype.itemsize * 8
    return (a.astype(np.float32) / np.float32(2 ** (bits - 1)))


def is_silent(audio: np.ndarray, threshold_db: float = -60.0) -> bool:
    """True when the peak level is below ``threshold_db`` dBFS (nothing to animate)."""
    a = np.asarray(audio, dtype=np.float32)
    peak = float(np.max(np.abs(a))) if a.size else 0.0
    return peak <= 10 ** (threshold_db / 20)


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A RIFF/WAVE reader for PCM 8/16/24/32-bit and IEEE float 32/64 (plain and EXTENSIBLE headers)."""
    data = path.read_bytes()
    pos, fmt, payload = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if cid == b"fmt ":
            fmt = data[body:body + size]
        elif cid == b"data":
            # Streaming writers leave the size at 0 or 0xFFFFFFFF: take what is there.
            end = len(data) if size in (0, 0xFFFFFFFF) or body + size > len(data) else body + size
            payload = memoryview(data)[body:end]
            if fmt is not None:
                break
        pos = body + size + (size & 1)
    if fmt is None or len(fmt) < 16:
        raise InputError(f"{path.name}: WAV file has no format chunk")
    if payload is None:
        raise InputError(f"{path.name}: WAV file has no data chunk")
    tag, channels, sr, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # EXTENSIBLE: the sub-format GUID starts with the real tag
    if channels == 0 or block == 0:
        raise InputError(f"{path.name}: WAV header says 0 channels")
    n = len(payload) // block
    if n == 0:
        raise InputError(f"{path.name}: WAV file has no samples")
    raw = payload[: n * block]
    width = block // channels
    if tag == 1:
        if width == 1:
            a = np.frombuffer(raw, np.uint8)
        elif width == 2:
            a = np.frombuffer(raw, "<i2")
        elif width == 3:
            b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
            a = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16))
            a = np.where(a >= 1 << 23, a - (1 << 24), a).astype(np.float32) / np.float32(1 << 23)
        elif width == 4:
            a = np.frombuffer(raw, "<i4")
        else:
            raise InputError(f"{path.name}: unsupported WAV sample width {bits} bits")
    elif tag == 3:
        if width == 4:
            a = np.frombuffer(raw, "<f4")
        elif width == 8:
            a = np.frombuffer(raw, "<f8")
        else:
            raise InputError(f"{path.name}: unsupported float WAV sample width {bits} bits")
    else:
        raise InputError(f"{path.name}: WAV encoding {tag:#x} is not supported (PCM or float only)")
    a = a.reshape(-1, channels)
    return (_to_float(a) if channels == 1 else a), sr


def _read_other(path: Path) -> tuple[np.ndarray, int]:
    """FLAC/OGG/MP3/...: soundfile when importable, else an ffmpeg subprocess, else a clear error."""
    sf_error = None
    try:
        import soundfile as sf
    except Exception:  # not installed, or its native library is missing
        sf = None
    if sf is not None:
        try:
            a, sr = sf.read(str(path), dtype="float32", always_2d=True)
            return a, int(sr)
        except Exception as e:
            sf_error = str(e).splitlines()[0] if str(e) else type(e).__name__
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is not None:
        return _read_ffmpeg(ffmpeg, path)
    if sf_error is not None:
        raise InputError(f"{path.name}: not a readable audio file ({sf_error})")
    raise InputError(f"{path.name}: only WAV can be read without soundfile or ffmpeg; install one of them")


def _read_ffmpeg(ffmpeg: str, path: Path) -> tuple[np.ndarray, int]:
    probe = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "f32le", "-acodec", "pcm_f32le",
                            "-ac", "1", "-ar", str(SAMPLE_RATE), "-"], capture_output=True)
    if probe.returncode != 0 or not probe.stdout:
        msg = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"{path.name}: not a readable audio file ({msg[-1] if msg else 'no audio stream'})")
    return np.frombuffer(probe.stdout, "<f4").copy(), SAMPLE_RATE


# ---- resampling -------------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _polyphase_filters(up: int, down: int, half_zeros: int = 10, beta: float = 8.0) -> tuple[np.ndarray, int]:
    """(up, taps) Kaiser-windowed sinc filters, one per output phase, and the left reach in input samples."""
    cutoff = 0.97 * min(1.0, up / down)  # fraction of the input Nyquist kept
    reach = int(math.ceil(half_zeros / cutoff))
    k = np.arange(-reach + 1, reach + 1, dtype=np.float64)  # input offsets relative to floor(position)
    phase = np.arange(up, dtype=np.float64)[:, None] / up  # phase p: the position's fractional part is p/up
    x = k[None, :] - phase
    win = np.i0(beta * np.sqrt(np.clip(1 - (x / (reach + 1)) ** 2, 0, 1))) / np.i0(beta)
    h = cutoff * np.sinc(cutoff * x) * win
    h /= h.sum(axis=1, keepdims=True)  # unity gain at DC for every phase
    return h.astype(np.float32), reach - 1


def resample(audio: np.ndarray, sr_in: int, sr_out: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited rational resampling with a polyphase windowed-sinc filter (numpy only, chunked)."""
    a = np.asarray(audio, dtype=np.float32)
    if sr_in == sr_out:
        return a.copy()
    g = math.gcd(int(sr_in), int(sr_out))
    up, down = sr_out // g, sr_in // g
    h, left = _polyphase_filters(up, down)
    taps = h.shape[1]
    n_out = int(math.ceil(a.size * up / down))
    pad = np.concatenate([np.zeros(left, np.float32), a, np.zeros(taps + 1, np.float32)])
    out = np.empty(n_out, np.float32)
    step = 1 << 15
    offs = np.arange(taps)
    for s in range(0, n_out, step):
        n = np.arange(s, min(n_out, s + step), dtype=np.int64)
        base = n * down // up  # floor of the input position
        ph = n * down % up
        idx = base[:, None] + offs[None, :]
        out[s:s + n.size] = np.einsum("ij,ij->i", pad[idx], h[ph])
    return out


# ---- features ---------------------------------------------------------------------------------------
def num_frames(num_samples: int, sr: int = SAMPLE_RATE, fps: float = FPS) -> int:
    """Animation frames for a signal: round(duration * fps), at least 1."""
    return max(1, int(round(num_samples / sr * fps)))


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=1)
def mel_filterbank() -> np.ndarray:
    """(N_FFT//2+1, N_MELS) triangular HTK-mel filters, area-normalised."""
    freqs = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(FMIN), _hz_to_mel(FMAX), N_MELS + 2))
    fb = np.zeros((freqs.size, N_MELS))
    for m in range(N_MELS):
        lo, c, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (freqs - lo) / (c - lo)
        dn = (hi - freqs) / (hi - c)
        fb[:, m] = np.maximum(0, np.minimum(up, dn)) * 2.0 / (hi - lo)
    return fb


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    w = np.zeros(N_FFT)
    off = (N_FFT - WIN) // 2
    w[off:off + WIN] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)  # periodic Hann, centred in the FFT
    return w


def _mel_frames(n_samples: int) -> int:
    return n_samples // HOP + 1


def _interp_plan(n_mel: int, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mel-frame indices (T*SUBFRAMES,) i0, i1 and weights w for the points sampled inside each 30 fps frame."""
    k = np.arange(t, dtype=np.float64)[:, None]
    sub = (np.arange(SUBFRAMES, dtype=np.float64)[None, :] + 0.5) / SUBFRAMES
    times = ((k + sub) / FPS).reshape(-1)  # seconds
    pos = times * SAMPLE_RATE / HOP  # mel frame j is centred at j*HOP samples
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, n_mel - 1)
    i1 = np.clip(i0 + 1, 0, n_mel - 1)
    w = np.clip(pos - np.floor(pos), 0, 1)
    return i0, i1, w


def _check_signal(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32).reshape(-1)
    if a.size == 0:
        raise InputError("audio has no samples")
    if not np.all(np.isfinite(a)):
        raise InputError("audio contains samples that are not numbers")
    peak = float(np.max(np.abs(a)))
    return a / np.float32(peak) if peak > 0 else a  # features are gain-free; this also avoids overflow


@lru_cache(maxsize=4)
def band_limited_filterbank(lo_hz: float, hi_hz: float, order: int = 4) -> np.ndarray:
    """mel_filterbank() seen through a Butterworth band-pass |H(f)|^2 and nothing above 4 kHz when ``hi_hz`` is
    below it (an 8 kHz channel): the training view of band-limited input."""
    f = np.linspace(0, SAMPLE_RATE / 2, N_FFT // 2 + 1)
    h = 1.0 / (1.0 + (f / hi_hz) ** (2 * order)) / (1.0 + (lo_hz / np.maximum(f, 1e-6)) ** (2 * order))
    if hi_hz < 4000.0:
        h[f > 4000.0] = 0.0
    return mel_filterbank() * h[:, None]


def mel_power_numpy(audio: np.ndarray, band: tuple[float, float] | None = None) -> np.ndarray:
    """(M, 80) mel power spectrogram at 100 fps of 16 kHz audio (float64, chunked STFT); ``band`` (lo, hi) Hz
    passes the audio through a band-pass first (see band_limited_filterbank)."""
    a = _check_signal(audio)  # float32: each chunk's frames become float64 in mel_power_rows (frames * win)
    n_mel = _mel_frames(a.size)
    pad = np.concatenate([np.zeros(N_FFT // 2, np.float32), a, np.zeros(N_FFT // 2 + 1, np.float32)])
    fb, win = (mel_filterbank() if band is None else band_limited_filterbank(*band)), _window()
    out = np.empty((n_mel, N_MELS))
    frames = np.lib.stride_tricks.sliding_window_view(pad, N_FFT)[::HOP][:n_mel]  # (M, N_FFT) view, no copy
    for s in range(0, n_mel, _CHUNK):
        out[s:s + len(frames[s:s + _CHUNK])] = mel_power_rows(frames[s:s + _CHUNK], win, fb)
    return out


def mel_power_rows(frames: np.ndarray, win: np.ndarray | None = None, fb: np.ndarray | None = None) -> np.ndarray:
    """(M, N_FFT) signal frames (float64) -> (M, 80) mel power: the one STFT-to-mel step (offline and live)."""
    win = _window() if win is None else win
    fb = mel_filterbank() if fb is None else fb
    spec = np.fft.rfft(frames * win, axis=1)
    return (spec.real ** 2 + spec.imag ** 2) @ fb


def frame_columns(feats: np.ndarray, mel: bool = True, levels: bool = False) -> np.ndarray:
    """The columns of (T, FEATURE_DIM or SUBFRAME_FEATURE_DIM) frame features a network reads: all of them
    (``mel``), else the last N_LEVELS (loudness and flux) with ``levels``, else none."""
    if mel:
        return feats
    return feats[:, feats.shape[1] - (N_LEVELS if levels else 0):]


def features_from_mel(mel: np.ndarray, t: int, subframes: bool = False) -> np.ndarray:
    """Shared numpy tail: floor, log, per-frame sampling, normalisation -> (T, FEATURE_DIM) float32, or
    (T, SUBFRAME_FEATURE_DIM) with ``subframes`` (each sub-point normalised like the frame mean)."""
    peak = max(float(mel.max()), 1e-10)
    logmel = np.log(np.maximum(mel, peak * 10 ** (-FLOOR_DB / 10)))  # (M, 80)
    i0, i1, w = _interp_plan(mel.shape[0], t)
    pts = logmel[i0] * (1 - w)[:, None] + logmel[i1] * w[:, None]  # (T*S, 80)
    pts = pts.reshape(t, SUBFRAMES, N_MELS)
    frame = pts.mean(axis=1)  # (T, 80)
    energy = np.log(np.exp(frame).mean(axis=1))  # (T,) log band-power
    flux_pts = np.maximum(pts[:, 1:] - pts[:, :-1], 0).mean(axis=(1, 2))
    prev = np.concatenate([frame[:1], frame[:-1]])
    flux = np.maximum(frame - prev, 0).mean(axis=1) + flux_pts  # (T,)
    loud = np.percentile(energy, 95)
    speech = energy >= loud - 3.0  # within ~13 dB of the loud frames
    mean = frame[speech].mean(axis=0)
    x = frame - mean
    spread = np.sqrt((x[speech] ** 2).mean()) + 1e-3
    if subframes:
        mel_n = np.clip((pts - mean) / spread, -6, 6).reshape(t, SUBFRAMES * N_MELS)
    else:
        mel_n = np.clip(x / spread, -6, 6)
    e = np.clip((energy - loud) / (FLOOR_DB * math.log(10) / 10) + 1.0, -0.5, 1.5)
    return np.concatenate([mel_n, e[:, None], np.clip(flux, 0, 3)[:, None]], axis=1).astype(np.float32)


def features_numpy(audio: np.ndarray, num_frames_out: int | None = None, subframes: bool = False,
                   band: tuple[float, float] | None = None) -> np.ndarray:
    """(T, 82) normalised speech features at 30 fps for 16 kHz mono audio; T = round(duration*30) by default;
    (T, 242) with ``subframes``; ``band`` as in mel_power_numpy."""
    a = _check_signal(audio)
    t = num_frames(a.size) if num_frames_out is None else int(num_frames_out)
    return features_from_mel(mel_power_numpy(a, band), t, subframes)


def write_wav(path: str | os.PathLike, audio: np.ndarray, sr: int = SAMPLE_RATE) -> None:
    """Write (N,) or (N, C) float audio as 16-bit PCM WAV, atomically."""
    from .fileio import atomic_write_bytes
    import wave

    a = np.asarray(audio, dtype=np.float64)
    ch = 1 if a.ndim == 1 else a.shape[1]
    pcm = (np.clip(a, -1, 1) * 32767).round().astype("<i2").tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(ch)
        w.setsampwidth(2)
        w.setframerate(int(sr))
        w.writeframes(pcm)
    atomic_write_bytes(path, buf.getvalue())


def speechlike_audio(seconds: float, sr: int = 16000, seed: int = 0):
    """Deterministic speech-like signal: voiced syllables with formant-ish resonances and pauses."""
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
