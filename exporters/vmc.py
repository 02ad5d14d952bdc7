"""The VMC protocol over OSC/UDP (VSeeFace, VNyan, Warudo, ...): ARKit "perfect sync" blendshapes and the head.

Each frame is one OSC bundle, in order: /VMC/Ext/OK 1, /VMC/Ext/T time, /VMC/Ext/Bone/Pos "Head" (local
position 0 and rotation as a Unity quaternion), 52 x /VMC/Ext/Blend/Val name value, then /VMC/Ext/Blend/Apply.
Unity is left-handed with +X to the avatar's right; our head frame has +X to the subject's left, so the mirror
X -> -X turns quaternion (x, y, z, w) into (x, -y, -z, w).
"""
from __future__ import annotations


import numpy as np

from ..core.rotation import head_rotation_quaternions
from ..rigs.arkit import ARKIT_NAMES
from .livelink_udp import UdpTargets
from .osc import bundle, message

DEFAULT_PORT = 39539  # the VMC protocol's usual performer -> marionette port
NAME_STYLES = ("arkit", "pascal")  # eyeBlinkLeft (Apple's spelling) or EyeBlinkLeft


def vmc_names(style: str = "arkit") -> tuple[str, ...]:
    """The 52 perfect-sync clip names in ARKit order, in Apple's camelCase or PascalCase."""
    if style not in NAME_STYLES:
        raise ValueError(f"VMC name style must be one of {', '.join(NAME_STYLES)}, got {style!r}")
    return ARKIT_NAMES if style == "arkit" else tuple(n[0].upper() + n[1:] for n in ARKIT_NAMES)


def unity_head_quaternion(head: np.ndarray) -> np.ndarray:
    """(4,) Unity (x, y, z, w) of a (3,) [pitch, yaw, roll] head rotation."""
    q = head_rotation_quaternions(np.asarray(head, np.float64)[None])[0]
    return np.array([q[0], -q[1], -q[2], q[3]])


def encode_frame(weights: np.ndarray, head: np.ndarray, time_s: float, names: tuple[str, ...]) -> bytes:
    """One VMC bundle for (52,) ARKit-order weights and a (3,) head rotation."""
    q = unity_head_quaternion(head)
    msgs = [message("/VMC/Ext/OK", 1), message("/VMC/Ext/T", float(time_s)),
            message("/VMC/Ext/Bone/Pos", "Head", 0.0, 0.0, 0.0, *(float(v) for v in q))]
    w = np.asarray(weights, np.float64)
    msgs += [message("/VMC/Ext/Blend/Val", n, float(v)) for n, v in zip(names, w)]
    msgs.append(message("/VMC/Ext/Blend/Apply"))
    return bundle(msgs)


class VmcSender:
    """Sends face frames to one or more VMC receivers; never blocks or raises."""

    kind = "vmc"

    def __init__(self, targets: list[tuple[str, int]], names: str = "arkit", log=None):
        self.targets = list(targets)
        self.names = vmc_names(names)
        self.out = UdpTargets(self.targets, self.kind, log)
        self.sent = 0

    def send(self, weights: np.ndarray, head: np.ndarray, time_s: float) -> None:
        """Send one frame."""
        pkt = encode_frame(weights, head, time_s, self.names)
        self.out.send(pkt)
        self.sent += 1

    def close(self) -> None:
        """Close the sockets."""
        self.out.close()
