"""``dreamtalk live``: speech in (microphone, file, stdin, TCP), face out in real time (Live Link Face, VMC)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "stream a face in real time from live speech to Unreal (Live Link Face) and VTuber apps (VMC)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``dreamtalk live``."""
    from ..core.emotions import EMOTIONS
    from ..core.live.engine import DEFAULT_LOOKAHEAD_MS

    p.add_argument("--input", required=True, metavar="mic|FILE|stdin|tcp://HOST:PORT",
                   help="audio in: the default microphone (needs sounddevice), an audio file played at real-time "
                        "pace (ends when played), raw PCM or a WAV stream on stdin, or on a TCP port")
    p.add_argument("--livelink", action="append", default=[], metavar="HOST:PORT",
                   help="send Live Link Face packets here (port 11111 if omitted); repeat for several targets")
    p.add_argument("--vmc", action="append", default=[], metavar="HOST:PORT",
                   help="send VMC protocol (OSC) here (port 39539 if omitted); repeat for several targets")
    p.add_argument("--vmc-names", choices=("arkit", "pascal"), default="arkit",
                   help="perfect-sync clip names: eyeBlinkLeft (arkit, default) or EyeBlinkLeft (pascal)")
    p.add_argument("--record", default=None, metavar="OUT.csv|OUT.json",
                   help="also write exactly what was sent (Live Link Face CSV or JSON) when the stream ends")
    p.add_argument("--fps", type=float, default=60.0, help="frames sent per second (default 60)")
    p.add_argument("--lookahead", type=float, default=DEFAULT_LOOKAHEAD_MS, metavar="MS",
                   help=f"audio the lips may wait for, 0-200 ms (default {DEFAULT_LOOKAHEAD_MS:g}); more is "
                        "slightly better lip-sync at more latency (docs/live.md)")
    p.add_argument("--emotion", default="neutral", help=f"one of: {', '.join(EMOTIONS)} (default neutral)")
    p.add_argument("--intensity", type=float, default=1.0, help="emotion intensity 0..1 (default 1)")
    p.add_argument("--transition", type=float, default=0.5, help="seconds an emotion change cross-fades (0.5)")
    p.add_argument("--subject", default="DreamTalk", help="Live Link subject name (default DreamTalk)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the EmoDiff sampler")
    p.add_argument("--no-head", action="store_true", help="keep the head still")
    p.add_argument("--osc-control", default=None, metavar="[HOST:]PORT",
                   help="also take /dreamtalk/emotion NAME [X], /dreamtalk/intensity X, /dreamtalk/stop over OSC")
    p.add_argument("--pcm-rate", type=int, default=16000, help="raw PCM sample rate for stdin/tcp (16000)")
    p.add_argument("--pcm-format", default="s16le", choices=("s16le", "s32le", "f32le", "u8"),
                   help="raw PCM sample format for stdin/tcp (s16le); a WAV header on the stream overrides it")
    p.add_argument("--pcm-channels", type=int, default=1, help="raw PCM channels for stdin/tcp (1)")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--speed", type=float, default=1.0, help=argparse.SUPPRESS)  # file pace (tests)
    p.add_argument("--weights", default=None, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Stream until the input ends, Ctrl-C or `quit`; write the recording; 0, or 2 with one line on bad input."""
    from ..core.errors import DreamTalkError, InputError
    from ..exporters.live import OscControl, start_live
    from ..core.live.control import COMMANDS_HELP, read_commands
    from ..core.live.sources import FileSource, parse_hostport, parse_input

    quiet = getattr(args, "quiet", False)

    def log(line: str) -> None:
        print(f"dreamtalk live: {line}" if not line.startswith("dreamtalk") else line, file=sys.stderr, flush=True)

    if args.record and Path(args.record).suffix.lower() not in (".csv", ".json"):
        raise InputError(f"--record {args.record}: use a .csv (Live Link Face) or .json file")
    if not 1 <= args.fps <= 240:
        raise InputError(f"--fps must be in 1..240, got {args.fps:g}")
    if args.seconds is not None and args.seconds <= 0:
        raise InputError(f"--seconds must be positive, got {args.seconds:g}")
    if not 0.01 <= args.speed <= 100:
        raise InputError(f"--speed must be in 0.01..100, got {args.speed:g}")
    if args.input not in ("mic", "stdin", "-") and not args.input.startswith("tcp://"):
        source = FileSource(args.input, speed=args.speed, log=log)
    else:
        source = parse_input(args.input, args.pcm_rate, args.pcm_format, args.pcm_channels, log=log)
    session = start_live(args.input, livelink=args.livelink, vmc=args.vmc, fps=args.fps,
                         lookahead_ms=args.lookahead, emotion=args.emotion, intensity=args.intensity,
                         subject=args.subject, seed=args.seed, transition=args.transition, head=not args.no_head,
                         vmc_names=args.vmc_names, record=bool(args.record), log=log, source=source,
                         max_seconds=args.seconds, weights_dir=args.weights)
    if args.osc_control:
        host, port = parse_hostport(args.osc_control, None, "--osc-control ")
        try:
            OscControl(session, host, port, log)
        except DreamTalkError:
            session.stop()
            session.wait(2.0)
            raise
    if args.input not in ("stdin", "-") and sys.stdin is not None and not sys.stdin.closed:
        read_commands(session, sys.stdin, log)  # a terminal, or a program driving us through a pipe
        if not quiet and sys.stdin.isatty():
            log(COMMANDS_HELP)
    targets = [f"livelink {t}" for t in args.livelink] + [f"vmc {t}" for t in args.vmc]
    if not quiet:
        log(f"streaming at {args.fps:g} fps, look-ahead {session.engine.lookahead * 1000 / 30:.0f} ms, "
            f"delay {session.delay * 1000:.0f} ms -> {', '.join(targets) or 'no network target'}")
    try:
        while not session.wait(0.2):
            pass
    except KeyboardInterrupt:
        session.stop("interrupted")
        session.wait(2.0)
    if args.record and session.recorded:
        from ..core.formats import write_animation
        write_animation(session.recording(), args.record)
    if not quiet:
        log(f"sent {session.sent} frames ({session.sent / args.fps:.2f} s), {session.held} held"
            + (f", {session.skipped:.2f} s of late input skipped" if session.skipped >= 0.05 else "")
            + (f"; recorded {args.record}" if args.record and session.recorded else ""))
    if session.error:
        raise DreamTalkError(session.error)
    return 0
