"""Forced alignment of speech to a known transcript with pocketsphinx (its bundled en-us model and CMUdict).

``align_transcript(audio, sr, text)`` returns ARPAbet phones (no stress digits, ``SIL`` for silence) that tile
the whole audio from 0 to its duration. Words missing from CMUdict get a pronunciation from espeak-ng's IPA
output, mapped to ARPAbet. ``Aligner(lang="fr")`` aligns other languages with the same English acoustic model:
every word is spelled by espeak-ng in that language and its IPA mapped to the nearest ARPAbet phones (coarse, but
the transcript pins the sequence; used to label real foreign speech for lips training). pocketsphinx and scipy are
imported only when aligning. ``recognize_phones(audio, sr)`` recognises English speech when there is no transcript
(Moonshine's words where it is installed, ``core/lips/asr.py``, else pocketsphinx's language model) and aligns the
recognised words the same way.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import NamedTuple

import numpy as np

from ..errors import DreamTalkError, InputError, MissingDependency
from .phones import PHONES, SILENCE, Phone, normalize_phone

ALIGN_SR = 16000  # the en-us acoustic model's sample rate
FRAME_RATE = 100  # pocketsphinx frames per second (its default -frate)
# Active HMMs per frame in recognition (pocketsphinx default 30000): 3000 is ~1.4x faster with the same lip-sync on
# the selection speech (docs/training.md, session 11)
MAX_HMMS_PER_FRAME = 3000

_NUMBERS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
            "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


class Word(NamedTuple):
    word: str
    start: float
    end: float
    confidence: float = 1.0  # the recogniser's posterior probability of the word; 1 for a given transcript


class Recognition(NamedTuple):
    """What recognition heard: phones tiling the audio, the text, the words with their confidences, and the engine
    that found the words ("moonshine" or "pocketsphinx")."""
    phones: list[Phone]
    text: str
    words: list[Word]
    engine: str = "pocketsphinx"


ENGINES = ("moonshine", "pocketsphinx")


def recognition_engine() -> str:
    """The engine that finds the words: Moonshine where onnxruntime and its model are installed, else pocketsphinx;
    ``DREAMTALK_RECOGNIZER`` (moonshine | pocketsphinx) overrides."""
    from . import asr
    env = os.environ.get("DREAMTALK_RECOGNIZER", "").strip().lower()
    if env:
        if env not in ENGINES:
            raise InputError(f"DREAMTALK_RECOGNIZER must be one of {', '.join(ENGINES)}, got {env!r}")
        return env
    return "moonshine" if asr.available() else "pocketsphinx"


def _number_words(n: int) -> list[str]:
    """Spell 0..9999 in words (enough for chapter numbers, years, counts in transcripts)."""
    if n < 20:
        return [_NUMBERS[n]]
    if n < 100:
        return [_TENS[n // 10]] + (_number_words(n % 10) if n % 10 else [])
    if n < 1000:
        return _number_words(n // 100) + ["hundred"] + (_number_words(n % 100) if n % 100 else [])
    if n < 10000:
        return _number_words(n // 1000) + ["thousand"] + (_number_words(n % 1000) if n % 1000 else [])
    raise InputError(f"cannot spell the number {n} for alignment; write it in words")


def normalize_text(text: str) -> list[str]:
    """Lower-case words for the dictionary: punctuation dropped, apostrophes kept, digits spelled out."""
    words = []
    for tok in re.findall(r"[A-Za-z0-9']+", text.replace("\u2019", "'")):
        tok = tok.strip("'").lower()
        if not tok:
            continue
        if tok.isdigit():
            words.extend(_number_words(int(tok)))
        else:
            words.append(tok)
    return words


# IPA (espeak-ng --ipa, British/US) to ARPAbet; longest symbols are matched first.
_IPA = {
    "tʃ": "CH", "dʒ": "JH", "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY", "ɪə": "IH R",
    "eə": "EH R", "ʊə": "UH R", "ɜː": "ER", "ɝ": "ER", "ɚ": "ER", "iː": "IY", "uː": "UW", "ɑː": "AA", "ɔː": "AO",
    "i": "IY", "ɪ": "IH", "e": "EH", "ɛ": "EH", "æ": "AE", "a": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɑ": "AA",
    "ɒ": "AA", "ɔ": "AO", "o": "OW", "ʊ": "UH", "u": "UW", "ᵻ": "IH", "p": "P", "b": "B", "t": "T", "d": "D",
    "k": "K", "ɡ": "G", "g": "G", "f": "F", "v": "V", "θ": "TH", "ð": "DH", "s": "S", "z": "Z", "ʃ": "SH",
    "ʒ": "ZH", "h": "HH", "m": "M", "n": "N", "ŋ": "NG", "l": "L", "ɹ": "R", "r": "R", "ɾ": "D", "w": "W",
    "j": "Y", "x": "K", "ʔ": "",
    # other languages (espeak-ng fr/es/it/ru): nearest English phone by place of articulation and lip rounding
    "ts": "T S", "dz": "D Z", "ɲ": "N Y", "ʎ": "L Y", "β": "V", "ɣ": "G", "ʝ": "Y", "ç": "HH", "χ": "HH",
    "ʁ": "HH", "ʀ": "HH", "ɫ": "L", "ʂ": "SH", "ɕ": "SH", "ʐ": "ZH", "ʑ": "ZH", "ɨ": "IH", "ʉ": "UW", "y": "UW",
    "ʏ": "UH", "ø": "OW", "œ": "AH", "ɵ": "UH", "ɥ": "W", "ɤ": "AH", "ɯ": "UW",
}
_IPA_KEYS = sorted(_IPA, key=len, reverse=True)
_IPA_LONGEST = len(_IPA_KEYS[0])


def ipa_to_arpabet(ipa: str) -> list[str]:
    """Convert an IPA string (stress and length marks allowed) to ARPAbet phones; unknown symbols are skipped."""
    s = re.sub(r"[ˈˌ\s\-_.̩]", "", ipa)
    return [p.phone for p in ipa_timed_to_arpabet([(c, 0.0, 0.0) for c in s]) if p.phone != SILENCE]


def ipa_timed_to_arpabet(symbols: list[tuple[str, float, float]]) -> list[Phone]:
    """ARPAbet phones from timed IPA symbols (one character each, as a TTS model reads them): stress marks lend
    their time to the next symbol, length marks, spaces and unknown diacritics to the previous phone, punctuation is
    silence; a symbol that maps to two phones shares its time evenly. Gaps are not filled."""
    chars: list[list] = []  # [char, start, end]
    lead = None
    for ch, s, e in symbols:
        if ch in "ˈˌ":
            lead = s if lead is None else lead
            continue
        if lead is not None:
            s, lead = lead, None
        chars.append([ch, s, e])
    out: list[Phone] = []
    i = 0
    while i < len(chars):
        ch, s, e = chars[i]
        if ch in ",.!?;:\u2014\u2026\"()":
            out.append(Phone(SILENCE, s, e))
            i += 1
            continue
        text = "".join(c[0] for c in chars[i:i + _IPA_LONGEST])
        key = next((k for k in _IPA_KEYS if text.startswith(k)), None)
        if key is None or not _IPA[key]:
            if out and out[-1].phone != SILENCE:  # length mark, space, diacritic, glottal stop: the phone goes on
                out[-1] = Phone(out[-1].phone, out[-1].start, e)
            i += 1
            continue
        e = chars[i + len(key) - 1][2]
        names = _IPA[key].split()
        step = (e - s) / len(names)
        out += [Phone(n, s + k * step, s + (k + 1) * step) for k, n in enumerate(names)]
        i += len(key)
    return out


def espeak_pronunciation(word: str, voice: str = "en-us") -> list[str]:
    """ARPAbet pronunciation of one word from espeak-ng (en-us by default), for words CMUdict lacks."""
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise DreamTalkError(f"word {word!r} is not in the dictionary and espeak-ng is not installed to spell it")
    r = subprocess.run([exe, "-q", "--ipa", "-v", voice, word], capture_output=True, text=True, timeout=30)
    phones = ipa_to_arpabet(r.stdout)
    if r.returncode != 0 or not phones:
        raise DreamTalkError(f"could not find a pronunciation for {word!r}")
    return phones


def foreign_words(text: str) -> list[str]:
    """Lower-case words of any script (digits kept: espeak-ng reads them in the text's language)."""
    return [w.lower() for w in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text)]


class Aligner:
    """A reusable pocketsphinx decoder in alignment mode (loading the model takes ~0.1 s).

    ``lang`` other than "en" spells every word with espeak-ng in that language (see the module docstring).
    """

    # Beams of the retry after a failed alignment: far wider than pocketsphinx's defaults (1e-48, 7e-29, 1e-48),
    # slower, but a long or noisy take whose right path was pruned away is found again.
    WIDE_BEAMS = {"beam": 1e-80, "wbeam": 1e-60, "pbeam": 1e-80}

    def __init__(self, lang: str = "en", wide: bool = False) -> None:
        self.lang = lang
        self._ids: dict[str, str] = {}  # foreign word -> its ASCII dictionary entry
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise MissingDependency("forced alignment needs the 'pocketsphinx' package (pip install pocketsphinx)") \
                from None
        # FATAL: a failed alignment is reported by our own one-line message, not by pocketsphinx on stderr.
        self.decoder = Decoder(lm=None, samprate=ALIGN_SR, loglevel="FATAL", **(self.WIDE_BEAMS if wide else {}))

    def _foreign_ids(self, words: list[str]) -> list[str]:
        """Dictionary entries (added on first use) for words of ``self.lang``, spelled by espeak-ng."""
        import hashlib
        out = []
        for w in words:
            if w not in self._ids:
                wid = f"{self.lang}_{hashlib.sha1(w.encode()).hexdigest()[:12]}"
                self.decoder.add_word(wid, " ".join(espeak_pronunciation(w, self.lang)), True)
                self._ids[w] = wid
            out.append(self._ids[w])
        return out

    def _ensure_words(self, words: list[str]) -> list[str]:
        """Add out-of-dictionary words (espeak-ng spelling; "feed'st" = feed + S T) and return them unchanged."""
        d = self.decoder
        for w in set(words):
            if d.lookup_word(w) is not None:
                continue
            base = re.sub(r"'(st|s|d|ll)$", "", w)
            suffix = {"st": ["S", "T"], "s": ["Z"], "d": ["D"], "ll": ["L"]}.get(w[len(base) + 1:], [])
            pron = d.lookup_word(base)
            phones = pron.split() + suffix if pron else espeak_pronunciation(w.replace("'", ""))
            d.add_word(w, " ".join(phones), True)
        return words

    def align(self, audio: np.ndarray, sr: int, text: str) -> tuple[list[Phone], list[Word]]:
        """Phones (tiling [0, duration]) and words with times for ``audio`` (float mono) saying ``text``."""
        pcm = _to_pcm16(audio, sr)
        duration = len(audio) / float(sr)
        if self.lang == "en":
            words = self._ensure_words(normalize_text(text))
        else:
            spoken = foreign_words(text)
            words = self._foreign_ids(spoken)
            names = dict(zip(words, spoken))
        if not words:
            raise InputError("transcript has no words to align")
        d = self.decoder
        raw = pcm.tobytes()
        try:
            d.set_align_text(" ".join(words))
            d.start_utt()
            d.process_raw(raw, full_utt=True)
            d.end_utt()
            d.set_alignment()  # second pass gives phone durations
            d.start_utt()
            d.process_raw(raw, full_utt=True)
            d.end_utt()
            al = d.get_alignment()
        except RuntimeError as e:
            raise DreamTalkError(f"alignment failed ({e}); is the transcript right for this audio?") from None
        if al is None:
            raise DreamTalkError("alignment failed: the transcript could not be matched to the audio")
        raw_phones = [(normalize_phone(p.name), p.start / FRAME_RATE, (p.start + p.duration) / FRAME_RATE)
                      for p in al.phones()]
        word_times = [Word(re.sub(r"\(\d+\)$", "", w.name), w.start / FRAME_RATE,
                           (w.start + w.duration) / FRAME_RATE)
                      for w in al.words() if w.name not in ("<s>", "</s>", "<sil>")]
        if not raw_phones:
            raise DreamTalkError("alignment produced no phones")
        if self.lang != "en":
            word_times = [Word(names.get(w.word, w.word), w.start, w.end) for w in word_times]
        return _tile(raw_phones, duration), word_times


def _to_pcm16(audio: np.ndarray, sr: int) -> np.ndarray:
    """float mono at any rate -> int16 at 16 kHz."""
    a = np.asarray(audio)
    if a.ndim != 1:
        raise InputError(f"audio must be mono (N,), got shape {a.shape}")
    if a.size == 0:
        raise InputError("audio is empty")
    if a.dtype == np.int16:
        a = a.astype(np.float32) / 32768.0
    a = a.astype(np.float64)
    if int(sr) != ALIGN_SR:
        from math import gcd

        from scipy.signal import resample_poly
        g = gcd(int(sr), ALIGN_SR)
        a = resample_poly(a, ALIGN_SR // g, int(sr) // g)
    return (np.clip(a, -1.0, 1.0) * 32767.0).astype(np.int16)


def _tile(raw: list[tuple[str, float, float]], duration: float) -> list[Phone]:
    """Merge adjacent SILs, fill gaps with SIL, and make the phones cover exactly [0, duration]."""
    out: list[list] = []

    def add(ph: str, s: float, e: float) -> None:
        if e <= s + 1e-9:
            return
        if ph not in PHONES:
            ph = SILENCE  # noise / filler models
        if out and out[-1][0] == ph == SILENCE:
            out[-1][2] = e
        else:
            out.append([ph, s, e])

    t = 0.0
    for ph, s, e in raw:
        s, e = max(s, t), min(e, duration)
        if s > t + 1e-9:
            add(SILENCE, t, s)
        add(ph, s, e)
        t = max(t, e)
    if duration - t > 1e-9:
        if duration - t < 0.015 and out:
            out[-1][2] = duration  # sub-frame remainder
        else:
            add(SILENCE, t, duration)
    return [Phone(p, round(s, 5), round(e, 5)) for p, s, e in out]


def align_words(audio: np.ndarray, sr: int, text: str) -> tuple[list[Phone], list[Word]]:
    """Force-align ``text`` to ``audio`` (N,) float32 mono at ``sr`` Hz: phones tiling [0, N/sr] and word times.

    A failed alignment is tried once more with wide beams (a fresh decoder) before the error is raised.
    """
    try:
        return Aligner().align(audio, sr, text)
    except (InputError, MissingDependency):
        raise
    except DreamTalkError:
        return Aligner(wide=True).align(audio, sr, text)


def align_transcript(audio: np.ndarray, sr: int, text: str) -> list[Phone]:
    """The phones of :func:`align_words`."""
    return align_words(audio, sr, text)[0]


CHUNK_MIN_S, CHUNK_MAX_S = 12.0, 20.0  # recognition runs on pieces cut at the quietest moment in this range


def _chunks(pcm: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) sample ranges of at most CHUNK_MAX_S, cut at the quietest 10 ms between MIN and MAX."""
    hop = ALIGN_SR // 100
    n = len(pcm)
    if n <= CHUNK_MAX_S * ALIGN_SR:
        return [(0, n)]
    energy = np.convolve((pcm[: n // hop * hop].astype(np.float64) ** 2).reshape(-1, hop).mean(axis=1),
                         np.ones(5) / 5, mode="same")  # (n / hop,) smoothed over 50 ms
    cuts, start = [], 0
    while n - start > CHUNK_MAX_S * ALIGN_SR:
        lo, hi = int((start / hop) + CHUNK_MIN_S * 100), int((start / hop) + CHUNK_MAX_S * 100)
        k = lo + int(np.argmin(energy[lo:hi]))
        cuts.append((start, k * hop))
        start = k * hop
    cuts.append((start, n))
    return cuts


class Recognizer:
    """Speech recognition with phone timings, for audio without a transcript.

    The words come from Moonshine (``core/lips/asr.py``) where it is installed, else from pocketsphinx's en-us
    acoustic and language models; either way they are aligned to phones in a second pass over the same audio
    (pocketsphinx), which gives the mouth the phone timings a transcript would (with the recogniser's word errors).
    A piece whose Moonshine words cannot be aligned is recognised by pocketsphinx instead.
    """

    def __init__(self, engine: str | None = None, threads: int = 0) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError:
            raise MissingDependency("speech recognition needs the 'pocketsphinx' package (pip install pocketsphinx)") \
                from None
        self.engine = engine or recognition_engine()
        if self.engine not in ENGINES:
            raise InputError(f"recognition engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        self._new = lambda: Decoder(samprate=ALIGN_SR, loglevel="ERROR", maxhmmpf=MAX_HMMS_PER_FRAME)
        self.decoder = None  # made on first use: with Moonshine's words most takes never need the language model
        self._asr = None
        if self.engine == "moonshine":
            from .asr import Moonshine
            self._asr = Moonshine(threads=threads)

    def _moonshine_piece(self, raw: bytes) -> tuple[list[tuple[str, float, float]], list[Word]] | None:
        """Moonshine's words aligned to one piece; None where the alignment fails (pocketsphinx takes over)."""
        audio = np.frombuffer(raw, np.int16).astype(np.float32) / 32768.0
        words: list[tuple[str, float]] = []
        for w in self._asr.words(audio):
            try:
                words += [(n, w.confidence) for n in normalize_text(w.text)]
            except InputError:  # a number too large to spell: the word is left to the network's mouth
                continue
        if not words:
            return [], []
        try:
            phones, times = align_words(audio, ALIGN_SR, " ".join(n for n, _ in words))
        except DreamTalkError:
            return None
        if len(times) == len(words):
            times = [Word(t.word, t.start, t.end, c) for t, (_, c) in zip(times, words)]
        else:  # should not happen: the aligner spells the same words; keep the least confidence for all
            low = min(c for _, c in words)
            times = [Word(t.word, t.start, t.end, low) for t in times]
        return [(p.phone, p.start, p.end) for p in phones if p.phone != SILENCE], times

    def _piece(self, raw: bytes) -> tuple[list[tuple[str, float, float]], list[Word]]:
        """Phones (name, start, end) and words of one piece of 16 kHz int16 audio."""
        if self._asr is not None:
            got = self._moonshine_piece(raw)
            if got is not None:
                return got
        # A decoder's scores depend on what it decoded before: every piece gets a fresh one, so the result does
        # not depend on how the pieces were shared among processes.
        d = self.decoder = self._new()
        d.activate_search()  # back to the language model after a previous alignment pass
        try:
            d.start_utt()
            d.process_raw(raw, full_utt=True)
            d.end_utt()
        except RuntimeError as e:
            raise DreamTalkError(f"speech recognition failed ({e})") from None
        # The posterior (from the lattice of the best-path pass) says how far to trust each word.
        segs = [Word(re.sub(r"\(\d+\)$", "", s.word), s.start_frame / FRAME_RATE, (s.end_frame + 1) / FRAME_RATE,
                     min(1.0, max(0.0, float(s.prob)))) for s in (d.seg() or [])]
        segs = [w for w in segs if d.lookup_word(w.word) and not w.word.startswith(("<", "["))]
        if not segs:
            return [], []
        al = None
        try:
            d.set_alignment()
            d.start_utt()
            d.process_raw(raw, full_utt=True)
            d.end_utt()
            al = d.get_alignment()
        except RuntimeError:
            self.decoder = self._new()  # the failed pass may leave an utterance open
        if al is not None:
            return [(normalize_phone(p.name), p.start / FRAME_RATE, (p.start + p.duration) / FRAME_RATE)
                    for p in al.phones()], segs
        phones = []  # rare: the phone pass failed; share each word's time among its phones
        for w, s, e, _ in segs:
            pron = self.decoder.lookup_word(w).split()
            step = (e - s) / len(pron)
            phones += [(p, s + i * step, s + (i + 1) * step) for i, p in enumerate(pron)]
        return phones, segs

    def recognize(self, audio: np.ndarray, sr: int) -> Recognition:
        """Phones tiling [0, duration], text and words of ``audio`` (float mono at ``sr``), in this process."""
        return self.recognize_pcm(_to_pcm16(audio, sr))

    def recognize_pcm(self, pcm: np.ndarray) -> Recognition:
        """:meth:`recognize` of 16 kHz int16 audio (N,), piece by piece, in this process."""
        pieces = _chunks(pcm)
        return _join_pieces(pcm, pieces, [self._piece(pcm[a:b].tobytes()) for a, b in pieces], self.engine)


def _join_pieces(pcm: np.ndarray, pieces: list[tuple[int, int]], done: list, engine: str) -> Recognition:
    """One Recognition (phones tiling the whole audio) from each piece's (phones, words), in piece order."""
    phones: list[tuple[str, float, float]] = []
    words: list[Word] = []
    for (a, _), (ph, ws) in zip(pieces, done):
        off = a / ALIGN_SR
        phones += [(p, s + off, e + off) for p, s, e in ph]
        words += [Word(w, s + off, e + off, c) for w, s, e, c in ws]
    return Recognition(_tile(phones, len(pcm) / ALIGN_SR), " ".join(w.word for w in words), words, engine)


def recognize_phones(audio: np.ndarray, sr: int) -> tuple[list[Phone], str]:
    """Recognise English speech in ``audio`` (N,) float32 mono: (phones tiling [0, N/sr], recognised text)."""
    return start_recognition(audio, sr).result()[:2]


_WORKER_RECOGNIZER: Recognizer | None = None  # one decoder per worker process, made on its first piece


def _recognize_piece(raw: bytes, engine: str) -> tuple[list[tuple[str, float, float]], list[Word]]:
    """Worker-process entry: phones and words of one piece."""
    global _WORKER_RECOGNIZER
    if _WORKER_RECOGNIZER is None:
        _WORKER_RECOGNIZER = Recognizer(engine, threads=1)  # one core per worker
    return _WORKER_RECOGNIZER._piece(raw)


def recognition_workers() -> int:
    """Worker processes for recognition: one per core, but 0 (in this process) where forking is unsafe.

    The pieces are independent and the decoder holds the GIL, so only processes overlap them. Only the fork
    start method is used: spawned children would re-import the caller's main script (and inside Blender the
    package lives under a namespace a child cannot import). ``DREAMTALK_RECOGNIZE_WORKERS`` overrides (0 = off).
    """
    import multiprocessing
    import os
    env = os.environ.get("DREAMTALK_RECOGNIZE_WORKERS")
    if env is not None and env.strip():
        try:
            return max(0, int(env))
        except ValueError:
            raise InputError(f"DREAMTALK_RECOGNIZE_WORKERS must be an integer, got {env!r}") from None
    if not __package__.startswith("dreamtalk.") or multiprocessing.get_start_method() != "fork":
        return 0
    return os.cpu_count() or 1


class RecognitionJob:
    """Recognition under way in worker processes while the caller does other work; :meth:`result` joins it."""

    def __init__(self, audio: np.ndarray, sr: int, workers: int | None = None) -> None:
        try:
            import pocketsphinx  # noqa: F401  (fail here, in the caller, with the one-line message)
        except ImportError:
            raise MissingDependency("speech recognition needs the 'pocketsphinx' package (pip install pocketsphinx)") \
                from None
        self.engine = recognition_engine()
        self.pcm = _to_pcm16(audio, sr)
        self.pieces = _chunks(self.pcm)
        workers = recognition_workers() if workers is None else workers
        self._pool, self._futures = None, None
        if workers > 0:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            self._pool = ProcessPoolExecutor(min(workers, len(self.pieces)),
                                             mp_context=multiprocessing.get_context("fork"))
            # Longest pieces first, so no worker is left with a long one at the end.
            order = sorted(range(len(self.pieces)), key=lambda i: self.pieces[i][0] - self.pieces[i][1])
            self._futures = {i: self._pool.submit(_recognize_piece, self.pcm[a:b].tobytes(), self.engine)
                             for i in order for a, b in [self.pieces[i]]}

    def result(self) -> Recognition:
        """Phones tiling [0, duration], the recognised text and words (waits for the workers)."""
        from concurrent.futures.process import BrokenProcessPool
        try:
            if self._futures is not None:
                try:
                    done = [self._futures[i].result() for i in range(len(self.pieces))]
                    return _join_pieces(self.pcm, self.pieces, done, self.engine)
                except BrokenProcessPool:
                    pass  # a worker died (killed, out of memory): recognise here instead
            return Recognizer(self.engine).recognize_pcm(self.pcm)  # the same pieces: _chunks is deterministic
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop the workers (pieces not started are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def start_recognition(audio: np.ndarray, sr: int, workers: int | None = None) -> RecognitionJob:
    """Start recognising ``audio`` (N,) float mono at ``sr``: in worker processes where possible (see
    :func:`recognition_workers`), otherwise when :meth:`RecognitionJob.result` is called."""
    return RecognitionJob(audio, sr, workers)
