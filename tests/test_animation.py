"""FaceAnimation: validation, name handling, resampling without drift, head-rotation convention."""
from __future__ import annotations

import numpy as np
import pytest

from dreamtalk.core.animation import FaceAnimation, zeros
from dreamtalk.core.rotation import head_rotation_matrices, head_rotation_quaternions
from dreamtalk.core.errors import InputError
from dreamtalk.rigs.arkit import ARKIT_NAMES, INDEX, LLF_BLENDSHAPE_ORDER


def W(t=5, c=52, v=0.5):
    return np.full((t, c), v, np.float32)


@pytest.mark.parametrize("kwargs, message", [
    (dict(fps=0, weights=W()), "fps must be a positive"),
    (dict(fps=float("nan"), weights=W()), "fps must be a positive"),
    (dict(fps=30, weights=np.zeros(52)), "weights must be \\(frames, channels\\)"),
    (dict(fps=30, weights=W(c=51)), "51 channels but 52 blendshape names"),
    (dict(fps=30, weights=W(t=0)), "no frames"),
    (dict(fps=30, weights=W(v=np.nan)), "not a number at frame 0, channel eyeBlinkLeft"),
    (dict(fps=30, weights=W(v=1.5)), "out of range"),
    (dict(fps=30, weights=W(v=-0.2)), "out of range"),
    (dict(fps=30, weights=W(), head_rotation=np.zeros((4, 3))), "head_rotation must have shape \\(5, 3\\)"),
    (dict(fps=30, weights=W(), eye_gaze=np.zeros((5, 3))), "eye_gaze must have shape \\(5, 6\\)"),
    (dict(fps=30, weights=W(), head_rotation=np.full((5, 3), np.inf)), "head_rotation contains values"),
    (dict(fps=30, weights=W(), blendshape_names=ARKIT_NAMES[:51] + ("jawOpen",)), "missing blendshapes"),
    (dict(fps=30, weights=W(), blendshape_names=ARKIT_NAMES[:51] + ("smile",)), "unknown blendshape names: smile"),
])
def test_validation_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        FaceAnimation(**kwargs)


def test_weights_a_hair_outside_the_range_are_clamped_with_one_warning():
    from dreamtalk.core.errors import DreamTalkWarning
    w = W(v=0.3)
    w[2, 0], w[3, 1] = -0.004081, 1.015  # a real solver's overshoot (NeuroSync writes -0.004)
    with pytest.warns(DreamTalkWarning, match="2 blendshape weights slightly outside .* clamped") as rec:
        a = FaceAnimation(30, w)
    assert len(rec) == 1 and a.weights.min() == 0.0 and a.weights.max() == 1.0
    w[2, 0] = -0.0005  # rounding alone: silent
    w[3, 1] = 1.0
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        FaceAnimation(30, w)
    w[2, 0] = -0.03
    with pytest.raises(InputError, match="out of range"):
        FaceAnimation(30, w)


def test_nan_error_names_frame_and_channel():
    w = W()
    w[3, INDEX["jawOpen"]] = np.nan
    with pytest.raises(InputError, match="frame 3, channel jawOpen"):
        FaceAnimation(30, w)


def test_small_overshoot_is_clipped_not_rejected():
    w = W()
    w[0, 0], w[1, 1] = 1.0005, -0.0005  # capture rounding
    a = FaceAnimation(30, w)
    assert a.weights.max() == 1.0 and a.weights.min() == 0.0 and a.weights.dtype == np.float32


def test_defaults_and_properties():
    a = zeros(45, fps=30, emotion="sad")
    assert a.num_frames == 45 and a.duration == 1.5 and a.metadata == {"emotion": "sad"}
    assert a.head_rotation.shape == (45, 3) and not a.head_rotation.any()
    assert a.head_translation is None and a.eye_gaze is None
    np.testing.assert_allclose(a.times[:3], [0, 1 / 30, 2 / 30])


def test_other_name_order_is_reordered_by_name():
    w = np.zeros((2, 52), np.float32)
    w[:, LLF_BLENDSHAPE_ORDER.index("jawLeft")] = 0.25  # column 16 in Live Link order
    w[:, LLF_BLENDSHAPE_ORDER.index("mouthRight")] = 0.75
    a = FaceAnimation(30, w, blendshape_names=LLF_BLENDSHAPE_ORDER)
    assert a.blendshape_names == ARKIT_NAMES
    assert a.channel("jawLeft")[0] == 0.25 and a.channel("jawRight")[0] == 0
    assert a.channel("mouthRight")[0] == 0.75 and a.channel("mouthLeft")[0] == 0
    np.testing.assert_array_equal(a.named_weights(LLF_BLENDSHAPE_ORDER), w)


def test_copy_and_slice(make_anim):
    a = make_anim(20, seed=3, emotion="happy")
    b = a.copy()
    b.weights[0, 0] = 0.123
    assert a.weights[0, 0] != 0.123 and b.metadata == {"emotion": "happy"}
    s = a.slice(5, 9)
    assert s.num_frames == 4
    np.testing.assert_array_equal(s.weights, a.weights[5:9])
    np.testing.assert_array_equal(s.head_rotation, a.head_rotation[5:9])


def _ramp(frames: int, fps: float) -> FaceAnimation:
    """weights[:, 0] = t / duration (a linear ramp that linear resampling must reproduce exactly)."""
    t = np.arange(frames, dtype=np.float64) / fps
    w = np.zeros((frames, 52), np.float32)
    w[:, 0] = t / (frames / fps)
    w[:, 1] = 1 - w[:, 0]
    head = np.zeros((frames, 3), np.float32)
    head[:, 1] = t * 0.01  # yaw ramp in radians
    return FaceAnimation(fps, w, head, metadata={"seed": 7})


@pytest.mark.parametrize("src", [24.0, 25.0, 30.0, 50.0, 60.0, 30000 / 1001])
@pytest.mark.parametrize("dst", [24.0, 25.0, 30.0, 50.0, 60.0, 30000 / 1001])
def test_resample_counts_and_timing(src, dst):
    a = _ramp(int(round(20 * src)), src)  # 20 s
    b = a.resample(dst)
    assert b.fps == dst
    assert b.num_frames == round(a.num_frames * dst / src)
    assert abs(b.duration - a.duration) <= 0.5 / dst + 1e-12
    assert b.metadata == {"seed": 7}
    # Frame k of the output shows the source at its centre (k + 0.5)/dst; the ramp's source frame j holds the value
    # of time j/src at its centre (j + 0.5)/src, so output k carries the ramp at (k + 0.5)/dst - 0.5/src.
    tk = (np.arange(b.num_frames) + 0.5) / dst - 0.5 / src
    inside = (tk >= 0) & (tk <= (a.num_frames - 1) / src)
    np.testing.assert_allclose(b.weights[inside, 0], tk[inside] / a.duration, atol=2e-6)
    np.testing.assert_allclose(b.head_rotation[inside, 1], tk[inside] * 0.01, atol=2e-6)
    # Outside the source frames' centres the end values are held, never extrapolated.
    late, early = tk > (a.num_frames - 1) / src, tk < 0
    np.testing.assert_allclose(b.weights[late, 0], a.weights[-1, 0], atol=1e-7)
    np.testing.assert_allclose(b.weights[early, 0], a.weights[0, 0], atol=1e-7)


def test_resample_same_fps_is_a_copy(make_anim):
    a = make_anim(10)
    b = a.resample(30.0)
    np.testing.assert_array_equal(a.weights, b.weights)
    b.weights[:] = 0
    assert a.weights.any()  # the copy does not share memory


def test_resample_rejects_bad_fps(make_anim):
    with pytest.raises(InputError, match="target fps"):
        make_anim(10).resample(0)


def test_ten_minutes_60_to_30_and_back_exact(make_anim):
    a = make_anim(10 * 60 * 60, fps=60.0, seed=5, gaze=True)  # 36000 frames
    half = a.resample(30.0)
    assert half.num_frames == 18000 and half.duration == 600.0
    # A 30 fps frame spans two 60 fps frames; its centre lies halfway between theirs: no drift at the clip's end.
    w = a.weights.astype(np.float64)
    np.testing.assert_allclose(half.weights, (w[0::2] + w[1::2]) / 2, atol=1e-7)
    np.testing.assert_allclose(half.head_rotation, (a.head_rotation[0::2].astype(np.float64)
                                                    + a.head_rotation[1::2]) / 2, atol=1e-7)
    np.testing.assert_allclose(half.eye_gaze, (a.eye_gaze[0::2].astype(np.float64) + a.eye_gaze[1::2]) / 2,
                               atol=1e-7)
    back = half.resample(60.0)
    assert back.num_frames == 36000 and back.duration == a.duration == 600.0
    np.testing.assert_array_equal(back.times, a.times)
    # Each 60 fps centre sits a quarter of a 30 fps frame from its nearest 30 fps centre (the ends are held).
    h = half.weights.astype(np.float64)
    np.testing.assert_allclose(back.weights[1:-1:2], 0.75 * h[:-1] + 0.25 * h[1:], atol=1e-7)
    np.testing.assert_allclose(back.weights[2::2], 0.25 * h[:-1] + 0.75 * h[1:], atol=1e-7)
    np.testing.assert_array_equal(back.weights[0], half.weights[0])
    np.testing.assert_array_equal(back.weights[-1], half.weights[-1])


def test_long_ntsc_resample_has_no_drift():
    a = _ramp(10 * 60 * 60, 60.0)
    b = a.resample(30000 / 1001)
    assert b.num_frames == round(36000 * 30 / 60 * 1000 / 1001)
    k = b.num_frames - 2  # the last frame's centre lies past the source's last centre (held)
    np.testing.assert_allclose(b.weights[k, 0], ((k + 0.5) * 1001 / 30000 - 0.5 / 60) / 600.0, atol=2e-6)


def test_head_rotation_convention():
    ang = 0.3
    # +pitch: the face direction (+Z) turns down (-Y): chin down.
    fwd = head_rotation_matrices(np.array([[ang, 0, 0]]))[0] @ [0, 0, 1]
    assert fwd[1] < 0 and abs(fwd[0]) < 1e-12
    # +yaw: the face turns toward +X, the subject's left.
    fwd = head_rotation_matrices(np.array([[0, ang, 0]]))[0] @ [0, 0, 1]
    assert fwd[0] > 0
    # +roll: the top of the head (+Y) tips toward -X, the subject's right shoulder.
    up = head_rotation_matrices(np.array([[0, 0, ang]]))[0] @ [0, 1, 0]
    assert up[0] < 0


def test_quaternions_match_matrices():
    hr = np.random.default_rng(2).uniform(-1, 1, (20, 3))
    q = head_rotation_quaternions(hr)
    x, y, z, w = q.T
    m = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                  2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                  2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1).reshape(-1, 3, 3)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1, atol=1e-12)
    np.testing.assert_allclose(m, head_rotation_matrices(hr), atol=1e-12)
