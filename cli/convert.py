"""``dreamtalk convert IN OUT``: convert between JSON, Live Link Face CSV and NPZ (format from the suffix)."""
from __future__ import annotations

import argparse

HELP = "convert an animation between .json, .csv (Live Link Face) and .npz, optionally resampling"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="input animation (.json, .csv, .npz)")
    p.add_argument("output", help="output animation (.json, .csv, .npz)")
    p.add_argument("--fps", type=float, default=None, help="resample to this frame rate")
    p.add_argument("--input-fps", type=float, default=None,
                   help="frame rate of a CSV input when its timecodes cannot tell")


def run(args: argparse.Namespace) -> int:
    from ..core.errors import InputError
    from ..core.formats import read_animation, write_animation

    if args.fps is not None and not (0 < args.fps <= 1000):
        raise InputError(f"--fps must be in (0, 1000], got {args.fps}")
    anim = read_animation(args.input, fps=args.input_fps)
    if args.fps:
        anim = anim.resample(args.fps)
    write_animation(anim, args.output)
    if not args.quiet:
        print(f"wrote {args.output}: {anim.num_frames} frames at {anim.fps:g} fps ({anim.duration:.2f} s)")
    return 0
