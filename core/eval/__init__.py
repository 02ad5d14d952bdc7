"""Evaluation: the lip-sync metric (``lipsync``), reference systems (``systems``) and data-set loading."""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import InputError
from ..lips.phones import Phone, read_alignment


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
