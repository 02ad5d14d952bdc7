"""Moonshine speech states as lip-network input (core/lips/speech_states.py): frames, chunks, the pipeline's use
of them, the mel fallback where they cannot be computed, and their training cache."""
import numpy as np
import pytest

from dreamtalk.core.errors import MissingDependency
from dreamtalk.core.lips import speech_states as ss
from dreamtalk.core.models.config import LipsConfig

SR = 16000
needs_model = pytest.mark.skipif(not ss.available(), reason="Moonshine encoder or onnxruntime not installed")


def _burst_audio(seconds: float, bursts, seed: int = 0) -> np.ndarray:
    """Quiet noise with gated 440 Hz bursts at the given (start, end) seconds."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    a = np.random.default_rng(seed).normal(0, 1e-3, n)
    for lo, hi in bursts:
        m = (t >= lo) & (t < hi)
        a[m] += 0.3 * np.sin(2 * np.pi * 440 * t[m]) * (np.sin(2 * np.pi * 5 * t[m]) > -0.3)
    return a.astype(np.float32)


def test_config_counts_the_state_columns_and_refuses_two_kinds_of_evidence():
    assert LipsConfig(speech_states=True, audio_dim=82 + ss.STATE_DIM).audio_dim == 370
    assert LipsConfig(speech_states=True, mel_input=False, audio_dim=ss.STATE_DIM).audio_dim == 288
    with pytest.raises(ValueError, match="needs 370"):
        LipsConfig(speech_states=True)
    with pytest.raises(ValueError, match="pick one"):
        LipsConfig(speech_states=True, phone_scores=True, audio_dim=82 + 42 + ss.STATE_DIM)
    with pytest.raises(ValueError, match="no audio input"):
        LipsConfig(mel_input=False, audio_dim=0)
    assert LipsConfig(speech_states=True, mel_input=False, level_input=True, audio_dim=290).level_input
    with pytest.raises(ValueError, match="level_input is for mel_input off"):
        LipsConfig(speech_states=True, level_input=True, audio_dim=372)
    assert LipsConfig(speech_states=True, mel_input=False, audio_dim=288, speech_layer=3).speech_layer == 3
    for bad in (dict(speech_layer=6), dict(speech_layer=-1)):
        with pytest.raises(ValueError, match="speech_layer"):
            LipsConfig(speech_states=True, mel_input=False, audio_dim=288, **bad)
    with pytest.raises(ValueError, match="speech_layer"):
        LipsConfig(speech_layer=2)


def test_missing_encoder_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DREAMTALK_MOONSHINE_DIR", str(tmp_path))
    assert not ss.available()
    with pytest.raises(MissingDependency, match="Moonshine's encoder"):
        ss.speech_states(np.zeros(SR, np.float32), 30)
    (tmp_path / "encoder_model.ort").write_bytes(b"x")  # moonshine-cpp's format: the whole encoder only
    assert ss.available() == (ss.encoder_path() is not None and __import__("importlib").util.find_spec(
        "onnxruntime") is not None) and not ss.available(3)
    with pytest.raises(MissingDependency, match="as .onnx"):
        ss.speech_states(np.zeros(SR, np.float32), 30, layer=3)


@needs_model
def test_states_fill_every_frame_for_any_length():
    assert ss.speech_states(np.zeros(0, np.float32), 0).shape == (0, ss.STATE_DIM)
    for seconds in (0.02, 0.5, 8.4, 9.5, 17.3):  # shorter than the encoder's minimum, one chunk, a short tail, two
        a = _burst_audio(seconds, [(0.0, seconds / 2)])
        t = int(round(seconds * 30))
        s = ss.speech_states(a, max(t, 1))
        assert s.shape == (max(t, 1), ss.STATE_DIM) and s.dtype == np.float32 and np.all(np.isfinite(s))


@needs_model
def test_states_are_deterministic_and_cross_chunk_seams_without_a_step():
    a = _burst_audio(20.0, [(2.0, 3.0), (7.6, 8.4), (15.5, 16.6)])
    t = 600
    s = ss.speech_states(a, t, threads=1)
    assert np.array_equal(s, ss.speech_states(a, t, threads=1))
    step = np.linalg.norm(np.diff(s, axis=0), axis=1)  # (T-1,)
    seams = [int(ss.CHUNK_S * 30 * k) - 1 for k in (1, 2)]
    # At a seam the chunks are cross-faded: the frame step there is a typical one (without the fade: 3-4x).
    assert max(step[f] for f in seams) < 2 * np.median(step)


@needs_model
def test_chunks_in_worker_threads_give_the_states_of_one_thread():
    """generate starts the encoder early and runs its chunks side by side; the states are those of one thread
    running the chunks in turn, exactly, and a job can be cancelled before its result is read."""
    a = _burst_audio(26.0, [(1.0, 2.0), (9.0, 9.6), (20.0, 21.5)])  # four chunks
    one = ss.speech_states(a, 780, threads=1)
    job = ss.start_speech_states(a, 780)
    assert len(job.chunks) == 4
    assert np.array_equal(job.result(), one)
    assert np.array_equal(ss.speech_states(a, 780), one)  # threads=0: the same job
    ss.start_speech_states(a, 780).cancel()  # pending chunks dropped, nothing raised


@needs_model
def test_states_follow_the_audio_in_time():
    """A burst moves the states where it is: frames inside it differ from frames of quiet far more than quiet
    frames differ among themselves."""
    a = _burst_audio(6.0, [(3.0, 4.0)])
    s = ss.speech_states(a, 180)
    quiet = s[30:75].mean(0)
    d = np.linalg.norm(s - quiet, axis=1)
    assert d[95:115].mean() > 2 * d[30:75].mean()


@needs_model
@pytest.mark.parametrize("levels", [False, True])
def test_pipeline_feeds_the_states_to_the_lip_network(tmp_path, levels):
    from test_pipeline import build_tiny_weights, gen, speechlike
    from dreamtalk.core.audio import features_numpy
    from dreamtalk.core.models.emodiff_numpy import EmoDiffNumpy
    from dreamtalk.core.models.lips_numpy import LipsNumpy
    w = build_tiny_weights(tmp_path / "w", speech_states=True, mel_input=False, level_input=levels)
    bare = build_tiny_weights(tmp_path / "bare", lips=False)
    audio = speechlike(1.2)
    anim, face = gen(w, audio), gen(bare, audio)
    lm = LipsNumpy.from_file(w / "lips.npz")
    style = EmoDiffNumpy.from_file(w / "emodiff.npz").emotion_style("neutral", 1.0)
    feats = ss.speech_states(audio, anim.num_frames)  # (T, 288): the states alone
    if levels:  # (T, 2 + 288): loudness and flux first
        feats = np.concatenate([features_numpy(audio, anim.num_frames)[:, -2:], feats], axis=1)
    expect = lm.predict(feats, np.clip(face.weights, 0, 1), style)
    assert np.abs(anim.weights[:, lm.mouth_index] - np.clip(expect, 0, 1)).max() < 1e-5


def test_without_the_encoder_the_mel_network_runs_and_is_named(tmp_path, monkeypatch):
    from test_pipeline import build_tiny_weights, gen
    from dreamtalk.core.models import bundle
    w = build_tiny_weights(tmp_path / "w", speech_states=True, lips_mel=True)
    monkeypatch.setattr(ss, "available", lambda layer=None: False)
    monkeypatch.setattr(bundle, "_MODELS", {})
    from dreamtalk.core.errors import DreamTalkWarning
    with pytest.warns(DreamTalkWarning, match="mel-feature network"):
        m = bundle.load_models(w)
    assert m.lips.version == "tiny-mel" and m.mel_lips is m.lips and "lips-tiny-mel" in m.version
    anim = gen(w)
    assert np.all(np.isfinite(anim.weights))
    lone = build_tiny_weights(tmp_path / "lone", speech_states=True)  # no fallback file: a clear error
    with pytest.raises(MissingDependency, match="speech states"):
        bundle.load_models(lone)


def test_live_uses_the_mel_network(tmp_path, monkeypatch):
    from test_pipeline import build_tiny_weights
    from dreamtalk.core.live.engine import LiveEngine
    from dreamtalk.core.models import bundle
    monkeypatch.setattr(ss, "available", lambda layer=None: True)
    monkeypatch.setattr(bundle, "_MODELS", {})
    w = build_tiny_weights(tmp_path / "w", speech_states=True, lips_mel=True)
    m = bundle.load_models(w)
    assert m.lips.cfg.speech_states and m.mel_lips.version == "tiny-mel"
    assert LiveEngine(models=m, hop=4).lips is m.mel_lips


@needs_model
def test_the_closure_probe_checks_the_speech_state_network_closures(tmp_path, monkeypatch):
    from test_pipeline import build_tiny_weights, gen, speechlike
    from dreamtalk.core.lips import closures
    from dreamtalk.core.models import bundle
    from dreamtalk.core.models.config import ClosureProbeConfig
    from dreamtalk.core.weights import save_weights
    w = build_tiny_weights(tmp_path / "w", speech_states=True, mel_input=False)
    audio = speechlike(1.2)
    plain = gen(w, audio)

    def probe(bias, layer=None):
        cfg = ClosureProbeConfig(context=1, hidden=2, speech_layer=layer)
        d = cfg.input_dim
        save_weights(w / "closure_probe.npz", "closure_probe", cfg.to_dict(),
                     {"mean": np.zeros(d), "std": np.ones(d), "fc1.weight": np.zeros((2, d)), "fc1.bias": np.zeros(2),
                      "fc2.weight": np.zeros((1, 2)), "fc2.bias": np.full(1, bias)}, model_version="p")
        monkeypatch.setattr(bundle, "_MODELS", {})

    probe(100.0)  # bilabial evidence everywhere: every closure stays
    assert np.array_equal(gen(w, audio).weights, plain.weights)
    assert bundle.load_models(w).version.endswith("+closures-p")
    seen = []
    real = closures.open_doubtful
    monkeypatch.setattr(closures, "open_doubtful", lambda *a, **k: seen.append((a, k)) or real(*a, **k))
    probe(-100.0)  # no evidence anywhere: closures away from the edges and pauses open
    anim = gen(w, audio)
    (weights, logits, threshold, pad), kw = seen[0]
    assert logits.shape == (anim.num_frames,) and np.all((logits == -100.0) | np.isneginf(logits))  # scored near runs
    assert threshold == 0.0 and pad == 2 and kw["rest"].shape == (anim.num_frames,)
    probe(0.0, layer=3)  # states of another encoder layer than the lip network's: refused
    from dreamtalk.core.errors import InputError
    with pytest.raises(InputError, match="encoder layer"):
        bundle.load_models(w)
