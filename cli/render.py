"""``dreamtalk render PORTRAIT AUDIO -o out.mp4``: animate a portrait photo with speech (audio muxed in)."""
from __future__ import annotations

import argparse
import os
import sys

HELP = "animate a portrait photo speaking AUDIO to MP4 (warp backend: no weights; neural: your LivePortrait weights)"


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
    p.add_argument("--size", type=int, default=None,
                   help="warp: output width and height (even; default 512); neural: the long side of the "
                        "output (default the portrait's own size)")
    g = p.add_argument_group("neural backend (bring your own LivePortrait weights; slow on CPU)")
    g.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="folder with LivePortrait's five published files (.pth read weights-only, or .safetensors)")
    g.add_argument("--head-scale", type=float, default=1.0,
                   help="scale the head rotation curves by this (0 keeps the portrait's head still; default 1)")
    g.add_argument("--net-size", type=int, default=256,
                   help="network input size, a multiple of 128 (default 256, LivePortrait's; output crop is 2x)")
    g.add_argument("--chunk", type=int, default=64, help="frames per resumable chunk (default 64)")
    g.add_argument("--resume", default=None, metavar="DIR",
                   help="continue an interrupted neural render from its work directory")
    g.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")


def _generate(args):
    """Animation from the audio through the model pipeline (imported lazily: it may not exist yet)."""
    from ..core.errors import InputError
    try:
        from ..core import pipeline
    except ImportError:
        raise InputError("generating an animation needs the model pipeline, which is not installed yet; "
                         "give an animation with --anim") from None
    kw = {"emotion": args.emotion, "seed": args.seed}
    if args.intensity is not None:
        kw["intensity"] = args.intensity
    return pipeline.generate(args.audio, **kw)


def _animation(args):
    if args.anim:
        from ..core.formats import read_animation
        return read_animation(args.anim)
    return _generate(args)


def _run_neural(args, quiet: bool) -> int:
    """--backend neural: LivePortrait's networks with the user's weights, driven by the proxy head, in chunks."""
    from ..core.errors import InputError
    from ..core.render.portrait.neural import check_options, load_checkpoint, render_neural

    if not args.checkpoint:
        raise InputError("--backend neural needs --checkpoint DIR (your LivePortrait weights; nothing is downloaded)")
    if args.chunk < 1:
        raise InputError(f"--chunk must be at least 1, got {args.chunk}")
    check_options(args.head_scale, args.net_size, args.size)  # before the slow load
    models = load_checkpoint(args.checkpoint, args.device)  # every key and shape checked before the slow part
    anim = _animation(args)

    def log(msg):
        if not quiet:
            print(f"dreamtalk render: {msg}", file=sys.stderr)
    try:
        info = render_neural(anim, args.portrait, args.output, args.checkpoint, audio=args.audio, chunk=args.chunk,
                             work_dir=args.resume, resume=args.resume is not None, device=args.device,
                             out_size=args.size, head_scale=args.head_scale, net_size=args.net_size,
                             progress=not quiet, log=log, models=models)
    except BaseException:
        if not quiet and args.resume is None:
            work = f"{args.output}.neural-work"
            if os.path.isdir(work):
                print(f"dreamtalk render: finished chunks are kept in {work}; continue with --resume {work}",
                      file=sys.stderr)
        raise
    if not quiet:
        spf = info["seconds_per_frame"]
        speed = f", {spf:.2f} s/frame on {info['device']}" if spf else ""
        w, h = info["size"]
        print(f"wrote {args.output}: {info['frames']} frames at {anim.fps:g} fps, {w}x{h}, "
              f"with audio ({info['frames_rendered']} frames rendered, {info['chunks_reused']} chunks reused{speed})")
    return 0


def run(args: argparse.Namespace) -> int:
    from ..core.errors import InputError
    from ..core.render.portrait import check_backend, prepare_portrait, render_portrait

    if not str(args.output).lower().endswith((".mp4", ".m4v", ".mov")):
        raise InputError(f"{args.output}: expected a .mp4 file")
    quiet = getattr(args, "quiet", False)
    if args.backend == "neural":
        return _run_neural(args, quiet)
    check_backend(args.backend)
    if args.size is None:
        args.size = 512
    portrait = prepare_portrait(args.portrait, args.size)  # before generating: a bad photo fails fast
    for note in portrait.notes:
        print(f"dreamtalk render: warning: {note}", file=sys.stderr)
    anim = _animation(args)
    info = render_portrait(anim, portrait, args.output, audio=args.audio, backend=args.backend,
                           progress=not quiet)
    if not quiet:
        print(f"wrote {args.output}: {info['frames']} frames at {anim.fps:g} fps, {portrait.size}x{portrait.size}, "
              f"with audio (rendered at {info['fps_wall']:.1f} frames/s)")
    return 0
