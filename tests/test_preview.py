"""Preview rendering: rasterizer correctness, proxy-head frames, MP4 with audio, atomic failure, PNG outputs."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from dreamtalk.core.animation import FaceAnimation
from dreamtalk.core.errors import InputError
from dreamtalk.core.render.raster import Camera, MeshRenderer, rasterize
from dreamtalk.rigs.arkit import INDEX


def _ffmpeg_or_skip():
    from dreamtalk.core.errors import DreamTalkError
    from dreamtalk.core.render.video import find_ffmpeg
    try:
        find_ffmpeg()
    except DreamTalkError:
        pytest.skip("no ffmpeg available")
    if not shutil.which("ffprobe"):
        pytest.skip("no ffprobe available")


def _probe(path) -> dict:
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
                       capture_output=True, text=True, check=True)
    return {s["codec_type"]: s for s in json.loads(r.stdout)["streams"]}


# ---- rasterizer ------------------------------------------------------------------------------------------

def test_triangle_coverage_and_culling():
    # Counter-clockwise on screen as seen (y down: negative signed area) is a front face.
    sx, sy, z = np.array([10.0, 10.0, 50.0]), np.array([10.0, 50.0, 10.0]), np.ones(3)
    fr = rasterize(sx, sy, z, np.array([[0, 1, 2]]), 64, 64)
    img = fr.id_image()
    ys, xs = np.nonzero(img == 0)
    # Pixel centres inside x >= 10, y >= 10, x + y <= 60.
    cx, cy = np.arange(64) + 0.5, np.arange(64)[:, None] + 0.5
    expect = (cx >= 10) & (cy >= 10) & (cx + cy <= 60)
    assert np.array_equal(img == 0, expect)
    assert len(xs) == expect.sum() and 750 < len(xs) < 850  # area 800
    np.testing.assert_allclose(fr.bary.sum(1), 1.0, atol=1e-5)
    # Reversed winding: culled, unless double-sided.
    assert len(rasterize(sx, sy, z, np.array([[0, 2, 1]]), 64, 64).pixels) == 0
    fr2 = rasterize(sx, sy, z, np.array([[0, 2, 1]]), 64, 64, double_sided=np.array([True]))
    assert np.array_equal(fr2.id_image() == 0, expect) and not fr2.front.any()


def test_depth_order_wins_regardless_of_draw_order():
    # Two overlapping squares (two triangles each); the nearer one must win where they overlap.
    def square(x0, y0, s, zz):
        return np.array([[x0, y0], [x0, y0 + s], [x0 + s, y0 + s], [x0 + s, y0]], float), np.full(4, zz)
    a, za = square(4, 4, 30, 2.0)  # far
    b, zb = square(20, 20, 30, 1.0)  # near
    quad = np.array([[0, 1, 2], [0, 2, 3]])
    for order in ((a, za, b, zb), (b, zb, a, za)):
        p = np.concatenate([order[0], order[2]])
        z = np.concatenate([order[1], order[3]])
        tris = np.concatenate([quad, quad + 4])
        img = rasterize(p[:, 0], p[:, 1], z, tris, 64, 64).id_image()
        near_ids = (0, 1) if order[1][0] == 1.0 else (2, 3)
        assert np.isin(img[25, 25], near_ids)  # overlap region
        assert not np.isin(img[8, 8], near_ids) and img[8, 8] >= 0  # far square alone
        assert np.isin(img[45, 45], near_ids)
        assert img[60, 2] == -1


def test_cube_renders_visible_faces_only():
    # Unit cube, faces counter-clockwise seen from outside; each face its own material colour.
    v = np.array([[x, y, z] for x in (-.5, .5) for y in (-.5, .5) for z in (-.5, .5)], float)
    idx = {tuple(p): i for i, p in enumerate(v)}

    def face(c):  # four corners counter-clockwise seen from outside, along axis normal c
        ax = int(np.nonzero(c)[0][0])
        s = c[ax]
        u, w = [k for k in range(3) if k != ax]
        pts = []
        for a, b in ((-.5, -.5), (.5, -.5), (.5, .5), (-.5, .5)):
            p = [0.0, 0.0, 0.0]
            p[ax], p[u], p[w] = .5 * s, a, b
            pts.append(idx[tuple(p)])
        n = np.cross(v[pts[1]] - v[pts[0]], v[pts[2]] - v[pts[0]])
        if np.dot(n, c) < 0:
            pts = pts[::-1]
        return [(pts[0], pts[1], pts[2]), (pts[0], pts[2], pts[3])]
    normals = [np.array(c, float) for c in ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))]
    tris, mats = [], []
    for m, c in enumerate(normals):
        tris += face(c)
        mats += [m, m]
    cam = Camera(eye=np.array([0.0, 0.0, 4.0]), target=np.zeros(3), width=64, height=64, fov_y=40)
    sx, sy, z = cam.project(v)
    fr = rasterize(sx, sy, z, np.array(tris), 64, 64)
    faces = np.array(mats)[fr.tri]
    assert set(np.unique(faces)) == {4}  # looking down -z only the +z face is visible
    # Its projected square: half-size 0.5 at depth 3.5.
    half = cam.focal * 0.5 / 3.5
    assert abs(len(fr.pixels) - (2 * half) ** 2) < 4 * 2 * half
    albedo = np.eye(3)[[0, 0, 1, 1, 2, 2]] * 0.8  # material 4 (+z face) is blue
    img = MeshRenderer(np.array(tris), np.array(mats), albedo, cam).render(v, v / np.linalg.norm(v, axis=1)[:, None])
    c = img[32, 32].astype(int)
    assert c[2] > 100 and c[0] < 0.6 * c[2] and c[1] < 0.6 * c[2]  # face 4 is blue


# ---- proxy head frames -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def head_renderer():
    from dreamtalk.core.render.preview import HeadRenderer
    return HeadRenderer("front", 256)


def test_rest_frame_face_in_centre(head_renderer):
    img = head_renderer.frame(np.zeros(52))
    assert img.shape == (256, 256, 3) and img.dtype == np.uint8
    bg = head_renderer.renderer.background
    covered = np.any(img != bg, axis=2)
    assert 0.15 < covered.mean() < 0.7
    assert not covered[:, :8].any() and not covered[:, -8:].any()  # head framed inside the picture
    c = img[100:140, 110:146].reshape(-1, 3).astype(int)  # cheeks / nose: skin tones, red > green > blue
    assert np.all(c[:, 0] > c[:, 2]) and np.median(c[:, 0]) > 150


def test_expressions_change_the_right_regions(head_renderer):
    r = head_renderer
    rest = r.frame(np.zeros(52)).astype(int)
    w = np.zeros(52)
    w[INDEX["jawOpen"]] = 0.8
    jaw = r.frame(w).astype(int)
    w = np.zeros(52)
    w[INDEX["eyeBlinkLeft"]] = w[INDEX["eyeBlinkRight"]] = 1.0
    blink = r.frame(w).astype(int)
    # Project landmark points to find the mouth and eye regions.
    from dreamtalk.rigs import proxy_head as ph
    sx, sy, _ = r.renderer.camera.project(np.array([[0, ph.MOUTH_Y, 0.09], [ph.EYE_X, ph.EYE_Y, 0.08]]))
    mx, my, ex, ey = int(sx[0]), int(sy[0]), int(sx[1]), int(sy[1])
    mouth = (slice(my - 4, my + 14), slice(mx - 12, mx + 12))
    eye = (slice(ey - 5, ey + 6), slice(ex - 6, ex + 7))
    dark = lambda im, reg: (im[reg].sum(2) < 200).sum()  # noqa: E731
    assert dark(jaw, mouth) > dark(rest, mouth) + 20  # open mouth shows the dark cavity
    assert np.abs(jaw[eye] - rest[eye]).max() < 30  # jaw leaves the eyes alone
    # Blink covers the white of the eye and the iris with skin-coloured lids.
    bright_white = lambda im, reg: ((im[reg].min(2) > 170) & (np.ptp(im[reg], axis=2) < 40)).sum()  # noqa: E731
    assert bright_white(rest, eye) > 3 and bright_white(blink, eye) < bright_white(rest, eye) / 3
    assert np.abs(blink[mouth] - rest[mouth]).max() < 30


def test_head_turn_follows_the_convention(head_renderer):
    # Positive yaw turns the face to the subject's left, which is the image's right for the front camera.
    r = head_renderer
    v0, _ = r.pose(np.zeros(52))
    v1, _ = r.pose(np.zeros(52), [0.0, 0.3, 0.0])
    nose = np.argmax(v0[:, 2] * (np.abs(v0[:, 0]) < 1e-6) * (np.asarray(r.head.part_ids) == 0))
    x0 = r.renderer.camera.project(v0[nose:nose + 1])[0][0]
    x1 = r.renderer.camera.project(v1[nose:nose + 1])[0][0]
    assert x1 > x0 + 5


# ---- video ----------------------------------------------------------------------------------------------

def _clip(frames=10, fps=30.0):
    w = np.zeros((frames, 52), np.float32)
    w[:, INDEX["jawOpen"]] = np.linspace(0, 0.8, frames)
    return FaceAnimation(fps, w)


def test_short_clip_mp4_with_audio(tmp_path):
    _ffmpeg_or_skip()
    from dreamtalk.core.render.preview import render_preview
    sr = 16000
    audio = (0.2 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)  # 1 s, longer than video
    out = tmp_path / "clip.mp4"
    info = render_preview(_clip(), out, audio=(audio, sr), size=128, progress=False)
    assert info["frames"] == 10 and out.stat().st_size > 1000
    s = _probe(out)
    assert s["video"]["codec_name"] == "h264" and s["video"]["pix_fmt"] == "yuv420p"
    assert int(s["video"]["nb_read_frames"]) == 10 and s["video"]["width"] == 128
    assert s["audio"]["codec_name"] == "aac"
    assert abs(float(s["audio"]["duration"]) - 10 / 30) < 0.05  # trimmed to the video
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_short_audio_is_padded(tmp_path):
    _ffmpeg_or_skip()
    from dreamtalk.core.render.preview import render_preview
    from dreamtalk.core.render.video import write_wav16
    wav = tmp_path / "a.wav"
    write_wav16(wav, np.full(800, 0.1, np.float32), 16000)  # 50 ms, video is 333 ms
    out = tmp_path / "clip.mp4"
    render_preview(_clip(), out, audio=str(wav), size=64, progress=False)
    assert abs(float(_probe(out)["audio"]["duration"]) - 10 / 30) < 0.05


def test_errors_leave_no_file(tmp_path):
    _ffmpeg_or_skip()
    from dreamtalk.core.render.preview import render_preview
    from dreamtalk.core.render.video import write_video
    out = tmp_path / "bad.mp4"

    def frames():
        for k in range(5):
            yield np.zeros((64, 64, 3), np.uint8)
        raise RuntimeError("renderer broke")
    with pytest.raises(RuntimeError):
        write_video(out, frames(), 30.0, (64, 64), audio=(np.zeros(16000, np.float32), 16000), num_frames=10)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError):
        render_preview(_clip(), out, audio=str(tmp_path / "missing.wav"), size=64, progress=False)
    with pytest.raises(InputError):
        render_preview(_clip(), out, view="side", size=64, progress=False)
    with pytest.raises(InputError):
        render_preview(_clip(), out, size=65, progress=False)
    assert list(tmp_path.iterdir()) == []
    # A failure never damages an existing file at the target either.
    out.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        write_video(out, frames(), 30.0, (64, 64), num_frames=10)
    assert out.read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


# ---- stills and CLI ---------------------------------------------------------------------------------------

def test_contact_sheet_and_curves(tmp_path, make_anim):
    from PIL import Image
    from dreamtalk.core.render.plots import contact_sheet, plot_curves
    anim = make_anim(40)
    info = contact_sheet(anim, tmp_path / "sheet.png", n=6, tile=96)
    im = Image.open(tmp_path / "sheet.png")
    assert im.size == (4 * 96, 2 * 96) and len(info["frames"]) == 6 and info["frames"][-1] == 39
    plot_curves(anim, tmp_path / "curves.png")
    assert Image.open(tmp_path / "curves.png").size[0] > 400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "sheet.png"]


def test_cli_preview(tmp_path, make_anim):
    _ffmpeg_or_skip()
    from dreamtalk.cli import main
    from dreamtalk.core.formats import write_animation
    from dreamtalk.core.render.video import write_wav16
    write_animation(make_anim(8), tmp_path / "a.json")
    write_wav16(tmp_path / "a.wav", np.zeros(8000, np.float32), 16000)
    rc = main(["preview", str(tmp_path / "a.json"), "-o", str(tmp_path / "o.mp4"), "--audio", str(tmp_path / "a.wav"),
               "--size", "64", "--view", "three_quarter", "--curves", str(tmp_path / "c.png"), "-q"])
    assert rc == 0 and (tmp_path / "o.mp4").exists() and (tmp_path / "c.png").exists()
    assert "audio" in _probe(tmp_path / "o.mp4")
    assert main(["preview", str(tmp_path / "a.json"), "-o", str(tmp_path / "x.mp4"), "--size", "63", "-q"]) == 2
    assert main(["preview", str(tmp_path / "a.json"), "-o", str(tmp_path / "x.avi"), "-q"]) == 2
    assert not (tmp_path / "x.mp4").exists()


def test_preview_without_pillow_or_matplotlib_is_one_line_before_any_output(tmp_path, make_anim, monkeypatch, capsys):
    import importlib.util

    from dreamtalk.cli import main
    from dreamtalk.core.formats import write_animation
    write_animation(make_anim(10), tmp_path / "a.json")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("PIL", "matplotlib")
                        else real(name, *a))
    rc = main(["preview", str(tmp_path / "a.json"), "-o", str(tmp_path / "p.mp4"), "--sheet", str(tmp_path / "s.png"),
               "--curves", str(tmp_path / "c.png")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "pip install pillow" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
