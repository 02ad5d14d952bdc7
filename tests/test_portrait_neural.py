"""Portrait neural backend: checkpoint loading and checking, weights-only .pth, safetensors reader, geometry,
chunked rendering with resume, MP4 with audio, CLI. All checkpoints are tiny random networks made here."""
from __future__ import annotations

import json
import pathlib
import shutil
import struct
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dreamtalk.core.errors import InputError  # noqa: E402
from dreamtalk.core.render.portrait import neural as N  # noqa: E402
from dreamtalk.core.render.portrait.fv2v import (FV2VConfig, build_model, coordinate_grid,  # noqa: E402
                                                 rotation_matrix, tiny_config)

FRAMES, CHUNK = 10, 4  # three chunks, the last one short


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    # Two threads on a busy 2-core machine are >10x slower than one for a network this small.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    """A random tiny network (with non-default BatchNorm statistics) saved as .safetensors and .pth."""
    d = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    model = build_model(tiny_config())
    with torch.no_grad():
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.normal_(0, 0.1)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                b.fill_(7)
    N.save_checkpoint(model, d / "tiny.safetensors")
    N.save_checkpoint(model, d / "tiny.pth")
    return {"dir": d, "model": model, "st": d / "tiny.safetensors", "pth": d / "tiny.pth"}


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _portrait(seed=0, shape=(90, 120, 3)):
    # Smooth colour blobs: not a face, so 'auto' crop falls back to the centre.
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:shape[0], :shape[1]] / 30.0
    img = np.stack([np.sin(x * rng.uniform(1, 3) + c) * np.cos(y * rng.uniform(1, 3)) for c in range(3)], -1)
    return ((img * 0.5 + 0.5) * 255).astype(np.uint8)


def _probe(path) -> dict:
    if not shutil.which("ffprobe"):
        pytest.skip("no ffprobe available")
    r = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
                       capture_output=True, text=True, check=True)
    return {s["codec_type"]: s for s in json.loads(r.stdout)["streams"]}


def _wav(path, seconds=FRAMES / 30):
    from dreamtalk.core.render.video import write_wav16
    t = np.arange(int(seconds * 16000)) / 16000
    write_wav16(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    return path


# ---- checkpoints ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["st", "pth"])
def test_load_restores_every_tensor(ckpt, kind):
    model = N.load_checkpoint(ckpt[kind])
    assert model.cfg == tiny_config() and not model.training
    want, got = _state(ckpt["model"]), _state(model)
    assert set(want) == set(got)
    for k in want:
        assert torch.equal(want[k], got[k]), k
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        assert torch.equal(ckpt["model"](x, x.flip(-1)), model(x, x.flip(-1)))


def test_bad_keys_and_shapes_are_named(ckpt, tmp_path):
    sd = {k: v.numpy() for k, v in _state(ckpt["model"]).items()}
    meta = {"format": "dreamtalk-fv2v", "config": json.dumps(tiny_config().to_dict())}
    missing, wrong = "generator.final.weight", "pose.trans.bias"
    del sd[missing]
    sd[wrong] = np.zeros(4, np.float32)
    sd["extra.thing"] = np.zeros(2, np.float32)
    N.write_safetensors(tmp_path / "bad.safetensors", sd, meta)
    with pytest.raises(InputError) as e:
        N.load_checkpoint(tmp_path / "bad.safetensors")
    msg = str(e.value)
    assert "\n" not in msg
    assert f"1 missing: {missing}" in msg and "1 unexpected: extra.thing" in msg
    assert f"{wrong} (4,) != model (3,)" in msg
    # The same for .pth, and a config that does not match the tensors (num_kp 5 vs 4).
    state = _state(ckpt["model"])
    torch.save({"config": dict(tiny_config().to_dict(), num_kp=5), "state_dict": state}, tmp_path / "kp.pth")
    with pytest.raises(InputError, match=r"8 wrong shape: keypoints\.heat\.bias \(4,\) != model \(5,\);.*\(\+2 more\)"):
        N.load_checkpoint(tmp_path / "kp.pth")
    torch.save({"config": dict(tiny_config().to_dict(), colour="red"), "state_dict": state}, tmp_path / "c.pth")
    with pytest.raises(InputError, match="unknown fields: colour"):
        N.load_checkpoint(tmp_path / "c.pth")
    with pytest.raises(InputError, match="never downloads"):
        N.load_checkpoint(tmp_path / "nope.safetensors")
    (tmp_path / "w.bin").write_bytes(b"x")
    with pytest.raises(InputError, match=r"\.safetensors or \.pth"):
        N.load_checkpoint(tmp_path / "w.bin")
    # Non-finite weights are refused too.
    bad = dict(state)
    bad["generator.final.bias"] = torch.full((3,), float("nan"))
    torch.save({"config": tiny_config().to_dict(), "state_dict": bad}, tmp_path / "nan.pth")
    with pytest.raises(InputError, match="non-finite values in: generator.final.bias"):
        N.load_checkpoint(tmp_path / "nan.pth")


class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_pth_with_pickled_object_is_refused(ckpt, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"config": tiny_config().to_dict(), "state_dict": _state(ckpt["model"]),
                "extra": _Payload(str(marker))}, tmp_path / "evil.pth")
    with pytest.raises(InputError, match="weights_only=True"):
        N.load_checkpoint(tmp_path / "evil.pth")
    assert not marker.exists()
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(InputError, match="dict of tensors"):
        N.load_checkpoint(tmp_path / "list.pth")


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


def test_config_validation():
    with pytest.raises(InputError, match="divisible by 2\\*\\*down_blocks"):
        FV2VConfig(image_size=100, down_blocks=3)
    assert FV2VConfig.from_dict(tiny_config().to_dict()) == tiny_config()
    with pytest.raises(InputError, match="'num_kp' has a bad value"):
        FV2VConfig.from_dict({"num_kp": 2.5})


# ---- geometry ------------------------------------------------------------------------------------------------
def test_same_keypoints_give_identity_flow(ckpt):
    """Driving == source keypoints and pose: every candidate warp is the identity, so the flow is too."""
    m = ckpt["model"]
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        src = m.source(x)
        kp, rot = m.place(src["kp_c"], src["he"])
        flow, occ = m.motion(src["volume"], kp, kp, rot, rot)
    cfg = m.cfg
    grid = coordinate_grid(cfg.vol_depth, cfg.vol_size, cfg.vol_size)
    assert flow.shape == (1, cfg.vol_depth, cfg.vol_size, cfg.vol_size, 3)
    assert torch.allclose(flow[0], grid, atol=1e-5)
    assert occ.shape == (1, 1, cfg.vol_size, cfg.vol_size) and 0 <= float(occ.min()) <= float(occ.max()) <= 1
    # Relative transfer with the reference frame as driving frame is the source's own pose and expression.
    he = m.relative(src["he"], src["he"], src["he"])
    assert all(torch.equal(he[k], src["he"][k]) for k in he)


def test_rotation_matrix_convention():
    a = torch.tensor([90.0])
    z = torch.zeros(1)
    r = rotation_matrix(a, z, z)[0]  # yaw 90: x goes to -z
    assert torch.allclose(r @ torch.tensor([1.0, 0, 0]), torch.tensor([0.0, 0, -1]), atol=1e-6)
    r = rotation_matrix(torch.tensor([20.0]), torch.tensor([-35.0]), torch.tensor([50.0]))[0]
    assert torch.allclose(r @ r.T, torch.eye(3), atol=1e-6) and abs(float(torch.det(r)) - 1) < 1e-6


# ---- rendering -----------------------------------------------------------------------------------------------
def test_chunked_render_resume_identical(ckpt, tmp_path, make_anim, monkeypatch):
    anim = make_anim(FRAMES)
    wav = _wav(tmp_path / "a.wav")
    kw = dict(audio=str(wav), chunk=CHUNK, crop="center", progress=False, keep_work=True)
    info = N.render_neural(anim, _portrait(), tmp_path / "full.mp4", ckpt["st"], work_dir=tmp_path / "wa", **kw)
    assert info["frames_rendered"] == FRAMES and info["chunks"] == 3 and info["chunks_reused"] == 0
    streams = _probe(tmp_path / "full.mp4")
    v, a = streams["video"], streams["audio"]
    assert int(v["nb_read_frames"]) == FRAMES and (v["width"], v["height"]) == (64, 64)
    assert abs(float(a["duration"]) - FRAMES / 30) < 0.05

    # Interrupt a second run inside chunk 1: no video, chunk 0 kept; resuming renders only what is missing.
    calls = {"n": 0}
    real = N.NeuralRenderer.frame

    def flaky(self, rgb):
        calls["n"] += 1
        if calls["n"] == CHUNK + 2:
            raise KeyboardInterrupt
        return real(self, rgb)
    monkeypatch.setattr(N.NeuralRenderer, "frame", flaky)
    with pytest.raises(KeyboardInterrupt):
        N.render_neural(anim, _portrait(), tmp_path / "res.mp4", ckpt["pth"], work_dir=tmp_path / "wb", **kw)
    assert not (tmp_path / "res.mp4").exists()
    assert sorted(p.name for p in (tmp_path / "wb").glob("chunk_*.npy")) == ["chunk_00000.npy"]
    with pytest.raises(InputError, match="--resume"):  # not resuming an existing work dir is refused
        N.render_neural(anim, _portrait(), tmp_path / "res.mp4", ckpt["pth"], work_dir=tmp_path / "wb", **kw)
    with pytest.raises(InputError, match="differs in: animation_sha256"):
        N.render_neural(make_anim(FRAMES, seed=3), _portrait(), tmp_path / "res.mp4", ckpt["pth"],
                        work_dir=tmp_path / "wb", resume=True, **kw)
    monkeypatch.setattr(N.NeuralRenderer, "frame", real)
    info = N.render_neural(anim, _portrait(), tmp_path / "res.mp4", ckpt["pth"], work_dir=tmp_path / "wb",
                           resume=True, **kw)
    assert info["chunks_reused"] == 1 and info["frames_rendered"] == FRAMES - CHUNK
    for c in range(3):
        a_ = np.load(tmp_path / "wa" / f"chunk_{c:05d}.npy")
        b_ = np.load(tmp_path / "wb" / f"chunk_{c:05d}.npy")
        assert a_.shape == (min(CHUNK, FRAMES - c * CHUNK), 64, 64, 3) and np.array_equal(a_, b_), c
    assert int(_probe(tmp_path / "res.mp4")["video"]["nb_read_frames"]) == FRAMES


def test_cli_neural(ckpt, tmp_path, make_anim):
    from PIL import Image

    from dreamtalk.cli import main
    from dreamtalk.core.formats import write_animation
    write_animation(make_anim(FRAMES), tmp_path / "a.json")
    _wav(tmp_path / "a.wav")
    Image.fromarray(_portrait(1, (100, 80, 3))).save(tmp_path / "p.png")
    base = ["render", str(tmp_path / "p.png"), str(tmp_path / "a.wav"), "--backend", "neural",
            "--anim", str(tmp_path / "a.json"), "-q"]
    out = tmp_path / "o.mp4"
    assert main(base + ["-o", str(out), "--checkpoint", str(ckpt["st"]), "--chunk", "3", "--size", "96"]) == 0
    v = _probe(out)
    assert int(v["video"]["nb_read_frames"]) == FRAMES and v["video"]["width"] == 96 and "audio" in v
    assert not (tmp_path / "o.mp4.neural-work").exists()  # removed after success
    bad = tmp_path / "x.mp4"
    assert main(base + ["-o", str(bad)]) == 2  # no --checkpoint
    assert main(base + ["-o", str(bad), "--checkpoint", str(tmp_path / "none.pth")]) == 2
    assert main(base + ["-o", str(bad), "--checkpoint", str(ckpt["st"]), "--resume", str(tmp_path / "nowhere")]) == 2
    assert main(base + ["-o", str(bad), "--checkpoint", str(ckpt["st"]), "--device", "tpu"]) == 2
    assert not bad.exists()
