"""Moonshine recognition (core/lips/asr.py): tokenizer file, word assembly, engine choice, the real model."""
from pathlib import Path

import numpy as np
import pytest

from dreamtalk.core.lips import asr
from dreamtalk.core.lips.align import Recognizer, recognition_engine

CLIP = Path("/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")
W = "\u2581".encode()


def _pieces_file(tmp_path, pieces):
    p = tmp_path / "tokenizer.bin"
    p.write_bytes(b"".join(bytes([len(x)]) + x for x in pieces))
    return p


def test_read_pieces_round_trip_and_rejects_garbage(tmp_path):
    pieces = [b"<unk>", b"<s>", b"</s>", b"\x00", W + b"the", b"ing"]
    assert asr.read_pieces(_pieces_file(tmp_path, pieces)) == pieces
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x09abc")  # a length running past the end
    with pytest.raises(Exception, match="not a Moonshine tokenizer"):
        asr.read_pieces(bad)


def test_words_join_pieces_take_the_least_confidence_and_ignore_punctuation():
    m = asr.Moonshine.__new__(asr.Moonshine)  # no model: tokens() is replaced below
    m.pieces = [b"<unk>", b"<s>", b"</s>", W + b"He", W + b"was", W + b"ill", b"-", b"dis", b"posed", b",",
                W + b"caf", b"\xc3", b"\xa9", b"."]
    m.tokens = lambda audio: [(3, 0.99), (4, 0.9), (5, 0.8), (6, 0.2), (7, 0.7), (8, 0.95), (9, 0.1),
                              (10, 0.6), (11, 0.9), (12, 0.9), (13, 0.05)]
    words = m.words(np.zeros(16000, np.float32))
    assert [w.text for w in words] == ["He", "was", "ill-disposed,", "café."]  # byte pieces joined into UTF-8
    assert [round(w.confidence, 2) for w in words] == [0.99, 0.9, 0.7, 0.6]  # "-", "," and "." do not count


def test_engine_choice(monkeypatch):
    monkeypatch.setenv("DREAMTALK_RECOGNIZER", "pocketsphinx")
    assert recognition_engine() == "pocketsphinx"
    monkeypatch.setenv("DREAMTALK_RECOGNIZER", "whisper")
    with pytest.raises(Exception, match="must be one of"):
        recognition_engine()
    monkeypatch.delenv("DREAMTALK_RECOGNIZER")
    monkeypatch.setenv("DREAMTALK_MOONSHINE_DIR", "/nonexistent")
    assert not asr.available() and recognition_engine() == "pocketsphinx"  # no model: pocketsphinx
    with pytest.raises(Exception, match="model files"):
        asr.Moonshine()


needs_model = pytest.mark.skipif(not asr.available(), reason="Moonshine model or onnxruntime not installed")


@needs_model
@pytest.mark.skipif(not CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_moonshine_hears_real_speech_and_aligns_its_words():
    pytest.importorskip("pocketsphinx")
    import soundfile as sf
    audio, sr = sf.read(str(CLIP), dtype="float32")
    words = asr.Moonshine(threads=1).words(audio)
    heard = " ".join(w.text for w in words).lower()  # tiny hears "ill-sposed", base "ill-disposed"
    assert heard.startswith("he was not an ill") and heard.rstrip(".").endswith("young man")
    assert all(0.0 < w.confidence <= 1.0 for w in words)
    rec = Recognizer("moonshine", threads=1).recognize(audio, sr)
    assert rec.engine == "moonshine" and rec.text.startswith("he was not an ill") and rec.text.endswith("young man")
    assert [w.word for w in rec.words] == rec.text.split()
    assert rec.words[-1].confidence > 0.5  # "man," counts the word, not its comma
    speech = [p.phone for p in rec.phones if p.phone != "SIL"]
    assert speech[-3:] == ["M", "AE", "N"]
    assert asr.Moonshine(threads=1).words(np.zeros(800, np.float32)) == []  # 50 ms: nothing to hear


@needs_model
@pytest.mark.skipif(not CLIP.exists(), reason="pocketsphinx-testdata not installed")
def test_moonshine_words_that_cannot_be_aligned_fall_back_to_pocketsphinx(monkeypatch):
    pytest.importorskip("pocketsphinx")
    import soundfile as sf

    from dreamtalk.core.errors import DreamTalkError
    from dreamtalk.core.lips import align
    audio, sr = sf.read(str(CLIP), dtype="float32")

    def fails(self, *a, **k):
        raise DreamTalkError("alignment failed")
    monkeypatch.setattr(align.Aligner, "align", fails)
    rec = Recognizer("moonshine", threads=1).recognize(audio, sr)
    assert rec.engine == "moonshine" and "young man" in rec.text  # pocketsphinx's words for the piece
    assert any(p.phone == "M" for p in rec.phones)
