"""``dreamtalk data synth|realdev|realtrain|realsel``: the synthetic corpus, the real-speech dev set, real training
speech and a lip-sync selection set from the same recordings."""
from __future__ import annotations

import argparse
import json

HELP = "build training data: the synthetic talking-face corpus (synth) or the real-speech dev set (realdev)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    s = sub.add_parser("synth", help="multi-voice emotional talking-face corpus from TTS engines",
                       description="Make (or resume) the synthetic corpus: TTS speech with engine phone timings, "
                                   "audio augmentation, mouth track + emotion layer, MEAD-like structure.")
    s.add_argument("--out", required=True, help="output directory (outside the repository)")
    s.add_argument("--hours", type=float, default=20.0, help="hours of audio to plan (default 20)")
    s.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    s.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    s.add_argument("--actors", type=int, default=8, help="number of synthetic actors (default 8)")
    s.add_argument("--augment-fraction", type=float, default=0.6,
                   help="fraction of clips with audio augmentation (default 0.6)")
    s.add_argument("--voices", default="english",
                   help="comma list of voices, or the groups 'english' (default), 'foreign' (Czech, Italian, Finnish, "
                        "Russian and Hindi human voices saying pseudo-words; extra speakers for lips training), "
                        "'kokoro' (Kokoro-82M's 28 English voices) and 'kokoro-blend' (24 mixes of two of them)")
    s.add_argument("--val-voices", default=None,
                   help="voices held out as the val split (default: ked, rms, en+f4 among --voices; 'none')")
    s.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars")
    r = sub.add_parser("realdev", help="real speech dev set from pocketsphinx-testdata, force-aligned to phones")
    r.add_argument("--out", required=True, help="output directory")
    r.add_argument("--extra", metavar="DIR", default=None,
                   help="also the recordings of DIR (made by tools/fetch_extra_speech.py) as a second selection "
                        "part, split selection2")
    r.add_argument("--no-degraded", action="store_true",
                   help="skip the telephone, noisy, reverberant and MP3 copies of each clip")
    r.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars")
    t = sub.add_parser("realtrain", help="real recorded speech (Debian asterisk prompts), aligned and animated, "
                                         "for lips training (--extra-data)",
                       description="Force-align the recorded prompts of the Debian asterisk-core-sounds-LANG-g722 "
                                   "packages and animate each several times under different emotions and audio "
                                   "augmentations; the result is a corpus for 'dreamtalk train lips --extra-data'.")
    t.add_argument("--out", required=True, help="output directory (outside the repository)")
    t.add_argument("--sources", default="all", help="comma list of asterisk-fr, asterisk-it, asterisk-ru, or all "
                                                    "(default); the English and Spanish prompts are reserved for "
                                                    "held-out evaluation")
    t.add_argument("--copies", type=int, default=4, help="animated copies of each prompt (default 4)")
    t.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    t.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars")


    s = sub.add_parser("realsel", help="lip-sync selection set from the asterisk prompts, with telephone and noisy "
                                       "copies (eval lipsync --split asterisk-ru[-phone|-noise])")
    s.add_argument("--out", required=True, help="output directory (outside the repository)")
    s.add_argument("--sources", default="all", help="comma list of asterisk-fr, asterisk-it, asterisk-ru, or all")
    s.add_argument("--per-source", type=int, default=150, help="prompts with a P, B or M per source (default 150)")
    s.add_argument("--seed", type=int, default=0, help="which prompts (default 0)")
    s.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from ..core.errors import InputError

    quiet = bool(getattr(args, "quiet", False))
    if args.data_command == "synth":
        from ..core.data.synth import DEFAULT_VAL_VOICES, SynthConfig, build, voice_list
        if args.jobs is not None and args.jobs < 1:
            raise InputError(f"--jobs must be at least 1, got {args.jobs}")
        voices = voice_list(args.voices)
        val = (tuple(v for v in DEFAULT_VAL_VOICES if v in voices) if args.val_voices is None
               else voice_list(args.val_voices))
        cfg = SynthConfig(hours=args.hours, seed=args.seed, actors=args.actors,
                          augment_fraction=args.augment_fraction, voices=voices, val_voices=val)
        m = build(args.out, cfg, jobs=args.jobs, quiet=quiet)
        run_ = m["this_run"]
        cov = m["phone_coverage"]
        splits = ", ".join(f"{k} {v['hours']:.3f} h" for k, v in m["splits"].items())
        print(f"{args.out}: {m['clips']} clips, {m['hours']:.3f} h ({splits}), "
              f"{len(m['voices'])} voices, {m['sentences']} sentences, "
              f"phones {cov['phones_covered']}/{cov['phones_total']}, diphones {cov['diphones_covered']}; "
              f"this run {run_['audio_s']:.0f} s audio in {run_['wall_s']:.0f} s wall "
              f"({run_['audio_s_per_wall_s']} s/s, {run_['jobs']} jobs, {run_['items_failed']} failed)")
        return 0
    if args.data_command == "realdev":
        from ..core.data.realdev import build_realdev  # lazy: only this subcommand needs pocketsphinx
        m = build_realdev(args.out, quiet=quiet, degraded=not args.no_degraded, extra=args.extra)
        if not quiet:
            print(json.dumps({k: v for k, v in m.items() if not isinstance(v, (list, dict))}))
        return 0
    if args.data_command == "realtrain":
        from ..core.data.realtrain import build_realtrain, source_list
        m = build_realtrain(args.out, source_list(args.sources), copies=args.copies, seed=args.seed, quiet=quiet)
        src = ", ".join(f"{k} {v['prompts_aligned']} prompts ({v['minutes_of_speech']} min, "
                        f"{v['prompts_skipped']} skipped)" for k, v in m["sources"].items())
        print(f"{args.out}: {m['clips']} clips, {m['hours']:.3f} h; {src}; {m['wall_s']:.0f} s")
        return 0
    if args.data_command == "realsel":
        from ..core.data.realtrain import build_realsel, source_list
        m = build_realsel(args.out, source_list(args.sources), per_source=args.per_source, seed=args.seed,
                          quiet=quiet)
        print(f"{args.out}: " + ", ".join(f"{k} {v}" for k, v in m["splits"].items()) + f"; {m['wall_s']:.0f} s")
        return 0
    raise InputError("choose a subcommand: dreamtalk data synth|realdev|realtrain|realsel --out DIR")
