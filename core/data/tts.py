"""Speech with exact phone timings from real TTS engines: festival, flite and espeak-ng (Debian main).

Every engine reports its own segment timings: festival's Segment relation (one batch process for many
utterances, since start-up dominates), flite's ``-psdur`` and espeak-ng's phoneme events through libespeak-ng.
Phones are mapped to ARPAbet (``core.lips.phones``), audio is resampled to 16 kHz mono, and the alignment is fitted
to the audio: leading/trailing silence is SIL and the final SIL is stretched or trimmed so the last phone ends
exactly at the end of the audio. ``Speech.raw_error`` keeps the engine's own mismatch for the timing report.
Besides the English voices, festival's Czech, Italian, Finnish, Russian and Hindi voices (human recordings) say
pseudo-words for extra speakers (``FOREIGN_VOICES``), and Kokoro-82M's 28 English neural voices (``KOKORO_VOICES``)
speak with timings from the model's own duration predictor.
"""
from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import DreamTalkError, InputError
from ..lips.phones import PHONES, SILENCE, Phone, normalize_phone, validate

SR = 16000
FRAME = 1.0 / 30.0  # timing tolerance: one animation frame

# name -> (engine, engine voice id)
VOICES: dict[str, tuple[str, str]] = {
    "festival:kal_diphone": ("festival", "kal_diphone"),
    "festival:ked_diphone": ("festival", "ked_diphone"),
    "festival:cmu_us_slt_arctic_hts": ("festival", "cmu_us_slt_arctic_hts"),
    "flite:kal16": ("flite", "kal16"),
    "flite:awb": ("flite", "awb"),
    "flite:rms": ("flite", "rms"),
    "flite:slt": ("flite", "slt"),
    "espeak-ng:en-us": ("espeak-ng", "en-us"),
    "espeak-ng:en-us+m3": ("espeak-ng", "en-us+m3"),
    "espeak-ng:en-us+f3": ("espeak-ng", "en-us+f3"),
    "espeak-ng:en+f4": ("espeak-ng", "en+f4"),
    "espeak-ng:en-gb-x-rp+m7": ("espeak-ng", "en-gb-x-rp+m7"),
    "espeak-ng:en-gb-scotland+f2": ("espeak-ng", "en-gb-scotland+f2"),
    "espeak-ng:en-029+m2": ("espeak-ng", "en-029+m2"),
}

# Human-recorded voices of other languages (Debian main festvox-czech-*, festvox-ital*, festvox-suopuhe-*,
# festvox-hi-nsk diphones and festvox-ru unit selection): more real speakers for the lips' acoustic model. They speak pseudo-words
# (core/data/text.py: pseudo_sentence) whose phones map to ARPAbet by place and rounding; lip closure cues
# (P/B/M vs T/D/N/K) are the same in every language.
# name -> (engine, engine voice id, language)
FOREIGN_VOICES: dict[str, tuple[str, str, str]] = {
    "festival:czech_dita": ("festival", "czech_dita", "cs"),
    "festival:czech_machac": ("festival", "czech_machac", "cs"),
    "festival:czech_krb": ("festival", "czech_krb", "cs"),
    "festival:czech_ph": ("festival", "czech_ph", "cs"),
    "festival:lp_diphone": ("festival", "lp_diphone", "it"),
    "festival:pc_diphone": ("festival", "pc_diphone", "it"),
    "festival:suo_fi_lj_diphone": ("festival", "suo_fi_lj_diphone", "fi"),
    "festival:hy_fi_mv_diphone": ("festival", "hy_fi_mv_diphone", "fi"),
    "festival:msu_ru_nsh_clunits": ("festival", "msu_ru_nsh_clunits", "ru"),
    "festival:hindi_NSK_diphone": ("festival", "hindi_NSK_diphone", "hi"),  # festvox-hi-nsk
}
# Kokoro-82M's English voices (neural TTS trained on real recorded speech; tools/fetch_kokoro.py puts the model
# into DREAMTALK_KOKORO_DIR, default data/kokoro): US and UK, female and male. Training data for the lips only.
KOKORO_VOICES: dict[str, tuple[str, str]] = {
    f"kokoro:{v}": ("kokoro", v) for v in (
        "af_alloy af_aoede af_bella af_heart af_jessica af_kore af_nicole af_nova af_river af_sarah af_sky "
        "am_adam am_echo am_eric am_fenrir am_liam am_michael am_onyx am_puck am_santa "
        "bf_alice bf_emma bf_isabella bf_lily bm_daniel bm_fable bm_george bm_lewis").split()}


def _kokoro_blends(n: int = 24, seed: int = 2026) -> dict[str, tuple[str, str]]:
    """``n`` new speakers, each a fixed mix of two Kokoro voice tables of one accent: "A+B@w" = w A + (1 - w) B."""
    rng = np.random.default_rng(seed)
    groups = [[v[1] for v in KOKORO_VOICES.values() if v[1][0] == a] for a in "ab"]
    out = {}
    for i in range(n):
        g = groups[0] if i < n * 3 // 4 else groups[1]  # US and UK in the base voices' proportion
        a, b = rng.choice(len(g), 2, replace=False)
        out[f"kokoro:blend{i:02d}"] = ("kokoro", f"{g[a]}+{g[b]}@{rng.uniform(0.3, 0.7):.2f}")
    return out


# Blends widen the speakers beyond the 28 tables (Kokoro's voices are points in one style space).
KOKORO_BLENDS = _kokoro_blends()
# Every voice a corpus may name: engine and engine voice id.
ALL_VOICES: dict[str, tuple[str, str]] = {**VOICES, **{k: v[:2] for k, v in FOREIGN_VOICES.items()},
                                          **KOKORO_VOICES, **KOKORO_BLENDS}


def language_of(voice: str) -> str:
    """"en" for the English voices, else the foreign voice's language code."""
    return FOREIGN_VOICES[voice][2] if voice in FOREIGN_VOICES else "en"


@dataclass
class Speech:
    """One synthesized utterance: 16 kHz mono float32 audio and its ARPAbet alignment."""

    audio: np.ndarray  # (N,) float32 in [-1, 1]
    phones: list[Phone]
    voice: str
    text: str
    rate: float = 1.0
    raw_error: float = 0.0  # engine's last phone end minus audio duration, before fitting (s)
    sr: int = SR
    extra: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sr


class TTSError(DreamTalkError):
    """An engine failed or is missing."""


# ---- phone sets -> ARPAbet ---------------------------------------------------------------------------
# festival "radio" phone set (all three installed voices use it) and flite's cmu set: ARPAbet plus these.
_FESTIVAL_EXTRA = {"HV": "HH", "BRTH": SILENCE, "H#": SILENCE, "PAU": SILENCE}

# espeak-ng English phoneme mnemonics -> one or more ARPAbet phones (split evenly in time when several).
ESPEAK_MAP: dict[str, tuple[str, ...]] = {
    # consonants
    "p": ("P",), "b": ("B",), "t": ("T",), "d": ("D",), "k": ("K",), "g": ("G",), "f": ("F",), "v": ("V",),
    "T": ("TH",), "D": ("DH",), "s": ("S",), "z": ("Z",), "S": ("SH",), "Z": ("ZH",), "h": ("HH",),
    "m": ("M",), "n": ("N",), "N": ("NG",), "l": ("L",), "r": ("R",), "w": ("W",), "j": ("Y",),
    "tS": ("CH",), "dZ": ("JH",), "x": ("HH",), "?": ("T",), "t#": ("D",), "*": ("D",), "d#": ("D",),
    "t2": ("T",), "d2": ("D",), "n-": ("N",), "m-": ("M",), "l-": ("L",), "r-": ("R",), "z/2": ("Z",),
    "s2": ("S",), "l/2": ("L",), "l/": ("L",), "W": ("W",), "C": ("HH",), "k2": ("K",), "z/": ("Z",),
    "s/": ("S",), "tS2": ("CH",), "nj": ("N", "Y"), "hw": ("W",), "r/": ("R",), "@L": ("AH", "L"),
    ";": ("Y",),  # y-glide espeak inserts between a front vowel and the next vowel
    "z#": ("Z",), "n/": ("N",), "v#": ("V",), "t/": ("T",), "p2": ("P",), "b2": ("B",), "g2": ("G",),
    # vowels
    "@": ("AH",), "@2": ("AH",), "@5": ("AH",), "@-": ("AH",), "3": ("ER",), "3:": ("ER",), "V": ("AH",),
    "a": ("AE",), "aa": ("AE",), "a#": ("AE",), "a2": ("AE",), "A:": ("AA",), "A": ("AA",), "A#": ("AA",),
    "0": ("AA",), "0#": ("AA",), "E": ("EH",), "e": ("EH",), "E2": ("EH",), "eI": ("EY",), "I": ("IH",),
    "I#": ("IH",), "I2": ("IH",), "I2#": ("IH",), "i": ("IY",), "i:": ("IY",), "O": ("AO",), "O:": ("AO",),
    "O2": ("AO",), "OI": ("OY",), "oU": ("OW",), "o": ("OW",), "o:": ("OW",), "oU#": ("OW",), "u:": ("UW",),
    "u": ("UW",), "U": ("UH",), "aI": ("AY",), "aU": ("AW",), "aI@": ("AY", "ER"), "aI3": ("AY", "ER"),
    "aU@": ("AW", "ER"), "A@": ("AA", "R"), "e@": ("EH", "R"), "i@": ("IH", "R"), "i@3": ("IH", "R"),
    "o@": ("AO", "R"), "O@": ("AO", "R"), "U@": ("UH", "R"), "3:r": ("ER",), "A:r": ("AA", "R"),
    "@r": ("ER",), "IR": ("IH", "R"), "VR": ("AH", "R"), "ir": ("IH", "R"), "e#": ("EH",), "i#": ("IY",),
    "aI2": ("AY",), "EI": ("EY",), "au": ("AW",), "ai": ("AY",), "y": ("UW",), "Y": ("UW",),
}


# Czech, Italian, Finnish, Russian and Hindi festival phones (stress digits, length marks and palatal tildes stripped
# first; Russian doubles a letter for a stressed vowel or a palatalised consonant: "aa", "pp"). Czech "_" is the
# glottal stop before a vowel-initial word (lips apart, like HH).
FOREIGN_MAP: dict[str, str] = {
    "#": SILENCE, "_": "HH", "a": "AA", "e": "EH", "E": "EH", "i": "IY", "o": "OW", "O": "AO", "u": "UW", "y": "UW",
    "@": "AH", "p": "P", "b": "B", "m": "M", "t": "T", "d": "D", "n": "N", "k": "K", "g": "G", "f": "F",
    "v": "V", "s": "S", "z": "Z", "l": "L", "r": "R", "h": "HH", "ch": "HH", "x": "HH", "j": "Y", "w": "W",
    "c": "S", "ts": "S", "dz": "Z", "tS": "CH", "dZ": "JH", "S": "SH", "Z": "ZH", "J": "N", "L": "L", "N": "NG",
}
FOREIGN_LANG_MAP: dict[str, dict[str, str]] = {
    "ru": {"pau": SILENCE, "ch": "CH", "sch": "SH", "sh": "SH", "zh": "ZH", "y": "IH", "ay": "AH", "ae": "EH",
           "ur": "UW"},
    # Hindi NSK: th/dh are the dental stops (not English TH/DH), oh the long o
    "hi": {"pau": SILENCE, "aa": "AA", "iy": "IY", "uw": "UW", "eh": "EH", "oh": "OW", "th": "T", "dh": "D",
           "y": "Y", "j": "JH"},
}


def foreign_to_arpabet(p: str, lang: str = "cs") -> str:
    """Map a Czech/Italian/Finnish/Russian/Hindi festival phone to ARPAbet (raises TTSError for an unknown one)."""
    p = p.strip().rstrip("0123456789:~'")
    if lang == "ru" and len(p) == 2 and p[0] == p[1]:
        p = p[0]
    q = FOREIGN_LANG_MAP.get(lang, {}).get(p) or FOREIGN_MAP.get(p)
    if q is None:
        raise TTSError(f"festival phone {p!r} has no ARPAbet mapping")
    return q


def festival_to_arpabet(p: str) -> str:
    """Map a festival radio / flite cmu phone to ARPAbet (raises TTSError for an unknown one)."""
    q = _FESTIVAL_EXTRA.get(p.strip().upper(), p)
    q = normalize_phone(q)
    if q not in PHONES:
        raise TTSError(f"festival/flite phone {p!r} has no ARPAbet mapping")
    return q


def espeak_to_arpabet(p: str) -> tuple[str, ...]:
    """Map an espeak-ng phoneme mnemonic to ARPAbet phones (pauses -> SIL)."""
    p = p.strip()
    if not p or p.startswith("_"):
        return (SILENCE,)
    m = ESPEAK_MAP.get(p)
    if m is None:
        m = ESPEAK_MAP.get(p.rstrip(";#/2["))  # palatalised / dental / alternative variants
    if m is None:
        raise TTSError(f"espeak-ng phoneme {p!r} has no ARPAbet mapping")
    return m


# ---- alignment fitting --------------------------------------------------------------------------------
def tidy(phones: Sequence[Phone]) -> list[Phone]:
    """Make phones contiguous from 0: leading SIL, no zero-length phones, adjacent SILs merged."""
    out: list[Phone] = []
    t = 0.0
    for p in phones:
        s, e = max(p.start, t), max(p.end, t)
        if s > t + 1e-9:  # a gap is silence
            out.append(Phone(SILENCE, t, s))
        if e - s <= 1e-6:
            continue
        out.append(Phone(p.phone, s, e))
        t = e
    merged: list[Phone] = []
    for p in out:
        if merged and merged[-1].phone == SILENCE and p.phone == SILENCE:
            merged[-1] = Phone(SILENCE, merged[-1].start, p.end)
        else:
            merged.append(p)
    return merged


def fit_to_audio(phones: Sequence[Phone], audio: np.ndarray, sr: int) -> tuple[list[Phone], np.ndarray, float]:
    """Fit an alignment to its audio; returns (phones, audio, raw_error = last end - duration before fitting).

    Audio longer than the phones: the final SIL is extended. Phones longer than the audio: trailing silence
    is trimmed; if speech itself would be cut by more than one frame the audio is zero-padded instead.
    """
    phones = tidy(phones)
    if not phones:
        raise TTSError("engine returned no phones")
    dur = len(audio) / sr
    raw = phones[-1].end - dur
    if raw <= 0:
        if phones[-1].phone == SILENCE:
            phones[-1] = Phone(SILENCE, phones[-1].start, dur)
        elif dur - phones[-1].end > 1e-6:
            phones.append(Phone(SILENCE, phones[-1].end, dur))
    else:
        last_speech = max((p.end for p in phones if p.phone != SILENCE), default=0.0)
        if last_speech - dur > FRAME:
            audio = np.concatenate([audio, np.zeros(int(round(raw * sr)) + 1, audio.dtype)])
            dur = len(audio) / sr
        phones = [p for p in phones if p.start < dur - 1e-6]
        phones[-1] = Phone(phones[-1].phone, phones[-1].start, dur)
    phones = tidy(phones)
    phones[-1] = Phone(phones[-1].phone, phones[-1].start, dur)
    return validate(phones, "tts alignment"), audio, float(raw)


def resample(audio: np.ndarray, sr_in: int, sr_out: int = SR) -> np.ndarray:
    """Polyphase resampling to ``sr_out`` (float32)."""
    if sr_in == sr_out:
        return audio.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly
    g = gcd(sr_in, sr_out)
    return resample_poly(audio.astype(np.float64), sr_out // g, sr_in // g).astype(np.float32)


def read_wav(path: str) -> tuple[np.ndarray, int]:
    """Read a PCM16 WAV as mono float32."""
    with wave.open(path, "rb") as w:
        sr, ch, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    if width != 2:
        raise TTSError(f"{path}: expected 16-bit PCM, got {8 * width}-bit")
    a = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if ch > 1:
        a = a.reshape(-1, ch).mean(axis=1)
    return a, sr


def _finish(audio: np.ndarray, sr: int, phones: list[Phone], voice: str, text: str, rate: float,
            raw_override: float | None = None) -> Speech:
    audio = resample(audio, sr, SR)
    n_before = len(audio)
    phones, audio, raw = fit_to_audio(phones, audio, SR)
    return Speech(audio.astype(np.float32), phones, voice, text, rate, raw if raw_override is None else raw_override,
                  extra={"padded_samples": len(audio) - n_before})


def _need(binary: str) -> str:
    path = shutil.which(binary)
    if not path:
        raise TTSError(f"{binary} is not installed (apt-get install {binary})")
    return path


def speakable(text: str) -> str:
    """Text safe for every engine's command line and scheme string."""
    t = re.sub(r"[\"\\`]", "", str(text)).replace("\n", " ").strip()
    if not t:
        raise InputError("empty text")
    if t.startswith("-"):
        t = t.lstrip("- ")
    return t


# ---- festival -----------------------------------------------------------------------------------------
_FESTIVAL_DUMP = """
(define (dt_dump u path)
  (utt.save.wave u path 'riff)
  (mapcar (lambda (s) (format t "@@S %s %f\\n" (item.name s) (item.feat s "end")))
          (utt.relation.items u 'Segment))
  (format t "@@E\\n"))
"""


def festival_batch(voice_id: str, texts: Sequence[str], rates: Sequence[float], voice: str) -> list[Speech | None]:
    """Synthesize many utterances in one festival process; failed utterances come back as None."""
    exe = _need("festival")
    with tempfile.TemporaryDirectory(prefix="dt_fest_") as tmp:
        lines = [_FESTIVAL_DUMP, f"(voice_{voice_id})"]
        for i, (text, rate) in enumerate(zip(texts, rates)):
            lines.append(f"(Parameter.set 'Duration_Stretch {1.0 / rate:.4f})")
            lines.append(f'(format t "@@U {i}\\n")')
            lines.append(f'(unwind-protect (dt_dump (SynthText "{speakable(text)}") "{tmp}/{i}.wav") '
                         f'(format t "@@F\\n"))')
        script = os.path.join(tmp, "batch.scm")
        with open(script, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        proc = subprocess.run([exe, "--batch", script], capture_output=True, text=True,
                              timeout=60 + 20 * len(texts))
        segs: dict[int, list[tuple[str, float]]] = {}
        cur = -1
        for line in proc.stdout.splitlines():
            if line.startswith("@@U "):
                cur = int(line[4:])
                segs[cur] = []
            elif line.startswith("@@S ") and cur >= 0:
                _, name, end = line.split()
                segs[cur].append((name, float(end)))
            elif line.startswith("@@F") and cur >= 0:
                segs.pop(cur, None)
        lang = language_of(voice)
        to_arpabet = festival_to_arpabet if lang == "en" else lambda p: foreign_to_arpabet(p, lang)
        out: list[Speech | None] = []
        for i, (text, rate) in enumerate(zip(texts, rates)):
            wav = os.path.join(tmp, f"{i}.wav")
            if i not in segs or not segs[i] or not os.path.exists(wav):
                out.append(None)
                continue
            audio, sr = read_wav(wav)
            phones, t = [], 0.0
            try:
                for name, end in segs[i]:
                    phones.append(Phone(to_arpabet(name), t, end))
                    t = end
            except TTSError:
                out.append(None)
                continue
            out.append(_finish(audio, sr, phones, voice, text, rate))
        return out


# ---- flite --------------------------------------------------------------------------------------------
_PSDUR = re.compile(r"(\S+):(\d+(?:\.\d+)?)")


def flite_one(voice_id: str, text: str, rate: float, voice: str) -> Speech:
    """One flite utterance with ``-psdur`` segment end times."""
    exe = _need("flite")
    with tempfile.TemporaryDirectory(prefix="dt_flite_") as tmp:
        wav = os.path.join(tmp, "u.wav")
        proc = subprocess.run([exe, "-voice", voice_id, "--setf", f"duration_stretch={1.0 / rate:.4f}",
                               "-psdur", "-t", speakable(text), "-o", wav],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0 or not os.path.exists(wav):
            raise TTSError(f"flite failed: {proc.stderr.strip()[:200]}")
        audio, sr = read_wav(wav)
    phones, t = [], 0.0
    for name, end in _PSDUR.findall(proc.stdout):
        phones.append(Phone(festival_to_arpabet(name), t, float(end)))
        t = float(end)
    return _finish(audio, sr, phones, voice, text, rate)


# ---- espeak-ng ----------------------------------------------------------------------------------------
class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_EV_LIST_TERMINATED, _EV_PHONEME = 0, 7
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_DONT_EXIT = 0x0001, 0x8000
_RATE = 1
_DEFAULT_WPM = 175


class _Espeak:
    """libespeak-ng in synchronous mode: audio chunks and phoneme events gathered by a callback."""

    def __init__(self) -> None:
        try:
            self.lib = ctypes.CDLL("libespeak-ng.so.1")
        except OSError:
            raise TTSError("libespeak-ng is not installed (apt-get install libespeak-ng1)") from None
        self.sr = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                             _INIT_PHONEME_EVENTS | _INIT_DONT_EXIT)
        if self.sr <= 0:
            raise TTSError("espeak_Initialize failed")
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[str, int]] = []
        self._cb = _CALLBACK(self._on_audio)  # keep a reference: the library holds a raw pointer
        self.lib.espeak_SetSynthCallback(self._cb)
        self.voice = None

    def _on_audio(self, wav, n, ev) -> int:
        if n > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while ev[i].type != _EV_LIST_TERMINATED:
            if ev[i].type == _EV_PHONEME:
                self.events.append((ev[i].id.string.decode("ascii", "replace"), int(ev[i].sample)))
            i += 1
        return 0

    def synth(self, voice_id: str, text: str, rate: float) -> tuple[np.ndarray, list[tuple[str, int]]]:
        if voice_id != self.voice:
            if self.lib.espeak_SetVoiceByName(voice_id.encode()) != 0:
                raise TTSError(f"espeak-ng has no voice {voice_id!r}")
            self.voice = voice_id
        self.lib.espeak_SetParameter(_RATE, int(round(_DEFAULT_WPM * rate)), 0)
        self.chunks, self.events = [], []
        data = speakable(text).encode("utf-8") + b"\0"
        err = self.lib.espeak_Synth(data, len(data), 0, 0, 0, 1, None, None)  # POS_CHARACTER, CHARS_UTF8
        self.lib.espeak_Synchronize()
        if err != 0:
            raise TTSError(f"espeak_Synth failed ({err})")
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        return audio, self.events


_ESPEAK: _Espeak | None = None
_ESPEAK_PID = -1


def _espeak_isolated(voice_id: str, text: str, rate: float) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Run one espeak utterance in a forked child of the freshly initialised library.

    libespeak-ng carries state from one utterance to the next (the output length of the same text drifts by a
    few samples), so each utterance starts from the same snapshot: the clip is then a pure function of its
    text, voice and rate, whatever was synthesized before it in this process.
    """
    import pickle
    global _ESPEAK, _ESPEAK_PID
    if _ESPEAK is None or _ESPEAK_PID != os.getpid():  # the library state must not cross a fork
        _ESPEAK, _ESPEAK_PID = _Espeak(), os.getpid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: synthesize, send, exit without running any parent clean-up
        code = 0
        try:
            os.close(r)
            try:
                payload = pickle.dumps(_ESPEAK.synth(voice_id, text, rate))
            except Exception as e:  # noqa: BLE001 - the parent re-raises it
                payload = pickle.dumps(TTSError(f"espeak-ng: {e}"))
            with os.fdopen(w, "wb") as f:
                f.write(payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    if not data:
        raise TTSError("espeak-ng child process failed")
    res = pickle.loads(data)
    if isinstance(res, Exception):
        raise res
    return res


def espeak_one(voice_id: str, text: str, rate: float, voice: str) -> Speech:
    """One espeak-ng utterance; phone starts come from phoneme events (sample positions)."""
    audio_i16, events = _espeak_isolated(voice_id, text, rate)
    sr = _ESPEAK.sr
    audio = audio_i16.astype(np.float32) / 32768.0
    phones: list[Phone] = []
    n = len(audio)
    # espeak closes every utterance with a zero-length pause event: its position vs the audio length is the check.
    raw = (events[-1][1] - n) / sr if events else 0.0
    for k, (name, start) in enumerate(events):
        end = events[k + 1][1] if k + 1 < len(events) else n
        s, e = start / sr, max(start, end) / sr
        arpa = espeak_to_arpabet(name)
        step = (e - s) / len(arpa)
        for j, a in enumerate(arpa):
            phones.append(Phone(a, s + j * step, s + (j + 1) * step))
    if phones and phones[-1].end < n / sr:
        phones.append(Phone(SILENCE, phones[-1].end, n / sr))
    return _finish(audio, sr, phones, voice, text, rate, raw_override=raw)


# ---- Kokoro (neural, onnxruntime) ---------------------------------------------------------------------
KOKORO_SR = 24000
KOKORO_HOP = 600  # output samples per duration frame (25 ms)
# The model's duration frames run late against its own audio: on 32 clips its consonant onsets are a median 75 ms
# (IQR 60-95) after pocketsphinx's forced alignment of the same audio, where festival's, flite's and espeak-ng's
# timings are 0-20 ms from it (docs/training.md, session 14). Phone times are moved this much earlier.
KOKORO_LAG_S = 0.075
_KOKORO: dict = {}


def _kokoro() -> dict:
    """The Kokoro session, vocabulary and voice tables, loaded once per process."""
    if not _KOKORO:
        import json
        d = os.environ.get("DREAMTALK_KOKORO_DIR", "data/kokoro")
        try:
            import onnxruntime as ort
        except ImportError:
            raise TTSError("kokoro voices need onnxruntime (pip install onnxruntime)") from None
        if not os.path.isfile(os.path.join(d, "kokoro_dur.onnx")):
            raise TTSError(f"no Kokoro model in {d} (python tools/fetch_kokoro.py --out {d}, or set "
                           "DREAMTALK_KOKORO_DIR)")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # corpus building runs one process per core
        _KOKORO["session"] = ort.InferenceSession(os.path.join(d, "kokoro_dur.onnx"), opts,
                                                  providers=["CPUExecutionProvider"])
        with open(os.path.join(d, "vocab.json"), encoding="utf-8") as f:
            _KOKORO["vocab"] = json.load(f)
        _KOKORO["voices"] = dict(np.load(os.path.join(d, "voices_en.npz")))
    return _KOKORO


def kokoro_phonemes(text: str, british: bool) -> str:
    """espeak-ng's IPA with stress marks for ``text``, clauses joined by commas, ending in a full stop."""
    exe = _need("espeak-ng")
    proc = subprocess.run([exe, "-q", "--ipa", "-v", "en-gb-x-rp" if british else "en-us", speakable(text)],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise TTSError(f"espeak-ng failed: {proc.stderr.strip()[:200]}")
    clauses = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
    if not clauses:
        raise TTSError(f"espeak-ng gave no phonemes for {text!r}")
    return ", ".join(clauses) + "."


def kokoro_style(tables: dict[str, np.ndarray], voice_id: str, n: int) -> np.ndarray:
    """(256,) style vector of a Kokoro voice ("af_bella") or blend ("af_bella+am_adam@0.40") for n phonemes."""
    name, _, w = voice_id.partition("@")
    parts = name.split("+")
    if len(parts) == 1:
        return tables[name][n].astype(np.float32)
    wa = float(w)
    return (wa * tables[parts[0]][n] + (1 - wa) * tables[parts[1]][n]).astype(np.float32)


def kokoro_one(voice_id: str, text: str, rate: float, voice: str) -> Speech:
    """One Kokoro utterance; phone times are the model's own durations (25 ms frames)."""
    from ..lips.align import ipa_timed_to_arpabet
    k = _kokoro()
    chars = [c for c in kokoro_phonemes(text, voice_id.startswith("b")) if c in k["vocab"]]
    if not chars or len(chars) > 500:
        raise TTSError(f"kokoro: {len(chars)} phonemes for {text!r} (1-500 allowed)")
    ids = np.array([[0] + [k["vocab"][c] for c in chars] + [0]], np.int64)
    style = kokoro_style(k["voices"], voice_id, len(chars))[None]  # (1, 256) for this length
    audio, frames = k["session"].run(None, {"tokens": ids, "style": style,
                                            "speed": np.array([rate], np.float32)})
    frames = np.asarray(frames).ravel().astype(np.int64)  # (len(chars) + 2,) with the two pads
    ends = np.cumsum(frames) * KOKORO_HOP / KOKORO_SR
    starts = ends - frames * KOKORO_HOP / KOKORO_SR
    lag = min(KOKORO_LAG_S, 0.5 * float(ends[0]))  # the leading pause (>= 0.2 s) absorbs the shift
    timed = [(c, float(s) - lag, float(e) - lag) for c, s, e in zip(chars, starts[1:-1], ends[1:-1])]
    phones = [Phone(SILENCE, 0.0, float(ends[0]) - lag)] + ipa_timed_to_arpabet(timed)
    phones.append(Phone(SILENCE, phones[-1].end, float(ends[-1])))
    audio = np.asarray(audio, np.float32).ravel()
    return _finish(audio, KOKORO_SR, phones, voice, text, rate,
                   raw_override=float(ends[-1] - len(audio) / KOKORO_SR))


# ---- public API ---------------------------------------------------------------------------------------
def synthesize_batch(voice: str, texts: Sequence[str], rates: Sequence[float] | None = None) -> list[Speech | None]:
    """Synthesize texts with one voice; an utterance the engine cannot say comes back as None."""
    if voice not in ALL_VOICES:
        raise InputError(f"unknown voice {voice!r}; choose one of: {', '.join(ALL_VOICES)}")
    engine, vid = ALL_VOICES[voice]
    rates = list(rates) if rates is not None else [1.0] * len(texts)
    if len(rates) != len(texts):
        raise InputError("rates and texts differ in length")
    if engine == "festival":
        return festival_batch(vid, texts, rates, voice)
    one = {"flite": flite_one, "espeak-ng": espeak_one, "kokoro": kokoro_one}[engine]
    out: list[Speech | None] = []
    for text, rate in zip(texts, rates):
        try:
            out.append(one(vid, text, rate, voice))
        except (TTSError, subprocess.TimeoutExpired):
            out.append(None)
    return out


def synthesize(voice: str, text: str, rate: float = 1.0) -> Speech:
    """Synthesize one utterance (raises TTSError when the engine fails)."""
    sp = synthesize_batch(voice, [text], [rate])[0]
    if sp is None:
        raise TTSError(f"{voice} could not synthesize {text!r}")
    return sp


def timing_report(speeches: Sequence[Speech]) -> dict:
    """Per voice: utterances, max/mean |engine's last phone end - audio length| before fitting, and after."""
    by: dict[str, list[Speech]] = {}
    for sp in speeches:
        by.setdefault(sp.voice, []).append(sp)
    out = {}
    for voice, sps in sorted(by.items()):
        raw = np.abs([sp.raw_error for sp in sps])
        fitted = np.abs([sp.phones[-1].end - sp.duration for sp in sps])
        out[voice] = {"utterances": len(sps), "raw_max_ms": round(1000 * float(raw.max()), 2),
                      "raw_mean_ms": round(1000 * float(raw.mean()), 2),
                      "raw_within_frame": round(float(np.mean(raw <= FRAME)), 4),
                      "speech_cut_padded": int(sum(sp.extra.get("padded_samples", 0) > 0 for sp in sps)),
                      "fitted_max_ms": round(1000 * float(fitted.max()), 3)}
    return out
