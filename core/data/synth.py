"""The synthetic emotional talking-face corpus (layout: docs/corpus_format.md).

MEAD-like design: actors x emotions x intensity levels x sentences x voices, one style clip per
(actor, emotion, level). Whole voices are held out as "val", a set of sentences as "test". Every clip is a
pure function of (seed, clip id): speech from a real TTS engine with its own phone timings, an optional audio
augmentation chain, and the face from ``face.synthesize_face`` driven by the (speed-perturbed) clean audio.
Clips are written atomically, phones JSON last (it carries the clip record), so a killed run resumes where it
stopped and ``clips.jsonl`` / ``manifest.json`` are rebuilt from the per-clip records at the end.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..emotions import EMOTIONS, INTENSITY_LEVELS
from ..errors import InputError
from ..fileio import atomic_path, atomic_write_text
from ..lips.phones import write_alignment
from . import text as textmod
from .tts import ALL_VOICES, FOREIGN_VOICES, KOKORO_BLENDS, KOKORO_VOICES, SR, VOICES, language_of, synthesize_batch

FPS = 30.0
FORMAT_VERSION = 1
DEFAULT_VAL_VOICES = ("festival:ked_diphone", "flite:rms", "espeak-ng:en+f4")
NEUTRAL_WEIGHT = 3  # neutral has one level; give it as many clips as one emotion over its three levels
# Planning estimate, refit on the 20 h run (it made 18.63 h with 0.294/0.47: x0.931); the manifest reports
# the hours actually made.
SECONDS_PER_WORD = 0.274
SECONDS_PER_CLIP = 0.438
PLAN_MARGIN = 1.03  # the estimate scatters by about 1% run to run; plan a little over so --hours is a floor


@dataclass
class SynthConfig:
    """What decides the corpus content (a resumed run must use the same values)."""

    hours: float = 20.0
    seed: int = 0
    actors: int = 8
    augment_fraction: float = 0.6
    test_percent: int = 5
    val_voices: tuple[str, ...] = DEFAULT_VAL_VOICES
    voices: tuple[str, ...] = tuple(VOICES)
    rate_range: tuple[float, float] = (0.8, 1.25)
    n_generated: int = 2000
    batch: int = 16
    version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)

    def check(self) -> None:
        """Raise InputError for settings that cannot make a corpus."""
        if not (0 < self.hours <= 1000):
            raise InputError(f"--hours must be in (0, 1000], got {self.hours}")
        if not (1 <= self.actors <= 1000):
            raise InputError(f"--actors must be in [1, 1000], got {self.actors}")
        if not 0.0 <= self.augment_fraction <= 1.0:
            raise InputError(f"augment fraction must be in [0, 1], got {self.augment_fraction}")
        unknown = [v for v in self.voices if v not in ALL_VOICES]
        if unknown:
            raise InputError(f"unknown voices: {', '.join(unknown)}")
        if not [v for v in self.voices if v not in self.val_voices]:
            raise InputError("every voice is held out for validation; no training voice left")

    def key(self) -> dict:
        """The settings that define the content (batch size does not)."""
        d = asdict(self)
        d.pop("batch")
        d["val_voices"], d["voices"], d["rate_range"] = list(self.val_voices), list(self.voices), list(self.rate_range)
        return d


def voice_list(arg: str) -> tuple[str, ...]:
    """Comma list of voice names; "english", "foreign", "kokoro" and "kokoro-blend" stand for those groups,
    "none" for no voice."""
    out: list[str] = []
    for name in (x.strip() for x in arg.split(",")):
        group = {"english": list(VOICES), "foreign": list(FOREIGN_VOICES), "kokoro": list(KOKORO_VOICES),
                 "kokoro-blend": list(KOKORO_BLENDS), "none": []}.get(name)
        if group is None and name not in ALL_VOICES:
            raise InputError(f"unknown voice {name!r}; choose from english, foreign, kokoro, kokoro-blend, none, "
                             f"{', '.join(ALL_VOICES)}")
        out += group if group is not None else [name]
    return tuple(dict.fromkeys(out))


def clip_seed(seed: int, clip_id: str) -> int:
    """The per-clip seed: a hash of the corpus seed and the clip id (independent of order and workers)."""
    return int.from_bytes(hashlib.sha256(f"{seed}/{clip_id}".encode()).digest()[:4], "little")


def _bucket(sentence: str, seed: int) -> int:
    return int.from_bytes(hashlib.sha256(f"split/{seed}/{sentence}".encode()).digest()[:4], "little") % 100


def cells(actors: int) -> list[tuple[int, str, int]]:
    """All (actor, emotion, level) cells; neutral has level 0 only."""
    out = []
    for a in range(actors):
        for emo in EMOTIONS:
            for lvl in ([0] if emo == "neutral" else [1, 2, 3]):
                out.append((a, emo, lvl))
    return out


def weighted_cells(actors: int) -> list[tuple[int, str, int]]:
    """The cells with neutral repeated NEUTRAL_WEIGHT times, for drawing clips evenly over emotions."""
    return [c for c in cells(actors) for _ in range(NEUTRAL_WEIGHT if c[1] == "neutral" else 1)]


def intensity_of(level: int) -> float:
    """Continuous intensity for a level (neutral level 0 -> 0)."""
    return 0.0 if level == 0 else float(INTENSITY_LEVELS[level])


def style_name(actor: int, emotion: str, level: int) -> str:
    """Relative path of a style clip."""
    return f"styles/{actor}__{emotion}__{level}.npz"


def _cycle(items: Sequence, rng: np.random.Generator):
    """Endless balanced sequence: each pass is a fresh shuffle of ``items``."""
    while True:
        for i in rng.permutation(len(items)):
            yield items[i]


def plan(cfg: SynthConfig, sentences: Sequence[str] | None = None) -> tuple[list[dict], list[dict]]:
    """The full list of clip specs and style specs for a config (deterministic, cheap)."""
    cfg.check()
    sents = list(sentences) if sentences is not None else textmod.corpus_sentences(cfg.n_generated, 0)
    if not sents:
        raise InputError("no sentences available (is the Debian 'fortunes' package installed?)")
    split_of = {}
    style_pool, speak_pool = [], []
    for s in sents:
        b = _bucket(s, cfg.seed)
        if b == cfg.test_percent:  # one percent reserved for style clips only
            style_pool.append(s)
        else:
            split_of[s] = "test" if b < cfg.test_percent else "train"
            speak_pool.append(s)
    if not style_pool:
        style_pool = speak_pool[:1]
    rng = np.random.default_rng([cfg.seed, 0xC0])
    train_voices = [v for v in cfg.voices if v not in cfg.val_voices]
    val_voices = [v for v in cfg.voices if v in cfg.val_voices]
    voice_cycle = _cycle(train_voices * 2 + val_voices, rng)  # val voices get half weight
    cell_cycle = _cycle(weighted_cells(cfg.actors), rng)
    sent_cycle = _cycle(speak_pool, rng)
    target = cfg.hours * 3600.0 * PLAN_MARGIN
    specs: list[dict] = []
    total = 0.0
    while total < target:
        k = len(specs)
        cid = f"c{k:06d}"
        s = next(sent_cycle)
        v = next(voice_cycle)
        a, emo, lvl = next(cell_cycle)
        cs = clip_seed(cfg.seed, cid)
        lang = language_of(v)
        if lang != "en":  # foreign voices say pseudo-words (the test and style sentences are English)
            s = textmod.pseudo_sentence(lang, cs)
        crng = np.random.default_rng(cs)
        lo, hi = cfg.rate_range
        rate = float(np.exp(crng.uniform(np.log(lo), np.log(hi))))
        aug = bool(crng.random() < cfg.augment_fraction)
        split = "val" if v in cfg.val_voices else split_of[s] if lang == "en" else "train"
        specs.append({"id": cid, "kind": "clip", "text": s, "sentence_id": textmod.sentence_id(s), "voice": v,
                      "actor": a, "emotion": emo, "level": lvl, "rate": round(rate, 4), "seed": cs,
                      "augment": aug, "split": split})
        total += (SECONDS_PER_CLIP + SECONDS_PER_WORD * len(s.split())) / rate
    # one style clip per cell, spoken by a train voice fixed per actor (fast engines only: 176+ one-off clips)
    english = [v for v in train_voices if language_of(v) == "en"] or train_voices
    fast_train = [v for v in english if ALL_VOICES[v][0] != "festival"] or english
    styles = []
    for a, emo, lvl in cells(cfg.actors):
        sid = f"s_{a}_{emo}_{lvl}"
        cs = clip_seed(cfg.seed, sid)
        crng = np.random.default_rng(cs)
        s = style_pool[int(crng.integers(len(style_pool)))]
        voice = fast_train[a % len(fast_train)]
        lang = language_of(voice)
        if lang != "en":  # a corpus of foreign voices only
            s = textmod.pseudo_sentence(lang, cs)
        styles.append({"id": sid, "kind": "style", "text": s, "sentence_id": textmod.sentence_id(s),
                       "voice": voice, "actor": a, "emotion": emo, "level": lvl,
                       "rate": 1.0, "seed": cs, "augment": False, "split": "style"})
    return specs, styles


# ---- per-clip work ------------------------------------------------------------------------------------
def _paths(out: Path, spec: dict) -> dict[str, Path]:
    if spec["kind"] == "style":
        return {"style": out / style_name(spec["actor"], spec["emotion"], spec["level"])}
    cid = spec["id"]
    return {"audio": out / "audio" / f"{cid}.wav", "anim": out / "anim" / f"{cid}.npz",
            "phones": out / "phones" / f"{cid}.json"}


def is_done(out: Path, spec: dict) -> bool:
    """A clip is complete when all its files exist (each is written atomically, phones JSON last)."""
    return all(p.exists() for p in _paths(out, spec).values())


def write_wav(path: Path, audio: np.ndarray, sr: int = SR) -> None:
    """16-bit mono PCM WAV, atomically."""
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    with atomic_path(path) as tmp:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sr)
            w.writeframes(pcm.tobytes())


def write_anim(path: Path, face: dict, fps: float = FPS) -> None:
    """anim/<id>.npz with the arrays named in the corpus contract, atomically."""
    from ...rigs.arkit import ARKIT_NAMES
    arrays = {"fps": np.array(fps, np.float64), "blendshape_names": np.array(ARKIT_NAMES)}
    for k in ("weights", "mouth", "emotion", "head_rotation", "eye_gaze"):
        arrays[k] = np.asarray(face[k], np.float32)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)


def _face_fn() -> Callable:
    from .face import synthesize_face  # written by another module owner; imported only when needed
    return synthesize_face


def make_item(out: Path, spec: dict, speech, face_fn: Callable | None = None) -> dict | None:
    """Augment, animate and write one clip (or style clip); returns its record (None for a style clip)."""
    from . import augment as aug
    face_fn = face_fn or _face_fn()
    audio, phones = speech.audio, list(speech.phones)
    desc: dict = {}
    face_audio, face_phones = audio, phones
    if spec["augment"]:
        steps = aug.sample_plan(spec["seed"] ^ 0x5A5A5A5A)
        speed_steps = [s for s in steps if s["op"] == "speed"]
        rest = [s for s in steps if s["op"] != "speed"]
        audio, phones, desc = aug.apply_plan(audio, SR, phones, speed_steps)
        face_audio, face_phones = audio, phones  # the face follows the clean (but re-timed) speech
        audio, phones, d2 = aug.apply_plan(audio, SR, phones, rest)
        desc.update(d2)
    intensity = intensity_of(spec["level"])
    face = face_fn(face_audio, SR, face_phones, spec["emotion"], intensity, spec["actor"], spec["seed"], FPS)
    p = _paths(out, spec)
    if spec["kind"] == "style":
        from ..animation import FaceAnimation
        from ..formats import write_npz
        anim = FaceAnimation(FPS, face["weights"], head_rotation=face["head_rotation"], eye_gaze=face["eye_gaze"],
                             metadata={"emotion": spec["emotion"], "intensity": intensity, "seed": spec["seed"],
                                       "actor": spec["actor"], "level": spec["level"], "text": spec["text"],
                                       "voice": spec["voice"], "source": "dreamtalk data synth style clip"})
        write_npz(anim, p["style"])
        return None
    duration = len(audio) / SR
    rec = {"id": spec["id"], "split": spec["split"], "audio": f"audio/{spec['id']}.wav",
           "phones": f"phones/{spec['id']}.json", "duration": round(duration, 5), "text": spec["text"],
           "voice": spec["voice"], "engine": spec.get("engine") or ALL_VOICES[spec["voice"]][0], "actor": spec["actor"],
           "emotion": spec["emotion"], "level": spec["level"], "intensity": intensity,
           "sentence_id": spec["sentence_id"], "anim": f"anim/{spec['id']}.npz",
           "style": style_name(spec["actor"], spec["emotion"], spec["level"]), "augment": desc,
           "rate": spec["rate"], "seed": spec["seed"], "tts_raw_error_ms": round(1000 * speech.raw_error, 3)}
    write_wav(p["audio"], audio)
    write_anim(p["anim"], face)
    write_alignment(phones, p["phones"], text=spec["text"], clip=rec)  # last: marks the clip complete
    return rec


def run_task(args: tuple) -> tuple[int, int, float]:
    """Worker: synthesize one same-voice batch; returns (items done, items failed, audio seconds)."""
    out, specs, face_fn = args
    out = Path(out)
    voice = specs[0]["voice"]
    speeches = synthesize_batch(voice, [s["text"] for s in specs], [s["rate"] for s in specs])
    done = failed = 0
    secs = 0.0
    for spec, sp in zip(specs, speeches):
        if sp is None:
            failed += 1
            continue
        rec = make_item(out, spec, sp, face_fn)
        done += 1
        if rec:
            secs += rec["duration"]
    return done, failed, secs


def _tasks(out: Path, items: Sequence[dict], batch: int, face_fn) -> list[tuple]:
    by_voice: dict[str, list[dict]] = {}
    for s in items:
        by_voice.setdefault(s["voice"], []).append(s)
    tasks = []
    for v, lst in by_voice.items():
        for i in range(0, len(lst), batch):
            tasks.append((str(out), lst[i:i + batch], face_fn))
    tasks.sort(key=lambda t: (t[1][0]["kind"] != "style", t[1][0]["id"]))  # styles first, then plan order
    return tasks


def build(out_dir: str | os.PathLike, cfg: SynthConfig, jobs: int | None = None, quiet: bool = False,
          face_fn: Callable | None = None, sentences: Sequence[str] | None = None) -> dict:
    """Make (or resume) a corpus in ``out_dir``; returns the manifest."""
    from ..progress import Progress

    t0 = time.monotonic()
    out = Path(out_dir)
    cfg.check()
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / "config.json"
    key = cfg.key()
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text())
        except ValueError:
            old = None
        if old != key:
            raise InputError(f"{out} holds a corpus made with other settings ({cfg_path}); "
                             "use a new --out or the same --hours/--seed/--actors")
    else:
        atomic_write_text(cfg_path, json.dumps(key, indent=1) + "\n")
    specs, styles = plan(cfg, sentences)
    todo = [s for s in styles + specs if not is_done(out, s)]
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    tasks = _tasks(out, todo, cfg.batch, face_fn)
    made = failed = 0
    secs = 0.0
    with Progress(len(todo), "synth", enabled=None if not quiet else False) as bar:
        if jobs == 1 or len(tasks) <= 1:
            results = map(run_task, tasks)
            for d, f, s in results:
                made, failed, secs = made + d, failed + f, secs + s
                bar.update(d + f)
        else:
            import multiprocessing as mp
            ctx = mp.get_context("fork")
            with ctx.Pool(jobs) as pool:
                for d, f, s in pool.imap_unordered(run_task, tasks, chunksize=1):
                    made, failed, secs = made + d, failed + f, secs + s
                    bar.update(d + f)
    wall = time.monotonic() - t0
    manifest = finalize(out, cfg, specs, styles)
    manifest["this_run"] = {"items_made": made, "items_failed": failed, "audio_s": round(secs, 2),
                            "wall_s": round(wall, 2), "jobs": jobs,
                            "audio_s_per_wall_s": round(secs / wall, 3) if wall > 0 else None}
    runs = []
    mpath = out / "manifest.json"
    if mpath.exists():
        try:
            runs = json.loads(mpath.read_text()).get("runs", [])
        except ValueError:
            runs = []
    manifest["runs"] = runs + [manifest["this_run"]]
    manifest["wall_s_total"] = round(sum(r["wall_s"] for r in manifest["runs"]), 2)
    atomic_write_text(mpath, json.dumps(manifest, indent=1) + "\n")
    return manifest


def finalize(out: Path, cfg: SynthConfig, specs: Sequence[dict], styles: Sequence[dict]) -> dict:
    """Rebuild clips.jsonl (plan order) from the per-clip records and summarise the corpus."""
    from .tts import FRAME
    recs, seqs = [], []
    for s in specs:
        p = out / "phones" / f"{s['id']}.json"
        if not is_done(out, s):
            continue
        d = json.loads(p.read_text())
        recs.append(d["clip"])
        seqs.append([ph for ph, _, _ in d["phones"]])
    lines = "".join(json.dumps(r) + "\n" for r in recs)
    atomic_write_text(out / "clips.jsonl", lines)

    def hours(rs):
        return round(sum(r["duration"] for r in rs) / 3600.0, 4)

    by = lambda key: {k: [r for r in recs if r[key] == k] for k in sorted({r[key] for r in recs}, key=str)}
    timing: dict[str, dict] = {}
    for v, rs in by("voice").items():
        raw = np.abs([r["tts_raw_error_ms"] for r in rs])
        timing[v] = {"clips": len(rs), "raw_max_ms": round(float(raw.max()), 2),
                     "raw_mean_ms": round(float(raw.mean()), 2),
                     "raw_within_frame": round(float(np.mean(raw <= 1000 * FRAME)), 4)}
    return {
        "format": "dreamtalk-synthetic-corpus", "version": FORMAT_VERSION, "seed": cfg.seed, "config": cfg.key(),
        "sr": SR, "fps": FPS,
        "clips": len(recs), "clips_planned": len(specs),
        "hours": hours(recs), "target_hours": cfg.hours,
        "splits": {k: {"clips": len(rs), "hours": hours(rs), "sentences": len({r["sentence_id"] for r in rs}),
                       "voices": sorted({r["voice"] for r in rs})} for k, rs in by("split").items()},
        "voices": {k: {"clips": len(rs), "hours": hours(rs)} for k, rs in by("voice").items()},
        "engines": {k: {"clips": len(rs), "hours": hours(rs)} for k, rs in by("engine").items()},
        "emotions": {k: len(rs) for k, rs in by("emotion").items()},
        "actors": cfg.actors,
        "sentences": len({r["sentence_id"] for r in recs}),
        "augmented_clips": sum(1 for r in recs if r["augment"]),
        "augment_ops": {op: sum(1 for r in recs if op in r["augment"]) for op in
                        ("speed", "pitch", "vtlp", "reverb", "noise", "telephone", "gain")},
        "styles": sum(1 for s in styles if is_done(out, s)), "styles_planned": len(styles),
        "phone_coverage": {k: v for k, v in textmod.phone_coverage(seqs).items()},
        "timing_check": timing,
    }
