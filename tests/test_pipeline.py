"""The generation pipeline and `dreamtalk generate` on tiny random-init weights (never the shipped ones).

The weights are built once per session with the torch models, exported with ``save_weights`` into a tmp folder,
and handed to ``generate(..., weights_dir=...)``.
"""
import json
import os
import shutil
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest

from dreamtalk.core.errors import InputError
from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX, MOUTH_INDEX

REPO = Path(__file__).resolve().parents[1]
SR = 16000
NON_MOUTH = np.setdiff1d(np.arange(52), MOUTH_INDEX)
BLINKS = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]
SPEECH_CLIP = Path("/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")


def build_tiny_weights(out: Path, lips: bool = True, seed: int = 0, subframe_audio: bool = False,
                       phone_scores: bool = False, speech_states: bool = False, mel_input: bool = True,
                       level_input: bool = False, lips_mel: bool = False) -> Path:
    """Random-init tiny EmoDiff (+ lips) weights with an emotion style table, saved as emodiff.npz / lips.npz
    (and with ``lips_mel`` a second, mel-only lip network as lips_mel.npz)."""
    torch = pytest.importorskip("torch")
    from dreamtalk.core.emotions import EMOTIONS
    from dreamtalk.core.models.config import EmoDiffConfig, LipsConfig
    from dreamtalk.core.models.emodiff_torch import EmoDiff, export_arrays
    from dreamtalk.core.models.lips_torch import Lips
    from dreamtalk.core.weights import save_weights

    ecfg = EmoDiffConfig(window=16, prefix=4, lookahead=4, d_model=16, n_layers=1, n_heads=2, style_dim=8,
                         style_d_model=16, style_layers=1, style_heads=2, style_max_frames=32,
                         diffusion_steps=50, dropout=0.0)
    from dreamtalk.core.audio import FEATURE_DIM, SUBFRAME_FEATURE_DIM
    from dreamtalk.core.lips.phone_scores import N_PHONE_SCORES
    from dreamtalk.core.lips.speech_states import STATE_DIM
    lcfg = LipsConfig(style_dim=8, channels=16, dilations=(1, 2), dropout=0.0, subframe_audio=subframe_audio,
                      phone_scores=phone_scores, speech_states=speech_states, mel_input=mel_input,
                      level_input=level_input,
                      audio_dim=((SUBFRAME_FEATURE_DIM if subframe_audio else FEATURE_DIM) if mel_input else 0)
                      + (2 if level_input else 0) + (N_PHONE_SCORES if phone_scores else 0)
                      + (STATE_DIM if speech_states else 0))
    g = torch.Generator().manual_seed(seed)
    out.mkdir(parents=True, exist_ok=True)
    model = EmoDiff(ecfg)
    with torch.no_grad():
        for p in model.parameters():  # random everywhere so every input (audio, style, seed) matters
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
        model.motion_mean.copy_(torch.cat([torch.full((52,), 0.25), torch.zeros(3)]))
        model.motion_std.copy_(torch.cat([torch.full((52,), 0.15), torch.full((3,), 0.05)]))
    rng = np.random.default_rng(seed)
    neutral = rng.standard_normal(ecfg.style_dim).astype(np.float32)
    table = np.zeros((len(EMOTIONS), 4, ecfg.style_dim), np.float32)  # (E, level 0..3, Ds); level 0 = neutral
    for e in range(len(EMOTIONS)):
        direction = rng.standard_normal(ecfg.style_dim) * (0 if e == 0 else 1)
        for lvl in range(4):
            table[e, lvl] = neutral + lvl / 3 * direction
    save_weights(out / "emodiff.npz", "emodiff", ecfg.to_dict(), export_arrays(model.eval()),
                 extra={"emotion_names": np.array(EMOTIONS), "emotion_level_styles": table}, model_version="tiny")
    if lips:
        lm = Lips(lcfg)
        with torch.no_grad():
            for p in lm.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        save_weights(out / "lips.npz", "lips", lcfg.to_dict(), export_arrays(lm.eval()), model_version="tiny")
    if lips_mel:
        mcfg = LipsConfig(style_dim=8, channels=16, dilations=(1, 2), dropout=0.0)
        lm = Lips(mcfg)
        with torch.no_grad():
            for p in lm.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        save_weights(out / "lips_mel.npz", "lips", mcfg.to_dict(), export_arrays(lm.eval()), model_version="tiny-mel")
    return out


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """Folder with tiny emodiff.npz + lips.npz."""
    return build_tiny_weights(tmp_path_factory.mktemp("w_full"))


@pytest.fixture(scope="session")
def tiny_weights_nolips(tiny_weights, tmp_path_factory):
    """The same EmoDiff weights without lips.npz (the pipeline then skips lip refinement)."""
    d = tmp_path_factory.mktemp("w_nolips")
    shutil.copy(tiny_weights / "emodiff.npz", d / "emodiff.npz")
    return d


def speechlike(seconds: float, seed: int = 0, sr: int = SR) -> np.ndarray:
    """(N,) float32 bursts of noise shaped like syllables (loud/quiet alternating)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    env = (np.sin(2 * np.pi * 3.0 * np.arange(n) / sr) > -0.2).astype(np.float32)
    return (rng.normal(0, 0.1, n) * env).astype(np.float32)


def write_wav(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    """16-bit PCM mono WAV."""
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1), f.setsampwidth(2), f.setframerate(sr)
        f.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def gen(weights, audio=None, **kw):
    """generate() on tiny weights with few steps."""
    from dreamtalk.core.pipeline import generate
    kw.setdefault("steps", 3)
    return generate(speechlike(2.0) if audio is None else audio, kw.pop("sr", SR), weights_dir=weights, **kw)


# ---- determinism, frame rates, options --------------------------------------------------------------
def test_same_seed_same_output_different_seed_differs(tiny_weights):
    a, b, c = gen(tiny_weights, seed=5), gen(tiny_weights, seed=5), gen(tiny_weights, seed=6)
    assert a.weights.shape == (60, 52) and a.head_rotation.shape == (60, 3)
    assert np.array_equal(a.weights, b.weights) and np.array_equal(a.head_rotation, b.head_rotation)
    assert np.abs(a.weights - c.weights).mean() > 1e-3 and not np.allclose(a.head_rotation, c.head_rotation)
    assert np.all((a.weights >= 0) & (a.weights <= 1)) and a.metadata["seed"] == 5


def test_generate_runs_one_blas_thread_and_gives_the_setting_back(tiny_weights, monkeypatch):
    from dreamtalk.core import blas
    from dreamtalk.core.models.emodiff_numpy import EmoDiffNumpy
    if blas.blas_threads() is None:
        pytest.skip("numpy's OpenBLAS cannot be reached here")
    seen = []
    real = EmoDiffNumpy.sample_sequence
    monkeypatch.setattr(EmoDiffNumpy, "sample_sequence",
                        lambda self, *a, **k: (seen.append(blas.blas_threads()), real(self, *a, **k))[1])
    before = blas.set_blas_threads(2)
    try:
        gen(tiny_weights)
        assert seen == [1] and blas.blas_threads() == 2
        from dreamtalk.core.errors import Cancelled
        with pytest.raises(Cancelled):  # stopped inside the sampling
            gen(tiny_weights, cancel=lambda: True)
        assert blas.blas_threads() == 2
    finally:
        blas.set_blas_threads(before)


def test_takes_of_another_length_get_their_own_noise(tiny_weights, monkeypatch):
    from dreamtalk.core.models.emodiff_numpy import EmoDiffNumpy
    first = []
    real = EmoDiffNumpy.sample_sequence

    def spy(self, feats, style, rng=None, **kw):
        first.append(rng.bit_generator.state["state"]["state"])  # the noise generator's starting state
        return real(self, feats, style, rng=rng, **kw)

    monkeypatch.setattr(EmoDiffNumpy, "sample_sequence", spy)
    a = speechlike(2.0)
    longer = np.concatenate([a, np.zeros(SR // 2, a.dtype)])
    gen(tiny_weights, a, seed=0), gen(tiny_weights, a, seed=0), gen(tiny_weights, longer, seed=0)
    # the same take twice: the same noise; another take with the same seed: its own (blinks no longer in lockstep)
    assert first[0] == first[1] and first[0] != first[2]


def test_emotion_and_intensity_change_the_output(tiny_weights):
    n = gen(tiny_weights, emotion="neutral")
    h1, h0 = gen(tiny_weights, emotion="happy", intensity=1.0), gen(tiny_weights, emotion="happy", intensity=0.0)
    assert not np.allclose(n.weights, h1.weights)
    assert np.array_equal(n.weights, h0.weights)  # intensity 0 is neutral (table level 0)
    assert h1.metadata["emotion"] == "happy"


@pytest.mark.parametrize("fps,frames", [(24, 48), (60, 120), (30, 60)])
def test_fps_resampling_frame_counts(tiny_weights, fps, frames):
    a = gen(tiny_weights, fps=fps)
    assert a.fps == fps and a.num_frames == frames and a.duration == pytest.approx(2.0)


def test_no_head_zeros_head(tiny_weights):
    moving, still = gen(tiny_weights, head=True), gen(tiny_weights, head=False)
    assert np.abs(moving.head_rotation).max() > 1e-3
    assert np.all(still.head_rotation == 0) and np.array_equal(moving.weights, still.weights)


def test_no_blink_removes_blink_peaks_only(tiny_weights):
    on, off = gen(tiny_weights, blink=True), gen(tiny_weights, blink=False)
    for i in BLINKS:
        base = np.percentile(on.weights[:, i], 40)
        assert on.weights[:, i].max() > base + 0.02  # there were peaks to remove
        assert off.weights[:, i].max() <= base + 1e-6  # none above the slow baseline now
    others = np.setdiff1d(np.arange(52), BLINKS)
    assert np.array_equal(on.weights[:, others], off.weights[:, others])


def test_lips_change_only_mouth_channels(tiny_weights, tiny_weights_nolips):
    with_lips, without = gen(tiny_weights, seed=2), gen(tiny_weights_nolips, seed=2)
    assert "lips-none" in without.metadata["model_version"]
    assert np.array_equal(with_lips.weights[:, NON_MOUTH], without.weights[:, NON_MOUTH])
    assert np.array_equal(with_lips.head_rotation, without.head_rotation)
    assert np.abs(with_lips.weights[:, MOUTH_INDEX] - without.weights[:, MOUTH_INDEX]).max() > 0.01


@pytest.mark.skipif(not SPEECH_CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_transcript_sharpens_mouth_only(tiny_weights):
    pytest.importorskip("pocketsphinx")
    from dreamtalk.core.audio import load_audio
    audio, sr = load_audio(SPEECH_CLIP)
    plain = gen(tiny_weights, audio, sr=sr)
    aligned = gen(tiny_weights, audio, sr=sr, transcript="He was not an ill-disposed young man.")
    assert aligned.metadata["transcript"] is True
    assert np.array_equal(plain.weights[:, NON_MOUTH], aligned.weights[:, NON_MOUTH])
    assert np.abs(plain.weights[:, MOUTH_INDEX] - aligned.weights[:, MOUTH_INDEX]).max() > 0.05


@pytest.mark.skipif(not SPEECH_CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_transcript_that_cannot_be_aligned_warns_and_keeps_the_audio_path(tiny_weights, tmp_path, run_cli):
    pytest.importorskip("pocketsphinx")
    from dreamtalk.core.audio import load_audio
    from dreamtalk.core.errors import DreamTalkWarning
    audio, sr = load_audio(SPEECH_CLIP)
    short = audio[: int(0.4 * sr)]  # far more phones than 10 ms frames: no alignment exists
    text = "He was not an ill-disposed young man unless to be rather cold hearted and rather selfish " * 3
    plain = gen(tiny_weights, short, sr=sr)
    with pytest.warns(DreamTalkWarning, match="the lips follow the audio alone"):
        fallback = gen(tiny_weights, short, sr=sr, transcript=text)
    assert np.array_equal(plain.weights, fallback.weights)
    assert fallback.metadata["transcript_aligned"] is False
    ok = gen(tiny_weights, audio, sr=sr, transcript="He was not an ill-disposed young man.")
    assert ok.metadata["transcript_aligned"] is True
    wav = write_wav(tmp_path / "short.wav", short, sr)
    r = run_cli("generate", wav, "-o", tmp_path / "o.json", "--transcript", text, "--weights", tiny_weights, "-q")
    assert r.returncode == 0 and (tmp_path / "o.json").is_file()
    assert r.stderr.strip().startswith("dreamtalk generate: warning:") and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not SPEECH_CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_recognize_sharpens_mouth_only(tiny_weights):
    pytest.importorskip("pocketsphinx")
    from dreamtalk.core.audio import load_audio
    from dreamtalk.core.errors import InputError
    audio, sr = load_audio(SPEECH_CLIP)
    plain = gen(tiny_weights, audio, sr=sr)
    heard = gen(tiny_weights, audio, sr=sr, recognize=True)
    assert "young man" in heard.metadata["recognized_text"]  # what the recogniser heard travels with the curves
    assert np.array_equal(plain.weights[:, NON_MOUTH], heard.weights[:, NON_MOUTH])
    assert np.abs(plain.weights[:, MOUTH_INDEX] - heard.weights[:, MOUTH_INDEX]).max() > 0.05
    with pytest.raises(InputError, match="not both"):
        gen(tiny_weights, audio, sr=sr, recognize=True, transcript="he was")
    silent = gen(tiny_weights, np.zeros(16000, np.float32), sr=16000, recognize=True)
    assert silent.metadata["recognized_text"] == ""


def test_style_clip_is_used(tiny_weights, make_anim):
    a = gen(tiny_weights, style=make_anim(frames=40, seed=1))
    b = gen(tiny_weights, style=make_anim(frames=40, seed=2))
    assert not np.allclose(a.weights, b.weights) and a.num_frames == 60


def test_a_style_clip_is_guided_as_the_weights_say(tiny_weights, make_anim, tmp_path):
    """Without --guidance a reference clip gets the weights' style_guidance at every step (2 unless the weights
    say otherwise: a distilled student carries it and says 1); an explicit value wins."""
    from dreamtalk.core.models.config import EmoDiffConfig
    from dreamtalk.core.weights import load_weights, save_weights
    clip = make_anim(frames=40, seed=1)
    assert gen(tiny_weights, style=clip).metadata["guidance"] == 2.0
    w = load_weights(tiny_weights / "emodiff.npz")
    cfg = EmoDiffConfig.from_dict(dict(w.config, style_guidance=1.0))
    shutil.copytree(tiny_weights, tmp_path / "w")
    save_weights(tmp_path / "w" / "emodiff.npz", "emodiff", cfg.to_dict(), w.params, w.extra,
                 model_version=w.model_version)
    one = gen(tmp_path / "w", style=clip)
    assert one.metadata["guidance"] == 1.0 and "guidance_interval" not in one.metadata
    assert not np.allclose(one.weights, gen(tiny_weights, style=clip).weights)
    assert gen(tmp_path / "w", style=clip, guidance=1.5).metadata["guidance"] == 1.5


# ---- numpy-only inference ----------------------------------------------------------------------------
BLOCKER = textwrap.dedent("""
    import importlib.abc, sys
    BLOCKED = {blocked!r}
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError("blocked for the test: " + name)
            return None
    sys.meta_path.insert(0, Block())
""")


def run_python(code: str, blocked=(), timeout=120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with ``blocked`` top-level modules made unimportable."""
    src = BLOCKER.format(blocked=sorted(blocked)) + textwrap.dedent(code)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout, env=env)


def test_inference_imports_only_numpy_and_stdlib(tiny_weights):
    blocked = ["torch", "scipy", "soundfile", "matplotlib", "pocketsphinx"]
    r = run_python(f"""
        import json, sys
        import numpy as np
        from dreamtalk import generate
        from dreamtalk.core.errors import DreamTalkError
        rng = np.random.default_rng(0)
        audio = (rng.normal(0, 0.1, 24000) * (np.arange(24000) % 8000 < 5000)).astype(np.float32)
        anim = generate(audio, 22050, emotion="sad", intensity=0.5, seed=1, steps=3, weights_dir={str(tiny_weights)!r})
        try:
            generate(audio, 22050, transcript="hello there", steps=2, weights_dir={str(tiny_weights)!r})
            transcript_error = None
        except DreamTalkError as e:
            transcript_error = str(e)
        print(json.dumps({{"frames": anim.num_frames, "finite": bool(np.isfinite(anim.weights).all()),
                          "loaded": sorted(m for m in {blocked!r} if m in sys.modules),
                          "transcript_error": transcript_error}}))
    """, blocked)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["frames"] == round(24000 / 22050 * 30) and out["finite"]
    assert out["loaded"] == []
    # Without pocketsphinx the transcript path is a clear one-line error, not a crash.
    assert "pocketsphinx" in out["transcript_error"]


# ---- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("audio,kw,match", [
    (np.zeros(0, np.float32), {}, "no samples"),
    (np.full(16000, np.nan, np.float32), {}, "not a number"),
    (np.concatenate([np.zeros(8000), [np.nan], np.zeros(8000)]).astype(np.float32), {}, "not a number"),
    (np.zeros(16000, np.float32), {"emotion": "ecstatic"}, "unknown emotion"),
    (np.zeros(16000, np.float32), {"intensity": 2}, "intensity"),
    (np.zeros(16000, np.float32), {"intensity": "lots"}, "intensity"),
    (np.zeros(16000, np.float32), {"sr": None}, "sample rate"),
    (np.zeros(16000, np.float32), {"sr": 1000}, "not supported"),
    (np.zeros((16000, 2, 2), np.float32), {}, "shape"),
    (np.zeros(16000, np.float32), {"fps": 0}, "fps"),
    (np.zeros(16000, np.float32), {"steps": 0}, "steps"),
])
def test_bad_array_input_is_a_clear_error(tiny_weights, audio, kw, match):
    with pytest.raises(InputError, match=match):
        gen(tiny_weights, audio, **kw)


def test_bad_files_are_clear_errors(tiny_weights, tmp_path, sample_csv):
    from dreamtalk.core.pipeline import generate
    junk = tmp_path / "junk.wav"
    junk.write_bytes(os.urandom(4000))
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    for bad in (junk, empty, tmp_path / "missing.wav", tmp_path):
        with pytest.raises(InputError):
            generate(bad, weights_dir=tiny_weights, steps=2)
    # A style clip missing blendshape columns.
    lines = sample_csv.read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, h in enumerate(header) if h not in ("MouthSmileLeft", "BrowInnerUp")]
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(",".join(r.split(",")[i] for i in keep) for r in lines[:40]) + "\n")
    with pytest.raises(InputError, match="missing 2 blendshape"):
        gen(tiny_weights, style=cut)
    with pytest.raises(InputError):
        gen(tiny_weights, style=tmp_path / "no_such_style.csv")


def test_subframe_lips_get_the_subframe_features(tmp_path):
    from dreamtalk.core.audio import features_numpy
    from dreamtalk.core.models.emodiff_numpy import EmoDiffNumpy
    from dreamtalk.core.models.lips_numpy import LipsNumpy
    w = build_tiny_weights(tmp_path / "w", subframe_audio=True)
    bare = build_tiny_weights(tmp_path / "bare", lips=False)  # the same EmoDiff, no lips
    audio = speechlike(1.2)
    anim, face = gen(w, audio), gen(bare, audio)
    lm = LipsNumpy.from_file(w / "lips.npz")
    style = EmoDiffNumpy.from_file(w / "emodiff.npz").emotion_style("neutral", 1.0)
    feats = features_numpy(audio, anim.num_frames, subframes=True)  # (T, 242)
    expect = lm.predict(feats, np.clip(face.weights, 0, 1), style)
    assert lm.cfg.subframe_audio and feats.shape[1] == 242
    assert np.abs(anim.weights[:, lm.mouth_index] - np.clip(expect, 0, 1)).max() < 1e-5


def test_phone_score_lips_get_the_acoustic_posteriors(tmp_path):
    from dreamtalk.core.audio import features_numpy
    from dreamtalk.core.models.emodiff_numpy import EmoDiffNumpy
    from dreamtalk.core.models.lips_numpy import LipsNumpy
    from dreamtalk.core.lips.phone_scores import phone_posteriors
    w = build_tiny_weights(tmp_path / "w", phone_scores=True)
    bare = build_tiny_weights(tmp_path / "bare", lips=False)
    audio = speechlike(1.2)
    anim, face = gen(w, audio), gen(bare, audio)
    lm = LipsNumpy.from_file(w / "lips.npz")
    style = EmoDiffNumpy.from_file(w / "emodiff.npz").emotion_style("neutral", 1.0)
    feats = np.concatenate([features_numpy(audio, anim.num_frames), phone_posteriors(audio, anim.num_frames)], 1)
    expect = lm.predict(feats, np.clip(face.weights, 0, 1), style)  # (T, 124) in
    assert lm.cfg.phone_scores and feats.shape[1] == 124
    assert np.abs(anim.weights[:, lm.mouth_index] - np.clip(expect, 0, 1)).max() < 1e-5


def test_missing_weights_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no trained EmoDiff weights"):
        gen(tmp_path)


def test_short_and_silent_audio_give_sensible_results(tiny_weights):
    short = gen(tiny_weights, np.random.default_rng(0).normal(0, 0.1, 1600).astype(np.float32))
    assert short.num_frames == 3 and np.all(np.isfinite(short.weights))
    silent = gen(tiny_weights, np.zeros(2 * SR, np.float32))
    assert silent.num_frames == 60 and np.all(np.isfinite(silent.weights)) and np.all(np.isfinite(silent.head_rotation))
    stereo_int = gen(tiny_weights, (speechlike(1.0)[:, None] * [1, 0.5] * 20000).astype(np.int16))
    assert stereo_int.num_frames == 30


SHIPPED = REPO / "weights" / "emodiff.npz"


@pytest.mark.skipif(not SHIPPED.is_file(), reason="shipped weights not trained yet")
def test_shipped_model_keeps_mouth_closed_on_silence():
    from dreamtalk.core.eval.lipsync import lip_gap
    from dreamtalk.core.pipeline import generate
    anim = generate(np.zeros(3 * SR, np.float32), SR, seed=0)
    assert np.percentile(lip_gap(anim), 95) < 0.1


# ---- the CLI -----------------------------------------------------------------------------------------
def test_cli_writes_csv_and_glb(tiny_weights, tmp_path):
    pygltflib = pytest.importorskip("pygltflib")
    from dreamtalk.cli import main
    from dreamtalk.core.formats import read_animation
    wav = write_wav(tmp_path / "a.wav", speechlike(1.5))
    csv_out, glb_out = tmp_path / "x.csv", tmp_path / "x.glb"
    for out in (csv_out, glb_out):
        assert main(["generate", str(wav), "-o", str(out), "--weights", str(tiny_weights), "--steps", "2",
                     "--emotion", "happy", "-q"]) == 0
    back = read_animation(csv_out)
    assert back.num_frames == 45 and back.weights.shape == (45, 52)
    ref = gen(tiny_weights, speechlike(1.5), emotion="happy", steps=2)
    assert np.abs(back.weights - ref.weights).max() < 1e-3  # CSV holds the generated curves
    g = pygltflib.GLTF2().load(str(glb_out))
    assert glb_out.read_bytes()[:4] == b"glTF" and len(g.animations) == 1 and g.meshes
    names = g.meshes[0].extras.get("targetNames") if isinstance(g.meshes[0].extras, dict) else None
    assert names is None or set(names) <= set(ARKIT_NAMES)


@pytest.mark.skipif(not SPEECH_CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_cli_recognize_prints_what_it_heard(tiny_weights, tmp_path, capsys):
    pytest.importorskip("pocketsphinx")
    from dreamtalk.cli import main
    from dreamtalk.core.formats import read_animation
    out = tmp_path / "x.json"
    assert main(["generate", str(SPEECH_CLIP), "-o", str(out), "--weights", str(tiny_weights), "--steps", "2",
                 "--recognize"]) == 0
    heard = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("recognized (")]
    assert len(heard) == 1 and "young man" in heard[0]
    meta = read_animation(out).metadata
    assert "young man" in meta["recognized_text"] and f"({meta['recognizer']}):" in heard[0]
    bad = tmp_path / "y.json"
    assert main(["generate", str(SPEECH_CLIP), "-o", str(bad), "--weights", str(tiny_weights), "--recognize",
                 "--transcript", "he was", "-q"]) == 2
    assert "not both" in capsys.readouterr().err and not bad.exists()


def test_cli_bad_inputs_exit_2_with_one_line_and_no_output(tiny_weights, tmp_path, sample_csv, capsys):
    from dreamtalk.cli import main
    good = write_wav(tmp_path / "good.wav", speechlike(1.0))
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio at all " * 100)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    nan = tmp_path / "nan.wav"
    nan.write_bytes(_float_wav(np.full(8000, np.nan, np.float32)))
    header = sample_csv.read_text().splitlines()[0].split(",")
    cut = tmp_path / "cut.csv"
    cut.write_text(",".join(h for h in header if h != "JawOpen") + "\n")
    cases = [
        [str(empty)], [str(junk)], [str(nan)], [str(tmp_path / "nope.wav")],
        [str(good), "--emotion", "ecstatic"], [str(good), "--intensity", "2"], [str(good), "--style", str(cut)],
        [str(good), "--fps", "0"],
    ]
    for i, case in enumerate(cases):
        out = tmp_path / f"out{i}.json"
        rc = main(["generate", *case, "-o", str(out), "--weights", str(tiny_weights), "--steps", "2", "-q"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2, case
        assert len(err) == 1 and err[0].startswith("dreamtalk generate: error: "), (case, err)
        assert not out.exists() and not list(tmp_path.glob(f"out{i}*")), case
    assert main(["generate", str(good), "-o", str(tmp_path / "x.txt"), "-q"]) == 2
    assert ".gltf" in capsys.readouterr().err  # the error lists every format, .gltf included


def test_cli_generate_help_lists_gltf_and_the_seed_default(capsys):
    from dreamtalk.cli import main
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert ".gltf" in out and "default 0" in out


def _float_wav(samples: np.ndarray, sr: int = SR) -> bytes:
    """A mono 32-bit IEEE-float WAV file as bytes."""
    import struct
    data = samples.astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, sr, sr * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_cli_subprocess_bad_emotion_one_line(tiny_weights, tmp_path, run_cli):
    wav = write_wav(tmp_path / "a.wav", speechlike(0.5))
    r = run_cli("generate", wav, "-o", tmp_path / "o.npz", "--emotion", "furious", "--weights", tiny_weights)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "unknown emotion" in r.stderr
    assert not (tmp_path / "o.npz").exists()


# ---- long audio: bounded memory ----------------------------------------------------------------------
def test_ten_minutes_of_noise_stays_under_1gb(tiny_weights, tmp_path):
    wav = write_wav(tmp_path / "long.wav", np.random.default_rng(0).normal(0, 0.003, 600 * SR).astype(np.float32))
    # VmHWM is this process's own peak; ru_maxrss would also count the parent's size at fork (Linux keeps it
    # across exec), so a large test session made this test fail with a small child.
    r = run_python(f"""
        import json, re
        from dreamtalk.core.pipeline import generate
        anim = generate({str(wav)!r}, steps=2, weights_dir={str(tiny_weights)!r})
        hwm = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
        print(json.dumps({{"frames": anim.num_frames, "peak_mb": hwm / 1024}}))
    """, timeout=600)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["frames"] == 18000
    assert out["peak_mb"] < 1024, out


@pytest.mark.skipif(not SPEECH_CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_bench_generate_on_a_file_with_recognize():
    pytest.importorskip("pocketsphinx")
    from dreamtalk.cli.bench import bench_generate
    r = bench_generate(60.0, 1, 0.0, recognize=True, audio_path=str(SPEECH_CLIP))
    assert 2.0 < r["audio_seconds"] < 4.0  # the file's length, not --seconds
    assert r["recognize_seconds"] > 0 and r["recognize_vs_generate_time_ratio"] > 1  # recognition costs time
    assert "peak_rss_mib" not in r


@pytest.mark.blender
def test_cli_fbx_quiet_prints_nothing(tiny_weights, tmp_path, run_cli):
    """`-q generate ... -o take.fbx`: Blender's exporter chatter (with its temporary name) stays hidden."""
    pytest.importorskip("bpy")
    wav = write_wav(tmp_path / "a.wav", speechlike(0.6))
    r = run_cli("-q", "generate", wav, "-o", tmp_path / "take.fbx", "--weights", tiny_weights, "--steps", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and (tmp_path / "take.fbx").stat().st_size > 10000
