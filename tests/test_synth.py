"""Corpus synthesis on a tiny config: contract layout, determinism, resumability, splits."""
import json

import numpy as np
import pytest

from dreamtalk.core.data import synth
from dreamtalk.core.errors import InputError
from dreamtalk.core.lips.phones import read_alignment

SENTENCES = ["Hello big world, maybe.", "Judge the thing you see.", "The boy enjoyed a bowl of soup.",
             "Nobody knew why the guard came.", "Pack my box with five dozen jugs.", "She sells sea shells.",
             "A thin clown measured the beige couch.", "Why has my brother pushed the heavy chain?"]


def fake_face(audio, sr, phones, emotion, intensity, actor, seed, fps=30.0):
    """Stand-in for face.synthesize_face: deterministic arrays of the contract's shapes."""
    t = int(round(len(audio) / sr * fps))
    rng = np.random.default_rng([seed, actor])
    w = rng.uniform(0, 1, (t, 52)).astype(np.float32) * intensity
    return {"weights": w, "mouth": w * 0.5, "emotion": w * 0.5,
            "head_rotation": np.zeros((t, 3), np.float32), "eye_gaze": np.zeros((t, 6), np.float32)}


def _cfg(**kw):
    d = dict(hours=0.008, seed=3, actors=1, voices=("espeak-ng:en-us", "flite:kal16", "espeak-ng:en+f4"),
             val_voices=("espeak-ng:en+f4",), test_percent=30, batch=4)
    d.update(kw)
    return synth.SynthConfig(**d)


def _build(out, **kw):
    return synth.build(out, _cfg(**kw), jobs=1, quiet=True, face_fn=fake_face, sentences=SENTENCES)


def _records(out):
    return [json.loads(line) for line in (out / "clips.jsonl").read_text().splitlines()]


def test_layout_and_contract(tmp_path):
    m = _build(tmp_path)
    recs = _records(tmp_path)
    assert m["clips"] == len(recs) == m["clips_planned"] > 3 and m["styles"] == m["styles_planned"] == 22
    splits = {r["split"] for r in recs}
    assert splits <= {"train", "val", "test"} and "train" in splits
    train_sents = {r["sentence_id"] for r in recs if r["split"] == "train"}
    for r in recs:
        assert (r["split"] == "val") == (r["voice"] == "espeak-ng:en+f4")
        if r["split"] == "test":
            assert r["sentence_id"] not in train_sents
        ph = read_alignment(tmp_path / r["phones"])
        import wave
        with wave.open(str(tmp_path / r["audio"])) as w:
            assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
            n = w.getnframes()
        assert abs(ph[-1].end - n / 16000) < 1e-4 and r["duration"] == pytest.approx(n / 16000, abs=1e-4)
        with np.load(tmp_path / r["anim"]) as z:
            t = int(round(n / 16000 * 30))
            assert float(z["fps"]) == 30.0 and z["weights"].shape == (t, 52) and z["eye_gaze"].shape == (t, 6)
            assert list(z["blendshape_names"])[0] == "eyeBlinkLeft"
        assert (tmp_path / r["style"]).exists()
        assert r["intensity"] == (0.0 if r["emotion"] == "neutral" else pytest.approx(r["level"] / 3))
    assert m["phone_coverage"]["phones_covered"] > 20
    assert set(m["timing_check"]) == {r["voice"] for r in recs}


def test_deterministic_and_resumable(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _build(a)
    _build(b)
    assert (a / "clips.jsonl").read_text() == (b / "clips.jsonl").read_text()
    recs = _records(a)
    for r in recs:
        assert (a / r["audio"]).read_bytes() == (b / r["audio"]).read_bytes()
    # simulate a killed run: lose some clips' last file, a style clip, and leave a stray partial file
    for r in recs[::2]:
        (b / r["phones"]).unlink()
    (b / recs[1]["anim"]).unlink()
    next((b / "styles").iterdir()).unlink()
    (b / "audio" / ".c000000.wav.x.part.wav").write_bytes(b"junk")
    m = _build(b)
    assert m["this_run"]["items_made"] == len({r["id"] for r in recs[::2]} | {recs[1]["id"]}) + 1
    assert (a / "clips.jsonl").read_text() == (b / "clips.jsonl").read_text()
    for r in recs:
        assert (a / r["audio"]).read_bytes() == (b / r["audio"]).read_bytes()
        with np.load(a / r["anim"]) as za, np.load(b / r["anim"]) as zb:
            assert np.array_equal(za["weights"], zb["weights"])
    again = _build(b)
    assert again["this_run"]["items_made"] == 0 and len(again["runs"]) == 3


def test_other_settings_refuse_to_mix(tmp_path):
    _build(tmp_path)
    with pytest.raises(InputError):
        _build(tmp_path, seed=4)


def test_seed_changes_the_corpus(tmp_path):
    _build(tmp_path / "a")
    _build(tmp_path / "b", seed=5)
    assert (tmp_path / "a" / "clips.jsonl").read_text() != (tmp_path / "b" / "clips.jsonl").read_text()


def test_bad_settings():
    with pytest.raises(InputError):
        _cfg(hours=0).check()
    with pytest.raises(InputError):
        _cfg(voices=("nope:x",)).check()
    with pytest.raises(InputError):
        _cfg(val_voices=("espeak-ng:en-us", "flite:kal16", "espeak-ng:en+f4")).check()


def test_voice_list_groups_and_errors():
    assert synth.voice_list("english") == tuple(synth.VOICES)
    assert synth.voice_list("foreign,flite:slt,foreign") == (*synth.FOREIGN_VOICES, "flite:slt")
    assert synth.voice_list("none") == ()
    assert synth.voice_list("kokoro-blend") == tuple(synth.KOKORO_BLENDS)
    with pytest.raises(InputError, match="unknown voice"):
        synth.voice_list("flite:nobody")


def test_foreign_voices_get_pseudo_words_in_train_and_english_style_clips():
    from dreamtalk.core.data.text import pseudo_sentence
    cfg = _cfg(voices=("festival:lp_diphone", "festival:czech_ph", "espeak-ng:en-us"), val_voices=(),
               hours=0.03)
    specs, styles = synth.plan(cfg, SENTENCES)
    foreign = [s for s in specs if s["voice"] != "espeak-ng:en-us"]
    assert foreign and all(s["split"] == "train" and s["text"] not in SENTENCES for s in foreign)
    assert all(s["text"] == pseudo_sentence("it" if "lp_" in s["voice"] else "cs", s["seed"]) for s in foreign)
    assert all(s["text"] in SENTENCES for s in specs if s["voice"] == "espeak-ng:en-us")
    assert {s["voice"] for s in styles} == {"espeak-ng:en-us"}
    assert synth.plan(cfg, SENTENCES) == (specs, styles)  # deterministic
    # a corpus of foreign voices only: its style clips say pseudo-words too (English text fails their phone sets)
    _, styles = synth.plan(_cfg(voices=("festival:czech_ph",), val_voices=(), hours=0.01), SENTENCES)
    assert all(s["text"] == pseudo_sentence("cs", s["seed"]) for s in styles)


def test_pseudo_sentences_are_spelled_per_language():
    from dreamtalk.core.data.text import pseudo_sentence
    it = " ".join(pseudo_sentence("it", s) for s in range(50))
    assert "k" not in it and "j" not in it and "h" not in it.replace("ch", "").replace("gh", "")
    assert pseudo_sentence("cs", 7) == pseudo_sentence("cs", 7) != pseudo_sentence("cs", 8)
    ru = " ".join(pseudo_sentence("ru", s) for s in range(50))
    assert not set(ru) & set("abcdefghijklmnopqrstuvwxyz")  # all Cyrillic
    hi = pseudo_sentence("hi", 7).replace(" ", "")
    assert all("\u0900" <= ch <= "\u097f" for ch in hi)  # all Devanagari
    assert len(pseudo_sentence("hi", 7).split()) == len(pseudo_sentence("cs", 7).split())  # same draw, other script
    with pytest.raises(ValueError):
        pseudo_sentence("xx", 0)


def test_real_face_and_parallel_workers(tmp_path):
    pytest.importorskip("dreamtalk.core.data.face")
    cfg = _cfg(hours=0.004)
    m = synth.build(tmp_path, cfg, jobs=2, quiet=True, sentences=SENTENCES)
    assert m["clips"] > 0 and m["this_run"]["items_failed"] == 0
    r = _records(tmp_path)[0]
    with np.load(tmp_path / r["anim"]) as z:
        w = z["weights"]
        assert w.min() >= 0 and w.max() <= 1 and np.isfinite(w).all()
