"""Map ARKit-52 weights onto real rigs' shape-key names: presets, auto-detection and projection.

Two kinds of preset:
- direct: every ARKit channel drives one or more named shape keys with the same weight
  (ARKit variants, Character Creator, Ready Player Me, MetaHuman);
- projection: the rig has only a few shapes (VRM / VRoid); each target shape is a vector in
  ARKit-52 space and every frame is solved as a non-negative least-squares combination of them.

Name lists are facts gathered from public sources; each list names its source. See docs/presets.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping as _MappingT, Sequence

import numpy as np

from ..core.errors import InputError
from .arkit import ARKIT_NAMES, INDEX, NUM_BLENDSHAPES, normalize_name, reorder

# ---------------------------------------------------------------------------------------------
# Name lists
# ---------------------------------------------------------------------------------------------

# FBX/glTF exporters prefix shape names with the blendshape node or mesh name.
_PREFIX_RE = re.compile(r"^(?:blendShapes?\d*[._]|arkit[._])", re.IGNORECASE)
_SIDE_RE = re.compile(r"(?:[._\- ]([LR])|([a-z])([LR]))$")


def _arkit_key(name: str) -> str | None:
    """The ARKit name a variant (``eye_blink_L``, ``blendShape1.EyeBlinkLeft``, ``eyeBlink.L``) denotes."""
    base = name.strip()
    for cand in (base, _PREFIX_RE.sub("", base), base.rsplit(":", 1)[-1]):
        key = normalize_name(cand)
        if key in _ARKIT_BY_KEY:
            return _ARKIT_BY_KEY[key]
        m = _SIDE_RE.search(cand)
        if m:
            side = "Left" if (m.group(1) or m.group(3)) == "L" else "Right"
            stem = cand[: m.start()] + (m.group(2) or "")
            key = normalize_name(stem + side)
            if key in _ARKIT_BY_KEY:
                return _ARKIT_BY_KEY[key]
    return None


_ARKIT_BY_KEY = {normalize_name(n): n for n in ARKIT_NAMES}

# Character Creator 4 "Extended" facial profile. Names from public CC4 sample code in GitHub:
# a MotionBuilder tool's `CC4facsNames` list and two ARKit->CC4 tables (a Unity
# `ARKitBlendshapePlayer.cs` and a web `ARKIT_TO_CC4_EXTENDED` mapping), which agree name for name.
CC4_EXTENDED: dict[str, tuple[str, ...]] = {
    "browDownLeft": ("Brow_Drop_L",), "browDownRight": ("Brow_Drop_R",),
    "browInnerUp": ("Brow_Raise_Inner_L", "Brow_Raise_Inner_R"),
    "browOuterUpLeft": ("Brow_Raise_Outer_L",), "browOuterUpRight": ("Brow_Raise_Outer_R",),
    "cheekPuff": ("Cheek_Puff_L", "Cheek_Puff_R"),
    "cheekSquintLeft": ("Cheek_Raise_L",), "cheekSquintRight": ("Cheek_Raise_R",),
    "eyeBlinkLeft": ("Eye_Blink_L",), "eyeBlinkRight": ("Eye_Blink_R",),
    # CC names gaze by direction (Eye_L_Look_R = left eye looks to the character's right = inward).
    "eyeLookDownLeft": ("Eye_L_Look_Down",), "eyeLookDownRight": ("Eye_R_Look_Down",),
    "eyeLookInLeft": ("Eye_L_Look_R",), "eyeLookInRight": ("Eye_R_Look_L",),
    "eyeLookOutLeft": ("Eye_L_Look_L",), "eyeLookOutRight": ("Eye_R_Look_R",),
    "eyeLookUpLeft": ("Eye_L_Look_Up",), "eyeLookUpRight": ("Eye_R_Look_Up",),
    "eyeSquintLeft": ("Eye_Squint_L",), "eyeSquintRight": ("Eye_Squint_R",),
    "eyeWideLeft": ("Eye_Wide_L",), "eyeWideRight": ("Eye_Wide_R",),
    "jawForward": ("Jaw_Forward",), "jawLeft": ("Jaw_L",), "jawRight": ("Jaw_R",), "jawOpen": ("Jaw_Open",),
    "mouthClose": ("Mouth_Close",),
    "mouthDimpleLeft": ("Mouth_Dimple_L",), "mouthDimpleRight": ("Mouth_Dimple_R",),
    "mouthFrownLeft": ("Mouth_Frown_L",), "mouthFrownRight": ("Mouth_Frown_R",),
    "mouthFunnel": ("Mouth_Funnel_Up_L", "Mouth_Funnel_Up_R", "Mouth_Funnel_Down_L", "Mouth_Funnel_Down_R"),
    "mouthPucker": ("Mouth_Pucker_Up_L", "Mouth_Pucker_Up_R", "Mouth_Pucker_Down_L", "Mouth_Pucker_Down_R"),
    "mouthLeft": ("Mouth_L",), "mouthRight": ("Mouth_R",),
    "mouthLowerDownLeft": ("Mouth_Down_Lower_L",), "mouthLowerDownRight": ("Mouth_Down_Lower_R",),
    "mouthUpperUpLeft": ("Mouth_Up_Upper_L",), "mouthUpperUpRight": ("Mouth_Up_Upper_R",),
    "mouthPressLeft": ("Mouth_Press_L",), "mouthPressRight": ("Mouth_Press_R",),
    "mouthRollLower": ("Mouth_Roll_In_Lower_L", "Mouth_Roll_In_Lower_R"),
    "mouthRollUpper": ("Mouth_Roll_In_Upper_L", "Mouth_Roll_In_Upper_R"),
    "mouthShrugLower": ("Mouth_Shrug_Lower",), "mouthShrugUpper": ("Mouth_Shrug_Upper",),
    "mouthSmileLeft": ("Mouth_Smile_L",), "mouthSmileRight": ("Mouth_Smile_R",),
    "mouthStretchLeft": ("Mouth_Stretch_L",), "mouthStretchRight": ("Mouth_Stretch_R",),
    "noseSneerLeft": ("Nose_Sneer_L",), "noseSneerRight": ("Nose_Sneer_R",),
    "tongueOut": ("Tongue_Out",),  # on the tongue mesh in CC4 exports; often bone-driven instead
}
# Other CC4 Extended shapes (vocabulary only: they count for detection, nothing drives them).
CC4_EXTENDED_EXTRA: tuple[str, ...] = (
    "V_Open", "V_Explosive", "V_Dental_Lip", "V_Tight_O", "V_Tight", "V_Wide", "V_Affricate", "V_Lip_Open",
    "Brow_Compress_L", "Brow_Compress_R", "Ear_Up_L", "Ear_Up_R", "Ear_Down_L", "Ear_Down_R",
    "Nose_Nostril_Raise_L", "Nose_Nostril_Raise_R", "Nose_Nostril_Dilate_L", "Nose_Nostril_Dilate_R",
    "Nose_Crease_L", "Nose_Crease_R", "Cheek_Suck_L", "Cheek_Suck_R",
    "Mouth_Smile_Sharp_L", "Mouth_Smile_Sharp_R", "Mouth_Tighten_L", "Mouth_Tighten_R",
    "Mouth_Blow_L", "Mouth_Blow_R", "Mouth_Roll_Out_Upper_L", "Mouth_Roll_Out_Upper_R",
    "Mouth_Roll_Out_Lower_L", "Mouth_Roll_Out_Lower_R", "Mouth_Up", "Mouth_Down",
    "Mouth_Drop_Upper", "Mouth_Drop_Lower", "Mouth_Chin_Up", "Mouth_Contract",
    "Jaw_Backward", "Jaw_Up", "Jaw_Down", "Neck_Swallow_Up", "Neck_Swallow_Down",
)

# Character Creator 3+ "ExPlus" / ActorCore ARKit set: A01..A52 in this order. Source: public
# Blender rename scripts and three.js alias tables on GitHub listing A01_Brow_Inner_Up..A52_Tongue_Out.
_CC3_EXPLUS_ORDER = (
    "browInnerUp", "browDownLeft", "browDownRight", "browOuterUpLeft", "browOuterUpRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookOutLeft",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "jawOpen",
    "jawForward", "jawLeft", "jawRight", "mouthFunnel", "mouthPucker",
    "mouthLeft", "mouthRight", "mouthRollUpper", "mouthRollLower", "mouthShrugUpper",
    "mouthShrugLower", "mouthClose", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthStretchLeft",
    "mouthStretchRight", "tongueOut",
)


def _cc3_name(i: int, arkit: str) -> str:
    words = re.findall(r"[A-Z]?[a-z]+", arkit)
    return f"A{i + 1:02d}_" + "_".join(w[0].upper() + w[1:] for w in words)


CC3_EXPLUS: dict[str, tuple[str, ...]] = {a: (_cc3_name(i, a),) for i, a in enumerate(_CC3_EXPLUS_ORDER)}
assert CC3_EXPLUS["jawOpen"] == ("A25_Jaw_Open",) and CC3_EXPLUS["tongueOut"] == ("A52_Tongue_Out",)

# Ready Player Me: ARKit 52 plus Oculus OVR LipSync visemes and a few legacy shapes.
# Source: docs.readyplayer.me "Morph targets" (Apple ARKit, Oculus OVR LipSync pages); legacy
# mouthOpen/mouthSmile/eyesClosed/eyesLookUp/eyesLookDown from gist gtk2k/f4eb00f92e70eac216cfdc336e735c41.
RPM_VISEMES: tuple[str, ...] = (
    "viseme_sil", "viseme_PP", "viseme_FF", "viseme_TH", "viseme_DD", "viseme_kk", "viseme_CH",
    "viseme_SS", "viseme_nn", "viseme_RR", "viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U",
)
RPM_EXTRA: tuple[str, ...] = RPM_VISEMES + ("mouthOpen", "mouthSmile", "eyesClosed", "eyesLookUp", "eyesLookDown")

# MetaHuman: the ARKit pose names of mh_arkit_mapping_pose / Live Link are Epic's EARFaceBlendShape
# enum names (PascalCase). Source: dev.epicgames.com API page EARFaceBlendShape.
METAHUMAN_POSE: dict[str, tuple[str, ...]] = {a: (a[0].upper() + a[1:],) for a in ARKIT_NAMES}
# MetaHuman rig-logic curves. Source: Meta's OculusXR Unreal plugin, MetaHuman face retarget asset
# factory (EOculusXRFaceExpression -> CTRL_expressions_* curve table). Only the names that table
# verifies are used; ARKit channels with no verified counterpart (mouthClose, mouthShrug*,
# mouthRoll*, tongueOut, eyeWide*) stay unmapped rather than guessed.
METAHUMAN_CTRL: dict[str, tuple[str, ...]] = {
    "browDownLeft": ("CTRL_expressions_browDownL",), "browDownRight": ("CTRL_expressions_browDownR",),
    "browInnerUp": ("CTRL_expressions_browRaiseInL", "CTRL_expressions_browRaiseInR"),
    "browOuterUpLeft": ("CTRL_expressions_browRaiseOuterL",),
    "browOuterUpRight": ("CTRL_expressions_browRaiseOuterR",),
    "cheekPuff": ("CTRL_expressions_mouthCheekBlowL", "CTRL_expressions_mouthCheekBlowR"),
    "cheekSquintLeft": ("CTRL_expressions_eyeCheekRaiseL",),
    "cheekSquintRight": ("CTRL_expressions_eyeCheekRaiseR",),
    "eyeBlinkLeft": ("CTRL_expressions_eyeBlinkL",), "eyeBlinkRight": ("CTRL_expressions_eyeBlinkR",),
    "eyeLookDownLeft": ("CTRL_expressions_eyeLookDownL",), "eyeLookDownRight": ("CTRL_expressions_eyeLookDownR",),
    "eyeLookUpLeft": ("CTRL_expressions_eyeLookUpL",), "eyeLookUpRight": ("CTRL_expressions_eyeLookUpR",),
    # Left eye looking out = toward the subject's left; right eye looking in = toward the left too.
    "eyeLookOutLeft": ("CTRL_expressions_eyeLookLeftL",), "eyeLookInLeft": ("CTRL_expressions_eyeLookRightL",),
    "eyeLookInRight": ("CTRL_expressions_eyeLookLeftR",), "eyeLookOutRight": ("CTRL_expressions_eyeLookRightR",),
    "eyeSquintLeft": ("CTRL_expressions_eyeSquintInnerL",), "eyeSquintRight": ("CTRL_expressions_eyeSquintInnerR",),
    "jawOpen": ("CTRL_expressions_jawOpen",), "jawLeft": ("CTRL_expressions_jawLeft",),
    "jawRight": ("CTRL_expressions_jawRight",), "jawForward": ("CTRL_expressions_jawFwd",),
    "mouthLeft": ("CTRL_expressions_mouthLeft",), "mouthRight": ("CTRL_expressions_mouthRight",),
    "mouthSmileLeft": ("CTRL_expressions_mouthCornerPullL",), "mouthSmileRight": ("CTRL_expressions_mouthCornerPullR",),
    "mouthFrownLeft": ("CTRL_expressions_mouthCornerDepressL",),
    "mouthFrownRight": ("CTRL_expressions_mouthCornerDepressR",),
    "mouthDimpleLeft": ("CTRL_expressions_mouthDimpleL",), "mouthDimpleRight": ("CTRL_expressions_mouthDimpleR",),
    "mouthStretchLeft": ("CTRL_expressions_mouthStretchL",), "mouthStretchRight": ("CTRL_expressions_mouthStretchR",),
    "mouthPressLeft": ("CTRL_expressions_mouthLipsPressL",), "mouthPressRight": ("CTRL_expressions_mouthLipsPressR",),
    "mouthUpperUpLeft": ("CTRL_expressions_mouthUpperLipRaiseL",),
    "mouthUpperUpRight": ("CTRL_expressions_mouthUpperLipRaiseR",),
    "mouthLowerDownLeft": ("CTRL_expressions_mouthLowerLipDepressL",),
    "mouthLowerDownRight": ("CTRL_expressions_mouthLowerLipDepressR",),
    "mouthFunnel": ("CTRL_expressions_mouthFunnelUL", "CTRL_expressions_mouthFunnelUR",
                    "CTRL_expressions_mouthFunnelDL", "CTRL_expressions_mouthFunnelDR"),
    "mouthPucker": ("CTRL_expressions_mouthLipsPurseUL", "CTRL_expressions_mouthLipsPurseUR",
                    "CTRL_expressions_mouthLipsPurseDL", "CTRL_expressions_mouthLipsPurseDR"),
    "noseSneerLeft": ("CTRL_expressions_noseWrinkleL",), "noseSneerRight": ("CTRL_expressions_noseWrinkleR",),
}

# VRM 0.x blend shape presets (UniVRM BlendShapePreset / VRM 0.x spec) and VRM 1.0 expression presets
# (VRMC_vrm spec; @pixiv/three-vrm VRMExpressionPresetName).
VRM0_PRESETS: tuple[str, ...] = ("Neutral", "A", "I", "U", "E", "O", "Blink", "Blink_L", "Blink_R", "Joy",
                                 "Angry", "Sorrow", "Fun", "LookUp", "LookDown", "LookLeft", "LookRight")
VRM1_PRESETS: tuple[str, ...] = ("neutral", "aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight",
                                 "happy", "angry", "sad", "relaxed", "surprised",
                                 "lookUp", "lookDown", "lookLeft", "lookRight")
# VRoid Studio face mesh shape keys. Source: public sample code listing a VRoid model's morph targets
# in order (e.g. a Swift `MouthAnimationDirector` comment and a Kotlin `CELIA_FACE_MORPHS` list).
VROID_FCL: tuple[str, ...] = (
    "Fcl_ALL_Neutral", "Fcl_ALL_Angry", "Fcl_ALL_Fun", "Fcl_ALL_Joy", "Fcl_ALL_Sorrow", "Fcl_ALL_Surprised",
    "Fcl_BRW_Angry", "Fcl_BRW_Fun", "Fcl_BRW_Joy", "Fcl_BRW_Sorrow", "Fcl_BRW_Surprised",
    "Fcl_EYE_Natural", "Fcl_EYE_Angry", "Fcl_EYE_Close", "Fcl_EYE_Close_R", "Fcl_EYE_Close_L",
    "Fcl_EYE_Fun", "Fcl_EYE_Joy", "Fcl_EYE_Joy_R", "Fcl_EYE_Joy_L", "Fcl_EYE_Sorrow", "Fcl_EYE_Surprised",
    "Fcl_EYE_Spread", "Fcl_EYE_Iris_Hide", "Fcl_EYE_Highlight_Hide",
    "Fcl_MTH_Close", "Fcl_MTH_Up", "Fcl_MTH_Down", "Fcl_MTH_Angry", "Fcl_MTH_Small", "Fcl_MTH_Large",
    "Fcl_MTH_Neutral", "Fcl_MTH_Fun", "Fcl_MTH_Joy", "Fcl_MTH_Sorrow", "Fcl_MTH_Surprised",
    "Fcl_MTH_SkinFung", "Fcl_MTH_SkinFung_R", "Fcl_MTH_SkinFung_L",
    "Fcl_MTH_A", "Fcl_MTH_I", "Fcl_MTH_U", "Fcl_MTH_E", "Fcl_MTH_O",
)

# ---------------------------------------------------------------------------------------------
# Projection bases: each few-shape target as a vector in ARKit space. These vectors are our own
# modelling choice (approximate articulation of each vowel/expression), not vendor data.
# ---------------------------------------------------------------------------------------------


def _both(stem: str, w: float) -> dict[str, float]:
    return {stem + "Left": w, stem + "Right": w}


_VOWEL_A = {"jawOpen": 1.0, **_both("mouthLowerDown", 0.3)}
_VOWEL_I = {"jawOpen": 0.15, **_both("mouthStretch", 0.6), **_both("mouthUpperUp", 0.2)}
_VOWEL_U = {"mouthPucker": 1.0, "mouthFunnel": 0.2, "jawOpen": 0.1}
_VOWEL_E = {"jawOpen": 0.35, **_both("mouthStretch", 0.4), **_both("mouthLowerDown", 0.2)}
_VOWEL_O = {"mouthFunnel": 1.0, "mouthPucker": 0.3, "jawOpen": 0.4}
_JOY = {**_both("mouthSmile", 1.0), **_both("cheekSquint", 0.5), **_both("eyeSquint", 0.3)}
_ANGRY = {**_both("browDown", 1.0), **_both("noseSneer", 0.4), **_both("eyeSquint", 0.2)}
_SORROW = {"browInnerUp": 1.0, **_both("mouthFrown", 0.8)}
_FUN = {**_both("mouthSmile", 0.6), **_both("eyeSquint", 0.5)}
_SURPRISED = {"browInnerUp": 0.6, **_both("browOuterUp", 1.0), **_both("eyeWide", 1.0), "jawOpen": 0.2}
_LOOK_UP = _both("eyeLookUp", 1.0)
_LOOK_DOWN = _both("eyeLookDown", 1.0)
# Assumption: LookLeft = toward the character's own left (left eye out, right eye in).
_LOOK_LEFT = {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0}
_LOOK_RIGHT = {"eyeLookInLeft": 1.0, "eyeLookOutRight": 1.0}

VRM0_BASIS: dict[str, dict[str, float]] = {
    "A": _VOWEL_A, "I": _VOWEL_I, "U": _VOWEL_U, "E": _VOWEL_E, "O": _VOWEL_O,
    "Blink_L": {"eyeBlinkLeft": 1.0}, "Blink_R": {"eyeBlinkRight": 1.0},
    "Joy": _JOY, "Angry": _ANGRY, "Sorrow": _SORROW, "Fun": _FUN,
    "LookUp": _LOOK_UP, "LookDown": _LOOK_DOWN, "LookLeft": _LOOK_LEFT, "LookRight": _LOOK_RIGHT,
}
VRM1_BASIS: dict[str, dict[str, float]] = {
    "aa": _VOWEL_A, "ih": _VOWEL_I, "ou": _VOWEL_U, "ee": _VOWEL_E, "oh": _VOWEL_O,
    "blinkLeft": {"eyeBlinkLeft": 1.0}, "blinkRight": {"eyeBlinkRight": 1.0},
    "happy": _JOY, "angry": _ANGRY, "sad": _SORROW, "relaxed": _FUN, "surprised": _SURPRISED,
    "lookUp": _LOOK_UP, "lookDown": _LOOK_DOWN, "lookLeft": _LOOK_LEFT, "lookRight": _LOOK_RIGHT,
}
# VRoid parts are regional (brow / eye / mouth), so each gets only its region's channels.
VROID_BASIS: dict[str, dict[str, float]] = {
    "Fcl_MTH_A": _VOWEL_A, "Fcl_MTH_I": _VOWEL_I, "Fcl_MTH_U": _VOWEL_U, "Fcl_MTH_E": _VOWEL_E,
    "Fcl_MTH_O": _VOWEL_O,
    "Fcl_EYE_Close_L": {"eyeBlinkLeft": 1.0}, "Fcl_EYE_Close_R": {"eyeBlinkRight": 1.0},
    "Fcl_EYE_Joy_L": {"eyeSquintLeft": 1.0, "cheekSquintLeft": 0.5},
    "Fcl_EYE_Joy_R": {"eyeSquintRight": 1.0, "cheekSquintRight": 0.5},
    "Fcl_EYE_Surprised": _both("eyeWide", 1.0),
    "Fcl_BRW_Angry": _both("browDown", 1.0), "Fcl_BRW_Sorrow": {"browInnerUp": 1.0},
    "Fcl_BRW_Surprised": {**_both("browOuterUp", 1.0), "browInnerUp": 0.5},
    "Fcl_MTH_Joy": _both("mouthSmile", 1.0), "Fcl_MTH_Sorrow": _both("mouthFrown", 1.0),
    "Fcl_MTH_Angry": {**_both("mouthPress", 0.6), **_both("mouthFrown", 0.4)},
}
# (both, left, right): the both-sides shape equals left + right, so it is left out of the solve and
# the common part min(left, right) is folded into it afterwards; keeps the solve unique.
VRM0_FOLDS = (("Blink", "Blink_L", "Blink_R"),)
VRM1_FOLDS = (("blink", "blinkLeft", "blinkRight"),)
VROID_FOLDS = (("Fcl_EYE_Close", "Fcl_EYE_Close_L", "Fcl_EYE_Close_R"),
               ("Fcl_EYE_Joy", "Fcl_EYE_Joy_L", "Fcl_EYE_Joy_R"))


# ---------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Preset:
    """A naming convention: ARKit -> target names (direct) or target -> ARKit vector (projection)."""

    name: str
    description: str
    direct: dict[str, tuple[str, ...]] = field(default_factory=dict)  # ARKit name -> target names
    extra: tuple[str, ...] = ()  # other names of the convention (count for detection only)
    basis: dict[str, dict[str, float]] = field(default_factory=dict)  # target -> {ARKit: weight}
    folds: tuple[tuple[str, str, str], ...] = ()
    arkit_variants: bool = False  # match any spelling of the ARKit names (see _arkit_key)
    strip: str | None = None  # regex whose match (and everything before it) is dropped from rig names

    @property
    def kind(self) -> str:
        """``direct`` or ``projection``."""
        return "projection" if self.basis else "direct"

    def vocabulary(self) -> tuple[str, ...]:
        """Every shape name this convention defines (exact spelling)."""
        names = [t for ts in self.direct.values() for t in ts] + list(self.basis)
        names += [b for b, _, _ in self.folds] + list(self.extra)
        return tuple(dict.fromkeys(names))

    def key(self, rig_name: str) -> str:
        """Normalized form of a rig shape name under this preset."""
        if self.strip:
            m = re.search(self.strip, rig_name)
            if m:
                rig_name = rig_name[m.start():]
        return normalize_name(_PREFIX_RE.sub("", rig_name.strip()))


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("arkit", "ARKit 52 names and spelling variants (case, snake_case, _L/_R, .L/.R, "
           "blendShape1./ARKit_ prefixes)", direct={a: (a,) for a in ARKIT_NAMES}, arkit_variants=True),
    Preset("cc4_extended", "Reallusion Character Creator 4 Extended facial profile",
           direct=CC4_EXTENDED, extra=CC4_EXTENDED_EXTRA),
    Preset("cc3_explus", "Reallusion CC3+ ExPlus / ActorCore ARKit set (A01_..A52_)", direct=CC3_EXPLUS),
    Preset("readyplayerme", "Ready Player Me avatar: ARKit 52 + Oculus visemes",
           direct={a: (a,) for a in ARKIT_NAMES}, extra=RPM_EXTRA, arkit_variants=True),
    Preset("metahuman", "MetaHuman / Live Link ARKit pose curves (PascalCase) and CTRL_expressions_* curves",
           direct={a: METAHUMAN_POSE[a] + METAHUMAN_CTRL.get(a, ()) for a in ARKIT_NAMES}),
    Preset("vrm0", "VRM 0.x blend shape groups (A I U E O, Blink, Joy...)", basis=VRM0_BASIS,
           folds=VRM0_FOLDS, extra=VRM0_PRESETS),
    Preset("vrm1", "VRM 1.0 expression presets (aa ih ou ee oh, happy...)", basis=VRM1_BASIS,
           folds=VRM1_FOLDS, extra=VRM1_PRESETS),
    Preset("vroid", "VRoid Studio face mesh shape keys (Fcl_*)", basis=VROID_BASIS, folds=VROID_FOLDS,
           extra=VROID_FCL, strip=r"Fcl_"),
)}


def get_preset(name: str) -> Preset:
    """A preset by name (case-insensitive)."""
    p = PRESETS.get(str(name).lower())
    if p is None:
        raise InputError(f"unknown rig preset {name!r}; known: {', '.join(PRESETS)}")
    return p


def _match(preset: Preset, rig_names: Sequence[str]) -> tuple[dict[str, str], int]:
    """Rig names recognised by the preset -> the preset's canonical name; and exact-spelling hits."""
    by_key: dict[str, str] = {}
    for n in preset.vocabulary():
        by_key.setdefault(preset.key(n), n)
    exact_vocab = set(preset.vocabulary())
    found: dict[str, str] = {}
    exact = 0
    for rn in rig_names:
        canon = by_key.get(preset.key(rn))
        if canon is None and preset.arkit_variants:
            canon = _arkit_key(rn)
        if canon is not None:
            found[rn] = canon
            exact += rn in exact_vocab
    return found, exact


def detect_preset(shape_key_names: Sequence[str]) -> tuple[str, float]:
    """The preset recognising most of the rig's names and the fraction of names it recognises.

    Ties go to the preset with more exact-spelling hits, then to the smaller vocabulary (a plain
    ARKit rig is ``arkit``, not ``readyplayerme``). Raises InputError if no preset recognises any name.
    """
    names = _clean_names(shape_key_names)
    best = None
    for p in PRESETS.values():
        found, exact = _match(p, names)
        rank = (len(found), exact, -len(p.vocabulary()))
        if best is None or rank > best[0]:
            best = (rank, p.name)
    if best is None or best[0][0] == 0:
        raise InputError("no rig preset recognises any of these shape-key names; "
                         "pass preset= and overrides= to map them by hand")
    return best[1], best[0][0] / len(names)


def _clean_names(shape_key_names: Sequence[str]) -> list[str]:
    if isinstance(shape_key_names, str):
        raise InputError("shape_key_names must be a list of names, not one string")
    names = [str(n) for n in shape_key_names]
    names = [n for n in names if n.strip() and n.strip().lower() != "basis"]  # Blender's reference key
    if not names:
        raise InputError("the rig has no shape keys to map")
    return names


# ---------------------------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------------------------

@dataclass
class Mapping:
    """How ARKit weights drive one rig's shape keys; :meth:`apply` turns (T, 52) into (T, K)."""

    preset: str
    target_names: tuple[str, ...]  # the K rig shape keys this mapping drives, in rig order
    direct: np.ndarray  # (K, 52) out = w @ direct.T for copied channels
    arkit_to_targets: dict[str, tuple[str, ...]]  # direct part: ARKit name -> rig names
    unmapped_arkit: tuple[str, ...]  # ARKit channels that reach no target
    unused_targets: tuple[str, ...]  # rig shape keys nothing drives
    basis: np.ndarray | None = None  # (P, 52) projection basis rows, one per basis_names
    basis_names: tuple[str, ...] = ()  # rig names of the projection targets
    folds: tuple[tuple[str, str, str], ...] = ()  # (both, left, right) rig names
    projected_mask: np.ndarray | None = None  # (52,) bool: ARKit channels fed to the projection

    @property
    def arkit_to_target(self) -> dict[str, str]:
        """ARKit name -> first rig name it drives (direct part)."""
        return {a: ts[0] for a, ts in self.arkit_to_targets.items()}

    @property
    def kind(self) -> str:
        """``direct`` or ``projection``."""
        return "projection" if self.basis is not None else "direct"

    def apply(self, weights: np.ndarray, names: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
        """(T, 52) ARKit weights (columns named by ``names``, default ARKit order) -> ((T, K), K names)."""
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim == 1:
            w = w[None, :]
        if w.ndim != 2:
            raise InputError(f"weights must be (T, 52), got shape {w.shape}")
        if names is not None and tuple(names) != ARKIT_NAMES:
            try:
                w = reorder(w, list(names), ARKIT_NAMES)
            except ValueError as e:
                raise InputError(f"cannot map weights: {e}") from None
        elif w.shape[1] != NUM_BLENDSHAPES:
            raise InputError(f"weights have {w.shape[1]} channels, expected {NUM_BLENDSHAPES}")
        if not np.all(np.isfinite(w)):
            raise InputError("weights contain NaN or infinite values")
        out = w @ self.direct.T  # (T, K)
        if self.basis is not None and len(self.basis_names):
            proj = project_weights(w * self.projected_mask, self.basis)  # (T, P)
            col = {n: i for i, n in enumerate(self.target_names)}
            for j, n in enumerate(self.basis_names):
                out[:, col[n]] += proj[:, j]
            for both, left, right in self.folds:
                if both in col and left in col and right in col:
                    common = np.minimum(out[:, col[left]], out[:, col[right]])
                    out[:, col[both]] += common
                    out[:, col[left]] -= common
                    out[:, col[right]] -= common
        return np.clip(out, 0.0, 1.0).astype(np.float32), list(self.target_names)

    def report(self) -> str:
        """Human-readable summary: what drives what, what is left out."""
        lines = [f"preset: {self.preset} ({self.kind}); {len(self.target_names)} rig shape keys driven"]
        for a, ts in self.arkit_to_targets.items():
            lines.append(f"  {a} -> {', '.join(ts)}")
        if self.basis is not None:
            for n, row in zip(self.basis_names, self.basis):
                parts = [f"{ARKIT_NAMES[i]}*{row[i]:.2f}" for i in np.flatnonzero(row)]
                lines.append(f"  {n} ~ " + " + ".join(parts))
            for both, left, right in self.folds:
                if both in self.target_names:
                    lines.append(f"  {both} = common part of {left} and {right}")
        lines.append(f"unmapped ARKit channels ({len(self.unmapped_arkit)}): "
                     + (", ".join(self.unmapped_arkit) or "none"))
        lines.append(f"unused rig shape keys ({len(self.unused_targets)}): "
                     + (", ".join(self.unused_targets) or "none"))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-friendly form (for sidecar files or Blender custom properties)."""
        d = {"preset": self.preset, "target_names": list(self.target_names),
             "arkit_to_targets": {a: list(t) for a, t in self.arkit_to_targets.items()},
             "unmapped_arkit": list(self.unmapped_arkit), "unused_targets": list(self.unused_targets)}
        if self.basis is not None:
            d["basis"] = {n: {ARKIT_NAMES[i]: float(r[i]) for i in np.flatnonzero(r)}
                          for n, r in zip(self.basis_names, self.basis)}
        return d


def _canonical_arkit(name: str) -> str:
    a = _arkit_key(name)
    if a is None:
        raise InputError(f"override key {name!r} is not an ARKit blendshape name")
    return a


def _basis_rows(p, canon_to_rig: dict[str, list[str]], rig_set: set[str],
                basis_overrides) -> dict[str, dict[str, float]]:
    """Rig shape key -> {ARKit name: weight} projection vectors of a projection preset (with the overrides)."""
    basis_rows: dict[str, dict[str, float]] = {}
    if p.kind == "projection":
        for c, vec in p.basis.items():
            for rn in canon_to_rig.get(c, ()):
                basis_rows[rn] = dict(vec)
        for both, left, right in p.folds:
            # A rig with only the both-sides shape gets it as an ordinary basis vector.
            if both in canon_to_rig and not (left in canon_to_rig and right in canon_to_rig):
                vec = dict(p.basis[left])
                for k, v in p.basis[right].items():
                    vec[k] = vec.get(k, 0.0) + v
                for rn in canon_to_rig[both]:
                    basis_rows[rn] = vec
    if basis_overrides:
        if p.kind != "projection":
            raise InputError(f"basis_overrides need a projection preset (vrm0, vrm1, vroid), not {p.name!r}")
        for rn, vec in basis_overrides.items():
            if rn not in rig_set:
                raise InputError(f"basis override target {rn!r} is not one of the rig's shape keys")
            basis_rows[rn] = {_canonical_arkit(k): float(v) for k, v in vec.items()}
    return basis_rows


def _apply_overrides(a2t: dict[str, tuple[str, ...]], overrides, rig_set: set[str]) -> set[str]:
    """Put the user's ARKit -> shape key(s) overrides into ``a2t`` (None drives nothing); returns the ARKit
    names now copied directly."""
    copied: set[str] = set()
    for k, v in (overrides or {}).items():
        a = _canonical_arkit(k)
        ts = () if v is None else ((v,) if isinstance(v, str) else tuple(v))
        for t in ts:
            if t not in rig_set:
                raise InputError(f"override target {t!r} for {a} is not one of the rig's shape keys")
        copied.add(a)
        if ts:
            a2t[a] = ts
        else:
            a2t.pop(a, None)
    return copied


def map_names(shape_key_names: Sequence[str], preset: str | None = None,
              overrides: _MappingT[str, str | Sequence[str] | None] | None = None,
              basis_overrides: _MappingT[str, _MappingT[str, float]] | None = None) -> Mapping:
    """Build the Mapping from ARKit-52 to a rig's shape keys.

    ``preset``: a name from PRESETS, or None to auto-detect. ``overrides``: ARKit name -> rig shape
    key(s) to drive directly, or None to drive nothing; wins over the preset (for projection presets
    that ARKit channel is copied instead of projected). ``basis_overrides``: rig shape key ->
    {ARKit name: weight}, replacing or adding projection vectors (projection presets only).
    """
    names = _clean_names(shape_key_names)
    p = get_preset(preset) if preset is not None else get_preset(detect_preset(names)[0])
    found, _ = _match(p, names)
    canon_to_rig: dict[str, list[str]] = {}
    for rn, c in found.items():
        canon_to_rig.setdefault(c, []).append(rn)
    rig_set = set(names)

    a2t: dict[str, tuple[str, ...]] = {}
    if p.kind == "direct":
        for a in ARKIT_NAMES:
            ts = tuple(dict.fromkeys(rn for c in p.direct.get(a, ()) for rn in canon_to_rig.get(c, ())))
            if ts:
                a2t[a] = ts

    basis_rows = _basis_rows(p, canon_to_rig, rig_set, basis_overrides)
    copied = _apply_overrides(a2t, overrides, rig_set)

    folds = []
    for both, left, right in p.folds:
        rb, rl, rr = (canon_to_rig.get(x, [None])[0] for x in (both, left, right))
        if rb and rl and rr and rl in basis_rows and rr in basis_rows:
            folds.append((rb, rl, rr))

    driven = set(t for ts in a2t.values() for t in ts) | set(basis_rows) | {f[0] for f in folds}
    target_names = tuple(n for n in names if n in driven)
    col = {n: i for i, n in enumerate(target_names)}
    direct = np.zeros((len(target_names), NUM_BLENDSHAPES))
    for a, ts in a2t.items():
        for t in ts:
            direct[col[t], INDEX[a]] = 1.0

    basis = None
    basis_names = tuple(n for n in target_names if n in basis_rows)
    mask = None
    if p.kind == "projection":
        basis = np.zeros((len(basis_names), NUM_BLENDSHAPES))
        for j, n in enumerate(basis_names):
            for a, v in basis_rows[n].items():
                basis[j, INDEX[a]] = v
        mask = np.array([a not in copied for a in ARKIT_NAMES], dtype=np.float64)
        reach = (np.abs(basis).sum(axis=0) > 0) & (mask > 0)
    else:
        reach = np.zeros(NUM_BLENDSHAPES, dtype=bool)
    reach |= np.abs(direct).sum(axis=0) > 0
    unmapped = tuple(a for a in ARKIT_NAMES if not reach[INDEX[a]])
    unused = tuple(n for n in names if n not in driven)
    return Mapping(p.name, target_names, direct, a2t, unmapped, unused, basis, basis_names,
                   tuple(folds), mask)


# ---------------------------------------------------------------------------------------------
# Non-negative least squares, per frame (numpy only)
# ---------------------------------------------------------------------------------------------

def _nnls(ata: np.ndarray, atb: np.ndarray, tol: float = 1e-10, max_iter: int = 200) -> np.ndarray:
    """Lawson-Hanson active set on the normal equations: min ||A x - b||, x >= 0."""
    n = ata.shape[0]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    for _ in range(max_iter):
        grad = atb - ata @ x
        cand = (~passive) & (grad > tol)
        if not cand.any():
            break
        passive[np.argmax(np.where(cand, grad, -np.inf))] = True
        while True:
            idx = np.flatnonzero(passive)
            z = np.zeros(n)
            z[idx] = np.linalg.lstsq(ata[np.ix_(idx, idx)], atb[idx], rcond=None)[0]
            if np.all(z[idx] > tol):
                x = z
                break
            neg = idx[z[idx] <= tol]
            alpha = np.min(x[neg] / np.maximum(x[neg] - z[neg], 1e-300))
            x = x + alpha * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
    return x


def project_weights(weights: np.ndarray, basis: np.ndarray, method: str = "nnls") -> np.ndarray:
    """Per-frame least-squares weights of ``basis`` (K, 52) rows reproducing (T, 52) ARKit weights.

    ``method``: ``nnls`` (exact non-negative solve) or ``clip`` (unconstrained solve, then clip).
    Returns (T, K) in [0, 1].
    """
    w = np.asarray(weights, dtype=np.float64)
    b = np.asarray(basis, dtype=np.float64)
    if w.ndim != 2 or b.ndim != 2 or w.shape[1] != b.shape[1]:
        raise InputError(f"weights {w.shape} and basis {b.shape} must be (T, N) and (K, N)")
    if b.shape[0] == 0:
        return np.zeros((w.shape[0], 0))
    ata = b @ b.T  # (K, K)
    atb = w @ b.T  # (T, K)
    if method == "clip":
        x = np.linalg.lstsq(ata, atb.T, rcond=None)[0].T
    elif method == "nnls":
        x = np.zeros_like(atb)
        for t in np.flatnonzero(np.any(atb > 0, axis=1)):
            x[t] = _nnls(ata, atb[t])
    else:
        raise InputError(f"unknown projection method {method!r}; use nnls or clip")
    return np.clip(x, 0.0, 1.0)


def apply_to_rig(weights: np.ndarray, shape_key_names: Sequence[str], preset: str | None = None,
                 overrides: _MappingT[str, str | Sequence[str] | None] | None = None
                 ) -> tuple[np.ndarray, list[str]]:
    """Shortcut: map_names(...).apply(weights) for (T, 52) ARKit-order weights."""
    return map_names(shape_key_names, preset, overrides).apply(weights)


__all__ = ["Preset", "PRESETS", "Mapping", "get_preset", "detect_preset", "map_names", "project_weights",
           "apply_to_rig", "CC4_EXTENDED", "CC3_EXPLUS", "METAHUMAN_CTRL", "RPM_VISEMES", "VRM0_PRESETS",
           "VRM1_PRESETS", "VROID_FCL"]
