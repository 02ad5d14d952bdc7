"""English sentences for the synthetic corpus: Debian ``fortunes`` plus a phonetically balanced generator.

Sentences are plain ASCII, 3-25 words, one sentence each, with only letters and light punctuation, so every
TTS engine reads them the same way and ``text`` in the corpus matches what was spoken.
"""
from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

FORTUNE_DIR = Path("/usr/share/games/fortunes")
# Collections that are code, pictures, non-English or near-offensive stereotypes; ``off/`` is never read.
SKIP_COLLECTIONS = frozenset({"ascii-art", "perl", "translate-me", "ethnic", "men-women", "drugs",
                              "linuxcookie", "zippy", "songs-poems", "definitions"})
MIN_WORDS, MAX_WORDS = 3, 25
_ALLOWED = re.compile(r"^[A-Za-z][A-Za-z ,.'?!;:-]*[.?!]$")
_SPLIT = re.compile(r"(?<=[.?!])\s+(?=[A-Z])")
# Words that mark text we do not want a corpus voice to say.
_BLOCK = frozenset("""fuck fucking shit damn bitch bastard sex sexual sexy rape kill killed suicide nazi hitler
penis vagina breasts drunk whore god jesus christ""".split())
_ABBREV = re.compile(r"\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|vs|etc|Prof|Gen|Col|Lt|No|Inc|Ltd|Co)\.$")


def _entries(path: Path) -> list[str]:
    """The %-separated entries of one fortune file, attribution lines removed."""
    text = path.read_text(encoding="latin-1")
    out = []
    for entry in text.split("\n%\n"):
        lines = [ln for ln in entry.splitlines() if not ln.strip().startswith("--")]
        out.append(" ".join(ln.strip() for ln in lines))
    return out


def clean_sentence(s: str) -> str | None:
    """One cleaned sentence, or None when it is not plain speakable English of the right length."""
    s = s.replace("`", "'").replace("\u2019", "'").replace('"', "").strip()
    s = re.sub(r"\s+", " ", s)
    s = re.sub(r"\s*--\s*", ", ", s)
    s = re.sub(r"^[A-Z][A-Za-z]{0,2}:\s+", "", s)  # dialogue labels such as "Q:" or "A:"
    if not s or not s.isascii() or not _ALLOWED.match(s):
        return None
    words = s.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return None
    low = {w.strip(",.'?!;:-").lower() for w in words}
    if low & _BLOCK:
        return None
    letters = [c for c in s if c.isalpha()]
    if sum(c.isupper() for c in letters) > 0.3 * len(letters):  # shouting, acronyms, titles
        return None
    if re.search(r"[,;:'-]{2,}|\s[,.;:?!]|'\s|\s'|\b[A-Z]\.\s?[A-Z]\.", s):
        return None
    return s


def fortune_sentences(directory: str | Path = FORTUNE_DIR) -> list[str]:
    """Unique clean sentences from the non-offensive fortune collections (sorted, deterministic)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    seen: set[str] = set()
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix or path.name in SKIP_COLLECTIONS:
            continue
        for entry in _entries(path):
            if not entry or re.search(r"\d|https?:|www\.|@|[<>{}\[\]|/\\_*#=&$%+~^]", entry):
                continue
            parts = _SPLIT.split(entry)
            # Do not split after abbreviations such as "Dr." (drop those entries instead).
            if any(_ABBREV.search(p) for p in parts):
                continue
            for part in parts:
                c = clean_sentence(part)
                if c:
                    seen.add(c)
    return sorted(seen)


# ---- phonetically balanced generator ---------------------------------------------------------------
# Word lists chosen so rare English phones (ZH, OY, UH, TH, DH, NG, CH, JH, AW) appear often.
_SUBJ = ("the young boy", "my brother", "our neighbour", "the old judge", "a thoughtful teacher", "his mother",
         "the choir", "that lawyer", "a cheerful nurse", "the usual visitor", "your cousin", "the joyful crowd",
         "the quiet fisherman", "this genius", "a shy girl", "the new royal guard", "the bright pupil",
         "her father", "the loyal employee", "a thin clown", "the vague witness", "my own mouth")
_VERB = ("measured", "pushed", "enjoyed", "watched", "brought", "judged", "thought about", "bought", "shook",
         "found", "moved", "pulled", "chose", "showed", "avoided", "looked at", "touched", "fixed", "hugged",
         "tossed", "threw", "examined", "would rather keep", "could hardly believe", "was pleasured by")
_OBJ = ("the beige couch", "a huge orange", "the thick book", "those noisy toys", "a bowl of soup",
        "the cheap watch", "three wooden boxes", "a vision of treasure", "the azure garage", "the wet wool",
        "a bunch of sugar cubes", "the heavy chain", "that strange voice", "the rough leather boots",
        "a cup of cocoa", "both yellow pages", "the giant pumpkin", "a pair of shoes", "the leisure magazine",
        "the oily engine", "those bright zebras", "a mouthful of cookies", "the usual measure")
_PLACE = ("near the church", "in the foggy valley", "at the zoo", "beside the mirror", "under the bridge",
          "through the thick woods", "on Thursday evening", "at the edge of the village", "in the garage",
          "behind the choir", "by the blue pool", "without a doubt", "during the long voyage",
          "before the judge", "in the bathroom", "with great pleasure", "among the mountains")
_ADV = ("quickly", "slowly", "proudly", "quietly", "happily", "angrily", "sadly", "eagerly", "calmly",
        "joyfully", "foolishly", "boldly", "gently", "nervously", "wisely", "thoroughly")
_TEMPLATES = (
    "{S} {V} {O} {P}.",
    "{S} {A} {V} {O}.",
    "Why has {s} {V} {O} {P}?",
    "{P_cap}, {s} {V} {O}.",
    "I think {s} {V} {O} {A}.",
    "Did {s} really say that {o} was {P}?",
    "{S} {V} {O}, and then {s2} {V2} {O2}.",
    "Look, {s} {V} {O} again!",
    "Nobody knew why {s} {V} {O} {P}.",
)


def generated_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` unique template sentences with rare-phone-rich vocabulary (deterministic for ``seed``)."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        t = rng.choice(_TEMPLATES)
        s, s2 = rng.choice(_SUBJ), rng.choice(_SUBJ)
        p = rng.choice(_PLACE)
        sent = t.format(S=s[0].upper() + s[1:], s=s, s2=s2, V=rng.choice(_VERB), V2=rng.choice(_VERB),
                        O=rng.choice(_OBJ), o=rng.choice(_OBJ), O2=rng.choice(_OBJ), P=p,
                        P_cap=p[0].upper() + p[1:], A=rng.choice(_ADV))
        if sent not in seen and clean_sentence(sent):
            seen.add(sent)
            out.append(sent)
    return out


def sentence_id(text: str) -> str:
    """A stable short id for a sentence (independent of list order)."""
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def corpus_sentences(n_generated: int = 2000, seed: int = 0) -> list[str]:
    """All corpus sentences: fortunes first, then generated ones, without duplicates."""
    fort = fortune_sentences()
    gen = generated_sentences(n_generated, seed)
    have = set(fort)
    return fort + [g for g in gen if g not in have]


def phone_coverage(sequences: Iterable[Sequence[str]]) -> dict:
    """Phone and diphone coverage of ARPAbet phone sequences (silence ignored for diphones across pauses)."""
    from ..lips.phones import PHONES, SILENCE

    speech = sorted(PHONES - {SILENCE})
    ph: Counter = Counter()
    di: Counter = Counter()
    for seq in sequences:
        seq = [p for p in seq]
        ph.update(p for p in seq if p != SILENCE)
        di.update(f"{a}-{b}" for a, b in zip(seq, seq[1:]) if a != SILENCE and b != SILENCE)
    possible_di = len(speech) ** 2
    return {
        "phones_covered": sum(1 for p in speech if ph[p] > 0),
        "phones_total": len(speech),
        "missing_phones": [p for p in speech if ph[p] == 0],
        "rarest_phones": [[p, ph[p]] for p in sorted(speech, key=lambda p: ph[p])[:5]],
        "diphones_covered": len(di),
        "diphones_possible": possible_di,
        "diphone_coverage": round(len(di) / possible_di, 4),
        "phone_counts": {p: ph[p] for p in speech},
    }


# Pseudo-words for the foreign voices: consonant-vowel syllables in each language's regular spelling, so the
# voice's letter-to-sound rules give predictable phones. Every consonant class a lip cares about is drawn often.
_PSEUDO_CONSONANTS = ("p", "b", "m", "t", "d", "n", "k", "g", "f", "v", "s", "z", "l", "r", "h", "j")
_PSEUDO_VOWELS = ("a", "e", "i", "o", "u")


_CYRILLIC = dict(zip("pbmtdnkgfvszlrh", "пбмтднкгфвсзлрх"))
_CYRILLIC_VOWEL = {"a": "а", "e": "э", "i": "и", "o": "о", "u": "у"}
_CYRILLIC_J = {"a": "я", "e": "е", "i": "и", "o": "ё", "u": "ю"}  # j + vowel is one letter
# Hindi (Devanagari): long vowels, so no syllable ends in the inherent schwa; f/z are फ/ज (the voice has no /z/)
_DEVANAGARI = dict(zip("pbmtdnkgfvszlrhj", "पबमतदनकगफवसजलरहय"))
_DEVANAGARI_VOWEL = {"a": "आ", "e": "ए", "i": "ई", "o": "ओ", "u": "ऊ"}
_DEVANAGARI_SIGN = {"a": "ा", "e": "े", "i": "ी", "o": "ो", "u": "ू"}
_VIRAMA = "्"  # a word-final consonant with no vowel


def _spell(lang: str, c: str, v: str) -> str:
    if lang == "hi":
        return _DEVANAGARI[c] + _DEVANAGARI_SIGN[v] if c else _DEVANAGARI_VOWEL[v]
    if lang == "ru":
        return _CYRILLIC_J[v] if c == "j" else _CYRILLIC.get(c, "") + _CYRILLIC_VOWEL[v]
    if lang == "it":  # c/ch and g/gh keep /k/ and /g/ before every vowel; Italian h is silent, j is i
        c = {"k": "ch" if v in "ei" else "c", "g": "gh" if v in "ei" else "g", "h": "", "j": "i"}.get(c, c)
    return c + v


def _coda(lang: str, c: str) -> str:
    """A word-final consonant with no vowel after it."""
    if lang == "ru":
        return _CYRILLIC[c]
    return _DEVANAGARI[c] + _VIRAMA if lang == "hi" else c


def pseudo_sentence(lang: str, seed: int) -> str:
    """A deterministic sentence of 5-11 pseudo-words (1-3 syllables each) spelled for ``lang`` (cs, it, fi, ru, hi)."""
    if lang not in ("cs", "it", "fi", "ru", "hi"):
        raise ValueError(f"no pseudo-word spelling for language {lang!r}")
    rng = random.Random(seed)
    words = []
    for _ in range(rng.randint(5, 11)):
        w = "".join(_spell(lang, rng.choice(_PSEUDO_CONSONANTS) if rng.random() < 0.85 else "",
                           rng.choice(_PSEUDO_VOWELS)) for _ in range(rng.randint(1, 3)))
        if lang != "it" and rng.random() < 0.25:
            c = rng.choice(("p", "m", "t", "n", "k", "s", "l"))
            w += _coda(lang, c)
        words.append(w)
    return " ".join(words)
