"""ARKit rig spec: names, orders, by-name conversion, groups, mirror pairs, mouth set."""
from __future__ import annotations

import re

import numpy as np
import pytest

from dreamtalk.rigs import arkit
from dreamtalk.rigs.arkit import (ALPHABETICAL_NAMES, ARKIT_NAMES, EMOTION_MOUTH, GROUPS, INDEX, LLF_BLENDSHAPE_ORDER,
                                  LLF_COLUMNS, MIRROR, MIRROR_PAIRS, MOUTH_SET, UPPER_FACE)

from conftest import shared_file


def test_apple_order_matches_shared_spec():
    spec = shared_file("specs/arkit.md").read_text()
    section = spec.split("## Apple's order", 1)[1].split("##", 1)[0]
    pairs = re.findall(r"(\d+)\s+([a-z][A-Za-z]+)", section)
    from_spec = [name for _, name in sorted(pairs, key=lambda p: int(p[0]))]
    assert [int(i) for i, _ in sorted(pairs, key=lambda p: int(p[0]))] == list(range(52))
    assert list(ARKIT_NAMES) == from_spec


def test_apple_order_landmarks():
    assert len(ARKIT_NAMES) == 52 and len(set(ARKIT_NAMES)) == 52
    assert (INDEX["eyeBlinkLeft"], INDEX["jawLeft"], INDEX["jawRight"], INDEX["jawOpen"]) == (0, 15, 16, 17)
    assert (INDEX["mouthLeft"], INDEX["mouthRight"], INDEX["tongueOut"]) == (21, 22, 51)


def test_livelink_order_swaps_only_jaw_and_mouth_pairs():
    diff = [i for i, (a, b) in enumerate(zip(ARKIT_NAMES, LLF_BLENDSHAPE_ORDER)) if a != b]
    assert diff == [15, 16, 21, 22]
    assert LLF_BLENDSHAPE_ORDER[15:17] == ("jawRight", "jawLeft")
    assert LLF_BLENDSHAPE_ORDER[21:23] == ("mouthRight", "mouthLeft")
    assert len(LLF_COLUMNS) == 61
    assert LLF_COLUMNS[15:17] == ("JawRight", "JawLeft")
    assert LLF_COLUMNS[52:] == ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                                "RightEyeYaw", "RightEyePitch", "RightEyeRoll")


def test_alphabetical_order():
    assert list(ALPHABETICAL_NAMES) == sorted(ARKIT_NAMES, key=str.lower)
    assert ALPHABETICAL_NAMES[:3] == ("browDownLeft", "browDownRight", "browInnerUp")
    assert ALPHABETICAL_NAMES[-1] == "tongueOut"


@pytest.mark.parametrize("src", ["arkit", "livelink", "alphabetical"])
@pytest.mark.parametrize("dst", ["arkit", "livelink", "alphabetical"])
def test_convert_order_round_trip_by_name(src, dst):
    rng = np.random.default_rng(0)
    x = rng.random((7, 52)).astype(np.float32)  # values in `src` order
    y = arkit.convert_order(x, src, dst)
    # Every value follows its name, whatever the positions.
    s, d = arkit.order(src), arkit.order(dst)
    for j, name in enumerate(d):
        np.testing.assert_array_equal(y[:, j], x[:, s.index(name)])
    np.testing.assert_array_equal(arkit.convert_order(y, dst, src), x)


def test_reorder_matches_case_and_underscore_variants():
    x = np.arange(52, dtype=np.float32)[None]
    variants = [("_".join(re.findall("[A-Z]?[a-z]+", n))).lower() for n in ARKIT_NAMES]  # jaw_open, ...
    assert variants[17] == "jaw_open"
    np.testing.assert_array_equal(arkit.reorder(x, variants, ARKIT_NAMES), x)
    pascal = [n[0].upper() + n[1:] for n in ARKIT_NAMES]
    np.testing.assert_array_equal(arkit.reorder(x, ARKIT_NAMES, pascal), x)


def test_reorder_errors():
    x = np.zeros((2, 52))
    with pytest.raises(ValueError, match="missing channels: tongueOut"):
        arkit.reorder(x[:, :51], ARKIT_NAMES[:51], ARKIT_NAMES)
    with pytest.raises(ValueError, match="51 names"):
        arkit.reorder(x, ARKIT_NAMES[:51], ARKIT_NAMES)
    with pytest.raises(ValueError, match="duplicate"):
        arkit.reorder(x[:, :2], ["jawOpen", "JawOpen"], ["jawOpen"])
    with pytest.raises(ValueError, match="unknown channel order"):
        arkit.order("nonsense")
    filled = arkit.reorder(x[:, :51] + 1, ARKIT_NAMES[:51], ARKIT_NAMES, fill=0.0)
    assert filled[0, 51] == 0.0 and filled[0, 0] == 1.0


def test_canonical_name():
    assert arkit.canonical_name("JawOpen") == "jawOpen"
    assert arkit.canonical_name("jaw_open") == "jawOpen"
    assert arkit.canonical_name("EYE_BLINK_LEFT") == "eyeBlinkLeft"
    assert arkit.canonical_name("jawOpenX") is None


def test_groups_partition_the_52():
    flat = [n for g in GROUPS.values() for n in g]
    assert sorted(flat) == sorted(ARKIT_NAMES)
    assert GROUPS["jaw"] == ("jawForward", "jawLeft", "jawRight", "jawOpen")
    assert GROUPS["tongue"] == ("tongueOut",) and GROUPS["cheeks"] == ("cheekPuff", "cheekSquintLeft",
                                                                        "cheekSquintRight")
    assert len(GROUPS["eyes"]) == 14 and len(GROUPS["brows"]) == 5 and len(GROUPS["nose"]) == 2


def test_mirror_pairs():
    # 7 eye + jaw + 8 mouth + 2 brow + cheek + nose pairs; 12 shapes are their own mirror.
    assert len(MIRROR_PAIRS) == 20
    assert sum(MIRROR[n] == n for n in ARKIT_NAMES) == 12
    for left, right in MIRROR_PAIRS:
        assert left.endswith("Left") and right == left[:-4] + "Right"
        assert MIRROR[left] == right and MIRROR[right] == left
    for n in ("jawOpen", "jawForward", "browInnerUp", "cheekPuff", "tongueOut", "mouthFunnel"):
        assert MIRROR[n] == n
    assert ("jawLeft", "jawRight") in MIRROR_PAIRS and ("mouthLeft", "mouthRight") in MIRROR_PAIRS
    w = np.random.default_rng(1).random((3, 52))
    m = arkit.mirror_weights(w)
    assert m[0, INDEX["eyeBlinkRight"]] == w[0, INDEX["eyeBlinkLeft"]]
    np.testing.assert_array_equal(arkit.mirror_weights(m), w)


def test_mouth_set():
    assert set(MOUTH_SET) <= set(ARKIT_NAMES) and len(set(MOUTH_SET)) == len(MOUTH_SET)
    assert {"jawOpen", "mouthClose", "mouthFunnel", "mouthPucker"} <= set(MOUTH_SET)
    # Emotion-bearing mouth shapes are not re-predicted by lip refinement; nothing above the mouth is.
    assert not set(MOUTH_SET) & set(EMOTION_MOUTH)
    assert not set(MOUTH_SET) & set(UPPER_FACE)
    assert {"mouthSmileLeft", "mouthFrownRight"} <= set(EMOTION_MOUTH)
    np.testing.assert_array_equal(arkit.MOUTH_INDEX, [INDEX[n] for n in MOUTH_SET])
