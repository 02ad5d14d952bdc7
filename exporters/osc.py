"""A minimal OSC 1.0 encoder/decoder (struct only): messages of int32/float32/string arguments and bundles.

Enough for the VMC protocol and for control messages, so sending needs no extra package (also inside Blender).
"""
from __future__ import annotations

import struct
from typing import Iterable

IMMEDIATELY = 1  # OSC time tag meaning "now"


def _pad(b: bytes) -> bytes:
    """Null-terminate and pad to a multiple of 4 bytes (OSC strings)."""
    return b + b"\x00" * (4 - len(b) % 4)


def message(address: str, *args: str | float | int) -> bytes:
    """One OSC message; floats are float32, ints int32, strings UTF-8."""
    tags, data = [","], []
    for a in args:
        if isinstance(a, bool) or isinstance(a, int):
            tags.append("i")
            data.append(struct.pack(">i", int(a)))
        elif isinstance(a, float):
            tags.append("f")
            data.append(struct.pack(">f", a))
        elif isinstance(a, str):
            tags.append("s")
            data.append(_pad(a.encode("utf-8")))
        else:
            raise TypeError(f"OSC argument of type {type(a).__name__} is not supported")
    return _pad(address.encode("ascii")) + _pad("".join(tags).encode("ascii")) + b"".join(data)


def bundle(messages: Iterable[bytes], timetag: int = IMMEDIATELY) -> bytes:
    """An OSC bundle of encoded messages (kept in order: receivers apply them in order)."""
    parts = [b"#bundle\x00", struct.pack(">Q", timetag)]
    for m in messages:
        parts.append(struct.pack(">i", len(m)))
        parts.append(m)
    return b"".join(parts)


def _string(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\x00", pos)
    return data[pos:end].decode("utf-8", "replace"), (end // 4 + 1) * 4


def parse(data: bytes) -> list[tuple[str, list]]:
    """Messages in a packet (bundles flattened): [(address, [args])]; ValueError on malformed input."""
    try:
        if data.startswith(b"#bundle\x00"):
            out, pos = [], 16
            while pos + 4 <= len(data):
                (n,) = struct.unpack(">i", data[pos:pos + 4])
                out += parse(data[pos + 4:pos + 4 + n])
                pos += 4 + n
            return out
        address, pos = _string(data, 0)
        tags, pos = _string(data, pos)
        args: list = []
        for t in tags.lstrip(","):
            if t == "i":
                args.append(struct.unpack(">i", data[pos:pos + 4])[0])
                pos += 4
            elif t == "f":
                args.append(struct.unpack(">f", data[pos:pos + 4])[0])
                pos += 4
            elif t == "s":
                s, pos = _string(data, pos)
                args.append(s)
            elif t in "TF":
                args.append(t == "T")
            else:
                raise ValueError(f"OSC type tag {t!r} is not supported")
        return [(address, args)]
    except (struct.error, IndexError, UnicodeDecodeError) as e:
        raise ValueError(f"malformed OSC packet ({e})") from None
