"""Evaluation: the lip-sync metric (``lipsync``), reference systems (``systems``) and data-set loading."""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..lips.phones import SILENCE, Phone, read_alignment


DEV_SPLITS = ("selection", "selection2", "test")  # the clean parts of a real-speech set (dreamtalk data realdev)


class Clip(NamedTuple):
    id: str
    audio: np.ndarray  # (N,) float32 mono
    sr: int
    phones: list[Phone]
    text: str


def load_clips(data_dir, split: str | None = "dev", audio: bool = True, limit: int | None = None,
               voice: str | None = None) -> list[Clip]:
    """Clips of a data DIR (docs/corpus_format.md layout) in ``split`` (None = all; comma-separated names; "dev"
    = selection and test), in clips.jsonl order;
    ``limit`` keeps the first N (read no further); ``voice`` keeps only that voice's clips (synthetic corpora)."""
    root = Path(data_dir)
    index = root / "clips.jsonl"
    # Comma-separated splits; "dev" also means the clean real-speech parts (selection and test).
    wanted = set() if split is None else {s.strip() for s in split.split(",") if s.strip()}
    if "dev" in wanted:
        wanted |= set(DEV_SPLITS)
    if not index.is_file():
        raise InputError(f"{root}: no clips.jsonl (build one with 'dreamtalk data realdev --out DIR')")
    out = []
    for n, line in enumerate(index.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            c = json.loads(line)
            cid, csplit = str(c["id"]), c.get("split")
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"{index}:{n}: bad clip line ({e})") from None
        if (split is not None and csplit not in wanted) or (voice is not None and c.get("voice") != voice):
            continue
        if limit is not None and len(out) >= limit:
            break
        phones = read_alignment(root / c["phones"])
        a, sr = np.zeros(0, np.float32), 16000
        if audio:
            import soundfile as sf
            try:
                a2, sr = sf.read(str(root / c["audio"]), dtype="float32", always_2d=True)
            except (OSError, RuntimeError) as e:
                raise InputError(f"{root / c['audio']}: cannot read audio ({e})") from None
            a = a2.mean(axis=1)
        out.append(Clip(cid, a, int(sr), phones, c.get("text", "")))
    if not out:
        raise InputError(f"{index}: no clips in split {split!r}" + (f" of voice {voice!r}" if voice else ""))
    return out


def join_clips(clips: list[Clip], seconds: float, gap: float = 0.0) -> list[Clip]:
    """The clips joined in order into long takes: a take ends once it holds ``seconds`` of audio; ``gap`` seconds
    of silence between clips; phones shifted, the gaps marked silence. Long takes reach the chunked encoding and the
    window chaining that short clips never do."""
    from ..audio import SAMPLE_RATE, resample

    if not seconds > 0:
        raise InputError(f"the length of a joined take must be positive, got {seconds}")
    takes, parts, phones, ids, texts, t = [], [], [], [], [], 0.0

    def close() -> None:
        if parts:
            takes.append(Clip("+".join(ids), np.concatenate(parts).astype(np.float32), SAMPLE_RATE, list(phones),
                              " ".join(texts)))
        parts.clear(), phones.clear(), ids.clear(), texts.clear()

    for c in clips:
        if parts:  # silence between two clips
            pad = int(round(gap * SAMPLE_RATE))
            parts.append(np.zeros(pad, np.float32))
            phones.append(Phone(SILENCE, t, t + pad / SAMPLE_RATE))
            t += pad / SAMPLE_RATE
        a = c.audio if c.sr == SAMPLE_RATE else resample(c.audio, c.sr, SAMPLE_RATE)
        parts.append(a)
        phones.extend(Phone(p.phone, p.start + t, p.end + t) for p in c.phones)
        ids.append(c.id)
        texts.append(c.text)
        t += a.size / SAMPLE_RATE
        if t >= seconds:
            close()
            t = 0.0
    close()
    return takes
