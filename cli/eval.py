"""``dreamtalk eval lipsync|emotion|diversity|naturalness``: lip-sync, emotion, seed diversity, motion statistics."""
from __future__ import annotations

import argparse

HELP = "evaluate animation quality (lipsync metric, emotion signatures, seed diversity, naturalness) on a data set"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="eval_command", metavar="WHAT")
    sub.required = True
    lp = sub.add_parser("lipsync", help="lip-sync metric on a data set (shared/specs/lipsync-metric.md)",
                        description="Score animations against the phone alignments of a data DIR.")
    lp.add_argument("--data", required=True, help="data DIR with clips.jsonl (e.g. from 'dreamtalk data realdev')")
    src = lp.add_mutually_exclusive_group(required=True)
    src.add_argument("--pred-dir", help="folder of predicted animations named <clip id>.json/.npz/.csv")
    src.add_argument("--system", help="built-in system to run: oracle, jawflap, dreamtalk")
    lp.add_argument("--fps", type=float, default=30.0, help="frame rate a --system generates at (default 30)")
    lp.add_argument("--split", default="dev", help="which split of the data to use (default dev; 'all' = every clip)")
    lp.add_argument("--weights", default=None, help="with --system dreamtalk: a folder of other trained weights")
    lp.add_argument("--transcript", action="store_true",
                    help="with --system dreamtalk: also give each clip's transcript (forced alignment)")
    lp.add_argument("--recognize", action="store_true",
                    help="with --system dreamtalk: audio only, with speech recognition (generate --recognize)")
    lp.add_argument("--emotion", default=None, help="with --system dreamtalk: generate under this emotion")
    lp.add_argument("--clips", type=int, default=None, help="use only the first N clips of the split (default all)")
    lp.add_argument("--voice", default=None, help="only the clips of this voice (synthetic corpora, e.g. flite:slt)")
    lp.add_argument("--join", type=float, default=None, metavar="SECONDS",
                    help="with --system: join the clips in order into takes of about SECONDS and "
                         "generate each take at once (long-audio behaviour)")
    lp.add_argument("--json", dest="json_out", help="also write the full result as JSON here")
    lp.set_defaults(_eval=run_lipsync)

    ep = sub.add_parser("emotion", help="action-unit signature per emotion and intensity, lip-sync vs neutral",
                        description="Generate every emotion at several intensities on the data's audio; report "
                                    "signature strength (vs neutral), monotonicity and lip-sync under each emotion.")
    _common(ep)
    ep.add_argument("--intensities", default="0.333,0.667,1",
                    help="comma-separated intensities in (0, 1] (default 0.333,0.667,1)")
    ep.add_argument("--style-check", action="store_true",
                    help="also check that --style-a as style gives an upper face closer to A than to --style-b")
    ep.add_argument("--style-a", default=None, help="capture whose style is checked (e.g. livelink_sad.csv)")
    ep.add_argument("--style-b", default=None, help="capture of another emotion (e.g. livelink_sample.csv)")
    ep.add_argument("--style-confusion", default=None, metavar="CORPUS",
                    help="also use held-out (test split) clips of this synthetic corpus as --style references and "
                         "report the confusion of their emotion vs the emotion out")
    ep.add_argument("--confusion-per-emotion", type=int, default=3,
                    help="reference clips per emotion for --style-confusion (default 3, top level only)")
    ep.add_argument("--track-check", action="store_true",
                    help="also generate one take of all clips joined with an emotion track neutral -> happy -> sad "
                         "and check each segment's signature and that the switches do not jump")
    ep.set_defaults(_eval=run_emotion)

    dp = sub.add_parser("diversity", help="pairwise differences between seeds: upper face and head vs mouth",
                        description="Generate each clip with several seeds; report per-region differences "
                                    "between seeds and bilabial closure recall per seed.")
    _common(dp)
    dp.add_argument("--seeds", type=int, default=5, help="number of seeds 0..N-1 (default 5, at least 2)")
    dp.add_argument("--emotion", default="neutral", help="emotion to generate with (default neutral)")
    dp.set_defaults(_eval=run_diversity)

    np_ = sub.add_parser("naturalness", help="head, blink and brow statistics vs corpus clips and real captures",
                         description="Generate each clip of --data (real speech) and compare motion statistics "
                                     "(head jitter and steps, blinks, brow and cheek activity) with held-out "
                                     "corpus clips and real captures.")
    _common(np_)
    np_.add_argument("--emotion", default="neutral", help="emotion to generate with (default neutral)")
    np_.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i gets seed + i (default 0)")
    np_.add_argument("--takes", type=int, default=1,
                     help="generate each clip this many times (take k adds k * 1000 to the seed), so blink and "
                          "brow statistics of a short set rest on more events (default 1)")
    np_.add_argument("--corpus", default=None, help="synthetic corpus DIR whose held-out clips are a reference")
    np_.add_argument("--corpus-split", default="test", help="split of --corpus to use (default test)")
    np_.add_argument("--corpus-clips", type=int, default=200, help="at most this many corpus clips (default 200)")
    np_.add_argument("--corpus-emotion", default="neutral",
                     help="only corpus clips of this emotion (default neutral; 'all' = every emotion)")
    np_.add_argument("--design", action="store_true",
                     help="also the corpus's rules on the same speech (each clip's alignment, 8 synthetic actors, "
                          "--emotion): a reference where the speech's own pauses and accents count")
    np_.add_argument("--captures", nargs="*", default=[], help="real captures (Live Link Face CSV, JSON, NPZ)")
    np_.add_argument("--plot", default=None, help="write overlaid distributions to this PNG")
    np_.set_defaults(_eval=run_naturalness)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="data DIR with clips.jsonl (e.g. from 'dreamtalk data realdev')")
    p.add_argument("--system", default="dreamtalk", help="system that takes an emotion (default dreamtalk)")
    p.add_argument("--clips", type=int, default=None, help="use only the first N clips of the split (default all)")
    p.add_argument("--voice", default=None, help="only the clips of this voice (synthetic corpora, e.g. flite:slt)")
    p.add_argument("--split", default="dev", help="which split of the data to use (default dev; 'all' = every clip)")
    p.add_argument("--steps", type=int, default=None, help="diffusion sampling steps (default from the model)")
    p.add_argument("--weights", default=None, help="a folder of other trained weights (dreamtalk system)")
    p.add_argument("--json", dest="json_out", help="also write the full result as JSON here")
    p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars")


def _predictions(args, clips):
    from pathlib import Path

    from ..core.errors import InputError
    from ..core.formats import read_animation
    from ..core.progress import Progress

    pairs = []
    if args.pred_dir:
        root = Path(args.pred_dir)
        if not root.is_dir():
            raise InputError(f"--pred-dir {root}: not a folder")
        for c in clips:
            found = [root / f"{c.id}{ext}" for ext in (".npz", ".json", ".csv") if (root / f"{c.id}{ext}").is_file()]
            if not found:
                raise InputError(f"--pred-dir {root}: no animation for clip {c.id} (.npz/.json/.csv)")
            pairs.append((read_animation(found[0]), c.phones))
        return pairs
    from ..core.eval.systems import NEEDS_PHONES, get_system

    system = get_system(args.system)
    kw = {"weights_dir": args.weights} if getattr(args, "weights", None) else {}
    if getattr(args, "emotion", None):
        kw["emotion"] = args.emotion
    with_text = bool(getattr(args, "transcript", False))
    if getattr(args, "recognize", False):
        if with_text:
            raise InputError("--transcript and --recognize exclude each other")
        kw["recognize"] = True
    if (kw or with_text) and not _takes_options(system):
        raise InputError(f"--weights/--emotion/--transcript/--recognize only apply to a model system, "
                         f"not {args.system!r}")
    with Progress(len(clips), f"eval {args.system}") as bar:
        for c in clips:
            # Only systems that are oracles see the alignment; the others get audio alone.
            phones = c.phones if args.system in NEEDS_PHONES else None
            extra = {"transcript": c.text} if with_text else {}
            if with_text and not c.text.strip():
                raise InputError(f"clip {c.id} has no transcript")
            pairs.append((system(c.audio, c.sr, phones, fps=args.fps, **kw, **extra), c.phones))
            bar.update(1)
    return pairs


def run_lipsync(args: argparse.Namespace) -> int:
    """Run the lip-sync evaluation and print the summary line."""
    import json

    from ..core.errors import InputError
    from ..core.eval.lipsync import evaluate, per_phone_lines, summary_line
    from ..core.fileio import atomic_write_text

    if not (0 < args.fps <= 1000):
        raise InputError(f"--fps must be in (0, 1000], got {args.fps}")
    clips = _load(args, audio=args.pred_dir is None)
    if args.join is not None:
        if args.pred_dir is not None:
            raise InputError("--join needs --system (predictions are made for the joined takes)")
        from ..core.eval import join_clips
        clips = join_clips(clips, args.join)
    result = evaluate(_predictions(args, clips))
    print(summary_line(result))
    n = result["counts"]
    print(f"clips={result['clips']} events: bilabial={n['bilabial']} lips_apart={n['lips_apart']} "
          f"vowel={n['vowel']} rounding={n['rounding']} silence={n['silence']}")
    for line in per_phone_lines(result):
        print(line)
    if args.json_out:
        out = {"system": args.system, "pred_dir": args.pred_dir, "data": str(args.data), "split": args.split,
               "fps": args.fps, "join": args.join, **result}
        atomic_write_text(args.json_out, json.dumps(out, indent=1) + "\n")
    return 0


def _takes_options(system) -> bool:
    """Whether a system accepts generation options (emotion, seed, ...) as keyword arguments."""
    import inspect

    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(system).parameters.values())


def _generator(args):
    """A ``generate(audio, sr, **options)`` for the chosen system at 30 fps (audio only, no phones)."""
    from ..core.errors import InputError
    from ..core.eval.systems import get_system

    system = get_system(args.system)
    if not _takes_options(system):
        raise InputError(f"system {args.system!r} takes no emotion, style or seed; use a model system (dreamtalk)")
    if args.steps is not None and not 1 <= args.steps <= 1000:
        raise InputError(f"--steps must be in 1..1000, got {args.steps}")
    kw = {}
    if args.weights:
        kw["weights_dir"] = args.weights
    if args.steps is not None:
        kw["steps"] = args.steps

    def generate(audio, sr, **options):
        return system(audio, sr, None, fps=30.0, **kw, **options)
    return generate


def _load(args, audio: bool = True):
    """The clips of ``--data``/``--split`` (of ``--voice`` if given), the first ``--clips`` of them."""
    from ..core.errors import InputError
    from ..core.eval import load_clips

    if args.clips is not None and args.clips < 1:
        raise InputError(f"--clips must be at least 1, got {args.clips}")
    return load_clips(args.data, None if args.split == "all" else args.split, audio=audio, limit=args.clips,
                      voice=args.voice)


def _write_json(path, payload: dict) -> None:
    import json

    from ..core.fileio import atomic_write_text
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")


def run_emotion(args: argparse.Namespace) -> int:
    """Run the emotion evaluation (and the style check) and print tables and summary lines."""
    from ..core.errors import InputError
    from ..core.eval.emotion import (emotion_summary, emotion_table, evaluate_emotions, style_check,
                                style_confusion, style_summary, track_check, track_summary, confusion_table)
    from ..core.formats import read_animation
    from ..core.progress import Progress

    try:
        xs = [float(v) for v in args.intensities.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--intensities must be numbers separated by commas, got {args.intensities!r}") from None
    if not xs or not all(0.0 < x <= 1.0 for x in xs):
        raise InputError(f"--intensities must be in (0, 1], got {args.intensities!r}")
    captures = None
    if args.style_check:
        if not (args.style_a and args.style_b):
            raise InputError("--style-check needs --style-a and --style-b (two captures of different emotions)")
        captures = read_animation(args.style_a), read_animation(args.style_b)
    generate = _generator(args)
    clips = _load(args)
    total = len(clips) * (1 + 7 * len(xs) + (2 if captures else 0))
    with Progress(total, "eval emotion") as bar:
        result = evaluate_emotions(clips, generate, xs, progress=bar.update)
        style = style_check(clips, generate, *captures, progress=bar.update) if captures else None
    track = track_check(clips, generate) if args.track_check else None
    confusion = None
    if args.style_confusion:
        refs = _corpus_references(args.style_confusion, args.confusion_per_emotion)
        with Progress(len(clips) * (8 + len(refs)), "style confusion") as bar:
            confusion = style_confusion(clips, generate, refs, progress=bar.update)
    print(emotion_table(result))
    print(emotion_summary(result))
    if style is not None:
        print(style_summary(style, args.style_a, args.style_b))
    if track is not None:
        print(track_summary(track))
    if confusion is not None:
        print(confusion_table(confusion))
    if args.json_out:
        _write_json(args.json_out, {"system": args.system, "data": str(args.data), "split": args.split,
                                    "weights": args.weights, **result,
                                    "style_check": None if style is None else
                                    {"style_a": args.style_a, "style_b": args.style_b, **style},
                                    "track_check": track, "style_confusion": confusion})
    return 0


def _corpus_anims(corpus: str, option: str, split: str, keep, limit) -> list:
    """(clip record, FaceAnimation) of the animated ``split`` clips of a synthetic corpus that ``keep(record)``
    accepts, in clips.jsonl order; ``limit(record, taken)`` says when a record is one too many."""
    import json
    from pathlib import Path

    from ..core.errors import InputError
    from ..core.formats import read_npz

    root = Path(corpus)
    index = root / "clips.jsonl"
    if not index.is_file():
        raise InputError(f"{option} {root}: no clips.jsonl (build one with 'dreamtalk data synth')")
    out: list = []
    for line in index.read_text().splitlines():
        c = json.loads(line) if line.strip() else {}
        if c.get("split") != split or not c.get("anim") or not keep(c) or limit(c, out):
            continue
        out.append((c, read_npz(root / c["anim"])))
    if not out:
        raise InputError(f"{option} {root}: no animated clips in split {split!r}")
    return out


def _corpus_references(corpus: str, per_emotion: int) -> list:
    """(emotion, FaceAnimation) of the first ``per_emotion`` test-split clips per emotion (top level; neutral)."""
    from ..core.emotions import EMOTIONS
    from ..core.errors import InputError

    if per_emotion < 1:
        raise InputError(f"--confusion-per-emotion must be at least 1, got {per_emotion}")
    rows = _corpus_anims(corpus, "--style-confusion", "test",
                         lambda c: c.get("emotion") in EMOTIONS and (c["emotion"] == "neutral"
                                                                      or int(c.get("level", 0)) == 3),
                         lambda c, taken: sum(r["emotion"] == c["emotion"] for r, _ in taken) >= per_emotion)
    return sorted(((c["emotion"], a) for c, a in rows), key=lambda r: EMOTIONS.index(r[0]))


def run_diversity(args: argparse.Namespace) -> int:
    """Run the diversity evaluation and print its tables and summary line."""
    from ..core.emotions import canonical_emotion
    from ..core.errors import InputError
    from ..core.eval.diversity import diversity_summary, diversity_table, evaluate_diversity
    from ..core.progress import Progress

    if args.seeds < 2:
        raise InputError(f"--seeds must be at least 2, got {args.seeds}")
    emotion = canonical_emotion(args.emotion)
    generate = _generator(args)
    clips = _load(args)
    with Progress(len(clips) * args.seeds, "eval diversity") as bar:
        result = evaluate_diversity(clips, generate, range(args.seeds), progress=bar.update, emotion=emotion)
    print(diversity_table(result))
    print(diversity_summary(result))
    if args.json_out:
        _write_json(args.json_out, {"system": args.system, "data": str(args.data), "split": args.split,
                                    "weights": args.weights, "emotion": emotion, **result})
    return 0


def _corpus_animations(args) -> list:
    """The anim/<id>.npz of --corpus clips in --corpus-split (and --corpus-emotion), the first --corpus-clips."""
    rows = _corpus_anims(args.corpus, "--corpus", args.corpus_split,
                         lambda c: args.corpus_emotion == "all" or c.get("emotion") == args.corpus_emotion,
                         lambda c, taken: len(taken) >= args.corpus_clips)
    return [a for _, a in rows]


def run_naturalness(args: argparse.Namespace) -> int:
    """Run the naturalness evaluation: generated vs corpus vs captures; print the table and the bars."""
    from ..core.emotions import canonical_emotion
    from ..core.errors import InputError
    from ..core.eval.naturalness import bars, design_animations, evaluate_set, naturalness_table, plot
    from ..core.formats import read_animation
    from ..core.progress import Progress

    emotion = canonical_emotion(args.emotion)
    generate = _generator(args)
    clips = _load(args)
    if args.takes < 1:
        raise InputError(f"--takes must be at least 1, got {args.takes}")
    anims = []
    with Progress(len(clips) * args.takes, "eval naturalness") as bar:
        for k in range(args.takes):
            for i, c in enumerate(clips):  # one seed per clip and take: independent takes, not one noise pattern
                anims.append(generate(c.audio, c.sr, seed=args.seed + i + 1000 * k, emotion=emotion))
                bar.update(1)
    sets = {"generated": evaluate_set(anims)}
    if args.corpus:
        sets["corpus"] = evaluate_set(_corpus_animations(args))
    if args.design:
        sets["design"] = evaluate_set(design_animations(clips, emotion))
    if args.captures:
        sets["captures"] = evaluate_set(read_animation(p) for p in args.captures)
    print(naturalness_table(sets, compare_to=[r for r in ("corpus", "design") if r in sets]))
    verdict = bars(sets["generated"])
    print("bars: " + "  ".join(f"{k} {'-' if v is None else ('ok' if v else 'NOT met')}"
                               for k, v in verdict.items()))
    if args.plot:
        plot(sets, args.plot)
    if args.json_out:
        slim = {n: {k: v for k, v in r.items() if k not in ("blink_events", "head_speed")} for n, r in sets.items()}
        _write_json(args.json_out, {"system": args.system, "data": str(args.data), "split": args.split,
                                    "weights": args.weights, "emotion": emotion, "seed": args.seed,
                                    "takes": args.takes, "steps": args.steps, "captures": list(args.captures),
                                    "corpus": args.corpus, "design": args.design, "sets": slim,
                                    "bars": verdict})
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen evaluation."""
    return args._eval(args)
