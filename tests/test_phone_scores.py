"""The numpy port of pocketsphinx's acoustic scoring (core/lips/phone_scores.py) and the shipped phone model."""
import os
from pathlib import Path

import numpy as np
import pytest

from dreamtalk.core.lips import phone_scores as ps
from dreamtalk.core.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def test_shipped_model_is_what_the_extraction_tool_makes():
    pocketsphinx = pytest.importorskip("pocketsphinx")
    d = Path(os.path.dirname(pocketsphinx.__file__)) / "model" / "en-us" / "en-us"
    fresh = ps.extract_model(d)
    shipped = ps.load_model()
    assert list(fresh["names"]) == list(shipped["names"])
    for k in ("means", "variances", "log_weights"):
        assert np.array_equal(fresh[k], shipped[k]), k
    # Mixture weights are normalised up to the model's quantisation (an error would put sums far from 1).
    s = np.exp(shipped["log_weights"].astype(np.float64)).sum(-1)
    assert 0.9 < s.min() and s.max() <= 1.0 + 1e-6


def test_posteriors_are_distributions_per_frame_and_deterministic():
    rng = np.random.default_rng(0)
    audio = (rng.normal(0, 0.1, 16000) * np.sin(np.linspace(0, 40, 16000))).astype(np.float32)
    p = ps.phone_posteriors(audio, 30)
    assert p.shape == (30, ps.N_PHONE_SCORES) and p.dtype == np.float32
    assert np.all(np.isfinite(p)) and np.allclose(p.sum(1), 1.0, atol=1e-4)
    assert np.array_equal(p, ps.phone_posteriors(audio, 30))
    tiny = ps.phone_posteriors(np.zeros(100, np.float32), 1)  # shorter than one Sphinx frame
    assert tiny.shape == (1, ps.N_PHONE_SCORES) and np.isfinite(tiny).all()


def test_deltas_follow_sphinx_1s_c_d_dd():
    cep = np.arange(10, dtype=np.float64)[:, None] ** 2 * np.ones((1, 13))  # c[t] = t^2
    f = ps.deltas(cep)
    t = 5
    assert f[t, 13] == (t + 2) ** 2 - (t - 2) ** 2
    assert f[t, 26] == ((t + 3) ** 2 - (t - 1) ** 2) - ((t + 1) ** 2 - (t - 3) ** 2)
    assert f[0, 13] == cep[2, 0] - cep[0, 0]  # edges repeat the first frame


def test_real_speech_phones_are_recognised_far_above_chance():
    """On a real recording aligned to its transcript, the best-scoring phone matches the aligned one often."""
    pytest.importorskip("pocketsphinx")
    from dreamtalk.core.lips.align import align_transcript
    from dreamtalk.core.audio import load_audio, num_frames, prepare_audio
    from dreamtalk.core.training.dataset import PHONE_CLASSES, frame_phone_ids
    audio, sr = prepare_audio(*load_audio(REPO / "examples" / "speech.wav"))
    phones = align_transcript(audio, sr, (REPO / "examples" / "speech.txt").read_text())
    t = num_frames(audio.size)
    post = ps.phone_posteriors(audio, t)
    names = ps.phone_names()
    ids = frame_phone_ids(phones, t)
    keep = ids >= 0
    truth = np.array([PHONE_CLASSES[i] for i in ids[keep]])
    guess = np.array([names[i] if not names[i].startswith("+") else "SIL" for i in post[keep].argmax(1)])
    acc = float(np.mean(truth == guess))
    majority = max(np.mean(truth == p) for p in set(truth))
    assert acc > 0.35 and acc > 2 * majority, (acc, majority)


def test_a_broken_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "phone_gmm.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable weights file"):
        ps.load_model(str(bad))
    lips = REPO / "weights" / "lips.npz"
    with pytest.raises(InputError, match="expected phone_gmm"):
        ps.load_model(str(lips))
