"""The ``dreamtalk`` command line, on top of the library: one module per subcommand, ``cli/<name>.py``.

Each command module defines ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .. import __version__

# Order shown in --help.
COMMANDS = ("generate", "convert", "preview", "render", "data", "train", "eval", "bench", "live")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser."""
    p = argparse.ArgumentParser(prog="dreamtalk",
                                description="Speech + emotion -> ARKit facial animation (DREAM-Talk).")
    p.add_argument("--version", action="version", version=f"dreamtalk {__version__}")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod = importlib.import_module(f"{__name__}.{name}")
        sp = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        sp.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars")
        mod.add_arguments(sp)
        sp.set_defaults(_run=mod.run)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors become one line on stderr and exit status 2."""
    from ..core.errors import DreamTalkError
    from ..core.progress import set_quiet

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    set_quiet(getattr(args, "quiet", False))
    import warnings

    from ..core.errors import DreamTalkWarning
    plain = warnings.showwarning

    def one_line(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, DreamTalkWarning):
            print(f"dreamtalk {args.command}: warning: {message}", file=sys.stderr)
        else:
            plain(message, category, filename, lineno, file, line)
    warnings.showwarning = one_line
    try:
        return int(args._run(args) or 0)
    except DreamTalkError as e:
        print(f"dreamtalk {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dreamtalk {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"dreamtalk {args.command}: error: out of memory", file=sys.stderr)
        return 1
