"""Live streaming out: :func:`start_live` (the Python API) wires the core live engine and session to the Live Link
Face and VMC senders; :class:`OscControl` takes emotion changes and stop over OSC while a session runs."""
from __future__ import annotations

import socket
import threading

from ..core.errors import DreamTalkError, InputError
from ..core.live import DEFAULT_LOOKAHEAD_MS, LiveEngine, LiveSession

OSC_ADDRESSES = ("/dreamtalk/emotion", "/dreamtalk/intensity", "/dreamtalk/stop")


def start_live(input: str = "mic", *, livelink=(), vmc=(), fps: float = 60.0,
               lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
               emotion: str = "neutral", intensity: float = 1.0, subject: str = "DreamTalk", seed: int = 0,
               transition: float = 0.5, head: bool = True, vmc_names: str = "arkit", record: bool = False,
               on_frame=None, log=None, pcm_rate: int = 16000, pcm_format: str = "s16le", pcm_channels: int = 1,
               source=None, measure: bool = False, max_seconds: float | None = None,
               weights_dir=None) -> LiveSession:
    """Start streaming: ``input`` is mic, stdin, tcp://HOST:PORT or an audio file; ``livelink``/``vmc`` are
    "HOST:PORT" strings; ``on_frame(SentFrame)`` is called for every frame sent. Returns the running session."""
    from ..core.live.sources import parse_hostport, parse_input
    from .livelink_udp import DEFAULT_PORT as LLF_PORT, LiveLinkSender
    from .vmc import DEFAULT_PORT as VMC_PORT, VmcSender

    ll = [parse_hostport(t, LLF_PORT, "--livelink ") for t in livelink]
    vm = [parse_hostport(t, VMC_PORT, "--vmc ") for t in vmc]
    engine = LiveEngine(emotion=emotion, intensity=intensity, lookahead_ms=lookahead_ms, seed=seed,
                        transition=transition, head=head, weights_dir=weights_dir)
    src = source if source is not None else parse_input(input, pcm_rate, pcm_format, pcm_channels, log=log)
    senders = []
    if ll:
        senders.append(LiveLinkSender(ll, subject=subject, log=log))
    if vm:
        senders.append(VmcSender(vm, names=vmc_names, log=log))
    session = LiveSession(src, engine, fps=fps, senders=senders, on_frame=on_frame, log=log, record=record,
                          measure=measure, max_seconds=max_seconds)
    return session.start()


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
        from .osc import parse
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
