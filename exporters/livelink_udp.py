"""Live Link Face over UDP: the packets Unreal Engine's "Live Link Face" source receives (default port 11111).

Packet (big-endian, as the iPhone app sends it, version 6):
uint8 version | uint32 n + n bytes device id | uint32 n + n bytes subject name |
int32 frame number | float32 sub-frame | int32 rate numerator | int32 rate denominator |
uint8 count (61) | 61 float32 in Live Link order (52 shapes with JawRight before JawLeft and MouthRight before
MouthLeft, then head yaw/pitch/roll and both eyes' yaw/pitch/roll; ``rigs.arkit.LLF_COLUMNS``).
"""
from __future__ import annotations

import socket
import struct
import uuid

import numpy as np

from ..core.formats import livelink_values

PACKET_VERSION = 6
DEFAULT_PORT = 11111
CHANNELS = 61


def encode_packet(values: np.ndarray, subject: str, device_id: str, frame_number: int, subframe: float,
                  rate: int, rate_denominator: int = 1) -> bytes:
    """One Live Link Face packet for (61,) values already in Live Link order."""
    v = np.asarray(values, ">f4").reshape(-1)
    if v.size != CHANNELS:
        raise ValueError(f"a Live Link Face packet carries {CHANNELS} values, got {v.size}")
    dev, subj = device_id.encode("utf-8"), subject.encode("utf-8")
    return b"".join([
        struct.pack(">B", PACKET_VERSION),
        struct.pack(">I", len(dev)), dev,
        struct.pack(">I", len(subj)), subj,
        struct.pack(">ifii", int(frame_number), float(subframe), int(rate), int(rate_denominator)),
        struct.pack(">B", CHANNELS), v.tobytes(),
    ])


class LiveLinkSender:
    """Sends face frames to one or more Live Link Face receivers (Unreal) over UDP; never blocks or raises."""

    kind = "livelink"

    def __init__(self, targets: list[tuple[str, int]], subject: str = "DreamTalk", device_id: str | None = None,
                 log=None):
        self.targets = list(targets)
        self.subject = subject
        self.device_id = device_id or str(uuid.uuid5(uuid.NAMESPACE_DNS, f"dreamtalk.{subject}")).upper()
        self.out = UdpTargets(self.targets, self.kind, log)
        self.sent = 0

    def send(self, weights: np.ndarray, head: np.ndarray, frame_number: int, subframe: float, rate: int) -> None:
        """Send one frame: (52,) ARKit-order weights, (3,) [pitch, yaw, roll] radians."""
        vals = livelink_values(np.asarray(weights)[None], np.asarray(head)[None])[0]  # (61,) by name
        pkt = encode_packet(vals, self.subject, self.device_id, frame_number, subframe, rate)
        self.out.send(pkt)
        self.sent += 1

    def close(self) -> None:
        """Close the sockets."""
        self.out.close()


class UdpTargets:
    """Connected non-blocking UDP sockets to several receivers; a closed port or a network error is one line per
    target (and one when it has worked again for 2 s), never an exception: the stream goes on."""

    def __init__(self, targets: list[tuple[str, int]], kind: str, log=None):
        from ..core.errors import InputError
        self.targets, self.kind, self.log = list(targets), kind, log
        self.socks = []
        for t in self.targets:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            try:
                s.connect(t)  # connected: the kernel reports a closed port (ICMP refused) on a later send
            except OSError as e:
                s.close()
                self.close()
                raise InputError(f"{kind} {t[0]}:{t[1]}: cannot send there ({e.strerror or e})") from None
            self.socks.append(s)
        self.failing: dict = {}  # target -> time of its last error

    def send(self, pkt: bytes) -> None:
        """Send ``pkt`` to every target."""
        import time
        now = time.monotonic()
        for t, sock in zip(self.targets, self.socks):
            try:
                sock.send(pkt)
            except OSError as e:
                if t not in self.failing:
                    self._say(f"{self.kind} {t[0]}:{t[1]}: {e.strerror or e} (nothing listening?); still sending")
                self.failing[t] = now
                continue
            if t in self.failing and now - self.failing[t] > 2.0:
                del self.failing[t]
                self._say(f"{self.kind} {t[0]}:{t[1]}: receiving again")

    def _say(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    def close(self) -> None:
        """Close the sockets."""
        for s in self.socks:
            s.close()
