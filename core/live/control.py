"""Changing emotion and intensity while a session runs: text commands (the CLI's stdin; OSC control is in
``exporters/live.py``)."""
from __future__ import annotations

import threading

from ..errors import DreamTalkError, InputError

COMMANDS_HELP = "commands: `emotion NAME [INTENSITY]`, `intensity X`, `NAME [INTENSITY]`, `quit`"


def apply_command(session, line: str) -> str | None:
    """Apply one text command to ``session``; returns a one-line reply (None for an empty line)."""
    words = line.strip().split()
    if not words:
        return None
    cmd = words[0].lower()
    try:
        if cmd in ("quit", "stop", "exit"):
            session.stop("stopped by command")
            return "stopping"
        if cmd == "intensity" and len(words) == 2:
            return session.set_emotion(None, float(words[1]))
        if cmd == "emotion" and len(words) in (2, 3):
            words = words[1:]
        if len(words) in (1, 2):
            return session.set_emotion(words[0], float(words[1]) if len(words) == 2 else None)
        return f"not understood: {line.strip()!r} ({COMMANDS_HELP})"
    except ValueError as e:
        return f"not understood: {line.strip()!r} ({e})" if not isinstance(e, InputError) else str(e)
    except DreamTalkError as e:
        return str(e)


def read_commands(session, stream, log) -> threading.Thread:
    """A daemon thread applying each line of ``stream`` as a command until it closes or the session ends."""
    def run():
        """Apply lines until the stream closes."""
        for line in stream:
            if session.done.is_set():
                return
            reply = apply_command(session, line)
            if reply:
                log(f"live: {reply}")
    t = threading.Thread(target=run, name="dreamtalk-live-commands", daemon=True)
    t.start()
    return t
