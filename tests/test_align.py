"""Forced alignment with pocketsphinx on real speech from Debian pocketsphinx-testdata (skipped if missing)."""
from pathlib import Path

import numpy as np
import pytest

from dreamtalk.core.lips.align import CHUNK_MAX_S, _chunks, align_transcript, ipa_to_arpabet, normalize_text, \
    recognize_phones
from dreamtalk.core.lips.phones import PHONES

CLIP = Path("/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")


def test_normalize_text():
    assert normalize_text("Mr. Dashwood's 21 cards, \u201cyes\u201d!") == ["mr", "dashwood's", "twenty", "one",
                                                                           "cards", "yes"]


def test_ipa_to_arpabet():
    assert ipa_to_arpabet("tʃˈɜːl") == ["CH", "ER", "L"]
    assert ipa_to_arpabet("fˈiːdst") == ["F", "IY", "D", "S", "T"]


@pytest.mark.skipif(not CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_align_real_clip():
    pytest.importorskip("pocketsphinx")
    import soundfile as sf
    audio, sr = sf.read(str(CLIP), dtype="float32")
    phones = align_transcript(audio, sr, "He was not an ill-disposed young man.")
    dur = len(audio) / sr
    # Phones tile the audio exactly, in order, from the known set.
    assert phones[0].start == 0.0 and phones[-1].end == pytest.approx(dur)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(phones, phones[1:]))
    assert all(p.phone in PHONES and p.end > p.start for p in phones)
    speech = [p.phone for p in phones if p.phone != "SIL"]
    assert speech[:3] == ["HH", "IY", "W"] and speech[-3:] == ["M", "AE", "N"]
    # The recording starts with ~0.2 s of silence before "he"; the M of "man" starts near 2.33 s.
    assert phones[0].phone == "SIL" and 0.1 < phones[0].end < 0.35
    m = [p for p in phones if p.phone == "M"][-1]
    assert abs(m.start - 2.33) < 0.1
    # Resampled input aligns to nearly the same times.
    from scipy.signal import resample_poly
    phones8k = align_transcript(resample_poly(audio, 1, 2).astype(np.float32), 8000, "he was not an ill disposed "
                                "young man")
    m8 = [p for p in phones8k if p.phone == "M"][-1]
    assert abs(m8.start - m.start) < 0.06


def test_chunks_cut_long_audio_at_quiet_moments():
    rng = np.random.default_rng(0)
    pcm = (rng.normal(0, 3000, 16000 * 50)).astype(np.int16)  # 50 s of loud noise ...
    for t in (8.0, 16.5, 30.0, 45.0):  # ... with four 100 ms pauses
        pcm[int(t * 16000):int((t + 0.1) * 16000)] = 0
    cuts = _chunks(pcm)
    assert cuts[0][0] == 0 and cuts[-1][1] == len(pcm)
    assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))
    assert all(b - a <= CHUNK_MAX_S * 16000 for a, b in cuts)
    assert [round(b / 16000, 1) for _, b in cuts[:-1]] == [16.5, 30.0]  # inside the pauses, not in the noise
    assert _chunks(pcm[:16000]) == [(0, 16000)]


GOFORWARD = Path("/usr/share/pocketsphinx/test/data/goforward.raw")


@pytest.mark.skipif(not GOFORWARD.exists(), reason="pocketsphinx-testdata not installed")
@pytest.mark.parametrize("engine", ["pocketsphinx", "moonshine"])
def test_recognize_phones_real_speech(engine, monkeypatch):
    pytest.importorskip("pocketsphinx")
    monkeypatch.setenv("DREAMTALK_RECOGNIZER", engine)
    monkeypatch.setenv("DREAMTALK_RECOGNIZE_WORKERS", "0")
    audio = np.fromfile(GOFORWARD, dtype="<i2").astype(np.float32) / 32768.0
    phones, text = recognize_phones(audio, 16000)
    assert text in ("go forward ten meters", "go forward ten metres")  # Moonshine base spells it the British way
    assert phones[0].start == 0.0 and phones[-1].end == pytest.approx(len(audio) / 16000)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(phones, phones[1:]))
    # the M of "meters" where forced alignment with the true transcript puts it
    m = [p for p in phones if p.phone == "M"]
    ref = [p for p in align_transcript(audio, 16000, "go forward ten meters") if p.phone == "M"]
    assert len(m) == len(ref) == 1 and abs(m[0].start - ref[0].start) < 0.03
    # the same audio at 32 kHz gives the same words
    from scipy.signal import resample_poly
    assert recognize_phones(resample_poly(audio, 2, 1).astype(np.float32), 32000)[1] == text


def test_recognize_phones_without_speech():
    pytest.importorskip("pocketsphinx")
    phones, text = recognize_phones(np.zeros(800, np.float32), 16000)  # 50 ms of nothing: no hypothesis at all
    assert text == "" and [p.phone for p in phones] == ["SIL"] and phones[-1].end == pytest.approx(0.05)


@pytest.mark.skipif(not GOFORWARD.exists(), reason="pocketsphinx-testdata not installed")
def test_recognize_falls_back_to_word_times_when_the_phone_pass_fails():
    pytest.importorskip("pocketsphinx")
    from dreamtalk.core.lips.align import Recognizer

    class PhonePassFails:
        def __init__(self, d):
            self._d = d

        def set_alignment(self, *a):
            raise RuntimeError("Failed to set up sub-word alignment")

        def __getattr__(self, name):
            return getattr(self._d, name)

    audio = np.fromfile(GOFORWARD, dtype="<i2").astype(np.float32) / 32768.0
    rec = Recognizer("pocketsphinx")
    made, fresh = [], rec._new

    def new():  # the piece's decoder fails its phone pass; the one made after it is a plain one
        made.append(fresh())
        return PhonePassFails(made[-1]) if len(made) == 1 else made[-1]
    rec._new = new
    phones, text, _, engine = rec.recognize(audio, 16000)
    assert engine == "pocketsphinx"
    assert text == "go forward ten meters"
    assert [p.phone for p in phones if p.phone != "SIL"] == "G OW F AO R W ER D T EH N M IY T ER Z".split()
    m = next(p for p in phones if p.phone == "M")
    ref = next(p for p in align_transcript(audio, 16000, "go forward ten meters") if p.phone == "M")
    assert abs(m.start - ref.start) < 0.1  # word time shared evenly: coarser, still in place
    assert len(made) == 2 and not isinstance(rec.decoder, PhonePassFails)  # a fresh one replaced the failed one


@pytest.mark.skipif(not CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_recognition_in_worker_processes_equals_one_process(monkeypatch):
    pytest.importorskip("pocketsphinx")
    import multiprocessing

    import soundfile as sf

    from dreamtalk.core.lips import align
    if multiprocessing.get_start_method() != "fork":
        pytest.skip("worker processes are used with the fork start method only")
    audio, sr = sf.read(str(CLIP), dtype="float32")
    monkeypatch.setattr(align, "CHUNK_MIN_S", 1.0)  # several pieces out of one short clip
    monkeypatch.setattr(align, "CHUNK_MAX_S", 2.0)
    assert len(_chunks(align._to_pcm16(audio, sr))) >= 2
    job = align.start_recognition(audio, sr, workers=2)
    assert job._futures is not None  # really in other processes
    assert job.result() == align.Recognizer().recognize(audio, sr)


def test_recognition_workers_setting(monkeypatch):
    from dreamtalk.core.lips.align import recognition_workers
    monkeypatch.setenv("DREAMTALK_RECOGNIZE_WORKERS", "0")
    assert recognition_workers() == 0
    monkeypatch.setenv("DREAMTALK_RECOGNIZE_WORKERS", "3")
    assert recognition_workers() == 3
    monkeypatch.setenv("DREAMTALK_RECOGNIZE_WORKERS", "many")
    with pytest.raises(Exception, match="must be an integer"):
        recognition_workers()


@pytest.mark.skipif(not CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_recognition_falls_back_to_this_process_when_a_worker_dies():
    pytest.importorskip("pocketsphinx")
    import multiprocessing
    import os
    import signal

    import soundfile as sf

    from dreamtalk.core.lips import align
    if multiprocessing.get_start_method() != "fork":
        pytest.skip("worker processes are used with the fork start method only")
    audio, sr = sf.read(str(CLIP), dtype="float32")
    job = align.start_recognition(audio, sr, workers=1)
    for pid in list(job._pool._processes):
        os.kill(pid, signal.SIGKILL)
    assert job.result() == align.Recognizer().recognize(audio, sr)
