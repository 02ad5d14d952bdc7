"""The ARKit face rig: 52 blendshape names, their orders, groups, mirror pairs and the mouth set."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

# Apple's order (ARFaceAnchor.BlendShapeLocation); Epic's EARFaceBlendShape uses it too.
ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
    "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
    "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel",
    "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
    "noseSneerRight", "tongueOut",
)
NUM_BLENDSHAPES = 52
assert len(ARKIT_NAMES) == NUM_BLENDSHAPES and len(set(ARKIT_NAMES)) == NUM_BLENDSHAPES
INDEX: dict[str, int] = {n: i for i, n in enumerate(ARKIT_NAMES)}

# Unity's ARKitBlendShapeLocation enum and EmoTalk's outputs: alphabetical (case-insensitive).
ALPHABETICAL_NAMES: tuple[str, ...] = tuple(sorted(ARKIT_NAMES, key=str.lower))


def _pascal(name: str) -> str:
    return name[0].upper() + name[1:]


def _llf_blendshape_order() -> tuple[str, ...]:
    """Apple's order with JawRight before JawLeft and MouthRight before MouthLeft."""
    order = list(ARKIT_NAMES)
    for a, b in (("jawLeft", "jawRight"), ("mouthLeft", "mouthRight")):
        i, j = order.index(a), order.index(b)
        order[i], order[j] = order[j], order[i]
    return tuple(order)


# Live Link Face CSV: 52 shapes (PascalCase, two pairs swapped) then head and eye rotations.
LLF_BLENDSHAPE_ORDER: tuple[str, ...] = _llf_blendshape_order()  # ARKit camelCase names, LLF column order
LLF_POSE_COLUMNS: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)
LLF_COLUMNS: tuple[str, ...] = tuple(_pascal(n) for n in LLF_BLENDSHAPE_ORDER) + LLF_POSE_COLUMNS
assert len(LLF_COLUMNS) == 61

ORDERS: dict[str, tuple[str, ...]] = {
    "arkit": ARKIT_NAMES,
    "apple": ARKIT_NAMES,
    "epic": ARKIT_NAMES,
    "livelink": LLF_BLENDSHAPE_ORDER,
    "alphabetical": ALPHABETICAL_NAMES,
    "unity": ALPHABETICAL_NAMES,
    "emotalk": ALPHABETICAL_NAMES,
}

GROUPS: dict[str, tuple[str, ...]] = {
    "eyes": tuple(n for n in ARKIT_NAMES if n.startswith("eye")),
    "jaw": tuple(n for n in ARKIT_NAMES if n.startswith("jaw")),
    "mouth": tuple(n for n in ARKIT_NAMES if n.startswith("mouth")),
    "brows": tuple(n for n in ARKIT_NAMES if n.startswith("brow")),
    "cheeks": tuple(n for n in ARKIT_NAMES if n.startswith("cheek")),
    "nose": tuple(n for n in ARKIT_NAMES if n.startswith("nose")),
    "tongue": ("tongueOut",),
}
assert sum(len(v) for v in GROUPS.values()) == NUM_BLENDSHAPES


def _mirror_pairs() -> tuple[tuple[str, str], ...]:
    pairs = []
    for n in ARKIT_NAMES:
        if n.endswith("Left"):
            pairs.append((n, n[: -len("Left")] + "Right"))
    return tuple(pairs)


MIRROR_PAIRS: tuple[tuple[str, str], ...] = _mirror_pairs()  # (left, right), subject's own sides
MIRROR: dict[str, str] = {}
for _l, _r in MIRROR_PAIRS:
    MIRROR[_l], MIRROR[_r] = _r, _l
for _n in ARKIT_NAMES:
    MIRROR.setdefault(_n, _n)
# Gaze mirrors In<->In (both eyes look toward the nose), and jawLeft/mouthLeft are pairs already.

# Channels lip refinement re-predicts: articulation only. Emotion-bearing mouth channels
# (smile, frown, dimple, stretch, press) stay with EmoDiff so the emotion keeps its intensity.
MOUTH_SET: tuple[str, ...] = (
    "jawForward", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "tongueOut",
)
EMOTION_MOUTH: tuple[str, ...] = (
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthPressLeft", "mouthPressRight",
)
UPPER_FACE: tuple[str, ...] = GROUPS["eyes"] + GROUPS["brows"] + GROUPS["cheeks"] + GROUPS["nose"]
MOUTH_INDEX = np.array([INDEX[n] for n in MOUTH_SET], dtype=np.int64)


def normalize_name(name: str) -> str:
    """Key for matching names regardless of case, underscores, spaces and dots."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


_BY_NORMALIZED = {normalize_name(n): n for n in ARKIT_NAMES}


def canonical_name(name: str) -> str | None:
    """The ARKit name for a case/underscore variant (``JawOpen``, ``jaw_open``), or None."""
    return _BY_NORMALIZED.get(normalize_name(name))


def order(name: str) -> tuple[str, ...]:
    """A named channel order (``arkit``, ``livelink``, ``alphabetical``...)."""
    try:
        return ORDERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown channel order {name!r}; known: {', '.join(sorted(ORDERS))}") from None


def reorder(values: np.ndarray, src_names: Sequence[str], dst_names: Sequence[str],
            fill: float | None = None) -> np.ndarray:
    """Reorder the last axis of ``values`` from ``src_names`` to ``dst_names`` by name, never by position.

    Names match case- and underscore-insensitively. A destination name absent from the source is an
    error unless ``fill`` is given.
    """
    values = np.asarray(values)
    if values.shape[-1] != len(src_names):
        raise ValueError(f"values have {values.shape[-1]} channels but {len(src_names)} names were given")
    src = {}
    for i, n in enumerate(src_names):
        key = normalize_name(n)
        if key in src:
            raise ValueError(f"duplicate channel name {n!r}")
        src[key] = i
    idx, missing = [], []
    for n in dst_names:
        i = src.get(normalize_name(n))
        if i is None:
            missing.append(n)
            i = -1
        idx.append(i)
    if missing and fill is None:
        raise ValueError(f"missing channels: {', '.join(missing)}")
    out = np.empty(values.shape[:-1] + (len(dst_names),), dtype=values.dtype)
    for j, i in enumerate(idx):
        out[..., j] = values[..., i] if i >= 0 else fill
    return out


def convert_order(values: np.ndarray, src: str | Sequence[str], dst: str | Sequence[str]) -> np.ndarray:
    """Convert between two orders given as order names or name lists."""
    s = order(src) if isinstance(src, str) else tuple(src)
    d = order(dst) if isinstance(dst, str) else tuple(dst)
    return reorder(values, s, d)


def mirror_weights(weights: np.ndarray) -> np.ndarray:
    """Swap left and right channels of (..., 52) ARKit weights (gaze In/Out stay anatomical)."""
    idx = [INDEX[MIRROR[n]] for n in ARKIT_NAMES]
    return np.asarray(weights)[..., idx]


def indices(names: Iterable[str]) -> np.ndarray:
    """ARKit indices for names."""
    return np.array([INDEX[n] for n in names], dtype=np.int64)
