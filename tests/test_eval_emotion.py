"""`dreamtalk eval emotion` and `eval diversity`: signatures, monotonicity, lip-sync cost, style check, seeds.

Known answers come from fake systems whose curves are built by hand; the CLI is also run end to end on tiny
random weights (test_pipeline.build_tiny_weights) to check the real dreamtalk path and --weights.
"""
import importlib.util
import json
import wave

import numpy as np
import pytest

from dreamtalk.core.animation import FaceAnimation
from dreamtalk.core.eval import Clip
from dreamtalk.core.eval.diversity import blink_count, evaluate_diversity, region_difference
from dreamtalk.core.eval.emotion import (SIGNATURE_CHANNELS, evaluate_emotions, mean_signature, signature,
                                         style_check, upper_face_mean)
from dreamtalk.core.eval.systems import SYSTEMS, oracle
from dreamtalk.core.lips.phones import Phone, write_alignment
from dreamtalk.rigs.arkit import INDEX, UPPER_FACE

SR = 16000
# "m-a-t-a-p", "b-a-d-a-m": bilabials and lips-apart consonants between open vowels, framed by silence.
PHONES = [Phone("SIL", 0.0, 0.4), Phone("M", 0.4, 0.5), Phone("AE", 0.5, 0.7), Phone("T", 0.7, 0.8),
          Phone("AA", 0.8, 1.0), Phone("P", 1.0, 1.1), Phone("SIL", 1.1, 1.5), Phone("B", 1.5, 1.6),
          Phone("AA", 1.6, 1.8), Phone("D", 1.8, 1.9), Phone("AE", 1.9, 2.1), Phone("M", 2.1, 2.2),
          Phone("SIL", 2.2, 3.0)]


def make_clips(n=2):
    """Clips with distinct noise audio and the same hand-made alignment."""
    rng = np.random.default_rng(0)
    return [Clip(f"c{i}", rng.normal(0, 0.1, 3 * SR).astype(np.float32), SR, PHONES, "mat up bad am")
            for i in range(n)]


def fake_system(broken=("angry",), flat=("fear",), follows_style=True):
    """A system: oracle mouth + the emotion's signature channels at 0.5 * intensity; ``broken`` emotions hold
    the jaw open (lip-sync lost), ``flat`` ones do not scale with intensity; a style sets the upper face to the
    style clip's mean (or to a fixed value when ``follows_style`` is False)."""
    fixed = {}

    def system(audio, sr, phones=None, fps=30.0, emotion="neutral", intensity=1.0, style=None, seed=0, **kw):
        anim = oracle(audio, sr, PHONES, fps)
        w = anim.weights
        if style is not None:
            src = style if follows_style else fixed.setdefault("a", style)
            w[:, [INDEX[n] for n in UPPER_FACE]] = upper_face_mean(src)
        elif emotion == "contempt":
            w[:, INDEX["mouthSmileLeft"]] = 0.4 * intensity
        elif emotion != "neutral":
            level = 0.3 if emotion in flat else 0.5 * intensity
            for n in SIGNATURE_CHANNELS[emotion]:
                if n == "jawOpen":  # a jaw held open would cost closures; only ``broken`` emotions do that
                    continue
                w[:, INDEX[n]] = np.maximum(w[:, INDEX[n]], level)
            if emotion in broken:
                w[:, INDEX["jawOpen"]] = 0.6
        w[:, INDEX["browInnerUp"]] += 0.0 if style is not None else 0.01 * (seed % 7)  # seed-dependent brows
        return FaceAnimation(fps, np.clip(w, 0, 1), np.full((w.shape[0], 3), 0.01 * seed, np.float32))
    return system


def gen_of(system):
    return lambda audio, sr, **kw: system(audio, sr, None, fps=30.0, **kw)


# ---- signatures --------------------------------------------------------------------------------------
def test_signature_values_by_name():
    w = np.zeros((10, 52), np.float32)
    for n in SIGNATURE_CHANNELS["happy"]:
        w[:, INDEX[n]] = 0.4
    w[:, INDEX["mouthSmileLeft"]] = 0.7  # happy mean = (5 * 0.4 + 0.7) / 6
    w[:, INDEX["mouthDimpleLeft"]], w[:, INDEX["mouthDimpleRight"]] = 0.3, 0.1
    a = FaceAnimation(30.0, w)
    assert mean_signature([a], "happy") == pytest.approx((5 * 0.4 + 0.7) / 6)
    # contempt: mean of |smile L - R| = 0.3 and |dimple L - R| = 0.2
    assert signature(a, "contempt") == pytest.approx(np.full(10, 0.25))
    assert mean_signature([a], "sad") == 0.0
    with pytest.raises(ValueError):
        signature(a, "neutral")


def test_evaluate_emotions_known_answers():
    clips = make_clips()
    r = evaluate_emotions(clips, gen_of(fake_system()))
    emos = r["emotions"]
    assert set(emos) == {"happy", "sad", "angry", "surprised", "fear", "disgusted", "contempt"}
    # happy: six channels at 0.5 * x over a neutral face whose happy channels are 0.
    assert emos["happy"]["strength"] == pytest.approx([0.5 / 3, 1.0 / 3, 0.5], abs=1e-6)
    assert emos["happy"]["monotonic"] and emos["happy"]["present"]
    assert emos["contempt"]["strength"] == pytest.approx([0.2 / 3, 0.4 / 3, 0.2], abs=1e-6)
    assert not emos["fear"]["monotonic"]  # flat across intensities
    # lip-sync: the oracle mouth is untouched for happy/surprised, the angry face holds the jaw open.
    assert r["neutral"]["lipsync"]["score"] > 0.9
    assert emos["happy"]["lipsync_delta"] == pytest.approx(0.0, abs=0.05)
    assert emos["angry"]["lipsync"]["bilabial"] == 0.0 and emos["angry"]["lipsync_delta"] < -0.05
    assert not r["lipsync_claim"]["holds"]
    # Pressed and rolled lips at 0.5 (angry's AU23/24) close the lips on consonants too: the metric sees it.
    assert evaluate_emotions(clips, gen_of(fake_system(broken=())), [1.0])["emotions"]["angry"]["lipsync"][
        "lips_apart"] == 0.0
    fixed = evaluate_emotions(clips, gen_of(fake_system(broken=())), [1.0], emotions=("happy", "surprised"))
    assert fixed["lipsync_claim"] == {"emotions": ["happy", "surprised"], "tolerance": 0.05, "holds": True}
    assert fixed["emotions"]["happy"]["strength"] == pytest.approx([0.5]) and set(fixed["emotions"]) == {
        "happy", "surprised"}


def test_style_check_both_directions(make_anim):
    clips = make_clips(1)
    a, b = make_anim(seed=1), make_anim(seed=2)
    b.weights[:] *= 0.3  # make the two captures clearly different
    good = style_check(clips, gen_of(fake_system()), a, b)
    assert good["a"]["closer_to_own"] and good["b"]["closer_to_own"] and good["a"]["dist_a"] < 1e-5
    stuck = style_check(clips, gen_of(fake_system(follows_style=False)), a, b)
    assert stuck["a"]["closer_to_own"] and not stuck["b"]["closer_to_own"]


# ---- diversity ---------------------------------------------------------------------------------------
def test_diversity_known_answers():
    clips = make_clips(2)
    r = evaluate_diversity(clips, gen_of(fake_system()), seeds=[0, 1, 2])
    pw = r["pairwise"]
    # browInnerUp differs by 0.01 * |s1 - s2|: pairs (0,1), (0,2), (1,2) -> mean 4/3 * 0.01 over 1 channel.
    assert pw["brows"] == pytest.approx(0.01 * 4 / 3 / 5, abs=1e-6)
    assert pw["upper_face"] == pytest.approx(0.01 * 4 / 3 / len(UPPER_FACE), abs=1e-6)
    assert pw["head"] == pytest.approx(np.degrees(0.01 * 4 / 3), abs=1e-4)
    assert pw["mouth"] == 0.0 and r["ratio_upper_to_mouth"] is None
    assert [p["lipsync"]["bilabial"] for p in r["per_seed"]] == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError):
        evaluate_diversity(clips, gen_of(fake_system()), seeds=[0])


def test_region_difference_and_blinks():
    w = np.zeros((30, 52), np.float32)
    w[5:8, INDEX["eyeBlinkLeft"]] = w[5:8, INDEX["eyeBlinkRight"]] = 1.0
    w[20:23, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]] = 0.9
    a = FaceAnimation(30.0, w)
    assert blink_count(a) == 2
    b = a.copy()
    b.weights[:, INDEX["jawOpen"]] = 0.5
    d = region_difference(a, b)
    assert d["mouth"] == pytest.approx(0.5 / 14) and d["upper_face"] == 0.0 and d["head"] == 0.0


# ---- the CLI -----------------------------------------------------------------------------------------
def write_dataset(root, n=2):
    """A data DIR in the clips.jsonl contract: WAV + phone JSON per clip, all in split dev."""
    (root / "audio").mkdir(parents=True)
    (root / "phones").mkdir()
    rows = []
    for c in make_clips(n):
        with wave.open(str(root / f"audio/{c.id}.wav"), "wb") as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(SR)
            f.writeframes((np.clip(c.audio, -1, 1) * 32767).astype("<i2").tobytes())
        write_alignment(c.phones, root / f"phones/{c.id}.json")
        rows.append({"id": c.id, "split": "dev", "audio": f"audio/{c.id}.wav", "phones": f"phones/{c.id}.json",
                     "duration": 3.0, "text": c.text})
    (root / "clips.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.fixture
def fake_registered(monkeypatch):
    monkeypatch.setitem(SYSTEMS, "fake", fake_system())


def test_cli_emotion_with_fake_system(tmp_path, make_anim, fake_registered, capsys):
    from dreamtalk.cli import main
    from dreamtalk.core.formats import write_animation
    data = write_dataset(tmp_path / "d")
    a, b = make_anim(seed=1), make_anim(seed=2)
    b.weights[:] *= 0.3
    write_animation(a, tmp_path / "a.npz"), write_animation(b, tmp_path / "b.npz")
    rc = main(["-q", "eval", "emotion", "--data", str(data), "--system", "fake", "--json", str(tmp_path / "e.json"),
               "--style-check", "--style-a", str(tmp_path / "a.npz"), "--style-b", str(tmp_path / "b.npz")])
    out = capsys.readouterr().out
    assert rc == 0
    assert all(e in out for e in ("neutral", "happy", "contempt", "disgusted"))
    assert "emotion: present 7/7" in out and "monotonic 6/7" in out and "within 0.05: NO" in out
    assert "-> closer to A" in out and "-> closer to B" in out
    res = json.loads((tmp_path / "e.json").read_text())
    assert res["emotions"]["happy"]["strength"][-1] == pytest.approx(0.5)
    assert res["style_check"]["a"]["closer_to_own"] is True and res["clips"] == 2


def test_cli_diversity_with_fake_system(tmp_path, fake_registered, capsys):
    from dreamtalk.cli import main
    data = write_dataset(tmp_path / "d")
    rc = main(["-q", "eval", "diversity", "--data", str(data), "--system", "fake", "--seeds", "3", "--clips", "1",
               "--json", str(tmp_path / "d.json")])
    out = capsys.readouterr().out
    assert rc == 0 and "diversity over 3 seeds x 1 clips" in out and "bilabial recall per seed 1.000..1.000" in out
    res = json.loads((tmp_path / "d.json").read_text())
    assert res["pairwise"]["mouth"] == 0.0 and len(res["per_seed"]) == 3


@pytest.mark.parametrize("args,msg", [
    (["emotion", "--system", "oracle"], "takes no emotion"),
    (["emotion", "--intensities", "0,1"], "--intensities"),
    (["emotion", "--style-check", "--style-a", "x.csv"], "--style-b"),
    (["emotion", "--clips", "0"], "--clips"),
    (["lipsync", "--system", "oracle", "--clips", "0"], "--clips"),
    (["diversity", "--seeds", "1"], "--seeds"),
    (["diversity", "--emotion", "ecstatic"], "unknown emotion"),
    (["emotion", "--system", "nope"], "unknown system"),
])
def test_cli_bad_arguments_exit_2(tmp_path, capsys, args, msg):
    from dreamtalk.cli import main
    data = write_dataset(tmp_path / "d", n=1)
    assert main(["-q", "eval", args[0], "--data", str(data), *args[1:]]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]


def test_cli_real_model_path_on_tiny_weights(tmp_path, capsys):
    from test_pipeline import build_tiny_weights

    from dreamtalk.cli import main
    weights = build_tiny_weights(tmp_path / "w")
    data = write_dataset(tmp_path / "d", n=1)
    assert main(["-q", "eval", "emotion", "--data", str(data), "--weights", str(weights), "--intensities", "0.5,1",
                 "--steps", "2", "--json", str(tmp_path / "e.json")]) == 0
    res = json.loads((tmp_path / "e.json").read_text())
    assert len(res["emotions"]["sad"]["strength"]) == 2 and res["weights"] == str(weights)
    # Random weights: the emotion table still moves the face, so some signature changes.
    assert max(abs(s) for r in res["emotions"].values() for s in r["strength"]) > 1e-3
    assert main(["-q", "eval", "diversity", "--data", str(data), "--weights", str(weights), "--seeds", "2",
                 "--steps", "2"]) == 0
    assert main(["-q", "eval", "lipsync", "--data", str(data), "--system", "dreamtalk", "--weights", str(weights)]) == 0
    assert main(["-q", "eval", "lipsync", "--data", str(data), "--system", "oracle", "--weights", str(weights)]) == 2
    out = capsys.readouterr().out
    assert "diversity over 2 seeds" in out and "score=" in out
    two = write_dataset(tmp_path / "d2", n=3)
    assert main(["-q", "eval", "lipsync", "--data", str(two), "--system", "oracle", "--clips", "2"]) == 0
    assert "clips=2 " in capsys.readouterr().out
    # --voice keeps one voice's clips of a synthetic corpus; a voice with no clips is a one-line error
    rows = [json.loads(r) for r in (two / "clips.jsonl").read_text().splitlines()]
    for r, v in zip(rows, ["flite:slt", "flite:awb", "flite:slt"]):
        r["voice"] = v
    (two / "clips.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["-q", "eval", "lipsync", "--data", str(two), "--system", "oracle", "--voice", "flite:slt"]) == 0
    assert "clips=2 " in capsys.readouterr().out
    assert main(["-q", "eval", "lipsync", "--data", str(two), "--system", "oracle", "--voice", "espeak-ng:x"]) == 2
    assert "of voice 'espeak-ng:x'" in capsys.readouterr().err
    # --recognize goes to the model (audio only); with --transcript, or for a non-model system, a one-line error
    if importlib.util.find_spec("pocketsphinx"):
        assert main(["-q", "eval", "lipsync", "--data", str(data), "--system", "dreamtalk", "--weights", str(weights),
                     "--recognize"]) == 0
        assert "score=" in capsys.readouterr().out
    assert main(["-q", "eval", "lipsync", "--data", str(data), "--system", "dreamtalk", "--weights", str(weights),
                 "--recognize", "--transcript"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert main(["-q", "eval", "lipsync", "--data", str(data), "--system", "jawflap", "--recognize"]) == 2


# ---- style confusion and emotion tracks ------------------------------------------------------------------
def _label_face(emotion):
    """(T=30, 52) weights with that emotion's signature channels at 0.5 (the label's mean face)."""
    w = np.zeros((30, 52), np.float32)
    if emotion == "contempt":
        w[:, INDEX["mouthSmileLeft"]] = 0.4
    elif emotion != "neutral":
        for n in SIGNATURE_CHANNELS[emotion]:
            w[:, INDEX[n]] = 0.5
    return w


def test_style_confusion_counts_nearest_label():
    from dreamtalk.core.eval.emotion import confusion_table, style_confusion

    def gen(audio, sr, emotion="neutral", intensity=1.0, style=None, seed=0):
        w = style.weights if style is not None else _label_face(emotion)
        return FaceAnimation(30.0, w)
    refs = [("happy", FaceAnimation(30.0, _label_face("happy"))), ("sad", FaceAnimation(30.0, _label_face("sad"))),
            ("angry", FaceAnimation(30.0, _label_face("happy") * 0.9))]  # an "angry" clip that looks happy
    r = style_confusion(make_clips(2), gen, refs)
    assert r["matrix"]["happy"]["happy"] == 1 and r["matrix"]["sad"]["sad"] == 1
    assert r["matrix"]["angry"]["happy"] == 1 and r["accuracy"] == pytest.approx(2 / 3)
    assert "2/3 references give their own emotion" in confusion_table(r)


def _track_gen(jump: bool):
    """A generator that follows emotion_track keys (linear fades) and, with ``jump``, snaps at each switch."""
    from dreamtalk.core.emotions import parse_emotion_track, track_weights

    def gen(audio, sr, emotion="neutral", intensity=1.0, seed=0, emotion_track=None, transition=0.5):
        t = round(audio.size / sr * 30)
        keys = parse_emotion_track(emotion_track or [(0.0, emotion, intensity)])
        mix = track_weights(keys, t, 30.0, 0.0 if jump else transition)
        w = mix @ np.stack([_label_face(k.emotion)[0] for k in keys])  # (T, 52)
        w[t // 6, INDEX["browDownLeft"]] += 0.1  # one quick movement inside the first segment
        head = np.zeros((t, 3), np.float32)
        return FaceAnimation(30.0, np.clip(w, 0, 1), head)
    return gen


def test_track_check_finds_each_segment_and_jumps():
    from dreamtalk.core.eval.emotion import track_check, track_summary
    clips = make_clips(4)  # 12 s joined
    smooth = track_check(clips, _track_gen(jump=False), transition=2.0)
    assert smooth["all_present"] and smooth["no_jump"]
    assert [s["emotion"] for s in smooth["segments"]] == ["neutral", "happy", "sad"]
    assert smooth["segments"][1]["strength"]["happy"] == pytest.approx(0.5, abs=1e-6)
    assert "no jump" in track_summary(smooth)
    hard = track_check(clips, _track_gen(jump=True), transition=2.0)
    assert hard["all_present"] and not hard["no_jump"] and "JUMP" in track_summary(hard)
