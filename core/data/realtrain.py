"""Real human speech for lips training: recorded telephone-system prompts with transcripts, force-aligned to phones.

The synthetic corpus teaches the mouth from TTS voices; to the network a closure made by the tongue then sounds
much like one made by the lips, and real voices are what it meets in use. These Debian main packages hold
professional recordings of natural, coarticulated read speech with a transcript per file (CC-BY-SA 3.0):
``asterisk-core-sounds-{en,es,fr,it,ru}-g722`` (16 kHz G.722; four speakers, female and male) with the
transcripts of ``asterisk-core-sounds-LANG``. Each prompt is aligned (core/lips/align.py; other languages through
espeak-ng spellings), checked for a plausible alignment, and animated ``copies`` times with the synthetic corpus'
face model under different (actor, emotion, level) cells and audio augmentations, so the result has the layout of
a synthetic corpus (docs/corpus_format.md, split "train") and joins lips training with ``--extra-data``.
None of these speakers is in the real-speech dev set.
"""
from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator, Sequence

import numpy as np

from ..errors import DreamTalkError, InputError
from ..fileio import atomic_write_text
from ..lips.phones import SILENCE, Phone
from . import text as textmod

ASTERISK = Path("/usr/share/asterisk/sounds")
ASTERISK_DOC = Path("/usr/share/doc")
# source name -> (language, folder under ASTERISK, speaker)
# The English and Spanish prompts (Allison Smith's voice) are reserved for held-out evaluation: never trained on.
RESERVED: dict[str, str] = {"asterisk-en": "Allison Smith (f)", "asterisk-es": "Allison Smith (f)"}
SOURCES: dict[str, tuple[str, str, str]] = {
    "asterisk-fr": ("fr", "fr_CA_f_June", "June Wallack (f)"),
    "asterisk-it": ("it", "it_IT_m_Carlo", "Carlo Flora (m)"),
    "asterisk-ru": ("ru", "ru_RU_f_IvrvoiceRU", "IvrvoiceRU (f)"),
}
MAX_PHONE_S = 0.6  # a speech phone longer than this means the transcript and the audio disagree
MIN_S, MAX_S = 0.4, 30.0


def source_list(arg: str) -> tuple[str, ...]:
    """Comma list of source names, or "all"."""
    names = list(SOURCES) if arg.strip() == "all" else [x.strip() for x in arg.split(",") if x.strip()]
    _refuse_reserved(names)
    bad = [n for n in names if n not in SOURCES]
    if bad or not names:
        raise InputError(f"unknown source {', '.join(bad) or arg!r}; choose from all, {', '.join(SOURCES)}")
    return tuple(dict.fromkeys(names))


def _refuse_reserved(names) -> None:
    held = [n for n in names if n in RESERVED]
    if held:
        raise InputError(f"{', '.join(held)}: reserved for held-out evaluation ({RESERVED[held[0]]}); "
                         "never used for training")


def clean_transcript(text: str) -> str:
    """The spoken words of a prompt line: glosses in (), notes in [], ellipses and stray quotes dropped."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text)
    text = text.replace("*", " star ").replace("#", " pound ")
    return re.sub(r"\s+", " ", text.replace("...", " ").replace('"', " ")).strip()


def read_transcripts(lang: str) -> dict[str, str]:
    """{prompt name: cleaned text} from asterisk-core-sounds-LANG's core-sounds-LANG.txt.gz."""
    path = ASTERISK_DOC / f"asterisk-core-sounds-{lang}" / f"core-sounds-{lang}.txt.gz"
    if not path.is_file():
        raise DreamTalkError(f"{path} is missing: install the Debian package asterisk-core-sounds-{lang}")
    out = {}
    for line in gzip.open(path, "rt", encoding="utf-8-sig", errors="replace").read().splitlines():
        m = re.match(r"^([\w/\-]+):\s*(.*)$", line)
        if m:
            t = clean_transcript(m.group(2))
            if re.search(r"[^\W\d_]", t):
                out[m.group(1)] = t
    return out


def decode_g722(path: Path) -> np.ndarray:
    """(N,) float32 mono 16 kHz from a raw G.722 file (ffmpeg)."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise DreamTalkError("decoding the G.722 prompts needs ffmpeg (apt-get install ffmpeg)")
    r = subprocess.run([exe, "-loglevel", "error", "-f", "g722", "-i", str(path), "-f", "s16le", "-ac", "1",
                        "-ar", "16000", "-"], capture_output=True, timeout=120)
    if r.returncode != 0:
        raise DreamTalkError(f"{path.name}: ffmpeg could not decode it ({r.stderr.decode(errors='replace')[-200:]})")
    return np.frombuffer(r.stdout, "<i2").astype(np.float32) / 32768.0


def recordings(source: str) -> Iterator[tuple[str, str, Path]]:
    """(prompt name, text, file) of one source, sorted by name."""
    lang, folder, _ = SOURCES[source]
    root = ASTERISK / folder
    if not root.is_dir():
        raise DreamTalkError(f"{root} is missing: install the Debian package asterisk-core-sounds-{lang}-g722")
    for name, text in sorted(read_transcripts(lang).items()):
        f = root / f"{name}.g722"
        if f.is_file():
            yield name, text, f


def plausible(phones: Sequence[Phone]) -> str | None:
    """Why an alignment looks wrong, or None: a speech phone stretched over a long stretch of audio."""
    for p in phones:
        if p.phone != SILENCE and p.end - p.start > MAX_PHONE_S:
            return f"{p.phone} lasts {p.end - p.start:.2f} s"
    if not any(p.phone != SILENCE for p in phones):
        return "no speech phones"
    return None


def _align_source(src: str, quiet: bool, notes: list[str], skipped: Counter) -> list[tuple]:
    """(id, source, text, audio, phones) of every prompt of one source that aligns plausibly; counts the rest."""
    from ..lips.align import Aligner
    from ..progress import Progress

    aligned = []
    items = list(recordings(src))
    aligner = Aligner(SOURCES[src][0])
    with Progress(len(items), f"align {src}", enabled=not quiet) as bar:
        for name, text, f in items:
            bar.update(1)
            rid = f"{src}_{name}".replace("/", "_").replace("-", "_")
            audio = decode_g722(f)  # (N,) float32 at 16 kHz
            if not MIN_S <= len(audio) / 16000 <= MAX_S:
                skipped[src] += 1
                continue
            try:
                phones = aligner.align(audio, 16000, text)[0]
            except DreamTalkError as e:
                skipped[src] += 1
                notes.append(f"{rid}: {e}")
                continue
            why = plausible(phones)
            if why:
                skipped[src] += 1
                notes.append(f"{rid}: implausible alignment ({why})")
                continue
            aligned.append((rid, src, text, audio, phones))
    return aligned


def _animate(out: Path, seed: int, augment_fraction: float, item_id: str, kind: str, prompt: tuple,
             cell: tuple[int, str, int]) -> dict | None:
    """make_item for one prompt under one (actor, emotion, level) cell; a clip's record, None for a style."""
    from .synth import clip_seed, make_item

    _, src, text, audio, phones = prompt
    cs = clip_seed(seed, item_id)
    spec = {"id": item_id, "kind": kind, "text": text, "sentence_id": textmod.sentence_id(text),
            "voice": f"real:{src}", "engine": "real", "actor": cell[0], "emotion": cell[1], "level": cell[2],
            "rate": 1.0, "seed": cs, "split": "train" if kind == "clip" else "style",
            "augment": kind == "clip" and bool(np.random.default_rng(cs).random() < augment_fraction)}
    return make_item(out, spec, SimpleNamespace(audio=audio, phones=phones, raw_error=0.0))


def _animate_all(out: Path, aligned: list[tuple], copies: int, actors: int, seed: int, augment_fraction: float,
                 quiet: bool) -> list[dict]:
    """One style clip per cell, then ``copies`` animated clips per prompt; the clips' records."""
    from ..progress import Progress
    from .synth import _cycle, cells, weighted_cells

    rng = np.random.default_rng([seed, 0xA5])
    cell_cycle = _cycle(weighted_cells(actors), rng)
    records = []
    style_src = rng.permutation(len(aligned))
    style_cells = cells(actors)
    with Progress(len(style_cells) + copies * len(aligned), "animate", enabled=not quiet) as bar:
        # one style clip per cell, from a real prompt (styles are read from motion only)
        for j, (a, emo, lvl) in enumerate(style_cells):
            _animate(out, seed, augment_fraction, f"s_{a}_{emo}_{lvl}", "style",
                     aligned[int(style_src[j % len(aligned)])], (a, emo, lvl))
            bar.update(1)
        for prompt in aligned:
            for k in range(copies):
                rec = _animate(out, seed, augment_fraction, f"{prompt[0]}_{k}", "clip", prompt, next(cell_cycle))
                rec["source"] = prompt[1]
                records.append(rec)
                bar.update(1)
    return records


def build_realtrain(out_dir, sources: Sequence[str] = ("asterisk-fr",), copies: int = 4, actors: int = 8,
                    seed: int = 0, augment_fraction: float = 0.6, quiet: bool = False) -> dict:
    """Align, animate and write the real-speech training corpus in ``out_dir``; returns the manifest."""
    _refuse_reserved(sources)
    if not 1 <= copies <= 50:
        raise InputError(f"--copies must be in [1, 50], got {copies}")
    if not 1 <= actors <= 1000:
        raise InputError(f"--actors must be in [1, 1000], got {actors}")
    t_start = time.monotonic()
    out = Path(out_dir)
    for sub in ("audio", "anim", "phones", "styles"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    aligned: list[tuple[str, str, str, np.ndarray, list[Phone]]] = []  # (id, source, text, audio, phones)
    skipped: Counter = Counter()
    for src in sources:
        aligned += _align_source(src, quiet, notes, skipped)
    if not aligned:
        raise DreamTalkError("no prompt could be aligned")
    records = _animate_all(out, aligned, copies, actors, seed, augment_fraction, quiet)
    atomic_write_text(out / "clips.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    per = Counter(r["source"] for r in records)
    secs = Counter()
    for _, src, _, audio, _ in aligned:
        secs[src] += len(audio) / 16000
    manifest = {
        "format": "dreamtalk-real-train-corpus", "kind": "realtrain", "seed": seed, "copies": copies,
        "actors": actors, "augment_fraction": augment_fraction, "clips": len(records),
        "hours": round(sum(r["duration"] for r in records) / 3600, 4),
        "sources": {s: {"language": SOURCES[s][0], "speaker": SOURCES[s][2], "prompts_aligned": per[s] // copies,
                        "prompts_skipped": skipped[s], "minutes_of_speech": round(secs[s] / 60, 2),
                        "origin": f"Debian asterisk-core-sounds-{SOURCES[s][0]}-g722 (CC-BY-SA-3.0)"}
                    for s in sources},
        "aligner": "pocketsphinx forced alignment, en-us model; other languages spelled by espeak-ng",
        "notes": notes, "wall_s": round(time.monotonic() - t_start, 1),
    }
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


def build_realsel(out_dir, sources: Sequence[str] = tuple(SOURCES), per_source: int = 150, seed: int = 0,
                  quiet: bool = False) -> dict:
    """A lip-sync evaluation set in the dev-set layout (clips.jsonl, audio/, phones/) from the same prompts:
    ``per_source`` aligned prompts with a P, B or M per source, each also through the telephone and noise channels
    (splits ``<source>``, ``<source>-phone``, ``<source>-noise``). Its events are many (about 500 bilabials per
    source) where the real-speech dev set's are few; a network trained on a source's prompts (``realtrain``) must
    not be judged on that source."""
    import random

    from ..lips.phones import BILABIALS
    from .realdev import Recording, _write_clip
    _refuse_reserved(sources)
    if not 1 <= per_source <= 10_000:
        raise InputError(f"--per-source must be in [1, 10000], got {per_source}")
    t_start = time.monotonic()
    out = Path(out_dir)
    for sub in ("audio", "phones"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    skipped: Counter = Counter()
    records, per = [], Counter()
    for src in sources:
        aligned = [p for p in _align_source(src, quiet, notes, skipped) if any(q.phone in BILABIALS for q in p[4])]
        random.Random(seed).shuffle(aligned)
        for rid, _, text, audio, phones in aligned[:per_source]:
            rec = Recording(rid, audio, 16000, text, src)
            records += _write_clip(out, rec, (rid, 0.0, len(audio) / 16000, text), audio, phones, ("phone", "noise"),
                                   notes.append, src)
            per[src] += 1
    if not records:
        raise DreamTalkError("no prompt with a bilabial could be aligned")
    atomic_write_text(out / "clips.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    manifest = {"kind": "realsel", "seed": seed, "per_source": per_source,
                "splits": dict(Counter(r["split"] for r in records)),
                "sources": {s: {"speaker": SOURCES[s][2], "prompts": per[s], "prompts_skipped": skipped[s]}
                            for s in sources},
                "notes": notes, "wall_s": round(time.monotonic() - t_start, 1)}
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest
