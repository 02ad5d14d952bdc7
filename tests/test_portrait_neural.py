"""Portrait neural backend: LivePortrait's published layout (every key and shape), loading and refusing
checkpoints, module output shapes, the driving math, chunked rendering with resume and paste-back, the CLI, and
the safetensors reader. Every checkpoint is random weights made here in the published layout (five files).

Runs at the smallest input the published layout allows (128 px: the 5-level hourglass needs the 32 px volume),
one thread; a frame takes about 4 s on this machine's CPU.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import struct
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dreamtalk.core.errors import InputError  # noqa: E402
from dreamtalk.core.render.portrait import liveportrait as LP  # noqa: E402
from dreamtalk.core.render.portrait import neural as N  # noqa: E402

NET = 128  # smallest network input the published layout allows


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Two threads on a busy 2-core machine are slower than one.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# ---- the published layout, derived from LivePortrait's models.yaml and module definitions -------------------
def _bn(p: str, c: int) -> dict:
    return {f"{p}.weight": (c,), f"{p}.bias": (c,), f"{p}.running_mean": (c,), f"{p}.running_var": (c,),
            f"{p}.num_batches_tracked": ()}


def _conv(p: str, cout: int, cin: int, *k: int, bias: bool = True) -> dict:
    return {f"{p}.weight": (cout, cin, *k), **({f"{p}.bias": (cout,)} if bias else {})}


def _sn(p: str, cout: int, cin: int, k: int, bias: bool = True) -> dict:
    return {f"{p}.weight_orig": (cout, cin, k, k), f"{p}.weight_u": (cout,), f"{p}.weight_v": (cin * k * k,),
            **({f"{p}.bias": (cout,)} if bias else {})}


def published_table() -> dict[str, dict[str, tuple]]:
    """{file: {key: shape}} written out from models.yaml: block_expansion 64, max_features 512, num_kp 21, ..."""
    t = {}
    # F: SameBlock2d(3, 64), DownBlock2d 64->128->256, 1x1 conv to 512 = 32 x 16, six ResBlock3d(32).
    a = {**_conv("first.conv", 64, 3, 3, 3), **_bn("first.norm", 64), **_conv("second", 512, 256, 1, 1)}
    for i, (cin, cout) in enumerate([(64, 128), (128, 256)]):
        a.update({**_conv(f"down_blocks.{i}.conv", cout, cin, 3, 3), **_bn(f"down_blocks.{i}.norm", cout)})
    for i in range(6):
        for n in (1, 2):
            p = f"resblocks_3d.3dr{i}"
            a.update({**_conv(f"{p}.conv{n}", 32, 32, 3, 3, 3), **_bn(f"{p}.norm{n}", 32)})
    t["appearance_feature_extractor"] = a
    # M: convnextv2_tiny (depths 3 3 9 3, dims 96 192 384 768) + heads for 21 keypoints and 66 bins.
    m, dims, depths = {}, (96, 192, 384, 768), (3, 3, 9, 3)
    d = "detector"
    m.update({**_conv(f"{d}.downsample_layers.0.0", 96, 3, 4, 4), f"{d}.downsample_layers.0.1.weight": (96,),
              f"{d}.downsample_layers.0.1.bias": (96,)})
    for i in range(1, 4):
        p = f"{d}.downsample_layers.{i}"
        m.update({f"{p}.0.weight": (dims[i - 1],), f"{p}.0.bias": (dims[i - 1],),
                  **_conv(f"{p}.1", dims[i], dims[i - 1], 2, 2)})
    for s, (c, n) in enumerate(zip(dims, depths)):
        for b in range(n):
            p = f"{d}.stages.{s}.{b}"
            m.update({**_conv(f"{p}.dwconv", c, 1, 7, 7), f"{p}.norm.weight": (c,), f"{p}.norm.bias": (c,),
                      f"{p}.pwconv1.weight": (4 * c, c), f"{p}.pwconv1.bias": (4 * c,),
                      f"{p}.grn.gamma": (1, 1, 1, 4 * c), f"{p}.grn.beta": (1, 1, 1, 4 * c),
                      f"{p}.pwconv2.weight": (c, 4 * c), f"{p}.pwconv2.bias": (c,)})
    m.update({f"{d}.norm.weight": (768,), f"{d}.norm.bias": (768,)})
    for head, n in (("kp", 63), ("scale", 1), ("pitch", 66), ("yaw", 66), ("roll", 66), ("t", 3), ("exp", 63)):
        m.update({f"{d}.fc_{head}.weight": (n, 768), f"{d}.fc_{head}.bias": (n,)})
    t["motion_extractor"] = m
    # W: dense motion (hourglass 32/1024/5 blocks over (21+1)*(4+1) = 110 channels, out 32 + 110 = 142), third/fourth.
    w, h = {}, "dense_motion_network.hourglass"
    enc = [(110, 64), (64, 128), (128, 256), (256, 512), (512, 1024)]
    dec = [(1024, 512), (1024, 256), (512, 128), (256, 64), (128, 32)]
    for i, (cin, cout) in enumerate(enc):
        p = f"{h}.encoder.down_blocks.{i}"
        w.update({**_conv(f"{p}.conv", cout, cin, 3, 3, 3), **_bn(f"{p}.norm", cout)})
    for i, (cin, cout) in enumerate(dec):
        p = f"{h}.decoder.up_blocks.{i}"
        w.update({**_conv(f"{p}.conv", cout, cin, 3, 3, 3), **_bn(f"{p}.norm", cout)})
    w.update({**_conv(f"{h}.decoder.conv", 142, 142, 3, 3, 3), **_bn(f"{h}.decoder.norm", 142),
              **_conv("dense_motion_network.mask", 22, 142, 7, 7, 7),
              **_conv("dense_motion_network.compress", 4, 32, 1, 1, 1), **_bn("dense_motion_network.norm", 4),
              **_conv("dense_motion_network.occlusion", 1, 142 * 16, 7, 7),
              **_conv("third.conv", 256, 512, 3, 3), **_bn("third.norm", 256), **_conv("fourth", 256, 256, 1, 1)})
    t["warping_module"] = w
    # G: fc 256->512, six SPADE blocks 512->512, up_0 512->256, up_1 256->64 (label 256), conv_img 64->12 + shuffle.
    g = {**_conv("fc", 512, 256, 3, 3), **_conv("conv_img.0", 12, 64, 3, 3)}
    blocks = [(f"G_middle_{i}", 512, 512) for i in range(6)] + [("up_0", 512, 256), ("up_1", 256, 64)]
    for name, fin, fout in blocks:
        mid = min(fin, fout)
        g.update({**_sn(f"{name}.conv_0", mid, fin, 3), **_sn(f"{name}.conv_1", fout, mid, 3)})
        norms = [("norm_0", fin), ("norm_1", mid)] + ([("norm_s", fin)] if fin != fout else [])
        if fin != fout:
            g.update(_sn(f"{name}.conv_s", fout, fin, 1, bias=False))
        for nn_, c in norms:
            p = f"{name}.{nn_}"
            g.update({**_conv(f"{p}.mlp_shared.0", 128, 256, 3, 3), **_conv(f"{p}.mlp_gamma", c, 128, 3, 3),
                      **_conv(f"{p}.mlp_beta", c, 128, 3, 3)})
    t["spade_generator"] = g
    # S: three MLPs saved from DDP ('module.' prefix) under retarget_shoulder / retarget_mouth / retarget_eye.
    s = {}
    for part, sizes in (("retarget_shoulder", [126, 128, 128, 64, 65]), ("retarget_mouth", [65, 128, 128, 64, 63]),
                        ("retarget_eye", [66, 256, 256, 128, 128, 64, 63])):
        for i in range(len(sizes) - 1):
            s[f"{part}/module.mlp.{2 * i}.weight"] = (sizes[i + 1], sizes[i])
            s[f"{part}/module.mlp.{2 * i}.bias"] = (sizes[i + 1],)
    t["stitching_retargeting_module"] = s
    return t


@pytest.mark.parametrize("name", LP.MODULES)
def test_module_layout_is_the_published_one(name):
    want = published_table()[name]
    got = LP.expected_shapes(name)
    assert sorted(got) == sorted(want)
    assert {k: got[k] for k in want} == want


# ---- random checkpoints in the published layout --------------------------------------------------------------
@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """Random weights (non-default BatchNorm statistics) saved as published: base_models/ + retargeting_models/."""
    d = tmp_path_factory.mktemp("liveportrait")
    models = N.random_models(0)
    with torch.no_grad():
        for m in (models.F, models.M, models.W, models.G):
            for name, b in m.named_buffers():
                if name.endswith("running_mean"):
                    b.normal_(0, 0.1)
                elif name.endswith("running_var"):
                    b.uniform_(0.5, 2.0)
                elif name.endswith("num_batches_tracked"):
                    b.fill_(7)
    files = N.save_checkpoint(models, d / "tmp")
    for name, p in files.items():
        sub = d / ("retargeting_models" if name.startswith("stitching") else "base_models")
        sub.mkdir(exist_ok=True)
        p.rename(sub / p.name)
    (d / "tmp").rmdir()
    return {"dir": d, "models": models}


def _state(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def test_files_are_published_names_and_plain_dicts(ckpt):
    d = ckpt["dir"]
    assert sorted(p.relative_to(d).as_posix() for p in d.rglob("*.pth")) == sorted(
        [f"base_models/{n}.pth" for n in LP.MODULES[:4]] + ["retargeting_models/stitching_retargeting_module.pth"])
    s = torch.load(d / "retargeting_models/stitching_retargeting_module.pth", weights_only=True)
    assert sorted(s) == ["retarget_eye", "retarget_mouth", "retarget_shoulder"]
    assert s["retarget_mouth"]["module.mlp.0.weight"].shape == (128, 65)
    f = torch.load(d / "base_models/warping_module.pth", weights_only=True)
    assert f["dense_motion_network.occlusion.weight"].shape == (1, 2272, 7, 7)


def test_load_restores_every_tensor(ckpt):
    m = N.load_checkpoint(ckpt["dir"])
    for a, b in zip((ckpt["models"].F, ckpt["models"].M, ckpt["models"].W, ckpt["models"].G, ckpt["models"].S),
                    (m.F, m.M, m.W, m.G, m.S)):
        want, got = _state(a), _state(b)
        assert set(want) == set(got)
        for k in want:
            assert torch.equal(want[k], got[k]), k
        assert not b.training
    x = torch.rand(1, 3, NET, NET, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        assert torch.equal(ckpt["models"].F.eval()(x), m.F(x))


def test_module_output_shapes_as_published(ckpt):
    m = ckpt["models"]
    for mod in (m.F, m.M, m.W, m.G, m.S):
        mod.eval()
    x = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        f = m.F(x)
        assert f.shape == (1, 32, 16, 64, 64)
        raw = m.M(x)
        assert {k: tuple(v.shape) for k, v in raw.items()} == {
            "kp": (1, 63), "pitch": (1, 66), "yaw": (1, 66), "roll": (1, 66), "t": (1, 3), "exp": (1, 63),
            "scale": (1, 1)}
        info = LP.kp_info(raw)
        kp = LP.posed_keypoints(info["kp"], LP.rotation_rows(info["pitch"], info["yaw"], info["roll"]),
                                info["exp"], info["scale"], info["t"])
        assert kp.shape == (1, 21, 3) and bool((info["pitch"].abs() <= 97.5).all())
        w = m.W(f, kp, kp)
        assert w["out"].shape == (1, 256, 64, 64) and w["occlusion_map"].shape == (1, 1, 64, 64)
        assert w["deformation"].shape == (1, 16, 64, 64, 3)
        img = m.G(w["out"])
        assert img.shape == (1, 3, 512, 512) and 0 <= float(img.min()) <= float(img.max()) <= 1
        assert m.S.stitching(torch.zeros(1, 126)).shape == (1, 65)
        assert m.S.lip(torch.zeros(1, 65)).shape == (1, 63) and m.S.eye(torch.zeros(1, 66)).shape == (1, 63)


def _variant(ckpt, tmp_path, name: str, state) -> pathlib.Path:
    """A checkpoint folder linking the good files, with ``name`` replaced by ``state`` (saved as .pth)."""
    d = tmp_path / "variant"
    d.mkdir()
    for p in ckpt["dir"].rglob("*.pth"):
        if p.stem != name:
            os.symlink(p, d / p.name)
    torch.save(state, d / f"{name}.pth")
    return d


class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def _good(ckpt, name):
    return torch.load(next(ckpt["dir"].rglob(f"{name}.pth")), weights_only=True)


@pytest.mark.parametrize("case", ["missing", "extra", "shape", "pickle", "nan", "no_file"])
def test_bad_checkpoints_refused_in_one_line(ckpt, tmp_path, case):
    app = "appearance_feature_extractor"
    sd = _good(ckpt, app)
    stitch = _good(ckpt, "stitching_retargeting_module")
    marker = tmp_path / "pwned"
    if case == "missing":
        del sd["second.bias"]
        d, want = _variant(ckpt, tmp_path, app, sd), f"{app}.pth: 1 missing: second.bias"
    elif case == "extra":
        sd["extra.thing"] = torch.zeros(2)
        d, want = _variant(ckpt, tmp_path, app, sd), f"{app}.pth: 1 unexpected: extra.thing"
    elif case == "shape":
        stitch["retarget_mouth"]["module.mlp.0.weight"] = torch.zeros(128, 64)
        d = _variant(ckpt, tmp_path, "stitching_retargeting_module", stitch)
        want = "1 wrong shape: retarget_mouth/module.mlp.0.weight (128, 64) != (128, 65)"
    elif case == "pickle":
        sd["payload"] = _Payload(str(marker))
        d, want = _variant(ckpt, tmp_path, app, sd), "weights_only=True"
    elif case == "nan":
        sd["second.bias"] = torch.full((512,), float("nan"))
        d, want = _variant(ckpt, tmp_path, app, sd), "non-finite values in: second.bias"
    else:
        d = tmp_path / "variant"
        d.mkdir()
        for p in ckpt["dir"].rglob("*.pth"):
            if p.stem != "spade_generator":
                os.symlink(p, d / p.name)
        want = "lacks LivePortrait's spade_generator.pth"
    with pytest.raises(InputError) as e:
        N.load_checkpoint(d)
    assert want in str(e.value) and "\n" not in str(e.value)
    assert not marker.exists()


def test_all_problems_named_together_and_safetensors(ckpt, tmp_path):
    sd = _good(ckpt, "appearance_feature_extractor")
    del sd["first.conv.bias"]
    d = _variant(ckpt, tmp_path, "appearance_feature_extractor", sd)
    (d / "motion_extractor.pth").unlink()
    m = _good(ckpt, "motion_extractor")
    m["detector.fc_kp.weight"] = torch.zeros(75, 768)  # 25 keypoints: another model's file
    torch.save(m, d / "motion_extractor.pth")
    with pytest.raises(InputError, match=r"appearance_feature_extractor\.pth: 1 missing: first\.conv\.bias \| "
                                         r"motion_extractor\.pth: 1 wrong shape: detector\.fc_kp\.weight"):
        N.load_checkpoint(d)
    # .safetensors files (as some mirrors publish them) load the same, mixed with .pth ones.
    st = tmp_path / "st"
    st.mkdir()
    for p in ckpt["dir"].rglob("*.pth"):
        if p.stem not in ("appearance_feature_extractor", "stitching_retargeting_module"):
            os.symlink(p, st / p.name)
    N.save_checkpoint(ckpt["models"], st, fmt="safetensors",
                      only=("appearance_feature_extractor", "stitching_retargeting_module"))
    got = N.load_checkpoint(st)
    assert all(torch.equal(v, _state(got.S)[k]) for k, v in _state(ckpt["models"].S).items())
    with pytest.raises(InputError, match="never downloads"):
        N.load_checkpoint(tmp_path / "nowhere")
    with pytest.raises(InputError, match="FOLDER"):
        N.load_checkpoint(d / "motion_extractor.pth")


# ---- driving -------------------------------------------------------------------------------------------------
def _portrait(seed=0, shape=(150, 200, 3)):
    # Smooth colour blobs: not a face, so 'auto' crop falls back to the centre.
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:shape[0], :shape[1]] / 30.0
    img = np.stack([np.sin(x * rng.uniform(1, 3) + c) * np.cos(y * rng.uniform(1, 3)) for c in range(3)], -1)
    return ((img * 0.5 + 0.5) * 255).astype(np.uint8)


def test_rotation_convention():
    z = torch.zeros(1)
    r = LP.rotation_rows(z, torch.tensor([90.0]), z)[0]  # yaw 90 (row vectors): x goes to -z
    assert torch.allclose(torch.tensor([[1.0, 0, 0]]) @ r, torch.tensor([[0.0, 0, -1]]), atol=1e-6)
    r = LP.rotation_rows(torch.tensor([20.0]), torch.tensor([-35.0]), torch.tensor([50.0]))[0]
    assert torch.allclose(r @ r.T, torch.eye(3), atol=1e-6) and abs(float(torch.det(r)) - 1) < 1e-6
    assert abs(float(LP.bins_to_degrees(torch.zeros(1, 66))[0]) - 0.0) < 1e-4  # uniform bins: 32.5 * 3 - 97.5


def test_pose_bins_euler_order_and_keypoint_transform():
    # Bins: softmax expectation of 66 bins, 3 degrees each, centred by 97.5 (bin i alone -> 3 i - 97.5 degrees).
    one_hot = torch.full((2, 66), -1e4)
    one_hot[0, 40], one_hot[1, 10] = 0, 0
    assert torch.allclose(LP.bins_to_degrees(one_hot), torch.tensor([22.5, -67.5]))
    two = torch.full((1, 66), -1e4)
    two[0, 30] = two[0, 31] = 0  # equal weight on two bins: their mean
    assert torch.allclose(LP.bins_to_degrees(two), torch.tensor([-6.0]))
    # Degrees, not radians; column matrix Rz(roll) Ry(yaw) Rx(pitch), used transposed on row vectors:
    # pitch 90 takes y (down) to z (in), roll 90 takes x to y, and pitch acts before yaw.
    z, q = torch.zeros(1), torch.tensor([90.0])
    e = torch.eye(3)
    assert torch.allclose(e[1:2] @ LP.rotation_rows(q, z, z)[0], e[2:3], atol=1e-6)
    assert torch.allclose(e[0:1] @ LP.rotation_rows(z, z, q)[0], e[1:2], atol=1e-6)
    assert torch.allclose(e[1:2] @ LP.rotation_rows(q, q, z)[0], e[0:1], atol=1e-6)  # Ry after Rx: y -> z -> x
    # scale * (kp @ R + exp) + (tx, ty, 0): tz is dropped.
    kp = torch.tensor([[[0.1, 0.2, 0.3]]])
    got = LP.posed_keypoints(kp, torch.eye(3)[None], torch.tensor([[[0.01, 0.0, 0.0]]]), torch.tensor([[2.0]]),
                             torch.tensor([[0.5, -0.5, 9.0]]))
    assert torch.allclose(got, torch.tensor([[[0.72, -0.1, 0.6]]]))


def test_driving_rotation_turns_the_head_in_its_own_frame(ckpt):
    # LivePortrait's relative motion: R = (R_d R_d0^T) @ R_s on row vectors, i.e. the driving turn acts on the
    # canonical keypoints before the portrait's own pose. A nod of a face in profile moves its nose down.
    nod = LP.rotation_rows(torch.tensor([20.0]), torch.zeros(1), torch.zeros(1))
    profile = LP.rotation_rows(torch.zeros(1), torch.tensor([90.0]), torch.zeros(1))
    nose = torch.tensor([[[0.0, 0.0, -0.5]]])  # towards the camera (z into the screen)
    got = nose @ LP.driven_rotation(profile, nod)
    s, c = float(np.sin(np.radians(20))), float(np.cos(np.radians(20)))
    assert torch.allclose(got, torch.tensor([[[-0.5 * c, 0.5 * s, 0.0]]]), atol=1e-6)
    # The renderer does the same with the head curves (pitch +0.3 rad looks down in the ARKit head frame).
    from dreamtalk.core.animation import FaceAnimation
    from dreamtalk.core.render.preview import HeadRenderer
    m = ckpt["models"]
    for mod in (m.F, m.M, m.W, m.G, m.S):
        mod.eval()
    anim = FaceAnimation(30.0, np.zeros((2, 52), np.float32), np.array([[0, 0, 0], [0.3, 0, 0]], np.float32))
    r = N.NeuralRenderer(m, N.source_crop(_portrait(), NET, "center"), anim, HeadRenderer("front", NET),
                         retarget=False, stitch=False)
    r.kp_c = torch.zeros(1, 21, 3)
    r.kp_c[0, 0] = nose[0, 0]
    r.exp_s, r.scale_s, r.t_s, r.rot_s = torch.zeros(1, 21, 3), torch.ones(1, 1), torch.zeros(1, 3), profile
    with torch.inference_mode():
        x = r.keypoints(1)[0, 0]  # same blendshapes as rest: only the head turns
    s, c = float(np.sin(0.3)), float(np.cos(0.3))
    assert torch.allclose(x, torch.tensor([-0.5 * c, 0.5 * s, 0.0]), atol=1e-5)


def _face_landmarks(angle_deg: float = 0.0) -> np.ndarray:
    """(478, 3) mesh landmarks whose cropped parts span x 60..140, y 80..180; eyes at y 110, mouth at y 150."""
    from dreamtalk.core.render.portrait import landmarks as L
    lm = np.zeros((478, 3))
    lm[:, :2] = (100.0, 130.0)
    oval = L.FACE_OVAL
    jaw = oval[oval.index(389):oval.index(162) + 1]
    lm[jaw[0], :2], lm[jaw[-1], :2] = (140.0, 100.0), (60.0, 100.0)  # temples
    lm[L.CHIN, :2] = (100.0, 180.0)
    lm[L.RIGHT_BROW[7], :2] = (90.0, 80.0)  # brow top
    lm[[33, 133, 263, 362], :2] = [(70.0, 110.0), (90.0, 110.0), (130.0, 110.0), (110.0, 110.0)]
    lm[[L.MOUTH_CORNER_RIGHT, L.MOUTH_CORNER_LEFT], :2] = [(80.0, 150.0), (120.0, 150.0)]
    lm[L.FOREHEAD, :2] = (100.0, 20.0)  # far above the brows: not part of LivePortrait's box
    a = np.radians(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    lm[:, :2] = (lm[:, :2] - 100.0) @ rot.T + 100.0
    return lm


def test_face_crop_is_liveportraits_rule():
    # Square of 2.5x the landmark box (jaw, brows, eyes, nose, lips) along the eyes-to-mouth axis, centre raised
    # by 0.125 of the crop side: box 80 x 100 -> side 250, centre (100, 130) - (0, 31.25).
    cx, cy, side = N.face_box(_face_landmarks())
    assert (cx, cy, side) == pytest.approx((100.0, 98.75, 250.0))
    # A tilted head gives the same size, and the centre is raised along the face's own up.
    cx, cy, side = N.face_box(_face_landmarks(20.0))
    a = np.radians(20.0)
    want = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ np.array([0.0, -1.25]) + 100.0
    assert side == pytest.approx(250.0) and (cx, cy) == pytest.approx(tuple(want))


def test_rest_frame_is_the_portrait_and_head_curves_rotate(ckpt):
    from dreamtalk.core.animation import FaceAnimation
    from dreamtalk.core.render.preview import HeadRenderer
    m = ckpt["models"]
    for mod in (m.F, m.M, m.W, m.G, m.S):
        mod.eval()
    hr = np.array([[0, 0, 0], [0, 0.3, 0]], np.float32)
    anim = FaceAnimation(30.0, np.zeros((2, 52), np.float32), hr)
    src = N.source_crop(_portrait(), NET, "center")
    r = N.NeuralRenderer(m, src, anim, HeadRenderer("front", NET), stitch=False)
    with torch.inference_mode():
        assert torch.allclose(r.keypoints(0), r.x_s, atol=1e-5)  # neutral curves: the portrait's own keypoints
        moved = r.keypoints(1)
        r.head_scale = 0.0
        assert torch.allclose(r.keypoints(1), r.x_s, atol=1e-5)
    assert not torch.allclose(moved, r.x_s, atol=1e-3)


def test_paste_back_keeps_the_portrait_outside_the_face():
    img = _portrait()
    src = N.source_crop(img, NET, "center")
    paste = N.PasteBack(src)
    assert paste.size == (200, 150) and (paste.x0, paste.y0, paste.side) == (25, 0, 150)
    out = paste(np.zeros((2 * NET, 2 * NET, 3), np.uint8))
    assert out.shape == img.shape
    assert np.array_equal(out[:, :25], img[:, :25]) and np.array_equal(out[:, 175:], img[:, 175:])
    assert out[75, 100].max() == 0  # the middle of the box is the generated crop
    assert N.PasteBack(src, 100).size == (100, 74)


# ---- rendering -----------------------------------------------------------------------------------------------
def _probe(path) -> dict:
    if not shutil.which("ffprobe"):
        pytest.skip("no ffprobe available")
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
                       capture_output=True, text=True, check=True)
    return {s["codec_type"]: s for s in json.loads(r.stdout)["streams"]}


def _wav(path, seconds=0.1):
    from dreamtalk.core.render.video import write_wav16
    t = np.arange(int(seconds * 16000)) / 16000
    write_wav16(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    return path


def test_chunked_render_resume_identical(ckpt, tmp_path, make_anim, monkeypatch):
    frames, chunk = 3, 1
    anim = make_anim(frames)
    wav = _wav(tmp_path / "a.wav", frames / 30)
    kw = dict(audio=str(wav), chunk=chunk, crop="center", progress=False, keep_work=True, net_size=NET,
              models=ckpt["models"], checkpoint=None)
    calls = {"n": 0}
    real = N.NeuralRenderer.frame

    def flaky(self, k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, k)
    monkeypatch.setattr(N.NeuralRenderer, "frame", flaky)
    with pytest.raises(KeyboardInterrupt):
        N.render_neural(anim, _portrait(), tmp_path / "res.mp4", work_dir=tmp_path / "wb", **kw)
    assert not (tmp_path / "res.mp4").exists()
    assert sorted(p.name for p in (tmp_path / "wb").glob("chunk_*.npy")) == ["chunk_00000.npy"]
    with pytest.raises(InputError, match="--resume"):  # not resuming an existing work dir is refused
        N.render_neural(anim, _portrait(), tmp_path / "res.mp4", work_dir=tmp_path / "wb", **kw)
    with pytest.raises(InputError, match="differs in: animation_sha256"):
        N.render_neural(make_anim(frames, seed=3), _portrait(), tmp_path / "res.mp4", work_dir=tmp_path / "wb",
                        resume=True, **kw)
    monkeypatch.setattr(N.NeuralRenderer, "frame", real)
    info = N.render_neural(anim, _portrait(), tmp_path / "res.mp4", work_dir=tmp_path / "wb", resume=True, **kw)
    assert info["chunks_reused"] == 1 and info["frames_rendered"] == frames - 1 and info["size"] == [200, 150]
    v = _probe(tmp_path / "res.mp4")["video"]
    assert int(v["nb_read_frames"]) == frames and (v["width"], v["height"]) == (200, 150)
    # The resumed frames are the ones an uninterrupted run gives (same weights, deterministic).
    first = np.load(tmp_path / "wb" / "chunk_00000.npy")[0]
    assert first.shape == (2 * NET, 2 * NET, 3)
    r = N.NeuralRenderer(ckpt["models"], N.source_crop(_portrait(), NET, "center"), anim,
                         __import__("dreamtalk.core.render.preview", fromlist=["x"]).HeadRenderer("front", NET))
    assert np.array_equal(r.frame(2), np.load(tmp_path / "wb" / "chunk_00002.npy")[0])


def test_cli_neural_end_to_end(ckpt, tmp_path, make_anim):
    from PIL import Image

    from dreamtalk.cli import main
    from dreamtalk.core.formats import write_animation
    write_animation(make_anim(2), tmp_path / "a.json")
    _wav(tmp_path / "a.wav", 2 / 30)
    Image.fromarray(_portrait(1, (150, 200, 3))).save(tmp_path / "p.png")
    base = ["render", str(tmp_path / "p.png"), str(tmp_path / "a.wav"), "--backend", "neural",
            "--anim", str(tmp_path / "a.json"), "-q", "--net-size", str(NET)]
    out = tmp_path / "o.mp4"
    assert main(base + ["-o", str(out), "--checkpoint", str(ckpt["dir"]), "--chunk", "1", "--head-scale", "0.5"]) == 0
    v = _probe(out)
    assert int(v["video"]["nb_read_frames"]) == 2 and (v["video"]["width"], v["video"]["height"]) == (200, 150)
    assert "audio" in v and not (tmp_path / "o.mp4.neural-work").exists()  # removed after success
    bad = tmp_path / "x.mp4"
    assert main(base + ["-o", str(bad)]) == 2  # no --checkpoint
    assert main(base + ["-o", str(bad), "--checkpoint", str(tmp_path / "none")]) == 2
    assert main(base + ["-o", str(bad), "--checkpoint", str(ckpt["dir"]), "--device", "tpu"]) == 2
    assert main(base + ["-o", str(bad), "--checkpoint", str(ckpt["dir"]), "--head-scale", "-1"]) == 2
    assert main(base[:-1] + ["100", "-o", str(bad), "--checkpoint", str(ckpt["dir"])]) == 2  # net size 100
    assert not bad.exists()


def test_bench_neural_small(ckpt):
    r = N.bench_neural((NET,), frames=1, models=ckpt["models"])
    v = r["sizes"][str(NET)]
    assert r["parameters"] > 100_000_000 and v["output_crop"] == 2 * NET and v["seconds_per_frame"] > 0


# ---- safetensors reader --------------------------------------------------------------------------------------
def test_safetensors_reader(tmp_path):
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array(5, np.int64),
              "c": np.array([1.5, -2], np.float16), "d": np.array([True, False]), "e": np.zeros((0, 3), np.uint8),
              "f": np.arange(4, dtype=">f4")}
    p = tmp_path / "t.safetensors"
    N.write_safetensors(p, arrays, {"k": "v"})
    raw = p.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"] == {"k": "v"} and header["a"] == {"dtype": "F32", "shape": [2, 3],
                                                                     "data_offsets": [0, 24]}
    assert (8 + n) % 8 == 0
    back = N.read_safetensors(p)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype.newbyteorder("=") and np.array_equal(back[k], v), k
    # BF16 (written by hand: the top 16 bits of float32) widens exactly.
    vals = np.array([1.0, -2.5, 3.140625], np.float32)
    bf = (vals.view(np.uint32) >> 16).astype("<u2").tobytes()
    hdr = json.dumps({"x": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    (tmp_path / "bf.safetensors").write_bytes(struct.pack("<Q", len(hdr)) + hdr + bf)
    assert np.array_equal(N.read_safetensors(tmp_path / "bf.safetensors")["x"], vals)
    # Truncated data, an absurd header length and a non-JSON header are clear errors.
    (tmp_path / "cut.safetensors").write_bytes(raw[:-4])
    with pytest.raises(InputError, match="truncated or corrupt"):
        N.read_safetensors(tmp_path / "cut.safetensors")
    (tmp_path / "big.safetensors").write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    with pytest.raises(InputError, match="header length"):
        N.read_safetensors_header(tmp_path / "big.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(struct.pack("<Q", 3) + b"{{{")
    with pytest.raises(InputError, match="corrupt safetensors header"):
        N.read_safetensors_header(tmp_path / "junk.safetensors")


def test_torch_missing_is_a_clear_error(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(InputError, match="needs PyTorch"):
        N._torch()
