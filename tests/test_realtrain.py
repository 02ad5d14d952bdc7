"""Real-speech training corpus (core/data/realtrain.py) and foreign-language alignment (core/lips/align.py)."""
import gzip
import json
import shutil
import subprocess

import numpy as np
import pytest

from dreamtalk.core.lips.align import Aligner, foreign_words, ipa_to_arpabet
from dreamtalk.core.data import realtrain
from dreamtalk.core.errors import InputError
from dreamtalk.core.lips.phones import PHONES, Phone

needs_tools = pytest.mark.skipif(not (shutil.which("ffmpeg") and shutil.which("flite") and shutil.which("espeak-ng")),
                                 reason="ffmpeg, flite and espeak-ng are needed")


def test_foreign_ipa_symbols():
    assert ipa_to_arpabet("ɲɔkki") == ["N", "Y", "AO", "K", "K", "IY"]
    assert ipa_to_arpabet("ʁɑ̃by") == ["HH", "AA", "B", "UW"]  # nasal tilde dropped, front rounded -> UW
    assert ipa_to_arpabet("tsʲɨ") == ["T", "S", "IH"]  # palatalisation mark skipped


def test_foreign_words():
    assert foreign_words("L'unico, 28 volte! Вы \u2013 единственный") == ["l'unico", "28", "volte", "вы",
                                                                         "единственный"]


def test_clean_transcript():
    assert realtrain.clean_transcript("Voce disattivata. (You are now muted.)") == "Voce disattivata."
    assert realtrain.clean_transcript("press * to pause, # to exit") == "press star to pause, pound to exit"
    assert realtrain.clean_transcript("... participants dans cette conférence.\"") == \
        "participants dans cette conférence."
    assert realtrain.clean_transcript("[this is a beep]") == ""


def test_source_list():
    assert realtrain.source_list("all") == tuple(realtrain.SOURCES)
    assert realtrain.source_list("asterisk-it, asterisk-fr,asterisk-it") == ("asterisk-it", "asterisk-fr")
    with pytest.raises(InputError, match="unknown source"):
        realtrain.source_list("asterisk-de")
    for held in ("asterisk-en", "asterisk-es", "asterisk-fr,asterisk-es"):  # held-out evaluation voices
        with pytest.raises(InputError, match="reserved for held-out evaluation"):
            realtrain.source_list(held)
    assert not set(realtrain.RESERVED) & set(realtrain.source_list("all"))
    with pytest.raises(InputError, match="reserved"):
        realtrain.build_realtrain("unused", ("asterisk-en",))


def test_plausible():
    assert realtrain.plausible([Phone("SIL", 0, 1.5), Phone("M", 1.5, 1.6)]) is None
    assert "lasts" in realtrain.plausible([Phone("AA", 0, 0.9)])
    assert realtrain.plausible([Phone("SIL", 0, 1.0)]) == "no speech phones"


def _g722(audio, sr, path):
    """Encode float audio to a raw G.722 file like the Debian prompts."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(sr), "-ac", "1", "-i", "-",
                    "-ar", "16000", "-acodec", "g722", "-f", "g722", str(path)], input=pcm, check=True)


@needs_tools
def test_foreign_alignment_finds_bilabials():
    pytest.importorskip("pocketsphinx")
    from dreamtalk.core.data.tts import synthesize_batch
    text = "mamma mia, babbo parte presto"
    try:
        sp = synthesize_batch("festival:lp_diphone", [text])[0]  # a human Italian diphone voice with its timings
    except Exception as e:  # noqa: BLE001 - the voice package is optional outside tools/test.sh
        pytest.skip(f"festival Italian voice unavailable: {e}")
    assert sp is not None
    phones = Aligner("it").align(sp.audio, 16000, text)[0]
    assert phones[0].start == 0 and phones[-1].end == pytest.approx(len(sp.audio) / 16000)
    assert all(p.phone in PHONES for p in phones)
    got = [p for p in phones if p.phone in ("M", "B", "P")]
    ref = [p for p in sp.phones if p.phone in ("M", "B", "P")]
    assert len(got) >= 5 and len(ref) >= 5
    # every bilabial the voice said is found by the Italian spelling within 80 ms
    for r in ref:
        mid = 0.5 * (r.start + r.end)
        assert min(abs(0.5 * (g.start + g.end) - mid) for g in got) < 0.08


@needs_tools
def test_build_realtrain_from_prompts(tmp_path, monkeypatch):
    pytest.importorskip("pocketsphinx")
    from dreamtalk.core.data.synth import cells
    from dreamtalk.core.data.tts import synthesize_batch
    from dreamtalk.core.training.dataset import load_corpus

    texts = {"vm-goodbye": "Goodbye, and please come back.", "vm-press": "Press one to play the message.",
             "dictate/pause": "Pause the number."}
    sounds, doc = tmp_path / "sounds", tmp_path / "doc"
    (sounds / "en_US_f_Allison" / "dictate").mkdir(parents=True)
    (doc / "asterisk-core-sounds-en").mkdir(parents=True)
    ref = {}
    for (name, text), sp in zip(texts.items(), synthesize_batch("flite:slt", list(texts.values()))):
        _g722(sp.audio, 16000, sounds / "en_US_f_Allison" / f"{name}.g722")
        ref[name] = sp.phones
    lines = "; Core sounds\n\n" + "".join(f"{k}: {v}\n" for k, v in texts.items()) + "beep: [a beep]\n" \
        "missing-file: This prompt has no recording.\n"
    with gzip.open(doc / "asterisk-core-sounds-en" / "core-sounds-en.txt.gz", "wt") as f:
        f.write(lines)
    monkeypatch.setattr(realtrain, "ASTERISK", sounds)
    monkeypatch.setattr(realtrain, "ASTERISK_DOC", doc)
    # A stand-in English source laid out like the packages (flite speaks its prompts).
    monkeypatch.setitem(realtrain.SOURCES, "fake-en", ("en", "en_US_f_Allison", "flite slt"))

    out = tmp_path / "corpus"
    m = realtrain.build_realtrain(out, ("fake-en",), copies=2, actors=1, quiet=True)
    assert m["sources"]["fake-en"]["prompts_aligned"] == 3 and m["clips"] == 6
    rows = [json.loads(x) for x in (out / "clips.jsonl").read_text().splitlines()]
    assert {r["voice"] for r in rows} == {"real:fake-en"} and {r["split"] for r in rows} == {"train"}
    assert len(list((out / "styles").glob("*.npz"))) == len(cells(1))
    # the aligned bilabials of the un-augmented copies sit where the voice said them (G.722 round trip)
    for r in rows:
        if r["augment"]:
            continue
        name = r["id"].removeprefix("fake_en_").rsplit("_", 1)[0]
        key = next(k for k in texts if k.replace("/", "_").replace("-", "_") == name)
        got = [p for p in json.loads((out / r["phones"]).read_text())["phones"] if p[0] in ("P", "B", "M")]
        want = [p for p in ref[key] if p.phone in ("P", "B", "M")]
        assert len(got) == len(want)
        assert all(abs(g[1] - w.start) < 0.06 for g, w in zip(got, want))
    corpus = load_corpus(out, "train", extras=True)
    assert len(corpus.clips) == 6 and all(c.mouth is not None and c.phone_ids is not None for c in corpus.clips)
    # every clip names a style clip that exists
    assert all(c.style_key in corpus.styles for c in corpus.clips)
    # the same prompts as a lip-sync selection set: two of them, each with a telephone and a noisy copy
    sel = realtrain.build_realsel(tmp_path / "sel", ("fake-en",), per_source=2, quiet=True)
    assert sel["splits"] == {"fake-en": 2, "fake-en-phone": 2, "fake-en-noise": 2}
    rows = [json.loads(x) for x in (tmp_path / "sel/clips.jsonl").read_text().splitlines()]
    assert all((tmp_path / "sel" / r["audio"]).is_file() and (tmp_path / "sel" / r["phones"]).is_file() for r in rows)
    assert {r["phones"] for r in rows if r["split"] == "fake-en"} == {r["phones"] for r in rows
                                                                      if r["split"] == "fake-en-phone"}


def test_build_realtrain_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(realtrain, "ASTERISK_DOC", tmp_path)
    with pytest.raises(Exception, match="asterisk-core-sounds-fr"):
        realtrain.build_realtrain(tmp_path / "o", ("asterisk-fr",), quiet=True)
    with pytest.raises(InputError, match="copies"):
        realtrain.build_realtrain(tmp_path / "o", ("asterisk-fr",), copies=0, quiet=True)
    with pytest.raises(InputError, match="reserved"):
        realtrain.build_realsel(tmp_path / "o", ("asterisk-en",), quiet=True)
    with pytest.raises(InputError, match="per-source"):
        realtrain.build_realsel(tmp_path / "o", ("asterisk-fr",), per_source=0, quiet=True)


def test_cli_realtrain_bad_arguments(run_cli, tmp_path):
    r = run_cli("data", "realtrain", "--out", tmp_path / "o", "--sources", "asterisk-de")
    assert r.returncode != 0 and "unknown source" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("data", "realtrain", "--out", tmp_path / "o", "--copies", "0")
    assert r.returncode != 0 and "--copies" in r.stderr
    assert not (tmp_path / "o").exists()  # nothing written on bad input
