"""``dreamtalk generate AUDIO -o OUT``: speech + emotion -> ARKit animation."""
from __future__ import annotations

import argparse
from pathlib import Path

HELP = "generate ARKit facial animation from speech audio and an emotion"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..core.emotions import EMOTIONS

    p.add_argument("audio", help="speech audio (WAV, FLAC, OGG, MP3; any rate 8-48 kHz)")
    p.add_argument("-o", "--output", required=True,
                   help="output file; its suffix picks the format (.json, .csv, .npz, .glb, .gltf, .fbx)")
    p.add_argument("--emotion", default="neutral", help=f"one of: {', '.join(EMOTIONS)} (default neutral)")
    p.add_argument("--intensity", type=float, default=1.0, help="emotion intensity 0..1 (default 1)")
    p.add_argument("--style", default=None,
                   help="reference clip of expression curves (.csv Live Link Face, .json, .npz); overrides --emotion")
    p.add_argument("--emotion-track", default=None, metavar="TRACK",
                   help="emotion over time: \"0:neutral,2.5:happy@0.8,6:sad@0.5\" (seconds:emotion@intensity) or a "
                        ".json/.csv file of time,emotion,intensity; overrides --emotion/--intensity")
    p.add_argument("--transition", type=float, default=None,
                   help="seconds of cross-fade between emotion-track keys (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same output; default 0)")
    p.add_argument("--steps", type=int, default=None, help="diffusion sampling steps (default from the model)")
    p.add_argument("--guidance", type=float, default=None,
                   help="classifier-free guidance scale on the style, at every step (default: the weights' own "
                        "with --emotion, 2 with --style)")
    p.add_argument("--fps", type=float, default=30.0, help="output frame rate (default 30)")
    p.add_argument("--transcript", default=None,
                   help="what is said (text, or a .txt file): force-aligned to sharpen the lips")
    p.add_argument("--recognize", action="store_true",
                   help="no transcript at hand: recognise the (English) words (Moonshine where installed, "
                        "tools/fetch_moonshine.py; else pocketsphinx) and use them the same way; slower than the "
                        "default; prints what it heard")
    p.add_argument("--no-head", action="store_true", help="keep the head still")
    p.add_argument("--no-blink", action="store_true", help="suppress blinks")
    p.add_argument("--mesh", default=None, help="with .glb/.fbx output: animate this mesh instead of the proxy head")
    p.add_argument("--reduce", type=float, default=None, metavar="TOL",
                   help="with .glb/.gltf output: drop keyframes while every channel stays within TOL")
    p.add_argument("--preview", default=None, help="also render a preview video of the proxy head (.mp4)")
    p.add_argument("--weights", default=None, help=argparse.SUPPRESS)  # a folder of other trained weights


def _transcript(arg: str | None) -> str | None:
    if arg is None:
        return None
    p = Path(arg)
    if p.suffix.lower() == ".txt" or (len(arg) < 256 and p.is_file()):
        from ..core.errors import InputError
        try:
            return p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"cannot read transcript {arg}: {e}") from None
    return arg


def run(args: argparse.Namespace) -> int:
    from ..core.errors import InputError
    from ..exporters.save import save_output
    from ..core.pipeline import generate

    out = Path(args.output)
    if out.suffix.lower() not in (".json", ".csv", ".npz", ".glb", ".gltf", ".fbx"):
        raise InputError(f"{out}: unsupported output format {out.suffix or '(no suffix)'}; "
                         "use .json, .csv, .npz, .glb, .gltf or .fbx")
    anim = generate(args.audio, emotion=args.emotion, intensity=args.intensity, style=args.style,
                    seed=args.seed, steps=args.steps, guidance=args.guidance, fps=args.fps,
                    transcript=_transcript(args.transcript), head=not args.no_head, blink=not args.no_blink,
                    progress=not args.quiet, weights_dir=args.weights, recognize=args.recognize,
                    emotion_track=args.emotion_track, transition=args.transition)
    info = save_output(anim, out, mesh=args.mesh, reduce=args.reduce)
    if args.preview:
        from ..core.render.preview import render_preview
        render_preview(anim, args.preview, audio=args.audio, progress=not args.quiet)
    if not args.quiet:
        if args.preview:
            print(f"wrote preview {args.preview}")
        if args.recognize and not args.transcript:
            heard = anim.metadata.get("recognized_text") or "(no words)"
            print(f"recognized ({anim.metadata.get('recognizer', 'pocketsphinx')}): {heard}")
        print(f"wrote {out}: {anim.num_frames} frames at {anim.fps:g} fps ({anim.duration:.2f} s)")
        if info.get("report"):
            print(info["report"])
    return 0
