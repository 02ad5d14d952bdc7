"""ARPAbet phones and phone alignments: the contract between the corpus, real-speech alignment and evaluation.

An alignment is a list of ``Phone(phone, start, end)`` in seconds, ARPAbet without stress digits, ``SIL`` for
silence. On disk: JSON ``{"phones": [["HH", 0.0, 0.08], ...]}``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, NamedTuple

from ..errors import InputError
from ..fileio import atomic_write_text

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
CONSONANTS = frozenset("B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split())
SILENCE = "SIL"
PHONES = VOWELS | CONSONANTS | {SILENCE}
BILABIALS = frozenset("P B M".split())
LABIALS = frozenset("P B M F V W".split())
LABIODENTALS = frozenset("F V".split())
ROUNDED = frozenset("UW OW W OY".split())
CLOSE_VOWELS = frozenset("IY IH UW UH".split())


class Phone(NamedTuple):
    phone: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def normalize_phone(p: str) -> str:
    """Upper-case ARPAbet without stress digits; silence/pause variants become SIL."""
    p = p.strip().upper().rstrip("012")
    if p in ("", "SIL", "SP", "PAU", "H#", "#", "_", "<SIL>", "SILENCE", "NSN", "+NSN+", "+SPN+", "SPN"):
        return SILENCE
    if p == "AX":
        return "AH"
    if p == "AXR":
        return "ER"
    if p == "IX":
        return "IH"
    if p == "DX":
        return "D"
    if p == "NX":
        return "N"
    if p == "EL":
        return "L"
    if p == "EM":
        return "M"
    if p == "EN":
        return "N"
    return p


def validate(phones: Iterable[Phone], what: str = "alignment") -> list[Phone]:
    """Check phones are known, ordered and non-overlapping; return them as a list."""
    out = []
    prev_end = 0.0
    for i, ph in enumerate(phones):
        if ph.phone not in PHONES:
            raise InputError(f"{what}: unknown phone {ph.phone!r} at index {i}")
        if ph.end < ph.start or ph.start < prev_end - 1e-6:
            raise InputError(f"{what}: phone {i} ({ph.phone}) overlaps or runs backwards")
        prev_end = ph.end
        out.append(ph)
    return out


def read_alignment(path: str | os.PathLike) -> list[Phone]:
    """Read ``{"phones": [[phone, start, end], ...]}``."""
    try:
        d = json.loads(Path(path).read_text())
        return validate([Phone(normalize_phone(p), float(s), float(e)) for p, s, e in d["phones"]], str(path))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: not a phone alignment ({e})") from None


def write_alignment(phones: Iterable[Phone], path: str | os.PathLike, **extra) -> None:
    """Write an alignment JSON (extra keys such as ``text`` are kept)."""
    d = dict(extra)
    d["phones"] = [[p.phone, round(p.start, 5), round(p.end, 5)] for p in phones]
    atomic_write_text(path, json.dumps(d) + "\n")
