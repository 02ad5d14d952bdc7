"""Audio loading (WAV variants, other formats, bad input), resampling, and numpy/torch feature parity."""
import struct
import wave

import numpy as np
import pytest

from dreamtalk.core import audio as A
from dreamtalk.core.errors import InputError


def tone(sr, seconds=0.5, f=440.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


def write_pcm(path, data, sr, width=2):
    """PCM WAV via the stdlib (data (N,) or (N, C) float in [-1, 1])."""
    d = np.atleast_2d(np.asarray(data, np.float64).T).T
    scale = 2 ** (8 * width - 1) - 1
    ints = np.round(d * scale).astype(np.int64)
    if width == 3:
        b = ints.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        b = ints.astype({2: "<i2", 4: "<i4"}[width]).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(d.shape[1]), w.setsampwidth(width), w.setframerate(sr)
        w.writeframes(b)


def write_float_wav(path, data, sr, extensible=False):
    """IEEE-float WAV (format 3, or WAVE_FORMAT_EXTENSIBLE with the float sub-format)."""
    d = np.atleast_2d(np.asarray(data, np.float32).T).T
    ch = d.shape[1]
    payload = d.astype("<f4").tobytes()
    if extensible:
        guid = struct.pack("<H", 3) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, ch, sr, sr * 4 * ch, 4 * ch, 32, 22, 32, 0) + guid
    else:
        fmt = struct.pack("<HHIIHH", 3, ch, sr, sr * 4 * ch, 4 * ch, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(payload)) + payload
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_int16_mono_16k(tmp_path):
    x = tone(16000)
    write_pcm(tmp_path / "a.wav", x, 16000)
    a, sr = A.load_audio(tmp_path / "a.wav")
    assert sr == 16000 and a.dtype == np.float32 and a.shape == x.shape
    assert np.abs(a - x).max() < 1e-4


@pytest.mark.parametrize("width", [3, 4])
def test_int24_int32(tmp_path, width):
    x = tone(16000)
    write_pcm(tmp_path / "a.wav", x, 16000, width)
    a, _ = A.load_audio(tmp_path / "a.wav")
    assert np.abs(a - x).max() < 1e-5


@pytest.mark.parametrize("extensible", [False, True])
def test_float32_wav(tmp_path, extensible):
    x = tone(16000)
    write_float_wav(tmp_path / "f.wav", x, 16000, extensible)
    a, _ = A.load_audio(tmp_path / "f.wav")
    assert np.array_equal(a, x)


def test_stereo_44k_is_mixed_and_resampled(tmp_path):
    left, right = tone(44100, 1.0, 440), tone(44100, 1.0, 440) * 0.0
    write_pcm(tmp_path / "s.wav", np.stack([left, right], 1), 44100)
    a, sr = A.load_audio(tmp_path / "s.wav")
    assert sr == 16000 and a.shape == (16000,)
    ref = 0.25 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)  # mean of the two channels
    assert np.abs(a[300:-300] - ref[300:-300]).max() < 2e-3


@pytest.mark.parametrize("sr", [8000, 22050, 48000])
def test_resampler_keeps_tones_and_removes_aliases(sr):
    y = A.resample(tone(sr, 1.0, 300), sr, 16000)
    ref = 0.5 * np.sin(2 * np.pi * 300 * np.arange(y.size) / 16000)
    assert y.size == 16000 and np.abs(y[300:-300] - ref[300:-300]).max() < 2e-3
    if sr > 16000:  # a 10 kHz tone is above the new Nyquist: it must vanish, not fold down
        assert np.abs(A.resample(tone(sr, 1.0, 10000), sr, 16000)[300:-300]).max() < 1e-3


def test_flac_via_soundfile_or_ffmpeg(tmp_path):
    sf = pytest.importorskip("soundfile")
    x = tone(22050, 0.5)
    sf.write(str(tmp_path / "a.flac"), x, 22050)
    a, sr = A.load_audio(tmp_path / "a.flac")
    assert sr == 16000 and abs(a.size - 8000) <= 1 and 0.45 < np.abs(a).max() < 0.55


def test_bad_inputs(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "junk.wav").write_bytes(b"this is not audio at all" * 10)
    write_pcm(tmp_path / "short.wav", tone(16000, 0.01), 16000)
    write_float_wav(tmp_path / "nan.wav", np.array([0.1, np.nan] * 2000, np.float32), 16000)
    write_pcm(tmp_path / "nosamples.wav", np.zeros(0), 16000)
    for name, msg in [("empty.wav", "empty"), ("junk.wav", "not a readable audio"), ("short.wav", "too short"),
                      ("nan.wav", "not a number"), ("nosamples.wav", "no samples"), ("missing.wav", "not found")]:
        with pytest.raises(InputError, match=msg):
            A.load_audio(tmp_path / name)
    with pytest.raises(InputError, match="sample rate"):
        A.prepare_audio(np.zeros(100), 4000)
    with pytest.raises(InputError):
        A.prepare_audio(np.zeros((2, 3, 4)), 16000)


def test_prepare_audio_arrays_and_short_and_silent():
    st = np.stack([tone(16000), tone(16000)])  # (channels, N) layout is accepted
    a, _ = A.prepare_audio(st, 16000)
    assert a.shape == (8000,)
    i16 = (tone(16000) * 32767).astype(np.int16)
    assert np.abs(A.prepare_audio(i16, 16000)[0] - tone(16000)).max() < 1e-4
    short, _ = A.prepare_audio(tone(16000, 0.1), 16000)  # 0.1 s -> 3 frames
    assert A.features_numpy(short).shape == (3, A.FEATURE_DIM)
    silent = np.zeros(16000, np.float32)
    assert A.is_silent(silent) and not A.is_silent(tone(16000))
    f = A.features_numpy(silent)
    assert f.shape == (30, A.FEATURE_DIM) and np.all(np.isfinite(f))


def speechlike(seconds=3.0, seed=0):
    """Noise bursts with a moving formant-ish tone and silent gaps."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    t = np.arange(n) / 16000
    env = (np.sin(2 * np.pi * 2.5 * t) > 0.2).astype(np.float32)
    x = env * (0.3 * np.sin(2 * np.pi * (300 + 200 * np.sin(t * 3)) * t) + 0.05 * rng.standard_normal(n))
    return x.astype(np.float32)


def test_features_shape_gain_invariance_and_frames():
    x = speechlike()
    f = A.features_numpy(x)
    assert f.shape == (90, A.FEATURE_DIM) and f.dtype == np.float32
    assert np.abs(A.features_numpy(0.01 * x) - f).max() < 1e-3  # microphone gain does not matter
    assert A.features_numpy(x, num_frames_out=95).shape == (95, A.FEATURE_DIM)
    e = f[:, A.N_MELS]
    env = np.array([np.sin(2 * np.pi * 2.5 * (k + 0.5) / 30) > 0.2 for k in range(90)])
    assert e[env].mean() > e[~env].mean() + 0.5  # the energy feature tells speech from gaps


def test_subframe_features_keep_the_frame_features_as_their_mean():
    x = speechlike(1.5, 3)
    f = A.features_numpy(x)
    s = A.features_numpy(x, subframes=True)
    sub = s[:, :-2].reshape(len(s), A.SUBFRAMES, A.N_MELS)
    inside = (np.abs(f[:, :A.N_MELS]) < 5.9)  # away from the clip at +-6
    assert np.allclose(sub.mean(1)[inside], f[:, :A.N_MELS][inside], atol=1e-5)
    assert np.array_equal(s[:, -2:], f[:, -2:])
    assert np.abs(sub[:, 0] - sub[:, 2]).mean() > 0.05  # the detail the average hides


def test_ffmpeg_fallback_and_clear_error_without_decoders(tmp_path, monkeypatch):
    sf = pytest.importorskip("soundfile")
    sf.write(str(tmp_path / "a.flac"), tone(48000, 0.5), 48000)
    monkeypatch.setitem(__import__("sys").modules, "soundfile", None)  # soundfile unimportable
    import shutil
    if shutil.which("ffmpeg"):
        a, sr = A.load_audio(tmp_path / "a.flac")
        assert sr == 16000 and abs(a.size - 8000) <= 2 and 0.45 < np.abs(a).max() < 0.55
    monkeypatch.setattr(A.shutil, "which", lambda name: None)
    with pytest.raises(InputError, match="only WAV"):
        A.load_audio(tmp_path / "a.flac")
    write_pcm(tmp_path / "b.wav", tone(16000), 16000)  # WAV needs neither
    assert A.load_audio(tmp_path / "b.wav")[0].size == 8000
