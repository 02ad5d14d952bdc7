"""TTS engines: engine phone timings fit the audio, every phone set maps to valid ARPAbet."""
import shutil

import numpy as np
import pytest

from dreamtalk.core.data import tts
from dreamtalk.core.lips.phones import PHONES, SILENCE, Phone

TEXTS = ["Hello big world, maybe.", "Judge the thing you see."]
HAS = {"festival": shutil.which("festival"), "flite": shutil.which("flite"), "espeak-ng": True}


def _check(sp):
    assert sp.sr == 16000 and sp.audio.dtype == np.float32 and sp.audio.ndim == 1
    assert all(p.phone in PHONES for p in sp.phones)
    assert sp.phones[0].start == 0.0
    for a, b in zip(sp.phones, sp.phones[1:]):
        assert abs(a.end - b.start) < 1e-9 and b.end > b.start
    assert abs(sp.phones[-1].end - sp.duration) < 1.0 / sp.sr  # fitted exactly
    assert sp.phones[0].phone == SILENCE or sp.phones[0].end < 0.05
    assert sp.phones[-1].phone == SILENCE
    assert sum(p.phone != SILENCE for p in sp.phones) >= 8


@pytest.mark.parametrize("voice", [v for v in tts.VOICES if v != "flite:kal16"])
def test_engine_timings_match_audio_within_a_frame(voice):
    if not HAS[tts.VOICES[voice][0]]:
        pytest.skip("engine not installed")
    for sp in tts.synthesize_batch(voice, TEXTS, [1.0, 1.2]):
        assert sp is not None
        _check(sp)
        assert sp.extra["padded_samples"] == 0
        # the engine's own last phone end vs its audio length: within a frame, or the extra audio is a quiet
        # tail (espeak's final pause marker can sit ~45 ms before the end of a decaying tail)
        if abs(sp.raw_error) > tts.FRAME:
            assert -0.08 < sp.raw_error < 0
            tail = sp.audio[-int(-sp.raw_error * sp.sr):]
            assert np.sqrt(np.mean(tail ** 2)) < 0.03


def test_flite_diphone_voice_mismatch_is_only_trailing_pause():
    # kal16 (diphone) stops its audio in the middle of the final pause; only that SIL may be trimmed
    if not HAS["flite"]:
        pytest.skip("flite not installed")
    sp = tts.synthesize("flite:kal16", TEXTS[0])
    _check(sp)
    assert 0 < sp.raw_error < 0.2 and sp.extra["padded_samples"] == 0


def test_rate_changes_duration_with_exact_timings():
    slow = tts.synthesize("espeak-ng:en-us", TEXTS[1], 0.8)
    fast = tts.synthesize("espeak-ng:en-us", TEXTS[1], 1.25)
    assert slow.duration > 1.2 * fast.duration
    _check(slow), _check(fast)


def test_phone_maps_give_valid_arpabet():
    for name, arpa in tts.ESPEAK_MAP.items():
        assert arpa and all(a in PHONES for a in arpa), name
    for p in "aa ae ah ao aw ax axr ay b ch d dh dx eh el em en er ey f g hh hv ih iy jh k l m n nx ng ow oy p r " \
             "s sh t th uh uw v w y z zh pau h# brth".split():
        assert tts.festival_to_arpabet(p) in PHONES
    assert tts.espeak_to_arpabet("_:") == (SILENCE,)
    assert tts.espeak_to_arpabet("t[") == ("T",)
    with pytest.raises(tts.TTSError):
        tts.festival_to_arpabet("qq")
    with pytest.raises(tts.TTSError):
        tts.espeak_to_arpabet("Q!")


def test_fit_to_audio_extends_trims_and_pads():
    sr = 1000
    ph = [Phone("SIL", 0, 0.1), Phone("AA", 0.1, 0.5), Phone("SIL", 0.5, 0.6)]
    out, a, raw = tts.fit_to_audio(ph, np.zeros(700, np.float32), sr)  # audio longer: final SIL grows
    assert out[-1] == Phone("SIL", 0.5, 0.7) and len(a) == 700 and raw == pytest.approx(-0.1)
    out, a, raw = tts.fit_to_audio(ph, np.zeros(550, np.float32), sr)  # phones longer, only SIL cut
    assert out[-1] == Phone("SIL", 0.5, 0.55) and len(a) == 550 and raw == pytest.approx(0.05)
    out, a, raw = tts.fit_to_audio(ph, np.zeros(300, np.float32), sr)  # speech would be cut: pad audio
    assert len(a) >= 600 and out[-1].end == pytest.approx(len(a) / sr) and out[1] == Phone("AA", 0.1, 0.5)
    out, _, _ = tts.fit_to_audio([Phone("AA", 0.05, 0.2)], np.zeros(200, np.float32), sr)  # leading gap -> SIL
    assert out[0] == Phone("SIL", 0.0, 0.05)


def test_timing_report_per_voice():
    sps = tts.synthesize_batch("espeak-ng:en-us", TEXTS)
    rep = tts.timing_report(sps)
    assert rep["espeak-ng:en-us"]["utterances"] == 2 and rep["espeak-ng:en-us"]["fitted_max_ms"] < 0.1


def _has_festival_voice(vid):
    import glob
    return HAS["festival"] and glob.glob(f"/usr/share/festival/voices/*/{vid}")


@pytest.mark.parametrize("voice", list(tts.FOREIGN_VOICES))
def test_foreign_voices_say_pseudo_words_with_exact_timings(voice):
    from dreamtalk.core.data.text import pseudo_sentence
    if not _has_festival_voice(tts.FOREIGN_VOICES[voice][1]):
        pytest.skip("voice not installed")
    texts = [pseudo_sentence(tts.language_of(voice), s) for s in (1, 2)]
    for sp in tts.synthesize_batch(voice, texts, [1.0, 1.2]):
        assert sp is not None
        _check(sp)
        assert abs(sp.raw_error) <= tts.FRAME


def test_foreign_phone_map():
    for p in ("a1", "e:", "O1", "tS", "dZ", "ch", "c", "J", "L", "_", "#", "y:", "d~"):
        assert tts.foreign_to_arpabet(p) in PHONES, p
    assert [tts.foreign_to_arpabet(p) for p in ("p", "b", "m", "t", "n", "k", "o1", "u")] == \
        ["P", "B", "M", "T", "N", "K", "OW", "UW"]
    assert tts.foreign_to_arpabet("#") == SILENCE and tts.language_of("flite:slt") == "en"
    # Russian: doubled letters (stressed vowels, palatalised consonants) and its own ch/y
    assert [tts.foreign_to_arpabet(p, "ru") for p in ("aa", "pp", "mm", "ch", "y", "sch", "pau", "ur")] == \
        ["AA", "P", "M", "CH", "IH", "SH", SILENCE, "UW"]
    assert tts.foreign_to_arpabet("ch", "cs") == "HH" and tts.foreign_to_arpabet("y", "fi") == "UW"
    # Hindi NSK: th/dh are dental stops (tongue, lips apart), not the English fricatives
    assert [tts.foreign_to_arpabet(p, "hi") for p in ("th", "dh", "oh", "aa", "uw", "p", "m", "pau")] == \
        ["T", "D", "OW", "AA", "UW", "P", "M", SILENCE]
    with pytest.raises(tts.TTSError):
        tts.foreign_to_arpabet("Q")
    assert not set(tts.FOREIGN_VOICES) & set(tts.VOICES)  # the default corpus voices are unchanged


def test_timed_ipa_becomes_arpabet_with_stress_length_and_pauses_placed():
    from dreamtalk.core.lips.align import ipa_timed_to_arpabet
    # "mˈeɪbiː, ðə" at 25 ms per symbol, as Kokoro's duration predictor gives them
    sym = list("mˈeɪbiː, ðə")
    timed = [(c, 0.025 * i, 0.025 * (i + 1)) for i, c in enumerate(sym)]
    ph = ipa_timed_to_arpabet(timed)
    assert [p.phone for p in ph] == ["M", "EY", "B", "IY", SILENCE, "DH", "AH"]
    assert ph[1].start == pytest.approx(0.025) and ph[1].end == pytest.approx(0.1)  # stress lends its time on
    assert ph[3].end == pytest.approx(0.175)  # the length mark belongs to the vowel
    assert ph[4] == Phone(SILENCE, pytest.approx(0.175), pytest.approx(0.2))
    assert ph[4].end == pytest.approx(0.2) and ph[5].start == pytest.approx(0.225)  # the space goes to the pause
    two = ipa_timed_to_arpabet([("ɪ", 0.0, 0.1), ("ə", 0.1, 0.2)])  # "ɪə" = IH R: the time is shared
    assert [(p.phone, round(p.end, 3)) for p in two] == [("IH", 0.1), ("R", 0.2)]


def test_kokoro_graph_edit_appends_one_output_and_keeps_the_rest():
    from dreamtalk.core import onnx_proto as op
    from dreamtalk.core.errors import InputError
    graph = op._field(1, b"node-bytes") + op._field(12, op._field(1, b"audio"))
    model = bytes([0x08, 0x07]) + op._field(7, graph) + op._field(8, b"opset" * 40)  # ir_version, graph, opset
    out = op.add_graph_output(model, "/encoder/dur")
    assert out.startswith(bytes([0x08, 0x07])) and out.endswith(op._field(8, b"opset" * 40))
    assert op._field(7, graph + op._field(12, op._field(1, b"/encoder/dur"))) in out
    assert len(out) == len(model) + len(op._field(12, op._field(1, b"/encoder/dur")))
    with pytest.raises(InputError, match="no graph"):
        op.add_graph_output(bytes([0x08, 0x07]), "x")


KOKORO = __import__("os").environ.get("DREAMTALK_KOKORO_DIR", "data/kokoro")


@pytest.mark.skipif(not __import__("os").path.isfile(f"{KOKORO}/kokoro_dur.onnx"),
                    reason="Kokoro not fetched (python tools/fetch_kokoro.py --out data/kokoro)")
def test_kokoro_voice_times_its_phones():
    pytest.importorskip("onnxruntime")
    sp = tts.synthesize("kokoro:am_michael", "Maybe the brown bear put Pam's map back.")
    _check(sp)
    speech = [p.phone for p in sp.phones if p.phone != SILENCE]
    assert speech[:4] == ["M", "EY", "B", "IY"] and speech[-3:] == ["B", "AE", "K"]
    # the closure of "map" lies within its P: the quietest 20 ms of the P are near silence (the burst follows)
    p = [x for x in sp.phones if x.phone == "P"][-1]
    seg = sp.audio[int(p.start * sp.sr):int(p.end * sp.sr)]
    win = 320
    quietest = min(np.sqrt(np.mean(seg[i:i + win] ** 2)) for i in range(0, len(seg) - win + 1, 80))
    assert quietest < 0.1 * np.sqrt(np.mean(sp.audio ** 2))


def test_kokoro_blends_are_fixed_mixes_of_one_accent():
    blends = tts._kokoro_blends()
    assert blends == tts.KOKORO_BLENDS and len(blends) == 24 and set(blends) <= set(tts.ALL_VOICES)
    bases = {v[1] for v in tts.KOKORO_VOICES.values()}
    for engine, vid in blends.values():
        pair, w = vid.split("@")
        a, b = pair.split("+")
        assert engine == "kokoro" and a in bases and b in bases and a != b and a[0] == b[0]
        assert 0.3 <= float(w) <= 0.7
    tables = {"af_x": np.zeros((510, 256), np.float32), "af_y": np.ones((510, 256), np.float32)}
    assert np.allclose(tts.kokoro_style(tables, "af_x+af_y@0.25", 7), 0.75)
    assert tts.kokoro_style(tables, "af_y", 7).shape == (256,)


@pytest.mark.skipif(not __import__("os").path.isfile(f"{KOKORO}/kokoro_dur.onnx"),
                    reason="Kokoro not fetched (python tools/fetch_kokoro.py --out data/kokoro)")
def test_kokoro_blend_speaks_between_its_parents():
    pytest.importorskip("onnxruntime")
    text = "Maybe the brown bear put Pam's map back."
    sp = tts.synthesize("kokoro:blend00", text)
    _check(sp)
    assert [p.phone for p in sp.phones if p.phone != SILENCE][:4] == ["M", "EY", "B", "IY"]
    a, b = tts.KOKORO_BLENDS["kokoro:blend00"][1].split("@")[0].split("+")
    assert not np.array_equal(sp.audio, tts.synthesize(f"kokoro:{a}", text).audio)
