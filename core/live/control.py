"""Changing emotion and intensity while a session runs: text commands (the CLI's stdin) and OSC messages."""
from __future__ import annotations

import socket
import threading

from ..errors import DreamTalkError, InputError

COMMANDS_HELP = "commands: `emotion NAME [INTENSITY]`, `intensity X`, `NAME [INTENSITY]`, `quit`"
OSC_ADDRESSES = ("/dreamtalk/emotion", "/dreamtalk/intensity", "/dreamtalk/stop")


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


class OscControl:
    """Listens for /dreamtalk/emotion s [f], /dreamtalk/intensity f and /dreamtalk/stop on a UDP port."""

    def __init__(self, session, host: str, port: int, log):
        self.session, self.log = session, log
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind((host, int(port)))
        except OSError as e:
            self.sock.close()
            raise InputError(f"--osc-control {host}:{port}: cannot listen ({e.strerror or e}; another "
                             "dreamtalk live on this port?)") from None
        self.address = self.sock.getsockname()
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, name="dreamtalk-live-osc", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from ...exporters.osc import parse
        try:
            while not self.session.done.is_set():
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                try:
                    msgs = parse(data)
                except ValueError as e:
                    self.log(f"osc control: {e}; ignored")
                    continue
                for addr, args in msgs:
                    self.log(f"live: {self._apply(addr, args)}")
        finally:
            self.sock.close()

    def _apply(self, addr: str, args: list) -> str:
        try:
            if addr == "/dreamtalk/emotion" and args and isinstance(args[0], str):
                x = float(args[1]) if len(args) > 1 else None
                return self.session.set_emotion(args[0], x)
            if addr == "/dreamtalk/intensity" and args:
                return self.session.set_emotion(None, float(args[0]))
            if addr == "/dreamtalk/stop":
                self.session.stop("stopped by OSC")
                return "stopping"
        except (DreamTalkError, ValueError, TypeError) as e:
            return f"osc {addr}: {e}"
        return f"osc: {addr} {args} not understood (use {', '.join(OSC_ADDRESSES)})"
