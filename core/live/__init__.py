"""Live: the streaming engine, its features, audio sources and the sender clock (speech in, face frames out in
real time); never imports bpy.

:func:`dreamtalk.exporters.live.start_live` wires a :class:`LiveSession` to the network senders (Live Link Face,
VMC) and is the Python API.
"""
from __future__ import annotations

from .engine import DEFAULT_LOOKAHEAD_MS, LiveEngine, LiveFrame, lookahead_frames
from .session import LiveSession, SentFrame

__all__ = ["LiveSession", "LiveEngine", "LiveFrame", "SentFrame", "lookahead_frames", "DEFAULT_LOOKAHEAD_MS"]
