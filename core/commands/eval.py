"""``dreamtalk eval lipsync``: score ARKit curves against phone alignments of real speech (spec metric)."""
from __future__ import annotations

import argparse

HELP = "evaluate animation quality (lipsync: the lip-sync metric on a data set)"


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
    lp.add_argument("--json", dest="json_out", help="also write the full result as JSON here")
    lp.set_defaults(_eval=run_lipsync)


def _predictions(args, clips):
    from pathlib import Path

    from ..errors import InputError
    from ..formats import read_animation
    from ..progress import Progress

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
    from ..eval.systems import NEEDS_PHONES, get_system

    system = get_system(args.system)
    with Progress(len(clips), f"eval {args.system}") as bar:
        for c in clips:
            # Only systems that are oracles see the alignment; the others get audio alone.
            phones = c.phones if args.system in NEEDS_PHONES else None
            pairs.append((system(c.audio, c.sr, phones, fps=args.fps), c.phones))
            bar.update(1)
    return pairs


def run_lipsync(args: argparse.Namespace) -> int:
    """Run the lip-sync evaluation and print the summary line."""
    import json

    from ..errors import InputError
    from ..eval import load_clips
    from ..eval.lipsync import evaluate, summary_line
    from ..fileio import atomic_write_text

    if not (0 < args.fps <= 1000):
        raise InputError(f"--fps must be in (0, 1000], got {args.fps}")
    clips = load_clips(args.data, None if args.split == "all" else args.split, audio=args.pred_dir is None)
    result = evaluate(_predictions(args, clips))
    print(summary_line(result))
    n = result["counts"]
    print(f"clips={result['clips']} events: bilabial={n['bilabial']} lips_apart={n['lips_apart']} "
          f"vowel={n['vowel']} rounding={n['rounding']} silence={n['silence']}")
    if args.json_out:
        out = {"system": args.system, "pred_dir": args.pred_dir, "data": str(args.data), "split": args.split,
               "fps": args.fps, **result}
        atomic_write_text(args.json_out, json.dumps(out, indent=1) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen evaluation."""
    return args._eval(args)
