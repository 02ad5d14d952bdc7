"""numpy inference reproduces the torch networks (max abs difference <= 1e-4) on the same inputs and noise."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dreamtalk.core.models.config import EmoDiffConfig, LipsConfig
from dreamtalk.core.models.emodiff_numpy import OVERLAP, SEAM_SIGMA, EmoDiffNumpy, WindowCond, smooth_seams
from dreamtalk.core.models.emodiff_torch import EmoDiff, export_arrays
from dreamtalk.core.models.layers import window_slice
from dreamtalk.core.models.lips_numpy import LipsNumpy
from dreamtalk.core.models.lips_torch import Lips
from dreamtalk.core.sampler import ddim_sample
from dreamtalk.core.weights import Weights, load_weights, save_weights

TINY = EmoDiffConfig(window=12, prefix=4, lookahead=3, d_model=32, n_layers=2, n_heads=4, style_dim=16,
                     style_d_model=24, style_layers=1, style_heads=2, style_max_frames=20, diffusion_steps=100,
                     dropout=0.0)


def _randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():  # random init everywhere so no term is trivially zero
            p.copy_(torch.randn(p.shape, generator=g) * 0.15)
        for name, b in model.named_buffers():
            b.copy_(torch.rand(b.shape, generator=g) + (0.5 if "std" in name else 0.0))
    return model.eval()


def _emodiff_pair(seed=0, cfg=TINY):
    torch.manual_seed(seed)
    tm = _randomize(EmoDiff(cfg), seed)
    nm = EmoDiffNumpy(export_arrays(tm), cfg.to_dict())
    return tm, nm


def _cond(rng, b):
    c = TINY
    mask = (rng.random((b, c.prefix)) > 0.4).astype(np.float32)
    return WindowCond(rng.standard_normal((b, c.seq_len, c.audio_dim)).astype(np.float32),
                      rng.standard_normal((b, c.prefix, c.motion_dim)).astype(np.float32), mask,
                      rng.standard_normal((b, c.style_dim)).astype(np.float32))


def _torch_eps(tm, x, t, cond):
    with torch.no_grad():
        return tm(torch.from_numpy(np.asarray(x, np.float32)), torch.full((x.shape[0],), int(t)),
                  torch.from_numpy(cond.audio), torch.from_numpy(cond.prefix),
                  torch.from_numpy(cond.prefix_mask), torch.from_numpy(cond.style)).numpy()


def test_emodiff_eps_parity():
    tm, nm = _emodiff_pair()
    rng = np.random.default_rng(1)
    cond = _cond(rng, 3)
    x = rng.standard_normal((3, TINY.window, TINY.motion_dim)).astype(np.float32)
    for t in (0, 37, 99):
        a, b = _torch_eps(tm, x, t, cond), nm.eps(x, t, cond)
        assert a.shape == (3, TINY.window, 55)
        assert np.abs(a).max() > 0.1  # a real output, not zeros
        assert np.abs(a - b).max() <= 1e-4


def _variant_parity(seed: int, t: int, **changes):
    """A random torch/numpy pair of TINY with ``changes``; asserts parity of the raw output at step t."""
    import dataclasses
    cfg = dataclasses.replace(TINY, **changes)
    tm, nm = _emodiff_pair(seed, cfg)
    rng = np.random.default_rng(seed + 1)
    cond = _cond(rng, 2)
    x = rng.standard_normal((2, TINY.window, TINY.motion_dim)).astype(np.float32)
    b = nm.raw(x, t, cond)
    assert np.abs(_torch_eps(tm, x, t, cond) - b).max() <= 1e-4
    return cfg, tm, x, cond, b


def test_emodiff_motion_conv_parity_and_effect():
    cfg, tm, x, cond, b = _variant_parity(5, 20, motion_kernel=5)
    # The conv makes a token depend on its neighbours' noisy frames; without it, a frame sees only itself
    # before attention, so zeroing the conv must change the output.
    plain = EmoDiffNumpy({k: (np.zeros_like(v) if k.startswith("motion_conv") else v)
                          for k, v in export_arrays(tm).items()}, cfg.to_dict())
    assert np.abs(plain.raw(x, 20, cond) - b).max() > 1e-3


def test_emodiff_output_conv_parity_identity_start_and_edges():
    import dataclasses
    from dreamtalk.core.models.layers import depthwise_conv_edge
    cfg = dataclasses.replace(TINY, out_kernel=5, prediction="x0")
    torch.manual_seed(0)
    fresh = EmoDiff(cfg)
    w = fresh.out_conv.weight.detach().numpy()[:, 0]  # (55, 5) starts as the identity
    assert np.array_equal(w[:, 2], np.ones(55)) and not w[:, [0, 1, 3, 4]].any()
    _variant_parity(12, 30, out_kernel=5, prediction="x0")
    # Edge padding: a constant channel stays constant through a smoothing kernel, even at the window ends.
    y = np.full((1, 7, 2), 3.0, np.float32)
    k = np.array([[0.25, 0.5, 0.25], [0.0, 1.0, 0.0]], np.float32)
    assert np.allclose(depthwise_conv_edge(y, k, np.zeros(2, np.float32)), 3.0)
    z = np.zeros((1, 5, 1), np.float32)
    z[0, 2, 0] = 1.0
    assert np.allclose(depthwise_conv_edge(z, k[:1], np.zeros(1, np.float32))[0, :, 0], [0, 0.25, 0.5, 0.25, 0])
    with pytest.raises(ValueError, match="out_kernel"):
        dataclasses.replace(TINY, out_kernel=4)


def test_emodiff_head_lowpass_parity_and_only_the_head_is_smoothed():
    import dataclasses
    cfg, tm, x, cond, b = _variant_parity(14, 40, out_kernel=3, prediction="x0", head_lowpass=2.0)
    plain = EmoDiffNumpy(export_arrays(tm), dataclasses.replace(cfg, head_lowpass=0.0).to_dict())
    a = plain.raw(x, 40, cond)
    assert np.array_equal(a[..., :52], b[..., :52])  # blendshapes untouched
    # Head channels: the fixed Gaussian removes frame-level content (second differences shrink).
    assert np.abs(np.diff(b[..., 52:], 2, axis=1)).mean() < 0.5 * np.abs(np.diff(a[..., 52:], 2, axis=1)).mean()
    assert np.allclose(b[..., 52:].mean(axis=1), a[..., 52:].mean(axis=1), atol=0.15)  # level kept (edges padded)
    k = cfg.head_lowpass_kernel()
    assert len(k) == 13 and abs(float(k.sum()) - 1.0) < 1e-6 and k.argmax() == 6
    with pytest.raises(ValueError, match="head_lowpass"):
        dataclasses.replace(TINY, prediction="eps", head_lowpass=2.0)
    with pytest.raises(ValueError, match="head_lowpass"):
        dataclasses.replace(TINY, prediction="x0", head_lowpass=-1.0)


def test_window_padding_marks_silence_in_the_energy_column_whatever_is_appended():
    from dreamtalk.core.audio import FEATURE_DIM, SUBFRAME_FEATURE_DIM
    from dreamtalk.core.models.layers import PAD_ENERGY
    for width, energy in ((FEATURE_DIM, FEATURE_DIM - 2), (FEATURE_DIM + 3, FEATURE_DIM - 2),
                          (FEATURE_DIM + 42, FEATURE_DIM - 2), (SUBFRAME_FEATURE_DIM + 42, SUBFRAME_FEATURE_DIM - 2)):
        w = window_slice(np.ones((5, width), np.float32), 0, TINY)  # the prefix lies before the clip: padding
        assert np.all(w[0, energy] == PAD_ENERGY) and np.count_nonzero(w[0]) == 1 and np.all(w[TINY.prefix] == 1)


def test_prosody_config_needs_its_audio_columns():
    import dataclasses
    with pytest.raises(ValueError, match="audio_dim"):
        dataclasses.replace(TINY, prosody=True)
    cfg = dataclasses.replace(TINY, prosody=True, audio_dim=TINY.audio_dim + 3)
    assert EmoDiffConfig.from_dict(cfg.to_dict()) == cfg


def test_x0_prediction_is_handed_to_the_sampler_as_noise():
    import dataclasses
    cfg = dataclasses.replace(TINY, prediction="x0")
    tm, nm = _emodiff_pair(9, cfg)
    rng = np.random.default_rng(10)
    cond = _cond(rng, 2)
    x = rng.standard_normal((2, TINY.window, TINY.motion_dim)).astype(np.float32)
    for t in (0, 50, 99):
        x0 = _torch_eps(tm, x, t, cond)  # the torch network's raw output: the clean window
        assert np.abs(nm.raw(x, t, cond) - x0).max() <= 1e-4
        a = nm.acp[t]
        want = (x - np.sqrt(a) * x0) / np.sqrt(1 - a)
        assert np.allclose(nm.eps(x, t, cond), want, rtol=1e-3, atol=1e-3 / np.sqrt(1 - a))
        # The sampler's own clean estimate from that noise is the network's x0 again.
        back = (x - np.sqrt(1 - a) * nm.eps(x, t, cond).astype(np.float64)) / np.sqrt(a)
        assert np.abs(back - x0).max() <= 1e-3
    with pytest.raises(ValueError, match="prediction"):
        dataclasses.replace(TINY, prediction="z")


def test_v_prediction_parity_and_its_clean_estimate():
    import dataclasses
    from dreamtalk.core.models.emodiff_torch import EmoDiff
    cfg, tm, x, cond, b = _variant_parity(21, 30, out_kernel=3, prediction="v", head_lowpass=2.0)
    # The output is the clean window built from the network's v: x0 = sqrt(abar) x_t - sqrt(1 - abar) v.
    v_net = EmoDiffNumpy(export_arrays(tm), dataclasses.replace(cfg, prediction="x0", head_lowpass=0.0).to_dict())
    a = v_net.acp[30]
    want = np.sqrt(a) * x - np.sqrt(1 - a) * v_net.raw(x, 30, cond)
    plain = EmoDiffNumpy(export_arrays(tm), dataclasses.replace(cfg, head_lowpass=0.0).to_dict())
    assert np.allclose(plain.raw(x, 30, cond), want, atol=1e-4)
    assert np.array_equal(b[..., :52], plain.raw(x, 30, cond)[..., :52])  # the low-pass is on the head only
    # Starting a v model from x0 weights keeps the old clean estimate at high noise and the input near t = 0.
    xcfg = dataclasses.replace(cfg, prediction="x0")
    old = EmoDiffNumpy(export_arrays(tm), xcfg.to_dict())
    w = Weights("emodiff", xcfg.to_dict(), export_arrays(tm))
    torch.manual_seed(3)
    vm = EmoDiff(cfg)
    vm.load_state_dict({k: torch.as_tensor(v) for k, v in vm.adapt_init(w).items()}, strict=False)
    new = EmoDiffNumpy(export_arrays(vm), cfg.to_dict())
    hi = TINY.diffusion_steps - 1
    assert np.abs(new.raw(x, hi, cond) - old.raw(x, hi, cond)).max() < 0.05 * np.abs(old.raw(x, hi, cond)).max()
    assert np.abs(new.raw(x, 0, cond)[..., :52] - x[..., :52]).max() < 0.05 * np.abs(x).max()


def test_norm_scale_start_computes_the_same_clean_window_and_style():
    """A fine-tune that rescales channels (norm_scale) starts from the old function: inputs r times smaller in
    model units give outputs r times smaller, and a raw reference clip the same style vector."""
    import dataclasses
    from dreamtalk.core.models.emodiff_torch import EmoDiff
    from dreamtalk.rigs.arkit import INDEX
    cfg, tm, x, cond, _ = _variant_parity(31, 40, motion_kernel=3, out_kernel=3, prediction="x0")
    with torch.no_grad():
        tm.motion_std.copy_(torch.rand(55) + 0.5)
    old = EmoDiffNumpy(export_arrays(tm), cfg.to_dict())
    new_cfg = dataclasses.replace(cfg, norm_scale=(("mouthSmileLeft", 0.25), ("cheekSquintRight", 0.5)))
    r = new_cfg.norm_factors()
    assert r[INDEX["mouthSmileLeft"]] == 0.25 and r[INDEX["cheekSquintRight"]] == 0.5 and (r == 1).sum() == 53
    vm = EmoDiff(new_cfg)
    w = Weights("emodiff", cfg.to_dict(), export_arrays(tm))
    vm.load_state_dict({k: torch.as_tensor(v) for k, v in vm.adapt_init(w).items()}, strict=False)
    new = EmoDiffNumpy(export_arrays(vm), new_cfg.to_dict())
    assert np.allclose(new.std, old.std * r)
    scaled = dataclasses.replace(cond, prefix=cond.prefix / r)
    for t in (0, 40):  # the same input in the new units gives the same clean window in the new units
        assert np.allclose(new.raw(x / r, t, scaled), old.raw(x, t, cond) / r, atol=1e-4)
    clip = np.random.default_rng(2).random((20, 55)).astype(np.float32)
    assert np.allclose(new.encode_style(clip), old.encode_style(clip), atol=1e-4)
    with pytest.raises(ValueError, match="norm_scale"):
        dataclasses.replace(cfg, norm_scale=(("notAShape", 0.5),))
    with pytest.raises(ValueError, match="clean-window"):
        EmoDiff(dataclasses.replace(new_cfg, prediction="eps")).adapt_init(w)


def test_emodiff_sampling_parity_same_noise():
    tm, nm = _emodiff_pair(2)
    cond = _cond(np.random.default_rng(3), 1)
    kw = dict(shape=(1, TINY.window, 55), acp=nm.acp, steps=5, eta=0.5, cond=cond, clip_x0=TINY.clip_x0)
    a = ddim_sample(lambda x, t, c: _torch_eps(tm, x, t, c), rng=np.random.default_rng(7), **kw)
    b = ddim_sample(nm.eps, rng=np.random.default_rng(7), **kw)
    assert np.abs(a - b).max() <= 1e-4


def test_style_encoder_parity_and_chunks():
    tm, nm = _emodiff_pair(4)
    rng = np.random.default_rng(5)
    clip = rng.random((2, 17, 55)).astype(np.float32)
    with torch.no_grad():
        a = tm.encode_style(tm.normalize(torch.from_numpy(clip))).numpy()
    b = nm.encode_style_batch(nm.normalize(clip))
    assert np.abs(a - b).max() <= 1e-4
    assert np.allclose(nm.encode_style(clip[0]), b[0], atol=1e-5)  # one chunk = the batch path
    long = rng.random((50, 55)).astype(np.float32)  # 3 chunks of <= 20 frames, length-weighted average
    parts = [nm.encode_style(long[a:b]) for a, b in ((0, 17), (17, 33), (33, 50))]
    assert np.allclose(nm.encode_style(long), np.average(parts, axis=0, weights=[17, 16, 17]), atol=1e-5)


def test_guidance_batches_null_style():
    _, nm = _emodiff_pair(6)
    cond = _cond(np.random.default_rng(8), 2)
    x = np.random.default_rng(9).standard_normal((2, TINY.window, 55)).astype(np.float32)
    e_c = nm.eps(x, 50, cond)
    e_u = nm.eps(x, 50, WindowCond(cond.audio, cond.prefix, cond.prefix_mask,
                                   np.broadcast_to(nm.null_style, cond.style.shape)))
    g = nm.guided_eps_fn(2.5)(x, 50, cond)
    assert np.allclose(g, e_u + 2.5 * (e_c - e_u), atol=1e-5)
    assert np.array_equal(nm.guided_eps_fn(1.0)(x, 50, cond), e_c)


def test_guidance_interval_guides_only_inside_and_the_weights_carry_their_default():
    import dataclasses
    cfg = dataclasses.replace(TINY, sample_guidance=3.0, guidance_interval=(40, 60))
    _, nm = _emodiff_pair(6, cfg)
    cond = _cond(np.random.default_rng(8), 2)
    x = np.random.default_rng(9).standard_normal((2, TINY.window, 55)).astype(np.float32)
    fn = nm.guided_eps_fn(*nm.guidance_for(None))
    for t in (30, 40, 50, 60, 70):  # one fn across steps, as the sampler uses it (its context cache is reused)
        want = nm.guided_eps_fn(3.0)(x, t, cond) if 40 <= t <= 60 else nm.eps(x, t, cond)
        assert np.allclose(fn(x, t, cond), want, atol=1e-5), t
    assert not np.allclose(nm.eps(x, 50, cond), nm.guided_eps_fn(3.0)(x, 50, cond), atol=1e-3)
    assert nm.guidance_for(None) == (3.0, (40, 60))
    assert nm.guidance_for(2.0) == (2.0, None)  # an explicit scale applies at every step
    assert EmoDiffConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg  # the interval survives JSON
    with pytest.raises(ValueError, match="guidance_interval"):
        dataclasses.replace(TINY, guidance_interval=(60, 40))
    with pytest.raises(ValueError, match="sample_spacing"):
        dataclasses.replace(TINY, sample_spacing="uniform")


def test_clip_range_bounds_each_blendshape_by_its_own_range():
    """With clip_range the clean estimate of each blendshape stays in [0, 1] raw (a blink is not capped at
    mean + 6 std); the head keeps +-clip_x0 in model units."""
    import dataclasses
    cfg = dataclasses.replace(TINY, clip_range=True, clip_x0=2.0)
    _, nm = _emodiff_pair(12, cfg)
    lo, hi = nm.x0_bound
    assert np.allclose(nm.denormalize(lo[None])[0, :52], 0.0, atol=1e-5)
    assert np.allclose(nm.denormalize(hi[None])[0, :52], 1.0, atol=1e-5)
    assert np.allclose(lo[52:], -2.0) and np.allclose(hi[52:], 2.0)
    feats = np.random.default_rng(13).standard_normal((30, TINY.audio_dim)).astype(np.float32)
    out = nm.sample_sequence(feats, nm.null_style, rng=1, steps=3)
    assert out[:, :52].min() >= -1e-5 and out[:, :52].max() <= 1 + 1e-5
    assert _emodiff_pair(12, TINY)[1].x0_bound == TINY.clip_x0


def test_sample_window_inpaints_known_frames():
    """``known`` frames come back exactly and steer the rest of the window; without them it is another window."""
    _, nm = _emodiff_pair(14)
    rng = np.random.default_rng(15)
    audio = rng.standard_normal((TINY.seq_len, TINY.audio_dim)).astype(np.float32)
    known = nm.denormalize(rng.standard_normal((5, 55)).astype(np.float32))
    a = nm.sample_window(audio, nm.null_style, np.random.default_rng(1), steps=4, known=known)
    b = nm.sample_window(audio, nm.null_style, np.random.default_rng(1), steps=4)
    assert a.shape == (TINY.window, 55) and np.allclose(a[:5], known, atol=1e-5)
    assert not np.allclose(a[5:], b[5:], atol=1e-4)


def test_sample_sequence_chains_windows_deterministically(monkeypatch):
    from dreamtalk.core.models import emodiff_numpy
    monkeypatch.setattr(emodiff_numpy, "SEAM_SIGMA", 0.5)  # the tiny windows are shorter than the real reach
    _, nm = _emodiff_pair(10)
    feats = np.random.default_rng(11).standard_normal((30, TINY.audio_dim)).astype(np.float32)
    style = nm.null_style
    a = nm.sample_sequence(feats, style, rng=3, steps=4)
    b = nm.sample_sequence(feats, style, rng=3, steps=4)
    c = nm.sample_sequence(feats, style, rng=4, steps=4)
    assert a.shape == (30, 55) and np.array_equal(a, b) and not np.allclose(a, c)
    w = window_slice(feats, 24, TINY)  # last window runs past the end: padded, frames trimmed
    assert w.shape == (TINY.seq_len, TINY.audio_dim) and np.array_equal(w[:TINY.prefix + 6], feats[20:30])
    one = nm.sample_window(window_slice(feats, 0, TINY), style, np.random.default_rng(3), steps=4)
    stride = TINY.window - min(OVERLAP, (TINY.window - TINY.prefix) // 2)
    # Same noise, same result up to where the next window's cross-fade begins (the head up to where the seam's
    # low-pass fades in).
    near = 2 * int(np.ceil(3 * emodiff_numpy.SEAM_SIGMA))
    assert one.shape == (TINY.window, 55) and np.allclose(one[:stride, :52], a[:stride, :52], atol=1e-5)
    assert np.allclose(one[:stride - near], a[:stride - near], atol=1e-5)
    assert not np.allclose(one[stride - 2:stride, 52:], a[stride - 2:stride, 52:], atol=1e-5)
    plain = nm.sample_sequence(feats, style, rng=3, steps=4, overlap=0)
    assert np.allclose(one[:, :52], plain[:TINY.window, :52], atol=1e-5)
    assert np.allclose(one[:TINY.window - near], plain[:TINY.window - near], atol=1e-5)
    with pytest.raises(ValueError, match="overlap"):
        nm.sample_sequence(feats, style, overlap=TINY.window)


def test_smooth_seams_softens_a_step_at_a_seam_and_leaves_the_rest():
    x = np.zeros((100, 3), np.float32)
    x[50:] = 1.0  # a step where a window's cross-fade starts
    x[:, 2] = np.sin(np.arange(100) / 15.0)  # 0.3 Hz at 30 fps, a slow nod
    y = smooth_seams(x, [50], 0)
    r = 2 * int(np.ceil(3 * SEAM_SIGMA))
    assert np.array_equal(y[:50 - r], x[:50 - r]) and np.array_equal(y[50 + r:], x[50 + r:])
    assert np.abs(np.diff(y[:, 0])).max() < 0.25  # the one-frame step of 1 spread over several frames
    assert np.allclose(y[:, 2], x[:, 2], atol=0.02)  # slow motion passes
    assert np.array_equal(smooth_seams(x, [], 10), x)


def test_lips_parity_and_apply_touches_only_mouth(tmp_path):
    cfg = LipsConfig(channels=24, dilations=(1, 2, 4), style_dim=16, dropout=0.0)
    torch.manual_seed(0)
    tm = _randomize(Lips(cfg), 0)
    path = tmp_path / "lips.npz"
    save_weights(path, "lips", cfg.to_dict(), export_arrays(tm))
    nm = LipsNumpy.from_file(path)
    rng = np.random.default_rng(0)
    feats = rng.standard_normal((40, cfg.audio_dim)).astype(np.float32)
    face = rng.random((40, 52)).astype(np.float32)
    style = rng.standard_normal(16).astype(np.float32)
    with torch.no_grad():
        a = tm(torch.from_numpy(feats[None]), torch.from_numpy(face[None]), torch.from_numpy(style[None])).numpy()[0]
    b = nm.predict(feats, face, style)
    assert a.shape == (40, len(cfg.mouth_names)) and np.abs(a - b).max() <= 1e-4
    out = nm.apply(feats, face, style)
    from dreamtalk.rigs.arkit import ARKIT_NAMES
    other = [i for i, n in enumerate(ARKIT_NAMES) if n not in cfg.mouth_names]
    assert np.array_equal(out[:, other], face[:, other])
    assert np.allclose(out[:, nm.mouth_index], b)
    assert "mouthSmileLeft" not in cfg.mouth_names and "mouthPressLeft" not in cfg.mouth_names


def test_lips_hidden_face_channels_are_ignored_identically_by_torch_and_numpy(tmp_path):
    from dreamtalk.core.models.lips_torch import inference_arrays
    from dreamtalk.rigs.arkit import INDEX
    cfg = LipsConfig(channels=16, dilations=(1, 2), style_dim=8, dropout=0.0, phone_classes=40,
                     hidden_face=("mouthPressLeft", "mouthPressRight"))
    assert LipsConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError):
        LipsConfig(hidden_face=("mouthPressLeftt",))
    torch.manual_seed(1)
    tm = _randomize(Lips(cfg), 1)
    arrays = inference_arrays(tm)
    assert "phone_head.weight" in tm.state_dict() and not any(k.startswith("phone_head") for k in arrays)
    path = tmp_path / "lips.npz"
    save_weights(path, "lips", cfg.to_dict(), arrays)
    nm = LipsNumpy.from_file(path)
    rng = np.random.default_rng(2)
    feats = rng.standard_normal((30, cfg.audio_dim)).astype(np.float32)
    face = rng.random((30, 52)).astype(np.float32)
    pressed = face.copy()
    pressed[:, [INDEX["mouthPressLeft"], INDEX["mouthPressRight"]]] = 1.0
    smiling = face.copy()
    smiling[:, INDEX["mouthSmileLeft"]] = 1.0
    style = rng.standard_normal(8).astype(np.float32)
    b = nm.predict(feats, face, style)
    assert np.array_equal(b, nm.predict(feats, pressed, style))  # press is hidden
    assert not np.allclose(b, nm.predict(feats, smiling, style))  # smile is still read
    with torch.no_grad():
        a, logits = tm(torch.from_numpy(feats[None]), torch.from_numpy(pressed[None]),
                       torch.from_numpy(style[None]), phones=True)
    assert np.abs(a.numpy()[0] - b).max() <= 1e-4 and logits.shape == (1, 30, 40)


def test_weights_roundtrip_and_checksum(tmp_path):
    tm, _ = _emodiff_pair(12)
    arrays = export_arrays(tm)
    path = tmp_path / "e.npz"
    extra = {"emotion_names": np.array(["neutral", "happy"]),
             "emotion_level_styles": np.arange(2 * 4 * 16, dtype=np.float32).reshape(2, 4, 16)}
    digest = save_weights(path, "emodiff", TINY.to_dict(), arrays, extra, model_version="t1")
    w = load_weights(path, expect_type="emodiff")
    assert w.sha256 == digest and w.model_version == "t1"
    assert EmoDiffConfig.from_dict(w.config) == TINY
    assert all(np.array_equal(w.params[k], arrays[k]) for k in arrays)
    nm = EmoDiffNumpy.from_file(path)
    assert np.allclose(nm.emotion_style("happy", 1.0), extra["emotion_level_styles"][1, 3])
    assert np.allclose(nm.emotion_style("happy", 0.0), extra["emotion_level_styles"][1, 0])
    mid = (extra["emotion_level_styles"][1, 1] + extra["emotion_level_styles"][1, 2]) / 2
    assert np.allclose(nm.emotion_style("joy", 0.5), mid)
    from dreamtalk.core.errors import InputError
    with pytest.raises(InputError):
        nm.emotion_style("bored")
    with pytest.raises(InputError):
        load_weights(path, expect_type="lips")
    raw = dict(np.load(path))
    raw["param/out.bias"] = raw["param/out.bias"] + 1
    bad = tmp_path / "bad.npz"
    np.savez(bad, **raw)
    with pytest.raises(InputError, match="checksum"):
        load_weights(bad)
    half = tmp_path / "h.npz"
    save_weights(half, "emodiff", TINY.to_dict(), arrays, half=True)
    assert half.stat().st_size < path.stat().st_size
    assert np.abs(load_weights(half).params["out.weight"] - arrays["out.weight"]).max() < 2e-3


def test_prefix_content_matters_only_where_given():
    _, nm = _emodiff_pair(13)
    rng = np.random.default_rng(15)
    cond = _cond(rng, 1)
    x = rng.standard_normal((1, TINY.window, 55)).astype(np.float32)
    other = cond.prefix + 3.0
    given, absent = np.ones((1, TINY.prefix), np.float32), np.zeros((1, TINY.prefix), np.float32)
    for mask, differs in ((given, True), (absent, False)):
        e1 = nm.eps(x, 10, WindowCond(cond.audio, cond.prefix, mask, cond.style))
        e2 = nm.eps(x, 10, WindowCond(cond.audio, other, mask, cond.style))
        assert (np.abs(e1 - e2).max() > 1e-3) == differs


@pytest.mark.parametrize("parallel", [False, True])
def test_windows_are_chained_through_the_prefix(parallel):
    _, nm = _emodiff_pair(13)
    c = TINY
    feats = np.random.default_rng(14).standard_normal((2 * c.window + 5, c.audio_dim)).astype(np.float32)
    seen = []
    real_eps = nm.eps
    nm.eps = lambda x, t, cond, ctx=None: (seen.append((x.shape[0], cond.prefix.copy(), cond.prefix_mask.copy())),
                                           real_eps(x, t, cond, ctx))[1]
    out = nm.sample_sequence(feats, nm.null_style, rng=0, steps=3, parallel=parallel, initial=np.full(55, 0.5))
    assert out.shape == (2 * c.window + 5, 55)
    stride = c.window - min(OVERLAP, (c.window - c.prefix) // 2)
    n_win = 1 + -(-(out.shape[0] - c.window) // stride)
    first_b, first_prefix, first_mask = seen[0]
    assert first_mask[0].tolist() == [0.0] * (c.prefix - 1) + [1.0]  # the initial state: one given frame
    assert np.allclose(first_prefix[0, -1], nm.normalize(np.full(55, 0.5)), atol=1e-6)
    if parallel:
        assert first_b == n_win and len(seen) == 3  # all windows in one batch, one call per step
        _, pre, mask = seen[-1]
        assert np.all(mask[1:] == 1)  # later windows see the previous window's current estimate
    else:
        assert len(seen) == 3 * n_win
        _, pre, mask = seen[3]  # first step of window 2: the frames of window 1 just before it starts
        assert np.all(mask == 1)
        # (the output's head is then low-passed around the seam; the face is not)
        assert np.allclose(pre[0, :, :52], nm.normalize(out[stride - c.prefix:stride])[:, :52], atol=1e-5)


def test_set_sampler_tool_changes_sampler_keys_only(tmp_path):
    """tools/set_sampler.py: the config's sampler keys change and are validated, the parameters keep their bytes,
    the version gains ".sampler", anything else is refused."""
    import importlib.util
    from pathlib import Path
    tool = Path(__file__).resolve().parents[1] / "tools" / "set_sampler.py"
    spec = importlib.util.spec_from_file_location("set_sampler", tool)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    tm, _ = _emodiff_pair(16)
    arrays = export_arrays(tm)
    src, out = tmp_path / "e.npz", tmp_path / "f.npz"
    save_weights(src, "emodiff", TINY.to_dict(), arrays, model_version="t1")
    assert mod.main([str(src), str(out), 'solver="unipc"', 'sample_spacing="cubic"', "guidance_interval=[10, 60]",
                     "clip_range=true"]) == 0
    w = load_weights(out, expect_type="emodiff")
    cfg = EmoDiffConfig.from_dict(w.config)
    assert (cfg.solver, cfg.sample_spacing, cfg.guidance_interval, cfg.clip_range) == ("unipc", "cubic", (10, 60), True)
    assert w.model_version == "t1.sampler" and all(np.array_equal(w.params[k], arrays[k]) for k in arrays)
    assert mod.main([str(src), str(tmp_path / "g.npz"), "d_model=64"]) == 2 and not (tmp_path / "g.npz").exists()
    with pytest.raises(ValueError, match="sample_spacing"):
        mod.main([str(src), str(tmp_path / "h.npz"), 'sample_spacing="uniform"'])
