"""Augmentation keeps lengths and phone timings consistent, and each operation does what it says."""
import numpy as np
import pytest

from dreamtalk.core.data import augment as A
from dreamtalk.core.lips.phones import Phone

SR = 16000


def _signal(seconds=1.5, f0=200.0, seed=0):
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8)) * 0.2
    x[: SR // 4] = 0.0  # leading silence
    return (x + 0.001 * rng.standard_normal(len(t))).astype(np.float32)


PHONES = [Phone("SIL", 0.0, 0.25), Phone("AA", 0.25, 0.9), Phone("M", 0.9, 1.2), Phone("SIL", 1.2, 1.5)]


def _peak_hz(x):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(spec)]


@pytest.mark.parametrize("step", [{"op": "pitch", "semitones": 2.5}, {"op": "vtlp", "alpha": 0.9},
                                  {"op": "reverb", "rt60": 0.5, "seed": 3},
                                  {"op": "noise", "snr_db": 10.0, "kind": "babble", "seed": 1},
                                  {"op": "telephone", "mu_law": True},
                                  {"op": "gain", "gain_db": -6.0, "clip_fraction": 0.01}])
def test_length_preserving_ops_keep_timings(step):
    x = _signal()
    y, ph, desc = A.apply_step(x, SR, PHONES, step)
    assert len(y) == len(x) and y.dtype == np.float32 and np.all(np.isfinite(y))
    assert ph == PHONES and desc
    y2, _, _ = A.apply_step(x, SR, PHONES, step)
    assert np.array_equal(y, y2)  # deterministic


@pytest.mark.parametrize("factor", [0.85, 1.0, 1.13])
def test_speed_rescales_phones_exactly(factor):
    x = _signal()
    y, ph, desc = A.speed(x, SR, PHONES, factor)
    assert abs(len(y) - len(x) / factor) <= 2
    assert ph[-1].end == pytest.approx(len(y) / SR)
    for a, b in zip(PHONES, ph):
        assert b.phone == a.phone and b.start == pytest.approx(a.start * len(y) / len(x))
    # the speech onset moves with the timings
    onset = np.argmax(np.abs(y) > 0.05) / SR
    assert onset == pytest.approx(ph[1].start, abs=0.005)


def test_pitch_shift_moves_f0_keeps_length_and_onset():
    x = _signal(f0=200.0)
    y, _, _ = A.pitch_shift(x, SR, PHONES, 12.0)
    seg = slice(int(0.4 * SR), int(1.1 * SR))
    assert _peak_hz(y[seg]) == pytest.approx(400.0, rel=0.03)
    assert np.argmax(np.abs(y) > 0.05) / SR == pytest.approx(0.25, abs=0.016)


def test_noise_hits_requested_snr():
    x = _signal()
    for kind in ("white", "pink", "brown", "babble"):
        y, _, d = A.add_noise(x, SR, PHONES, 5.0, kind, seed=7)
        noise = y - x
        snr = 10 * np.log10(A.speech_power(x, SR, PHONES) / np.mean(noise.astype(np.float64) ** 2))
        assert snr == pytest.approx(5.0, abs=0.05) and d["kind"] == kind


def test_reverb_direct_path_keeps_onset_and_adds_tail():
    x = np.zeros(SR, np.float32)
    x[4000] = 1.0
    y, _, _ = A.reverb(x, SR, [Phone("SIL", 0, 1.0)], 0.6, seed=2)
    assert np.argmax(np.abs(y)) == 4000 and np.all(np.abs(y[:4000]) < 1e-9)
    assert np.abs(y[4000 + int(0.1 * SR):]).max() > 1e-3  # a tail exists
    ir = A.room_ir(0.6, SR, 2)
    e = ir[int(0.01 * SR):] ** 2
    t10 = np.sum(e[: int(0.1 * SR)]), np.sum(e[int(0.3 * SR): int(0.4 * SR)])
    decay_db = 10 * np.log10(t10[0] / t10[1])  # ~ 60 dB/RT60 * 0.3 s averaged over windows
    assert 20 < decay_db < 40


def test_telephone_removes_high_band():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    y, _, _ = A.telephone(x, SR, [Phone("SIL", 0, 1.0)], mu_law=False)
    f = np.fft.rfftfreq(len(y), 1 / SR)
    p = np.abs(np.fft.rfft(y)) ** 2
    assert p[f > 4200].sum() < 1e-3 * p[(f > 500) & (f < 3000)].sum()
    assert p[f < 150].sum() < 0.02 * p[(f > 500) & (f < 3000)].sum()


def test_vtlp_shifts_spectrum():
    x = _signal(f0=300.0)

    def centroid(z):
        p = np.abs(np.fft.rfft(z)) ** 2
        return np.sum(np.fft.rfftfreq(len(z), 1 / SR) * p) / np.sum(p)
    up, _, _ = A.vtlp(x, SR, PHONES, 1.1)
    down, _, _ = A.vtlp(x, SR, PHONES, 0.9)
    assert centroid(down) < centroid(x) < centroid(up)
    for y in (up, down):  # partials stay at multiples of f0: formants move, pitch does not
        seg = y[6000:22000] * np.hanning(16000)
        p = np.abs(np.fft.rfft(seg)) ** 2
        f = np.fft.rfftfreq(16000, 1 / SR)
        near = np.abs(f - 300.0 * np.round(f / 300.0)) < 15.0
        assert p[near].sum() > 0.95 * p.sum()


def test_gain_and_clipping():
    x = _signal()
    y, _, d = A.gain_clip(x, SR, PHONES, -6.0)
    assert np.allclose(y, x * 10 ** (-6 / 20), atol=1e-6)
    y, _, d = A.gain_clip(x, SR, PHONES, 0.0, clip_fraction=0.02)
    frac = np.mean(np.abs(y) >= 0.99 - 1e-6)
    assert 0.01 < frac < 0.03 and d["clip_fraction"] == 0.02


def test_random_plans_are_deterministic_and_valid():
    x = _signal()
    for seed in range(12):
        plan = A.sample_plan(seed)
        assert plan == A.sample_plan(seed) and plan
        assert [s["op"] for s in plan] == [op for op in A.ORDER if op in {s["op"] for s in plan}]
        y, ph, desc = A.augment(x, SR, PHONES, seed)
        assert ph[-1].end == pytest.approx(len(y) / SR)
        assert set(desc) == {s["op"] for s in plan}
        assert np.all(np.abs(y) <= 1.0 + 1e-6) or "gain" not in desc


def test_random_channel_groups_draw_only_their_channels():
    x = _signal()
    everything = {A.random_channel(x, SR, s)[2]["channel"] for s in range(40)}
    assert everything == set(A.CHANNELS)
    phone = [A.random_channel(x, SR, s, "telephone") for s in range(20)]
    assert {d["channel"] for _, _, d in phone} == {"telephone"}
    assert {d["mu_law"] for _, _, d in phone} == {True, False}
    hz = np.fft.rfftfreq(len(x), 1 / SR)
    for y, _, _ in phone:
        spec = np.abs(np.fft.rfft(y))
        assert spec[hz > 4500].sum() < 0.01 * spec.sum()  # nothing of the high band survives
    assert np.array_equal(A.random_channel(x, SR, 3, "all")[0], A.random_channel(x, SR, 3)[0])
    with pytest.raises(ValueError, match="channel group"):
        A.random_channel(x, SR, 0, "radio")
