"""Live: speech in, face out in real time (streaming engine, clock, audio sources, senders); never imports bpy.

``start_live(...)`` is the Python API: it returns a running :class:`LiveSession`.
"""
from __future__ import annotations

from .engine import DEFAULT_LOOKAHEAD_MS, LiveEngine, LiveFrame, lookahead_frames
from .session import LiveSession, SentFrame


def start_live(input: str = "mic", *, livelink=(), vmc=(), fps: float = 60.0,
               lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
               emotion: str = "neutral", intensity: float = 1.0, subject: str = "DreamTalk", seed: int = 0,
               transition: float = 0.5, head: bool = True, vmc_names: str = "arkit", record: bool = False,
               on_frame=None, log=None, pcm_rate: int = 16000, pcm_format: str = "s16le", pcm_channels: int = 1,
               source=None, measure: bool = False, max_seconds: float | None = None,
               weights_dir=None) -> LiveSession:
    """Start streaming: ``input`` is mic, stdin, tcp://HOST:PORT or an audio file; ``livelink``/``vmc`` are
    "HOST:PORT" strings; ``on_frame(SentFrame)`` is called for every frame sent. Returns the running session."""
    from ...exporters.livelink_udp import DEFAULT_PORT as LLF_PORT, LiveLinkSender
    from ...exporters.vmc import DEFAULT_PORT as VMC_PORT, VmcSender
    from .sources import parse_hostport, parse_input

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


__all__ = ["start_live", "LiveSession", "LiveEngine", "LiveFrame", "SentFrame", "lookahead_frames",
           "DEFAULT_LOOKAHEAD_MS"]
