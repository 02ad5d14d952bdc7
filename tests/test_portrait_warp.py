"""Portrait warp backend: stability at rest, expressions move the right places, bad input, CLI, atomic output."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mediapipe")
pytest.importorskip("skimage")
pytest.importorskip("scipy")

from dreamtalk.core.animation import FaceAnimation  # noqa: E402
from dreamtalk.core.errors import InputError  # noqa: E402
from dreamtalk.core.render.portrait import (PortraitRenderer, astronaut, bench_warp, check_backend,  # noqa: E402
                                            prepare_portrait)
from dreamtalk.core.render.portrait import landmarks as L  # noqa: E402
from dreamtalk.core.render.portrait.warp import sample_bilinear  # noqa: E402
from dreamtalk.rigs.arkit import INDEX  # noqa: E402

SIZE = 256  # smaller than the default 512 to keep the tests quick


@pytest.fixture(scope="module")
def portrait():
    return prepare_portrait(astronaut(), SIZE)


def weights(**kw) -> np.ndarray:
    w = np.zeros(52, np.float32)
    for k, v in kw.items():
        w[INDEX[k]] = v
    return w


def test_rest_frame_equals_input(portrait):
    r = PortraitRenderer(portrait)
    out = r.frame(weights(), np.zeros(3))
    assert out.shape == (SIZE, SIZE, 3) and out.dtype == np.uint8
    assert np.array_equal(out, portrait.image)
    # The general warp path (no shortcut) with unmoved vertices gives the input back too.
    qx, qy = portrait.mesh.source_coords(portrait.mesh.points)
    for use_cv2 in (True, False):
        back = sample_bilinear(portrait.image, qx, qy, use_cv2=use_cv2)
        assert np.abs(back.astype(int) - portrait.image).max() <= 1


def test_samplers_agree(portrait):
    r = PortraitRenderer(portrait)
    lm2, h2 = r.landmarks(weights(jawOpen=0.5, mouthSmileLeft=0.5), np.array([0.05, 0.1, 0.02]))
    qx, qy = portrait.mesh.source_coords(np.concatenate([lm2, h2, portrait.anchors]))
    a = sample_bilinear(portrait.image, qx, qy, use_cv2=True).astype(int)
    b = sample_bilinear(portrait.image, qx, qy, use_cv2=False).astype(int)
    assert np.abs(a - b).max() <= 8 and np.abs(a - b).mean() < 0.5


def test_expressions_move_the_right_landmarks(portrait):
    r = PortraitRenderer(portrait)
    rest = portrait.landmarks[:, :2]
    jaw, _ = r.landmarks(weights(jawOpen=1.0))
    assert jaw[L.CHIN, 1] - rest[L.CHIN, 1] > 0.2 * portrait.eye_distance  # chin drops
    assert abs(jaw[13, 1] - rest[13, 1]) < 0.02 * portrait.eye_distance  # upper lip stays
    smile, _ = r.landmarks(weights(mouthSmileLeft=1.0))
    d_left = smile[L.MOUTH_CORNER_LEFT] - rest[L.MOUTH_CORNER_LEFT]
    d_right = smile[L.MOUTH_CORNER_RIGHT] - rest[L.MOUTH_CORNER_RIGHT]
    assert d_left[1] < -1.0 and d_left[0] > 0.5  # subject's left corner (image right) goes up and out
    assert np.hypot(*d_right) < 0.3 * np.hypot(*d_left)
    yaw, _ = r.landmarks(weights(), np.array([0.0, 0.2, 0.0]))
    assert yaw[L.NOSE_TIP, 0] - rest[L.NOSE_TIP, 0] > 2.0  # turning to the subject's left moves the nose right
    pitch, _ = r.landmarks(weights(), np.array([0.2, 0.0, 0.0]))
    assert pitch[L.NOSE_TIP, 1] > rest[L.NOSE_TIP, 1]  # chin down: the face moves down


def test_mouth_and_lids_change_only_their_regions(portrait):
    r = PortraitRenderer(portrait)
    img = portrait.image.astype(int)
    lm = portrait.landmarks
    out = r.frame(weights(jawOpen=0.8)).astype(int)
    my, mx = int(lm[14, 1]), int(lm[14, 0])
    s = int(portrait.eye_distance)
    mouth = np.abs(out - img)[my - s // 4:my + s // 2, mx - s // 3:mx + s // 3].mean()
    brow = np.abs(out - img)[: int(lm[L.RIGHT_IRIS[0], 1]) - s // 3].mean()
    assert mouth > 20 and brow < 0.5
    assert np.array_equal(out[0], portrait.image[0]) and np.array_equal(out[:, 0], portrait.image[:, 0])
    # Inside the opened mouth it is darker than the lips were (cavity), below the visible teeth.
    assert out[my + 2:my + s // 8, mx - 2:mx + 3].mean() < img[my + 2:my + s // 8, mx - 2:mx + 3].mean()
    closed = r.frame(weights(eyeBlinkLeft=1.0)).astype(int)
    ey, ex = int(lm[L.LEFT_IRIS[0], 1]), int(lm[L.LEFT_IRIS[0], 0])
    iris_before = img[ey - 1:ey + 2, ex - 1:ex + 2].mean()
    iris_after = closed[ey - 1:ey + 2, ex - 1:ex + 2].mean()
    assert iris_after > iris_before + 30  # the dark iris is covered by skin
    ry, rx = int(lm[L.RIGHT_IRIS[0], 1]), int(lm[L.RIGHT_IRIS[0], 0])
    assert np.abs(closed - img)[ry - 3:ry + 4, rx - 3:rx + 4].max() <= 2  # the other eye stays open


def test_deterministic_and_continuous(portrait):
    r = PortraitRenderer(portrait)
    a = r.frame(weights(jawOpen=0.4, eyeBlinkLeft=0.5), np.array([0.03, 0.05, 0.0]))
    b = r.frame(weights(jawOpen=0.4, eyeBlinkLeft=0.5), np.array([0.03, 0.05, 0.0]))
    assert np.array_equal(a, b)
    # A tiny change in weights gives a tiny change in the image (no mask popping).
    c = r.frame(weights(jawOpen=0.41, eyeBlinkLeft=0.51), np.array([0.03, 0.05, 0.0]))
    assert np.abs(a.astype(int) - c).mean() < 0.5


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError, match="no face"):
        prepare_portrait(np.full((300, 300, 3), 128, np.uint8), SIZE)
    with pytest.raises(InputError, match="too small"):
        prepare_portrait(np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(InputError, match="not found"):
        prepare_portrait(tmp_path / "missing.jpg")
    (tmp_path / "junk.png").write_bytes(b"not an image")
    with pytest.raises(InputError, match="not a readable image"):
        prepare_portrait(tmp_path / "junk.png")
    assert check_backend("neural") == "neural"
    with pytest.raises(InputError, match="unknown portrait backend"):
        check_backend("magic")


def test_grayscale_rgba_and_exif_rotation(tmp_path):
    from PIL import Image
    img = astronaut()
    grey = prepare_portrait(np.asarray(Image.fromarray(img).convert("L")), SIZE)
    assert any("grayscale" in n for n in grey.notes)
    assert np.array_equal(grey.image[..., 0], grey.image[..., 1])
    rgba = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], 2)
    rgba[:40, :40, 3] = 0
    p = prepare_portrait(rgba, SIZE)
    assert any("transparent" in n for n in p.notes)
    # Stored sideways with an EXIF orientation tag (6: rotate 90 degrees clockwise to display).
    path = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(img).transpose(Image.Transpose.ROTATE_90).save(path, exif=exif, quality=95)
    upright = prepare_portrait(path, SIZE)
    lm = upright.landmarks
    assert lm[L.CHIN, 1] > lm[L.FOREHEAD, 1] + 0.3 * SIZE / 2.6  # chin below forehead: upright


def test_several_faces_pick_largest():
    from PIL import Image
    face = astronaut()[20:300, 90:370]  # head and shoulders, so both faces are big enough to detect
    big = np.asarray(Image.fromarray(face).resize((400, 400)))
    small = np.asarray(Image.fromarray(face).resize((300, 300)))
    canvas = np.full((400, 700, 3), 200, np.uint8)
    canvas[:, :400] = big
    canvas[50:350, 400:] = small
    p = prepare_portrait(canvas, SIZE)
    assert any("2 faces" in n for n in p.notes)
    from dreamtalk.core.render.portrait.image_io import CROP_FACE_HEIGHTS
    # The crop is sized from the larger face (about 152 px tall here, the smaller one is about 112 px).
    assert L.face_size(p.landmarks) == pytest.approx(SIZE / CROP_FACE_HEIGHTS, rel=0.1)


def test_cli_render_and_atomic_output(tmp_path, portrait):
    from PIL import Image

    from dreamtalk.cli import main
    from dreamtalk.core.formats import write_animation
    from dreamtalk.core.render.video import probe
    Image.fromarray(astronaut()).save(tmp_path / "face.png")
    n, sr = 12, 16000
    w = np.zeros((n, 52), np.float32)
    w[:, INDEX["jawOpen"]] = np.linspace(0, 0.6, n)
    write_animation(FaceAnimation(30.0, w), tmp_path / "a.json")
    import wave
    with wave.open(str(tmp_path / "a.wav"), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sr)
        f.writeframes((np.sin(np.arange(sr // 2) * 0.05) * 8000).astype("<i2").tobytes())
    out = tmp_path / "out.mp4"
    rc = main(["-q", "render", str(tmp_path / "face.png"), str(tmp_path / "a.wav"), "-o", str(out),
               "--anim", str(tmp_path / "a.json"), "--size", "128"])
    assert rc == 0 and out.exists()
    streams = {s["codec_type"]: s for s in probe(out)["streams"]}
    assert int(streams["video"]["nb_read_frames"]) == n and "audio" in streams
    # No face: exit 2, and no (half-written) video left behind.
    Image.fromarray(np.full((200, 200, 3), 90, np.uint8)).save(tmp_path / "blank.png")
    bad = tmp_path / "bad.mp4"
    rc = main(["-q", "render", str(tmp_path / "blank.png"), str(tmp_path / "a.wav"), "-o", str(bad),
               "--anim", str(tmp_path / "a.json")])
    assert rc == 2 and not bad.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    rc = main(["-q", "render", str(tmp_path / "face.png"), str(tmp_path / "a.wav"), "-o", str(bad),
               "--backend", "neural"])
    assert rc == 2 and not bad.exists()


def test_bench_warp_reports_speed():
    b = bench_warp(seconds=0.5, size=128)
    assert b["frames"] == 15 and b["render_fps"] > 0 and b["render_cpu_ms_per_frame"] > 0
