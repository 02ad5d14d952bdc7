"""``dreamtalk preview ANIM -o out.mp4``: render the proxy head driven by an animation, audio muxed in."""
from __future__ import annotations

import argparse

HELP = "render a preview MP4 of the proxy head driven by an animation (plus contact sheet / curves PNGs)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("animation", help="animation file (.json, .csv, .npz)")
    p.add_argument("-o", "--output", default=None, help="output video (.mp4)")
    p.add_argument("--audio", default=None, help="audio to mux in (trimmed or padded to the animation's length)")
    p.add_argument("--view", default="front", choices=("front", "three_quarter"), help="camera (default front)")
    p.add_argument("--size", type=int, default=512, help="frame width and height in pixels (even; default 512)")
    p.add_argument("--sheet", default=None, help="also write a PNG contact sheet of 12 frames here")
    p.add_argument("--curves", default=None, help="also write a PNG plot of mouth/brow/eye/head curves here")
    p.add_argument("--fps", type=float, default=None, help="resample the animation to this frame rate first")


def run(args: argparse.Namespace) -> int:
    from ..core.errors import InputError
    from ..core.formats import read_animation
    from ..core.render.preview import check_size, check_view

    if not (args.output or args.sheet or args.curves):
        raise InputError("nothing to do: give -o out.mp4, --sheet out.png and/or --curves out.png")
    for path, exts in ((args.output, (".mp4", ".m4v", ".mov")), (args.sheet, (".png",)), (args.curves, (".png",))):
        if path and not str(path).lower().endswith(exts):
            raise InputError(f"{path}: expected a {' or '.join(exts)} file")
    # Optional libraries are checked before anything is rendered: a missing one is a one-line error, not a
    # traceback after the video was written.
    for path, module, pkg in ((args.sheet, "PIL", "pillow"), (args.curves, "matplotlib", "matplotlib")):
        if path:
            import importlib.util
            if importlib.util.find_spec(module) is None:
                from ..core.errors import MissingDependency
                raise MissingDependency(f"{path}: writing it needs the '{pkg}' package (pip install {pkg})")
    view, size = check_view(args.view), check_size(args.size)
    if args.fps is not None and not (0 < args.fps <= 1000):
        raise InputError(f"--fps must be in (0, 1000], got {args.fps}")
    anim = read_animation(args.animation)
    if args.fps:
        anim = anim.resample(args.fps)
    quiet = getattr(args, "quiet", False)
    if args.output:
        from ..core.render.preview import render_preview
        info = render_preview(anim, args.output, audio=args.audio, view=view, size=size, progress=not quiet)
        if not quiet:
            print(f"wrote {args.output}: {info['frames']} frames at {anim.fps:g} fps, {size}x{size}"
                  f"{', with audio' if info['audio'] else ''} (rendered at {info['fps_wall']:.1f} frames/s)")
    if args.sheet:
        from ..core.render.plots import contact_sheet
        contact_sheet(anim, args.sheet, view=view)
        if not quiet:
            print(f"wrote {args.sheet}")
    if args.curves:
        from ..core.render.plots import plot_curves
        plot_curves(anim, args.curves)
        if not quiet:
            print(f"wrote {args.curves}")
    return 0
