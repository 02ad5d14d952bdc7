"""Rig presets: detection on real shape-key lists, direct mapping coverage, VRM projection."""
import numpy as np
import pytest

from dreamtalk.core.errors import InputError
from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX
from dreamtalk.rigs.presets import PRESETS, detect_preset, map_names, project_weights

# Ready Player Me avatar morph targets as listed in gist gtk2k/f4eb00f92e70eac216cfdc336e735c41
# (order and the "mouseRight" typo kept as published; tongueOut and eyeLook* absent there).
RPM_GIST = [
    "mouthOpen", "mouthSmile", "eyesClosed", "eyesLookUp", "eyesLookDown", "eyeBlinkLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft", "jawRight",
    "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouseRight", "mouthSmileLeft",
    "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight", "BrowInnerUp",
    "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight", "viseme_sil", "viseme_PP", "viseme_FF", "viseme_TH", "viseme_DD",
    "viseme_kk", "viseme_CH", "viseme_SS", "viseme_nn", "viseme_RR", "viseme_aa", "viseme_E", "viseme_I",
    "viseme_O", "viseme_U",
]
# A VRoid Studio face mesh's morph targets (public Swift sample, MouthAnimationDirector.swift comment;
# the Fcl_HA_* teeth shapes after Fcl_MTH_O included as published up to Fcl_HA_Fung3).
VROID_FACE = [
    "Fcl_ALL_Neutral", "Fcl_ALL_Angry", "Fcl_ALL_Fun", "Fcl_ALL_Joy", "Fcl_ALL_Sorrow", "Fcl_ALL_Surprised",
    "Fcl_BRW_Angry", "Fcl_BRW_Fun", "Fcl_BRW_Joy", "Fcl_BRW_Sorrow", "Fcl_BRW_Surprised", "Fcl_EYE_Natural",
    "Fcl_EYE_Angry", "Fcl_EYE_Close", "Fcl_EYE_Close_R", "Fcl_EYE_Close_L", "Fcl_EYE_Fun", "Fcl_EYE_Joy",
    "Fcl_EYE_Joy_R", "Fcl_EYE_Joy_L", "Fcl_EYE_Sorrow", "Fcl_EYE_Surprised", "Fcl_EYE_Spread",
    "Fcl_EYE_Iris_Hide", "Fcl_EYE_Highlight_Hide", "Fcl_MTH_Close", "Fcl_MTH_Up", "Fcl_MTH_Down",
    "Fcl_MTH_Angry", "Fcl_MTH_Small", "Fcl_MTH_Large", "Fcl_MTH_Neutral", "Fcl_MTH_Fun", "Fcl_MTH_Joy",
    "Fcl_MTH_Sorrow", "Fcl_MTH_Surprised", "Fcl_MTH_SkinFung", "Fcl_MTH_SkinFung_R", "Fcl_MTH_SkinFung_L",
    "Fcl_MTH_A", "Fcl_MTH_I", "Fcl_MTH_U", "Fcl_MTH_E", "Fcl_MTH_O", "Fcl_HA_Hide", "Fcl_HA_Fung1",
    "Fcl_HA_Fung1_Low", "Fcl_HA_Fung1_Up", "Fcl_HA_Fung2", "Fcl_HA_Fung2_Low", "Fcl_HA_Fung2_Up", "Fcl_HA_Fung3",
]
# Same VRoid model's names as three.js sees them in a glTF (public JS sample: "Face.M_F00_000_00_" prefix).
VROID_GLTF = ["Face.M_F00_000_00_" + n for n in VROID_FACE[:44]]
# VRM 1.0 expression presets (manugill/vrm-transform src/constants.ts PRESET_EXPRESSION_NAMES).
VRM1_LIST = ["happy", "angry", "sad", "relaxed", "surprised", "aa", "ih", "ou", "ee", "oh", "blink",
             "blinkLeft", "blinkRight", "lookUp", "lookDown", "lookLeft", "lookRight", "neutral"]
# VRM 0.x blend shape groups as UniVRM names them (BlendShapePreset).
VRM0_LIST = ["Neutral", "A", "I", "U", "E", "O", "Blink", "Joy", "Angry", "Sorrow", "Fun", "LookUp",
             "LookDown", "LookLeft", "LookRight", "Blink_L", "Blink_R"]
# CC4 Extended face shapes (public MotionBuilder script `CC4facsNames`, first 60 entries + jaw/mouth block).
CC4_LIST = [
    "V_Open", "V_Explosive", "V_Dental_Lip", "V_Tight_O", "V_Tight", "V_Wide", "V_Affricate", "V_Lip_Open",
    "Brow_Raise_Inner_L", "Brow_Raise_Inner_R", "Brow_Raise_Outer_L", "Brow_Raise_Outer_R", "Brow_Drop_L",
    "Brow_Drop_R", "Brow_Compress_L", "Brow_Compress_R", "Eye_Blink_L", "Eye_Blink_R", "Eye_Squint_L",
    "Eye_Squint_R", "Eye_Wide_L", "Eye_Wide_R", "Eye_L_Look_L", "Eye_R_Look_L", "Eye_L_Look_R", "Eye_R_Look_R",
    "Eye_L_Look_Up", "Eye_R_Look_Up", "Eye_L_Look_Down", "Eye_R_Look_Down", "Nose_Sneer_L", "Nose_Sneer_R",
    "Cheek_Raise_L", "Cheek_Raise_R", "Cheek_Suck_L", "Cheek_Suck_R", "Cheek_Puff_L", "Cheek_Puff_R",
    "Mouth_Smile_L", "Mouth_Smile_R", "Mouth_Frown_L", "Mouth_Frown_R", "Mouth_Stretch_L", "Mouth_Stretch_R",
    "Mouth_Dimple_L", "Mouth_Dimple_R", "Mouth_Press_L", "Mouth_Press_R", "Mouth_Pucker_Up_L",
    "Mouth_Pucker_Up_R", "Mouth_Pucker_Down_L", "Mouth_Pucker_Down_R", "Mouth_Funnel_Up_L", "Mouth_Funnel_Up_R",
    "Mouth_Funnel_Down_L", "Mouth_Funnel_Down_R", "Mouth_Roll_In_Upper_L", "Mouth_Roll_In_Upper_R",
    "Mouth_Roll_In_Lower_L", "Mouth_Roll_In_Lower_R", "Mouth_L", "Mouth_R", "Mouth_Shrug_Upper",
    "Mouth_Shrug_Lower", "Mouth_Up_Upper_L", "Mouth_Up_Upper_R", "Mouth_Down_Lower_L", "Mouth_Down_Lower_R",
    "Mouth_Close", "Jaw_Open", "Jaw_Forward", "Jaw_Backward", "Jaw_L", "Jaw_R",
]
# CC3+ ExPlus / ActorCore (public Blender rename script list1: A01_Brow_Inner_Up .. A52_Tongue_Out).
CC3_LIST = [
    "A01_Brow_Inner_Up", "A02_Brow_Down_Left", "A03_Brow_Down_Right", "A04_Brow_Outer_Up_Left",
    "A05_Brow_Outer_Up_Right", "A06_Eye_Look_Up_Left", "A07_Eye_Look_Up_Right", "A08_Eye_Look_Down_Left",
    "A09_Eye_Look_Down_Right", "A10_Eye_Look_Out_Left", "A11_Eye_Look_In_Left", "A12_Eye_Look_In_Right",
    "A13_Eye_Look_Out_Right", "A14_Eye_Blink_Left", "A15_Eye_Blink_Right", "A16_Eye_Squint_Left",
    "A17_Eye_Squint_Right", "A18_Eye_Wide_Left", "A19_Eye_Wide_Right", "A20_Cheek_Puff", "A21_Cheek_Squint_Left",
    "A22_Cheek_Squint_Right", "A23_Nose_Sneer_Left", "A24_Nose_Sneer_Right", "A25_Jaw_Open", "A26_Jaw_Forward",
    "A27_Jaw_Left", "A28_Jaw_Right", "A29_Mouth_Funnel", "A30_Mouth_Pucker", "A31_Mouth_Left", "A32_Mouth_Right",
    "A33_Mouth_Roll_Upper", "A34_Mouth_Roll_Lower", "A35_Mouth_Shrug_Upper", "A36_Mouth_Shrug_Lower",
    "A37_Mouth_Close", "A38_Mouth_Smile_Left", "A39_Mouth_Smile_Right", "A40_Mouth_Frown_Left",
    "A41_Mouth_Frown_Right", "A42_Mouth_Dimple_Left", "A43_Mouth_Dimple_Right", "A44_Mouth_Upper_Up_Left",
    "A45_Mouth_Upper_Up_Right", "A46_Mouth_Lower_Down_Left", "A47_Mouth_Lower_Down_Right", "A48_Mouth_Press_Left",
    "A49_Mouth_Press_Right", "A50_Mouth_Stretch_Left", "A51_Mouth_Stretch_Right", "A52_Tongue_Out",
]
# Snake-case ARKit rig (public Blender pastebin "52_blendshapes_Names.txt", first 46 entries).
SNAKE_L_R = [
    "Basis", "browOuterUp_L", "browOuterUp_R", "eyeSquint_L", "eyeSquint_R", "eyeLookIn_L", "eyeLookOut_L",
    "eyeLookIn_R", "eyeLookOut_R", "eyeLookUp_L", "eyeLookUp_R", "eyeLookDown_L", "eyeLookDown_R", "cheekPuff",
    "cheekSquint_L", "cheekSquint_R", "noseSneer_L", "noseSneer_R", "mouthLeft", "mouthRight", "mouthPucker",
    "mouthFunnel", "mouthSmile_L", "mouthSmile_R", "mouthFrown_L", "mouthFrown_R", "mouthDimple_L",
    "mouthDimple_R", "mouthPress_L", "mouthPress_R", "mouthShrugLower", "mouthShrugUpper", "mouthStretch_L",
    "mouthStretch_R", "mouthUpperUp_L", "mouthUpperUp_R", "mouthLowerDown_L", "mouthLowerDown_R",
    "mouthRollUpper", "mouthRollLower", "mouthClosed", "jawForward", "jawOpen", "jawLeft", "jawRight",
    "browInnerUp",
]
# MetaHuman face curves (Epic EARFaceBlendShape PascalCase names + CTRL_expressions_* from Meta's
# OculusXR MetaHuman retarget table).
MH_LIST = [n[0].upper() + n[1:] for n in ARKIT_NAMES] + [
    "CTRL_expressions_eyeBlinkL", "CTRL_expressions_eyeBlinkR", "CTRL_expressions_jawOpen",
    "CTRL_expressions_mouthCornerPullL", "CTRL_expressions_mouthCornerPullR", "CTRL_expressions_jawChinRaiseDL",
]


def _frame(**kw):
    w = np.zeros((1, 52), dtype=np.float32)
    for k, v in kw.items():
        w[0, INDEX[k]] = v
    return w


@pytest.mark.parametrize("names,expected", [
    (list(ARKIT_NAMES), "arkit"), (RPM_GIST, "readyplayerme"), (VROID_FACE, "vroid"), (VROID_GLTF, "vroid"),
    (VRM1_LIST, "vrm1"), (VRM0_LIST, "vrm0"), (CC4_LIST, "cc4_extended"), (CC3_LIST, "cc3_explus"),
    (SNAKE_L_R, "arkit"), (MH_LIST, "metahuman"),
])
def test_detection_on_real_lists(names, expected):
    preset, score = detect_preset(names)
    assert preset == expected
    assert 0.0 < score <= 1.0


def test_arkit_variants_all_resolve():
    variants = ["EyeBlinkLeft", "eyeblinkleft", "eye_blink_left", "Eye_Blink_Left", "eyeBlink_L", "eyeBlink.L",
                "eyeBlink_Left", "blendShape1.eyeBlinkLeft", "blendShape.EyeBlinkLeft", "ARKit_eyeBlinkLeft"]
    for v in variants:
        m = map_names([v, "jawOpen"], preset="arkit")
        assert m.arkit_to_target["eyeBlinkLeft"] == v, v


def test_snake_rig_coverage_and_unmapped_report():
    m = map_names(SNAKE_L_R)
    assert m.preset == "arkit"
    # The list lacks blink, wide, browDown, tongue; "mouthClosed" is not an ARKit spelling.
    assert set(m.unmapped_arkit) == {"eyeBlinkLeft", "eyeBlinkRight", "eyeWideLeft", "eyeWideRight",
                                     "browDownLeft", "browDownRight", "tongueOut", "mouthClose"}
    assert m.unused_targets == ("mouthClosed",)
    assert m.arkit_to_target["mouthSmileLeft"] == "mouthSmile_L"
    assert "mouthClose" in m.report() and "mouthClosed" in m.report()


def test_cc4_mapping_and_apply():
    m = map_names(CC4_LIST)
    assert m.preset == "cc4_extended"
    assert m.arkit_to_targets["browInnerUp"] == ("Brow_Raise_Inner_L", "Brow_Raise_Inner_R")
    assert m.arkit_to_target["eyeLookInLeft"] == "Eye_L_Look_R"
    assert m.unmapped_arkit == ("tongueOut",)  # Tongue_Out lives on another mesh
    assert "V_Open" in m.unused_targets and "Jaw_Backward" in m.unused_targets
    out, names = m.apply(_frame(browInnerUp=0.6, jawOpen=0.3))
    got = dict(zip(names, out[0]))
    assert got["Brow_Raise_Inner_L"] == pytest.approx(0.6) and got["Brow_Raise_Inner_R"] == pytest.approx(0.6)
    assert got["Jaw_Open"] == pytest.approx(0.3)
    assert sum(v > 0 for v in got.values()) == 3


def test_cc3_and_rpm_and_metahuman_cover_arkit():
    assert map_names(CC3_LIST).unmapped_arkit == ()
    rpm = map_names(RPM_GIST)
    assert set(rpm.unmapped_arkit) == {"eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
                                       "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
                                       "mouthRight", "tongueOut"}
    assert "viseme_aa" in rpm.unused_targets and "mouseRight" in rpm.unused_targets
    mh = map_names(MH_LIST)
    assert mh.unmapped_arkit == ()
    assert mh.arkit_to_targets["eyeBlinkLeft"] == ("EyeBlinkLeft", "CTRL_expressions_eyeBlinkL")
    assert mh.arkit_to_targets["mouthSmileRight"] == ("MouthSmileRight", "CTRL_expressions_mouthCornerPullR")


def test_apply_by_name_not_position():
    m = map_names(list(ARKIT_NAMES))
    w = _frame(jawOpen=0.8)
    rev = list(reversed(ARKIT_NAMES))
    out, names = m.apply(w[:, ::-1], names=rev)
    assert dict(zip(names, out[0]))["jawOpen"] == pytest.approx(0.8)
    with pytest.raises(InputError):
        m.apply(np.zeros((2, 51)))


def test_overrides():
    m = map_names(CC4_LIST, overrides={"tongueOut": "V_Open", "jaw_open": None})
    assert m.arkit_to_target["tongueOut"] == "V_Open"
    assert "jawOpen" in m.unmapped_arkit and "Jaw_Open" in m.unused_targets
    with pytest.raises(InputError):
        map_names(CC4_LIST, overrides={"notAShape": "V_Open"})
    with pytest.raises(InputError):
        map_names(CC4_LIST, overrides={"jawOpen": "NoSuchKey"})


@pytest.mark.parametrize("names,a,blink", [(VRM0_LIST, "A", "Blink"), (VRM1_LIST, "aa", "blink"),
                                           (VROID_FACE, "Fcl_MTH_A", "Fcl_EYE_Close")])
def test_projection_jaw_and_blink(names, a, blink):
    m = map_names(names)
    assert m.kind == "projection" and m.basis.shape == (len(m.basis_names), 52)
    frames = np.concatenate([_frame(jawOpen=1.0), _frame(eyeBlinkLeft=1.0, eyeBlinkRight=1.0),
                             _frame(eyeBlinkLeft=1.0)])
    out, tn = m.apply(frames)
    assert out.shape == (3, len(tn)) and out.min() >= 0.0 and out.max() <= 1.0
    jaw = dict(zip(tn, out[0]))
    assert jaw[a] > 0.7 and jaw[a] >= 0.8 * sum(jaw.values())
    both = dict(zip(tn, out[1]))
    assert both[blink] == pytest.approx(1.0, abs=1e-6) and sum(both.values()) == pytest.approx(1.0, abs=1e-6)
    left = dict(zip(tn, out[2]))
    assert left[blink] == 0.0 and max(left, key=left.get) in ("Blink_L", "blinkLeft", "Fcl_EYE_Close_L")


def test_projection_on_random_frames_is_nonnegative_and_optimal():
    m = map_names(VRM1_LIST)
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, (40, 52)) ** 3
    x = project_weights(w, m.basis)
    assert x.min() >= 0 and x.max() <= 1
    # KKT: the gradient is <= 0 on zero coefficients (checked where no coefficient hit the upper clip).
    ok = x.max(axis=1) < 1
    grad = (w - x @ m.basis) @ m.basis.T
    assert np.all(grad[ok][x[ok] == 0] <= 1e-6)
    assert np.allclose(grad[ok][x[ok] > 0], 0, atol=1e-6)
    # nnls never fits worse than clipping the unconstrained solution
    xc = project_weights(w, m.basis, method="clip")
    r_n = np.linalg.norm(w - x @ m.basis, axis=1)
    r_c = np.linalg.norm(w - xc @ m.basis, axis=1)
    assert np.all(r_n <= r_c + 1e-9)


def test_only_both_blink_gets_both_eyes():
    m = map_names(["A", "I", "U", "E", "O", "Blink"], preset="vrm0")
    out, tn = m.apply(_frame(eyeBlinkLeft=1.0, eyeBlinkRight=1.0))
    assert dict(zip(tn, out[0]))["Blink"] == pytest.approx(1.0, abs=1e-6)


def test_bad_input():
    with pytest.raises(InputError):
        detect_preset(["Basis", "foo", "bar"])
    with pytest.raises(InputError):
        map_names([])
    with pytest.raises(InputError):
        map_names(list(ARKIT_NAMES), preset="nope")
    assert set(PRESETS) >= {"arkit", "cc4_extended", "cc3_explus", "readyplayerme", "metahuman", "vrm0",
                            "vrm1", "vroid"}
