"""``dreamtalk render PORTRAIT AUDIO -o out.mp4``: animate a portrait photo with speech (audio muxed in)."""
from __future__ import annotations

import argparse
import sys

HELP = "animate a portrait photo speaking AUDIO (warp backend, no weights needed) and write an MP4"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("portrait", help="portrait image (JPEG, PNG, ...): one clear, roughly frontal face")
    p.add_argument("audio", help="speech audio; muxed into the video")
    p.add_argument("-o", "--output", required=True, help="output video (.mp4)")
    p.add_argument("--backend", default="warp", choices=("warp", "neural"), help="renderer (default warp)")
    p.add_argument("--emotion", default="neutral", help="emotion when generating the animation (default neutral)")
    p.add_argument("--intensity", type=float, default=None, help="emotion intensity when generating")
    p.add_argument("--seed", type=int, default=0, help="random seed when generating (default 0)")
    p.add_argument("--anim", default=None,
                   help="use this animation (.json/.csv/.npz) instead of generating one from the audio")
    p.add_argument("--size", type=int, default=512, help="output width and height in pixels (even; default 512)")


def _generate(args):
    """Animation from the audio through the model pipeline (imported lazily: it may not exist yet)."""
    from ..errors import InputError
    try:
        from .. import pipeline
    except ImportError:
        raise InputError("generating an animation needs the model pipeline, which is not installed yet; "
                         "give an animation with --anim") from None
    kw = {"emotion": args.emotion, "seed": args.seed}
    if args.intensity is not None:
        kw["intensity"] = args.intensity
    return pipeline.generate(args.audio, **kw)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..render.portrait import check_backend, prepare_portrait, render_portrait

    check_backend(args.backend)
    if not str(args.output).lower().endswith((".mp4", ".m4v", ".mov")):
        raise InputError(f"{args.output}: expected a .mp4 file")
    quiet = getattr(args, "quiet", False)
    portrait = prepare_portrait(args.portrait, args.size)  # before generating: a bad photo fails fast
    for note in portrait.notes:
        print(f"dreamtalk render: warning: {note}", file=sys.stderr)
    if args.anim:
        from ..formats import read_animation
        anim = read_animation(args.anim)
    else:
        anim = _generate(args)
    info = render_portrait(anim, portrait, args.output, audio=args.audio, backend=args.backend,
                           progress=not quiet)
    if not quiet:
        print(f"wrote {args.output}: {info['frames']} frames at {anim.fps:g} fps, {portrait.size}x{portrait.size}, "
              f"with audio (rendered at {info['fps_wall']:.1f} frames/s)")
    return 0
