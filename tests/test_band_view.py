"""The telephone-band training view of the features matches what a real 8 kHz channel does to them."""
import numpy as np

from dreamtalk.core.audio import TELEPHONE_BAND, band_limited_filterbank, features_numpy, mel_filterbank
from dreamtalk.core.data.augment import telephone


def _speechlike(seconds=2.0, sr=16000):
    """Voiced bursts with 5-7 kHz hiss between them (an S) and silent gaps (a closure)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    voiced = 0.3 * np.sin(2 * np.pi * 150 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    hiss = rng.normal(0, 1, t.size)
    spec = np.fft.rfft(hiss)
    f = np.fft.rfftfreq(t.size, 1 / sr)
    spec[(f < 5000) | (f > 7000)] = 0
    hiss = np.fft.irfft(spec, t.size) * ((np.sin(2 * np.pi * 2 * t + 2.0) > 0.7))
    return (voiced + 0.2 * hiss / np.abs(hiss).max()).astype(np.float32)


def test_band_view_is_close_to_a_real_telephone_copy():
    a = _speechlike()
    real = telephone(a, 16000, [], mu_law=False)[0]
    clean, view, tel = features_numpy(a), features_numpy(a, band=TELEPHONE_BAND), features_numpy(real)
    n = min(len(view), len(tel))
    err_view = np.abs(view[:n] - tel[:n]).mean()
    err_clean = np.abs(clean[:n] - tel[:n]).mean()
    assert err_view < 0.5 * err_clean


def test_band_filterbank_passes_the_band_and_nothing_above_4khz():
    fb, full = band_limited_filterbank(*TELEPHONE_BAND), mel_filterbank()
    f = np.linspace(0, 8000, fb.shape[0])
    gain = fb.sum(1) / np.maximum(full.sum(1), 1e-12)
    assert np.all(gain[(f > 600) & (f < 2500)] > 0.9)  # Butterworth order 4: -3 dB at the edges
    assert np.all(fb[f > 4000] == 0)
