"""Emotion over time: track parsing (spec, JSON, CSV), cross-fade weights, per-frame style in both networks."""
import json

import numpy as np
import pytest

from dreamtalk.core.emotions import EmotionKey, parse_emotion_track, track_weights
from dreamtalk.core.errors import InputError

from test_pipeline import SR, gen, speechlike, write_wav  # noqa: F401  (tiny_weights fixture below)
from test_pipeline import tiny_weights  # noqa: F401


def test_spec_json_and_csv_give_the_same_keys(tmp_path):
    spec = parse_emotion_track("0:neutral, 2.5:happy@0.8 ,6:sad@0.5")
    assert spec == [(0.0, "neutral", 1.0), (2.5, "happy", 0.8), (6.0, "sad", 0.5)]
    j = tmp_path / "t.json"
    j.write_text(json.dumps({"keys": [{"time": 6, "emotion": "sad", "intensity": 0.5},
                                      {"time": 0, "emotion": "calm"}, {"time": 2.5, "emotion": "joy",
                                                                        "intensity": 0.8}]}))
    c = tmp_path / "t.csv"
    c.write_text("time,emotion,intensity\n0,neutral,\n2.5,happy,0.8\n6,sad,0.5\n")
    assert parse_emotion_track(j) == spec == parse_emotion_track(str(c))
    assert parse_emotion_track([(1.0, "angry", 0.3)]) == [(0.0, "angry", 0.3)]  # the first key holds from 0
    assert EmotionKey(2.5, "happy", 0.8).label() == "2.5:happy@0.8"


@pytest.mark.parametrize("bad,match", [("", "empty"), ("happy", "TIME:EMOTION"), ("x:happy", "number"),
                                       ("-1:happy", ">= 0"), ("0:glee", "unknown emotion"),
                                       ("0:happy@2", r"\[0, 1\]"), ("0:happy,0:sad", "same time"),
                                       ("missing.json", "no such file")])
def test_bad_tracks_are_one_line_errors(bad, match):
    with pytest.raises(InputError, match=match):
        parse_emotion_track(bad)


def test_cross_fade_weights_are_smooth_partitions():
    keys = parse_emotion_track("0:neutral,2:happy,2.2:sad")
    w = track_weights(keys, 120, 30.0, transition=1.0)
    assert w.shape == (120, 3) and np.allclose(w.sum(1), 1.0)
    assert np.all(w >= 0) and (np.count_nonzero(w > 1e-9, axis=1) <= 2).all()
    assert w[0, 0] == 1.0 and w[-1, 2] == 1.0
    # Fades are shortened to the 0.2 s gap: nothing of happy is left 0.15 s after the sad key.
    assert w[int(2.35 * 30), 1] == 0.0
    hard = track_weights(keys, 120, 30.0, transition=0.0)
    assert set(np.unique(hard)) <= {0.0, 1.0}
    with pytest.raises(InputError):
        track_weights(keys, 10, 30.0, transition=-1)


def test_generate_follows_the_track_and_a_single_key_equals_the_emotion(tiny_weights):
    audio = speechlike(4.0)
    happy = gen(tiny_weights, audio=audio, emotion="happy", intensity=0.6, seed=3)
    one = gen(tiny_weights, audio=audio, emotion_track="0:happy@0.6", seed=3)
    assert np.allclose(one.weights, happy.weights, atol=1e-5)
    assert one.metadata["emotion_track"] == "0:happy@0.6"
    neutral = gen(tiny_weights, audio=audio, emotion="neutral", seed=3)
    tr = gen(tiny_weights, audio=audio, emotion_track="0:neutral,2:happy@0.6", transition=0.2, seed=3)
    # First second: the neutral take's upper face; last second: the happy take's (the windows are 16 frames).
    d_n = np.abs(tr.weights[:24] - neutral.weights[:24]).mean()
    d_h = np.abs(tr.weights[-24:] - happy.weights[-24:]).mean()
    d_nh = np.abs(neutral.weights[-24:] - happy.weights[-24:]).mean()
    assert d_nh > 1e-3
    assert d_h < 0.5 * d_nh and d_n < 0.5 * np.abs(neutral.weights[:24] - happy.weights[:24]).mean()
    with pytest.raises(InputError, match="not both"):
        gen(tiny_weights, audio=audio, emotion_track="0:happy", style=tr)
    with pytest.raises(InputError, match="transition"):
        gen(tiny_weights, audio=audio, emotion_track="0:happy", transition=-0.1)


def test_per_frame_style_matches_constant_style_in_numpy_and_torch():
    torch = pytest.importorskip("torch")
    from dreamtalk.core.models.emodiff_torch import EmoDiff, export_arrays
    from dreamtalk.core.models.emodiff_numpy import EmoDiffNumpy, WindowCond
    from dreamtalk.core.models.lips_numpy import LipsNumpy
    from dreamtalk.core.models.lips_torch import Lips
    from dreamtalk.core.models.config import LipsConfig
    from test_models_parity import TINY, _randomize, _torch_eps

    tm = _randomize(EmoDiff(TINY), 8)
    nm = EmoDiffNumpy(export_arrays(tm), TINY.to_dict())
    rng = np.random.default_rng(0)
    b, s = 2, TINY.seq_len
    style = rng.standard_normal((b, TINY.style_dim)).astype(np.float32)
    base = WindowCond(rng.standard_normal((b, s, TINY.audio_dim)).astype(np.float32),
                      rng.standard_normal((b, TINY.prefix, 55)).astype(np.float32), np.ones((b, TINY.prefix),
                                                                                            np.float32), style)
    per_tok = WindowCond(base.audio, base.prefix, base.prefix_mask,
                         np.repeat(style[:, None, :], s, axis=1))
    x = rng.standard_normal((b, TINY.window, 55)).astype(np.float32)
    assert np.abs(nm.eps(x, 5, base) - nm.eps(x, 5, per_tok)).max() <= 1e-5
    assert np.abs(_torch_eps(tm, x, 5, per_tok) - nm.eps(x, 5, per_tok)).max() <= 1e-4
    varied = WindowCond(base.audio, base.prefix, base.prefix_mask,
                        per_tok.style + rng.standard_normal(per_tok.style.shape).astype(np.float32))
    assert np.abs(_torch_eps(tm, x, 5, varied) - nm.eps(x, 5, varied)).max() <= 1e-4

    lcfg = LipsConfig(style_dim=TINY.style_dim, channels=16, dilations=(1, 2), dropout=0.0)
    lm = Lips(lcfg)
    ln = LipsNumpy(export_arrays(_randomize(lm, 2)), lcfg.to_dict())
    f = rng.standard_normal((30, lcfg.audio_dim)).astype(np.float32)
    face = rng.random((30, 52)).astype(np.float32)
    const = ln.predict(f, face, style[0])
    assert np.abs(ln.predict(f, face, np.repeat(style[:1], 30, axis=0)) - const).max() <= 1e-5


def test_cli_emotion_track(tiny_weights, tmp_path, run_cli):
    wav = write_wav(tmp_path / "a.wav", speechlike(3.0))
    out = tmp_path / "o.json"
    r = run_cli("generate", wav, "-o", out, "--emotion-track", "0:neutral,1.5:sad@0.7", "--transition", "0.3",
                "--weights", tiny_weights, "--steps", "2", "-q")
    assert r.returncode == 0, r.stderr
    meta = json.loads(out.read_text())["metadata"]
    assert meta["emotion_track"] == "0:neutral@1,1.5:sad@0.7" and meta["transition"] == 0.3
    bad = run_cli("generate", wav, "-o", tmp_path / "b.json", "--emotion-track", "0:glee", "--weights",
                  tiny_weights, "-q")
    assert bad.returncode == 2 and "unknown emotion" in bad.stderr and not (tmp_path / "b.json").exists()
