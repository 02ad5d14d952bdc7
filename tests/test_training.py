"""Training on a tiny generated corpus: EmoDiff and lips train, checkpoint, resume exactly and export weights."""
import json
import wave

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dreamtalk.core.animation import FaceAnimation
from dreamtalk.core.formats import write_npz
from dreamtalk.core.lips.phones import Phone, write_alignment
from dreamtalk.core.models.config import EmoDiffConfig, LipsConfig, TrainConfig
from dreamtalk.core.models.emodiff_numpy import EmoDiffNumpy
from dreamtalk.core.lips import speech_states as speech_states_module
from dreamtalk.core.models.lips_numpy import LipsNumpy
from dreamtalk.core.weights import load_weights
from dreamtalk.rigs.arkit import ARKIT_NAMES, MOUTH_INDEX

TINY_E = EmoDiffConfig(window=12, prefix=4, lookahead=3, d_model=32, n_layers=1, n_heads=2, style_dim=16,
                       style_d_model=16, style_layers=1, style_heads=2, style_max_frames=30, diffusion_steps=50)
TINY_L = LipsConfig(style_dim=16, channels=16, dilations=(1, 2))
TINY_T = TrainConfig(batch_size=3, max_steps=3, warmup_steps=2, checkpoint_every=2, val_every=2, val_batches=1,
                     log_every=1, threads=1)


def make_corpus(root, n_train=4, n_val=2, seed=0):
    """A corpus in the contract layout: random speech-like audio and random curves."""
    rng = np.random.default_rng(seed)
    for d in ("audio", "phones", "anim", "styles"):
        (root / d).mkdir(parents=True, exist_ok=True)
    rows = []
    emos = [("neutral", 0), ("happy", 3), ("sad", 2), ("happy", 1)]
    for (emo, lvl) in emos:
        t = 50
        w = rng.random((t, 52)).astype(np.float32) * 0.5
        write_npz(FaceAnimation(30.0, w, rng.normal(0, 0.05, (t, 3))), root / f"styles/0__{emo}__{lvl}.npz")
    for i in range(n_train + n_val):
        dur = 1.0 + 0.3 * i
        n = int(dur * 16000)
        audio = (rng.normal(0, 0.1, n) * (np.sin(np.arange(n) / 1600.0) > 0)).clip(-1, 1)
        with wave.open(str(root / f"audio/c{i}.wav"), "wb") as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(16000)
            f.writeframes((audio * 32767).astype("<i2").tobytes())
        t = round(dur * 30)
        mouth = np.zeros((t, 52), np.float32)
        mouth[:, MOUTH_INDEX] = rng.random((t, len(MOUTH_INDEX)))
        emotion = rng.random((t, 52)).astype(np.float32) * 0.3
        emotion[:, MOUTH_INDEX] = 0
        np.savez(root / f"anim/c{i}.npz", fps=np.float64(30.0), blendshape_names=np.array(ARKIT_NAMES),
                 weights=np.clip(mouth + emotion, 0, 1), mouth=mouth, emotion=emotion,
                 head_rotation=rng.normal(0, 0.05, (t, 3)).astype(np.float32),
                 eye_gaze=np.zeros((t, 6), np.float32))
        write_alignment([Phone("SIL", 0.0, 0.3), Phone("M", 0.3, 0.4), Phone("AA", 0.4, dur - 0.2),
                         Phone("SIL", dur - 0.2, dur)], root / f"phones/c{i}.json")
        emo, lvl = emos[i % len(emos)]
        rows.append({"id": f"c{i}", "split": "train" if i < n_train else "val", "audio": f"audio/c{i}.wav",
                     "phones": f"phones/c{i}.json", "duration": dur, "text": "x", "actor": 0, "emotion": emo,
                     "level": lvl, "intensity": lvl / 3, "anim": f"anim/c{i}.npz",
                     "style": f"styles/0__{emo}__{lvl}.npz", "augment": {}})
    (root / "clips.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("corpus"))


def test_emodiff_trains_resumes_exactly_and_exports(corpus, tmp_path):
    from dreamtalk.core.training.train_emodiff import train_emodiff
    straight = train_emodiff(corpus, tmp_path / "a", TINY_E, TINY_T, max_steps=3, quiet=True)
    part = train_emodiff(corpus, tmp_path / "b", TINY_E, TINY_T, max_steps=2, quiet=True)
    assert part["steps"] == 2 and (tmp_path / "b/checkpoint.pt").is_file()
    after2 = load_weights(part["weights"]).params["out.weight"]
    resumed = train_emodiff(corpus, tmp_path / "b", TINY_E, TINY_T, max_steps=3, resume=True, quiet=True)
    assert straight["steps"] == resumed["steps"] == 3
    wa, wb = load_weights(straight["weights"]), load_weights(resumed["weights"])
    assert all(np.allclose(wa.params[k], wb.params[k], atol=1e-6) for k in wa.params)
    assert not np.allclose(wa.params["out.weight"], after2)  # the resumed run did train a third step
    log = (tmp_path / "b/loss.csv").read_text().splitlines()
    assert log[0].startswith("step,train_loss,val_loss") and len(log) > 3
    assert (tmp_path / "b/loss.png").stat().st_size > 1000
    nm = EmoDiffNumpy.from_file(resumed["weights"])
    assert nm.cfg == TINY_E
    assert nm.extra["emotion_level_styles"].shape == (8, 4, 16)
    assert not np.allclose(nm.emotion_style("happy", 1.0), nm.emotion_style("neutral"))
    feats = np.random.default_rng(0).standard_normal((20, TINY_E.audio_dim)).astype(np.float32)
    motion = nm.sample_sequence(feats, nm.emotion_style("sad", 0.5), rng=0, steps=3)
    assert motion.shape == (20, 55) and np.all(np.isfinite(motion))


def test_emodiff_finetune_from_weights_keeps_frozen_style_encoder(corpus, tmp_path):
    import dataclasses

    from dreamtalk.core.training.train_emodiff import train_emodiff
    base = train_emodiff(corpus, tmp_path / "base", TINY_E, TINY_T, max_steps=2, quiet=True)
    cfg = dataclasses.replace(TINY_E, motion_kernel=3, vel_weight=1.0, acc_weight=0.5, prediction="x0")
    tc = dataclasses.replace(TINY_T, init=base["weights"], freeze=("style_encoder.",))
    fine = train_emodiff(corpus, tmp_path / "fine", cfg, tc, max_steps=3, quiet=True)
    wa, wb = load_weights(base["weights"]), load_weights(fine["weights"])
    enc = [k for k in wa.params if k.startswith("style_encoder.")]
    assert enc and all(np.array_equal(wa.params[k], wb.params[k]) for k in enc)
    assert np.array_equal(wa.params["motion_std"], wb.params["motion_std"])  # the init's units are kept
    assert not np.allclose(wa.params["out.weight"], wb.params["out.weight"])  # the rest trained
    assert "motion_conv.weight" in wb.params and np.abs(wb.params["motion_conv.weight"]).max() > 0
    assert wb.meta["init"] == base["weights"] and wb.meta["frozen"] == ["style_encoder."]
    # The style table comes from the same (frozen) encoder, so lips' style vectors keep their meaning.
    assert np.allclose(wa.extra["emotion_level_styles"], wb.extra["emotion_level_styles"], atol=1e-5)
    bad = dataclasses.replace(TINY_T, init=base["weights"], freeze=("no_such_layer.",))
    with pytest.raises(ValueError, match="freeze"):
        train_emodiff(corpus, tmp_path / "bad", cfg, bad, max_steps=1, quiet=True)


DDIM3 = dict(prediction="x0", solver="ddim", sample_steps=3, sample_spacing="cubic", sample_guidance=1.0,
             style_guidance=1.0, clip_range=True)


def _tiny_batch(cfg, seed=0, b=3):
    """A teacher-set-shaped batch of random conditions (numpy)."""
    rng = np.random.default_rng(seed)
    return {"x_T": rng.standard_normal((b, cfg.window, 55)).astype(np.float32),
            "audio": rng.standard_normal((b, cfg.seq_len, cfg.audio_dim)).astype(np.float32),
            "prefix": rng.random((b, cfg.prefix, 55)).astype(np.float32),
            "prefix_mask": (rng.random((b, cfg.prefix)) < 0.5).astype(np.float32),
            "style": rng.standard_normal((b, cfg.style_dim)).astype(np.float32)}


def test_student_chain_is_the_numpy_ddim_sampler():
    """The torch chain the student trains through makes the same windows as `generate`'s numpy DDIM sampler."""
    import dataclasses

    from dreamtalk.core.models.emodiff_numpy import WindowCond
    from dreamtalk.core.models.emodiff_torch import EmoDiff, export_arrays
    from dreamtalk.core.sampler import ddim_timesteps, sample
    from dreamtalk.core.training.distill_emodiff import student_chain
    cfg = dataclasses.replace(TINY_E, **DDIM3)
    torch.manual_seed(0)
    model = EmoDiff(cfg).eval()
    with torch.no_grad():
        model.motion_std.fill_(0.3)
    nm = EmoDiffNumpy(export_arrays(model), cfg)
    b = _tiny_batch(cfg)
    cond = WindowCond(b["audio"], nm.normalize(b["prefix"]), b["prefix_mask"], b["style"])
    ref = sample("ddim", nm.guided_eps_fn(1.0), b["x_T"].shape, nm.acp, steps=3, rng=None, x_T=b["x_T"],
                 cond=cond, clip_x0=nm.x0_bound, spacing="cubic")
    lo, hi = (torch.as_tensor(v) for v in nm.x0_bound)
    with torch.no_grad():
        outs = student_chain(model, {k: torch.as_tensor(v) for k, v in b.items()},
                             ddim_timesteps(cfg.diffusion_steps, 3, "cubic"), cfg.alphas_cumprod(), (lo, hi))
    assert len(outs) == 3
    assert np.abs(outs[-1].numpy() - ref).max() < 1e-4
    assert np.abs(outs[0].numpy() - ref).max() > 1e-3  # the chain's steps matter

    # A straight-through clip: the same windows, and a gradient also where the clip holds a channel at its bound
    # (the plain clip gives none there: a loss cannot lift a frown the student pushed under 0).
    grid, tb = ddim_timesteps(cfg.diffusion_steps, 3, "cubic"), {k: torch.as_tensor(v) for k, v in b.items()}
    grads = []
    for straight in (False, True):
        model.zero_grad()
        out = student_chain(model, tb, grid, cfg.alphas_cumprod(), (lo, hi), straight)[-1]
        assert np.abs(out.detach().numpy() - ref).max() < 1e-4
        held = (out.detach() <= lo) | (out.detach() >= hi)  # (B, W, 55) frames at a bound
        assert bool(held.any())
        (out * held).sum().backward()
        grads.append(float(model.out.bias.grad.abs().sum()))
    assert grads[0] == 0.0 and grads[1] > 0


def test_trajectory_loss_is_zero_for_a_student_that_is_its_ddim_teacher(corpus, tmp_path):
    """A teacher that samples with the student's own DDIM grid and no guidance: its weights already reproduce every
    target of the teacher set, so the loss is ~0; a perturbed student's is not."""
    import dataclasses

    from dreamtalk.core.models.emodiff_torch import EmoDiff, export_arrays
    from dreamtalk.core.training.dataset import load_train_val
    from dreamtalk.core.training.distill_emodiff import make_trajectory_loss, teacher_set
    cfg = dataclasses.replace(TINY_E, **DDIM3)
    torch.manual_seed(1)
    model = EmoDiff(cfg).eval()
    from dreamtalk.core.emotions import EMOTIONS
    table = np.random.default_rng(0).standard_normal((len(EMOTIONS), 4, cfg.style_dim)).astype(np.float32)
    nm = EmoDiffNumpy(export_arrays(model), cfg, extra={"emotion_names": np.array(EMOTIONS),
                                                        "emotion_level_styles": table})
    train, _, _ = load_train_val(corpus, tmp_path / "cache", None, prosody=cfg.prosody)
    data = teacher_set(nm, train, 5, seed=0, p_label=0.5, batch=2)
    assert data["x_T"].shape == data["target"].shape == (5, cfg.window, 55)
    own = data["own"] > 0.5  # an own-clip window asked for its clip's emotion
    assert np.array_equal(data["style_emotion"][own], data["emotion"][own])
    fns = [make_trajectory_loss(cfg, nm.x0_bound, intermediate=0.0, stat=s) for s in (0.0, 1.0)]
    b = {k: torch.as_tensor(v) for k, v in data.items()}
    with torch.no_grad():
        assert all(float(fn(model, b, None, False)) < 1e-9 for fn in fns)
        model.out.bias.add_(0.05)
        assert all(float(fn(model, b, None, False)) > 1e-4 for fn in fns)
        assert float(fns[1](model, b, None, False)) > float(fns[0](model, b, None, False))  # maxima moved too
    # A straight-through clip changes gradients, not values.
    from dreamtalk.rigs.arkit import ARKIT_NAMES
    sized = dict(emotion_spread=1.0, emotion_spread_channels=ARKIT_NAMES[:4], pool=data)
    with torch.no_grad():
        values = {m: float(make_trajectory_loss(cfg, nm.x0_bound, straight_clip=m, **sized)(model, b, None, False))
                  for m in ("", "spread", "all")}
    assert values[""] == values["spread"] == values["all"]
    with pytest.raises(ValueError, match="straight_clip"):
        make_trajectory_loss(cfg, nm.x0_bound, straight_clip="yes")
    with pytest.raises(ValueError, match="ddim"):
        make_trajectory_loss(dataclasses.replace(cfg, solver="unipc"), nm.x0_bound)
    for bad in (dict(sample_guidance=3.0), dict(style_guidance=2.0)):
        with pytest.raises(ValueError, match="guidance"):
            make_trajectory_loss(dataclasses.replace(cfg, **bad), nm.x0_bound)


def test_data_spread_loss_compares_the_size_of_motion_with_the_corpus_windows():
    """The spread term: zero when the student's windows move as much as the corpus windows (their standard
    deviation and frame step, here the same windows), larger the flatter the student; windows styled by a random
    label are left out; a teacher set carries the corpus window, its mask and the own-clip flag."""
    from types import SimpleNamespace
    from dreamtalk.core.training.distill_emodiff import SET_KEYS, data_spread_loss
    assert {"data", "mask", "own"} <= set(SET_KEYS)
    rng = np.random.default_rng(0)
    data = torch.as_tensor(rng.uniform(0, 0.1, (4, 30, 55)).astype(np.float32))
    model = SimpleNamespace(motion_std=torch.full((55,), 0.5), motion_mean=torch.full((55,), 0.02))
    pred = (data - model.motion_mean) / model.motion_std  # the corpus windows in model units
    b = {"data": data, "mask": torch.ones(4, 30), "own": torch.tensor([1.0, 1.0, 0.0, 1.0])}
    ch = [3, 7]
    assert float(data_spread_loss(model, pred, b, ch)) < 1e-9
    flat = pred.mean(1, keepdim=True) + 0.5 * (pred - pred.mean(1, keepdim=True))  # half the motion
    flatter = pred.mean(1, keepdim=True) + 0.2 * (pred - pred.mean(1, keepdim=True))
    half, fifth = (float(data_spread_loss(model, x, b, ch)) for x in (flat, flatter))
    assert 0 < half < fifth
    assert abs(half - 2 * np.log(0.5) ** 2) < 1e-3  # both sizes halved: two squared log ratios
    wild = pred.clone()
    wild[2] *= 10  # a label-styled window: not compared
    assert float(data_spread_loss(model, wild, b, ch)) < 1e-9
    assert float(data_spread_loss(model, pred, dict(b, own=torch.zeros(4)), ch)) == 0.0


def test_a_corpus_clip_with_an_unknown_emotion_is_refused(tmp_path):
    """Batches carry each clip's emotion as an index: an emotion outside EMOTIONS stops the load with the clip
    named, instead of training as neutral."""
    from dreamtalk.core.errors import InputError
    from dreamtalk.core.training.dataset import load_corpus
    root = make_corpus(tmp_path / "c", n_train=2, n_val=0)
    rows = [json.loads(x) for x in (root / "clips.jsonl").read_text().splitlines()]
    rows[1]["emotion"] = "bored"
    (root / "clips.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError, match="c1 has emotion 'bored'"):
        load_corpus(root, "train", None, None)


def test_emotion_spread_loss_holds_each_asked_emotion_to_its_own_corpus_windows():
    """The per-emotion term: targets are each emotion's corpus windows' sizes; a student whose neutral windows
    are flat is wrong even when its angry ones move more than the corpus's (the batch-wide term would let one
    pay for the other); label windows count only when they ask for neutral; the teacher set says which emotion
    each window asked for."""
    from types import SimpleNamespace
    from dreamtalk.core.emotions import EMOTIONS
    from dreamtalk.core.training.distill_emodiff import (SET_KEYS, data_spread_loss, emotion_spread_loss,
                                                         emotion_spread_targets)
    assert "style_emotion" in SET_KEYS
    neutral, angry = EMOTIONS.index("neutral"), EMOTIONS.index("angry")
    rng = np.random.default_rng(0)
    data = rng.uniform(0, 0.1, (6, 30, 55)).astype(np.float32)
    data[3:] *= 4  # angry windows move four times as much
    pool = {"data": data, "mask": np.ones((6, 30), np.float32),
            "emotion": np.array([neutral] * 3 + [angry] * 3)}
    ch = [3, 7]
    targets = emotion_spread_targets(pool, ch)
    assert targets.shape == (len(EMOTIONS), 2, 2) and np.isnan(targets[EMOTIONS.index("sad")]).all()
    assert np.all(targets[angry] > 3 * targets[neutral])
    tt = torch.from_numpy(targets)
    model = SimpleNamespace(motion_std=torch.full((55,), 0.5), motion_mean=torch.full((55,), 0.02))
    x = torch.from_numpy(data)
    pred = (x - model.motion_mean) / model.motion_std
    b = {"data": x, "mask": torch.ones(6, 30), "own": torch.ones(6),
         "emotion": torch.as_tensor(pool["emotion"]), "style_emotion": torch.as_tensor(pool["emotion"])}
    assert float(emotion_spread_loss(model, pred, b, ch, tt)) < 1e-6
    mu = pred.mean(1, keepdim=True)
    wrong = pred.clone()
    wrong[:3] = mu[:3] + 0.25 * (pred[:3] - mu[:3])  # a flat neutral face ...
    wrong[3:] = mu[3:] + 1.6 * (pred[3:] - mu[3:])  # ... and bigger frowns: about the batch's motion on average
    per_emotion = float(emotion_spread_loss(model, wrong, b, ch, tt))
    assert per_emotion > 1.0 and per_emotion > 3 * float(data_spread_loss(model, wrong, b, ch))
    only_neutral, only_angry = (float(emotion_spread_loss(model, wrong, b, ch, tt, [e])) for e in (neutral, angry))
    assert abs(only_neutral - 2 * np.log(0.25) ** 2) < 1e-2 and abs(only_angry - 2 * np.log(1.6) ** 2) < 1e-2
    # A label window asking for angry at some intensity is not compared; one asking for neutral is.
    lab = dict(b, own=torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
    assert float(emotion_spread_loss(model, torch.where(torch.arange(6)[:, None, None] >= 3, wrong, pred), lab,
                                     ch, tt)) < 1e-6
    # A neutral label on a neutral clip's window is compared; on an angry clip's (its prefix frowns) it is not.
    lab_neutral = dict(lab, style_emotion=torch.tensor([neutral] * 6))
    assert float(emotion_spread_loss(model, pred, lab_neutral, ch, tt)) < 1e-6
    on_neutral = dict(lab_neutral, emotion=torch.tensor([angry, angry, angry, neutral, neutral, neutral]),
                      own=torch.zeros(6))
    assert float(emotion_spread_loss(model, pred, on_neutral, ch, tt)) > 1.0  # angry-sized windows, neutral asked


def test_a_straight_through_clip_lets_the_spread_term_lift_a_frown_held_at_zero():
    """A resting frown mostly under 0: the clip shows the same window either way, but only through
    `straight_through` does the spread term's gradient reach the frames the clip holds at 0."""
    from types import SimpleNamespace
    from dreamtalk.core.emotions import EMOTIONS
    from dreamtalk.core.training.distill_emodiff import emotion_spread_loss, straight_through
    neutral = EMOTIONS.index("neutral")
    model = SimpleNamespace(motion_std=torch.ones(55), motion_mean=torch.zeros(55))
    t = torch.linspace(0, 6.28, 30)
    raw = torch.zeros(2, 30, 55)
    raw[:, :, 3] = 0.01 * torch.sin(t) - 0.005  # (2, 30): under 0 two thirds of the time
    raw.requires_grad_(True)
    clipped = raw.clamp(min=0.0)
    b = {"mask": torch.ones(2, 30), "own": torch.ones(2), "emotion": torch.full((2,), neutral),
         "style_emotion": torch.full((2,), neutral)}
    targets = torch.full((len(EMOTIONS), 2, 1), 0.02)  # the corpus's frown moves more
    held = (raw.detach()[:, :, 3] < 0)
    grads = []
    for x in (clipped, straight_through(raw, clipped)):
        assert torch.equal(x, clipped)
        raw.grad = None
        emotion_spread_loss(model, x, b, [3], targets).backward()
        grads.append(raw.grad[:, :, 3][held].abs().sum().item())
    assert grads[0] == 0.0 and grads[1] > 0


def test_emodiff_distills_into_a_student_that_knows_its_steps(corpus, tmp_path):
    import dataclasses

    from dreamtalk.core.training.train_emodiff import train_emodiff
    teacher_cfg = dataclasses.replace(TINY_E, prediction="x0", solver="unipc", sample_steps=6, sample_guidance=3.0)
    teacher = train_emodiff(corpus, tmp_path / "t", teacher_cfg, TINY_T, max_steps=2, quiet=True)
    student_cfg = dataclasses.replace(teacher_cfg, **DDIM3)
    distill = {"windows": 6}
    tc = dataclasses.replace(TINY_T, init=teacher["weights"], freeze=("style_encoder.",), extra={"distill": distill})
    student = train_emodiff(corpus, tmp_path / "s", student_cfg, tc, max_steps=2, quiet=True)
    w = load_weights(student["weights"])
    assert w.config["sample_steps"] == 3 and w.config["solver"] == "ddim" and w.meta["distill"] == distill
    assert np.isfinite(student["val_loss"])
    assert any((tmp_path / "s" / "cache").glob("teacher_*_train6.npz"))  # the teacher's samples are kept
    wt = load_weights(teacher["weights"])
    assert not np.allclose(w.params["out.weight"], wt.params["out.weight"])
    # Label styles are the teacher's own: the student learnt what they look like from the teacher's samples.
    assert np.array_equal(w.extra["emotion_level_styles"], wt.extra["emotion_level_styles"])
    with pytest.raises(ValueError, match="ddim"):
        train_emodiff(corpus, tmp_path / "w", teacher_cfg, tc, max_steps=1, quiet=True)
    # A distill key the trainer does not know (a removed option, a typo) stops the run before it starts.
    odd = dataclasses.replace(tc, extra={"distill": dict(distill, spread_by_emotion=True)})
    with pytest.raises(ValueError, match="unknown keys spread_by_emotion"):
        train_emodiff(corpus, tmp_path / "x", student_cfg, odd, max_steps=1, quiet=True)


def test_emodiff_finetune_grows_new_audio_columns_from_zero(corpus, tmp_path):
    import dataclasses

    from dreamtalk.core.training.train_emodiff import train_emodiff
    base = train_emodiff(corpus, tmp_path / "base", TINY_E, TINY_T, max_steps=2, quiet=True)
    cfg = dataclasses.replace(TINY_E, prosody=True, audio_dim=TINY_E.audio_dim + 3, out_kernel=3)
    tc = dataclasses.replace(TINY_T, init=base["weights"], lr=0.0, warmup_steps=1)
    grown = train_emodiff(corpus, tmp_path / "grown", cfg, tc, max_steps=1, quiet=True)
    wa, wb = load_weights(base["weights"]), load_weights(grown["weights"])
    old, new = wa.params["audio_conv.weight"], wb.params["audio_conv.weight"]
    assert new.shape == (old.shape[0], old.shape[1] + 3, old.shape[2])
    assert np.array_equal(new[:, :old.shape[1]], old) and not new[:, old.shape[1]:].any()
    assert any(f.startswith("prosody_train_") for f in (p.name for p in (tmp_path / "grown/cache").iterdir()))
    # With the new columns at zero and the output conv at the identity, the grown net is the same function.
    nm_a, nm_b = EmoDiffNumpy.from_file(base["weights"]), EmoDiffNumpy.from_file(grown["weights"])
    rng = np.random.default_rng(4)
    feats = rng.standard_normal((20, TINY_E.audio_dim)).astype(np.float32)
    more = np.concatenate([feats, rng.standard_normal((20, 3)).astype(np.float32)], axis=1)
    sty = nm_a.emotion_style("happy", 1.0)
    assert np.allclose(nm_a.sample_sequence(feats, sty, rng=0, steps=3),
                       nm_b.sample_sequence(more, sty, rng=0, steps=3), atol=1e-4)
    bad = dataclasses.replace(TINY_E, d_model=TINY_E.d_model * 2)
    with pytest.raises(ValueError, match="do not fit"):
        train_emodiff(corpus, tmp_path / "bad", bad, tc, max_steps=1, quiet=True)


def test_emodiff_snr_weighting_counts_clean_inputs_more():
    from dreamtalk.core.models.emodiff_torch import EmoDiff
    from dreamtalk.core.training.train_emodiff import emodiff_loss
    import dataclasses

    cfg = dataclasses.replace(TINY_E, prediction="x0", p_drop_style=0.0)
    model = EmoDiff(cfg).eval()
    b, w = 4, cfg.window
    batch = {"x0": torch.zeros(b, w, 55), "style": torch.zeros(b, 20, 55),
             "audio": torch.zeros(b, cfg.seq_len, cfg.audio_dim), "prefix": torch.zeros(b, cfg.prefix, 55),
             "prefix_mask": torch.zeros(b, cfg.prefix), "mask": torch.ones(b, w)}
    with torch.no_grad():
        g = lambda: torch.Generator().manual_seed(5)
        plain = float(emodiff_loss(model, batch, g(), False))
        model.cfg = dataclasses.replace(cfg, snr_cap=5.0)
        weighted = float(emodiff_loss(model, batch, g(), False))
        model.cfg = dataclasses.replace(cfg, snr_cap=1.0)
        capped_at_one = float(emodiff_loss(model, batch, g(), False))
    # Weights are min(SNR + 1, cap) >= 1: more loss than unweighted, equal when the cap is 1.
    assert weighted > plain * 1.05
    assert capped_at_one == pytest.approx(plain, rel=1e-6)


def test_emodiff_loss_difference_terms_single_out_frame_noise():
    from dreamtalk.core.models.emodiff_torch import EmoDiff
    from dreamtalk.core.training.train_emodiff import emodiff_loss
    import dataclasses

    cfg = dataclasses.replace(TINY_E, vel_weight=1.0, acc_weight=0.5, p_drop_style=0.0)
    model = EmoDiff(cfg).eval()
    b, w = 2, cfg.window
    batch = {"x0": torch.zeros(b, w, 55), "style": torch.zeros(b, 20, 55),
             "audio": torch.zeros(b, cfg.seq_len, cfg.audio_dim), "prefix": torch.zeros(b, cfg.prefix, 55),
             "prefix_mask": torch.zeros(b, cfg.prefix), "mask": torch.ones(b, w)}
    plain = dataclasses.replace(cfg, vel_weight=0.0, acc_weight=0.0)
    with torch.no_grad():
        g = lambda: torch.Generator().manual_seed(3)
        base = float(emodiff_loss(model, batch, g(), False))
        model.cfg = plain
        only_mse = float(emodiff_loss(model, batch, g(), False))
        model.cfg = cfg
        masked = dict(batch, mask=torch.cat([torch.ones(b, 1), torch.zeros(b, w - 1)], 1))
        one_frame = float(emodiff_loss(model, masked, g(), False))
        model.cfg = plain
        one_frame_mse = float(emodiff_loss(model, masked, g(), False))
    # The error of an untrained net is rough, so differences add loss; a single real frame has no
    # difference to take, so only the MSE remains.
    assert base > only_mse * 1.5
    assert one_frame == pytest.approx(one_frame_mse, rel=1e-6)


def test_lips_with_phone_head_swap_and_feature_aug_trains_and_exports_without_the_head(corpus, tmp_path):
    from dreamtalk.core.models.lips_torch import Lips
    from dreamtalk.core.training.train_emodiff import train_emodiff
    from dreamtalk.core.training.train_lips import train_lips
    emo = train_emodiff(corpus, tmp_path / "e", TINY_E, TINY_T, max_steps=1, quiet=True)
    cfg = LipsConfig(style_dim=16, channels=16, dilations=(1, 2), phone_classes=40, phone_weight=0.1,
                     subframe_audio=True, audio_dim=242)
    tcfg = TrainConfig(**{**TINY_T.to_dict(), "extra": {"p_swap_emotion": 1.0, "p_feature_aug": 1.0}})
    res = train_lips(corpus, tmp_path / "l", cfg, tcfg, emo["weights"], quiet=True)
    assert np.isfinite(res["val_loss"])
    w = load_weights(res["weights"], expect_type="lips")
    assert not [k for k in w.params if k.startswith("phone_head")]
    assert set(w.params) == {k for k in Lips(cfg).state_dict() if not k.startswith("phone_head")}
    assert w.meta["p_swap_emotion"] == 1.0
    out = LipsNumpy.from_file(res["weights"]).apply(np.zeros((9, cfg.audio_dim), np.float32),
                                                    np.full((9, 52), 0.2, np.float32))
    assert out.shape == (9, 52) and np.all(np.isfinite(out))


def test_lips_with_phone_scores_caches_posteriors_and_keeps_them_out_of_augmentation(corpus, tmp_path):
    from dreamtalk.core.lips.phone_scores import N_PHONE_SCORES
    from dreamtalk.core.training.dataset import lips_batch, load_corpus
    from dreamtalk.core.training.train_emodiff import train_emodiff
    from dreamtalk.core.training.train_lips import style_vectors, train_lips
    emo = train_emodiff(corpus, tmp_path / "e", TINY_E, TINY_T, max_steps=1, quiet=True)
    cfg = LipsConfig(style_dim=16, channels=16, dilations=(1, 2), phone_scores=True, audio_dim=82 + N_PHONE_SCORES)
    tcfg = TrainConfig(**{**TINY_T.to_dict(), "extra": {"p_feature_aug": 1.0, "p_drop_phone_scores": 0.5}})
    res = train_lips(corpus, tmp_path / "l", cfg, tcfg, emo["weights"], quiet=True)
    assert np.isfinite(res["val_loss"]) and load_weights(res["weights"]).meta["p_drop_phone_scores"] == 0.5
    assert len(list((tmp_path / "l/cache").glob("phone_scores_train_*.npz"))) == 1
    c = load_corpus(corpus, "train", tmp_path / "l/cache", phone_scores=True)
    post = c.clips[0].features[:, -N_PHONE_SCORES:]
    assert np.allclose(post.sum(1), 1, atol=1e-4)  # read back from the cache, appended after the 82 features
    styles = style_vectors(emo["weights"], c)
    one = type(c)([c.clips[0]], c.styles, c.style_meta)
    t = len(c.clips[0].motion)
    b = lips_batch(one, styles, cfg.mouth_names, t, 2, np.random.default_rng(0), p_feature_aug=1.0,
                   n_extra=N_PHONE_SCORES)
    got = b["audio"][0, :, -N_PHONE_SCORES:]
    offs = [o for o in range(t) if np.allclose(got[:t - o], post[o:])]  # the segment starts somewhere in the clip
    assert len(offs) == 1  # the mel warp left the posteriors as they were
    assert not np.allclose(b["audio"][0, :t - offs[0], :80], c.clips[0].features[offs[0]:, :80])
    b = lips_batch(one, styles, cfg.mouth_names, t, 2, np.random.default_rng(0), n_extra=N_PHONE_SCORES,
                   p_drop_extra=1.0)
    assert np.allclose(b["audio"][:, :, -N_PHONE_SCORES:], 1.0 / N_PHONE_SCORES)


@pytest.mark.skipif(not speech_states_module.available(), reason="Moonshine encoder or onnxruntime not installed")
def test_lips_on_speech_states_caches_them_and_can_leave_the_mel_out(corpus, tmp_path):
    from dreamtalk.core.errors import InputError
    from dreamtalk.core.lips.speech_states import STATE_DIM, speech_states
    from dreamtalk.core.training.dataset import load_corpus, read_manifest
    from dreamtalk.core.training.train_emodiff import train_emodiff
    from dreamtalk.core.training.train_lips import train_lips
    from dreamtalk.core.audio import features_numpy, load_audio
    emo = train_emodiff(corpus, tmp_path / "e", TINY_E, TINY_T, max_steps=1, quiet=True)
    cfg = LipsConfig(style_dim=16, channels=16, dilations=(1, 2), speech_states=True, mel_input=False,
                     audio_dim=STATE_DIM)
    with pytest.raises(InputError, match="need mel_input"):
        train_lips(corpus, tmp_path / "bad", cfg, TrainConfig(**{**TINY_T.to_dict(), "extra": {"p_feature_aug": 0.5}}),
                   emo["weights"], quiet=True)
    res = train_lips(corpus, tmp_path / "l", cfg, TINY_T, emo["weights"], quiet=True)
    assert np.isfinite(res["val_loss"])
    assert LipsNumpy.from_file(res["weights"]).cfg.speech_states
    files = list((tmp_path / "l/cache").glob("speech_states_train_*.npz"))
    assert len(files) == 1
    with np.load(files[0]) as z:
        assert all(z[k].dtype == np.float16 for k in z.files)  # half the cache
    c = load_corpus(corpus, "train", tmp_path / "l/cache", speech_states=True, mel=False)
    both = load_corpus(corpus, "train", tmp_path / "l/cache", speech_states=True)
    row = next(r for r in read_manifest(corpus) if r["id"] == c.clips[0].id)
    audio, _ = load_audio(corpus / row["audio"])
    fresh = speech_states(audio, len(c.clips[0].motion))
    assert c.clips[0].features.shape[1] == STATE_DIM and both.clips[0].features.shape[1] == 82 + STATE_DIM
    assert np.allclose(c.clips[0].features, fresh, atol=0.02)  # the cached states are the inference ones
    # The run without mel input still cached the frame features themselves, not the columns it read.
    assert np.allclose(both.clips[0].features[:, :82], features_numpy(audio, len(c.clips[0].motion)), atol=1e-5)
    assert np.array_equal(both.clips[0].features[:, 82:], c.clips[0].features)
    lv = load_corpus(corpus, "train", tmp_path / "l/cache", speech_states=True, mel=False, levels=True)
    assert np.array_equal(lv.clips[0].features, both.clips[0].features[:, 80:])  # loudness, flux, states


@pytest.mark.skipif(not speech_states_module.available(), reason="Moonshine encoder or onnxruntime not installed")
def test_lips_trains_on_inner_layer_states_with_degraded_copies(corpus, tmp_path):
    from dreamtalk.core.lips.speech_states import STATE_DIM, speech_states
    from dreamtalk.core.data.augment import random_channel
    from dreamtalk.core.training.dataset import lips_batch, load_corpus, read_manifest
    from dreamtalk.core.training.train_emodiff import train_emodiff
    from dreamtalk.core.training.train_lips import train_lips
    from dreamtalk.core.audio import load_audio
    emo = train_emodiff(corpus, tmp_path / "e", TINY_E, TINY_T, max_steps=1, quiet=True)
    cfg = LipsConfig(style_dim=16, channels=16, dilations=(1, 2), speech_states=True, mel_input=False,
                     audio_dim=STATE_DIM, speech_layer=3)
    tcfg = TrainConfig(**{**TINY_T.to_dict(), "extra": {"p_degraded_states": 1.0}})
    res = train_lips(corpus, tmp_path / "l", cfg, tcfg, emo["weights"], quiet=True)
    assert np.isfinite(res["val_loss"]) and LipsNumpy.from_file(res["weights"]).cfg.speech_layer == 3
    assert len(list((tmp_path / "l/cache").glob("speech_states_l3_train_*.npz"))) == 1
    assert len(list((tmp_path / "l/cache").glob("degraded_states_l3_train_*.npz"))) == 1
    c = load_corpus(corpus, "train", tmp_path / "l/cache", speech_states=True, mel=False, speech_layer=3,
                    degraded_states=True)
    clip = c.clips[0]
    row = next(r for r in read_manifest(corpus) if r["id"] == clip.id)
    audio, _ = load_audio(corpus / row["audio"])
    t = len(clip.motion)
    assert np.allclose(clip.features, speech_states(audio, t, layer=3), rtol=4e-3, atol=0.02)  # float16 cache
    import zlib
    noisy = random_channel(audio, 16000, zlib.crc32((corpus / row["audio"]).name.encode()))[0]
    assert np.allclose(clip.degraded_states, speech_states(noisy, t, layer=3), rtol=4e-3, atol=0.02)
    assert not np.allclose(clip.degraded_states, clip.features, atol=0.05)
    one = load_corpus(corpus, "train", None, speech_states=True, mel=False, speech_layer=3, degraded_states=True)
    one.clips[:] = [one.clips[0]]
    styles = {k: np.zeros(16, np.float32) for k in one.styles}
    b = lips_batch(one, styles, cfg.mouth_names, 8, 4, np.random.default_rng(0), n_extra=STATE_DIM, p_degraded=1.0)
    seg = b["audio"][0][b["mask"][0] > 0]
    assert any(np.allclose(seg, one.clips[0].degraded_states[s:s + len(seg)], atol=1e-3)
               for s in range(len(one.clips[0].motion) - len(seg) + 1))


@pytest.mark.skipif(not speech_states_module.available(), reason="Moonshine encoder or onnxruntime not installed")
def test_degraded_copies_restricted_to_a_channel_group(corpus, tmp_path):
    import zlib
    from dreamtalk.core.audio import load_audio
    from dreamtalk.core.data.augment import random_channel
    from dreamtalk.core.lips.speech_states import STATE_DIM, speech_states
    from dreamtalk.core.training.dataset import load_corpus, read_manifest
    from dreamtalk.core.training.train_lips import train_lips
    c = load_corpus(corpus, "train", tmp_path / "cache", speech_states=True, mel=False, degraded_states=True,
                    degraded_channels="telephone", limit=2)
    assert len(list((tmp_path / "cache").glob("degraded_states_telephone_train_*.npz"))) == 1
    clip = c.clips[0]
    row = next(r for r in read_manifest(corpus) if r["id"] == clip.id)
    audio, _ = load_audio(corpus / row["audio"])
    phone, _, desc = random_channel(audio, 16000, zlib.crc32((corpus / row["audio"]).name.encode()), "telephone")
    assert desc["channel"] == "telephone"
    assert np.allclose(clip.degraded_states, speech_states(phone, len(clip.motion)), rtol=4e-3, atol=0.02)
    cfg = LipsConfig(style_dim=16, channels=16, dilations=(1, 2), speech_states=True, mel_input=False,
                     audio_dim=STATE_DIM)
    tcfg = TrainConfig(**{**TINY_T.to_dict(), "extra": {"p_degraded_states": 0.5, "degraded_channels": "radio"}})
    from dreamtalk.core.errors import InputError
    with pytest.raises(InputError, match="degraded_channels"):
        train_lips(corpus, tmp_path / "l", cfg, tcfg, "unused.npz", quiet=True)


def test_lips_trains_and_cli_exports(corpus, tmp_path):
    from dreamtalk.cli import main
    from dreamtalk.core.training.train_emodiff import train_emodiff
    emo = train_emodiff(corpus, tmp_path / "e", TINY_E, TINY_T, max_steps=1, quiet=True)
    cfg = tmp_path / "lips.json"
    cfg.write_text(json.dumps({"model": TINY_L.to_dict(), "train": TINY_T.to_dict()}))
    rc = main(["train", "lips", "--config", str(cfg), "--data", str(corpus), "--out", str(tmp_path / "l"),
               "--emodiff", emo["weights"], "--steps", "2", "-q"])
    assert rc == 0
    lm = LipsNumpy.from_file(tmp_path / "l/lips.npz")
    assert lm.cfg == TINY_L
    face = np.random.default_rng(1).random((15, 52)).astype(np.float32)
    feats = np.zeros((15, TINY_L.audio_dim), np.float32)
    out = lm.apply(feats, face, None)
    assert out.shape == (15, 52) and np.all((out >= 0) & (out <= 1))
    # a missing --emodiff is a one-line user error (exit 2), not a traceback
    assert main(["train", "lips", "--config", str(cfg), "--data", str(corpus), "--out", str(tmp_path / "x"),
                 "-q"]) == 2


def test_lips_extra_corpus_train_on_val_and_voice_weights(corpus, tmp_path):
    from dreamtalk.cli import main
    from dreamtalk.core.training.train_emodiff import train_emodiff
    more = make_corpus(tmp_path / "more", n_train=3, n_val=0, seed=5)
    emo = train_emodiff(corpus, tmp_path / "e", TINY_E, TINY_T, max_steps=1, quiet=True)
    tcfg = {**TINY_T.to_dict(), "extra": {"train_on_val": True, "voice_weights": {"espeak-ng": 0.5},
                                          "version_tag": "v99"}}
    cfg = tmp_path / "lips.json"
    cfg.write_text(json.dumps({"model": TINY_L.to_dict(), "train": tcfg}))
    args = ["train", "lips", "--config", str(cfg), "--data", str(corpus), "--out", str(tmp_path / "l"),
            "--emodiff", emo["weights"], "--steps", "2", "-q"]
    assert main(args + ["--extra-data", str(more)]) == 0
    w = load_weights(tmp_path / "l/lips.npz")
    meta = w.meta
    assert w.model_version.endswith("+lips.s2.v99")  # the run's own name
    assert meta["train_clips"] == 4 + 2 + 3  # train + val + the extra corpus' train split
    assert meta["extra_data"] == [str(more)] and "also trained on" in meta["val_source"]
    assert meta["voice_weights"] == {"espeak-ng": 0.5}
    assert main(["train", "emodiff", "--config", str(cfg), "--data", str(corpus), "--out", str(tmp_path / "x"),
                 "--extra-data", str(more), "-q"]) == 2


def test_training_stops_on_wall_clock_budget(corpus, tmp_path):
    from dreamtalk.core.training.train_emodiff import train_emodiff
    t = TrainConfig(**{**TINY_T.to_dict(), "max_steps": 100000})
    s = train_emodiff(corpus, tmp_path / "m", TINY_E, t, minutes=0.02, quiet=True)
    assert 1 <= s["steps"] < 100000 and load_weights(s["weights"]).model_type == "emodiff"


def test_validation_falls_back_to_held_out_train_clips(tmp_path):
    from dreamtalk.core.training.dataset import emodiff_batch, load_train_val, motion_stats
    root = make_corpus(tmp_path / "c", n_train=5, n_val=0)
    train, val, source = load_train_val(root)
    assert "held out" in source and len(train.clips) == 4 and len(val.clips) == 1
    assert {c.id for c in train.clips}.isdisjoint({c.id for c in val.clips})
    mean, std = motion_stats(train)
    assert mean.shape == (55,) and np.all(std >= 0.02)
    b = emodiff_batch(train, TINY_E, 5, np.random.default_rng(0))
    assert b["x0"].shape == (5, TINY_E.window, 55) and b["audio"].shape == (5, TINY_E.seq_len, TINY_E.audio_dim)
    assert b["style"].shape[0] == 5 and set(np.unique(b["prefix_mask"])) <= {0.0, 1.0}


def test_canonical_side_mirrors_unilateral_clips_onto_one_side():
    """Contempt clips smirking on the right are mirrored left, so averaging styles keeps the asymmetry."""
    from dreamtalk.core.training.train_emodiff import UNILATERAL, canonical_side
    from dreamtalk.rigs.arkit import INDEX

    m = np.zeros((10, 55), np.float32)
    m[:, INDEX["mouthSmileRight"]] = 0.6
    m[:, INDEX["mouthDimpleRight"]] = 0.3
    m[:, INDEX["eyeLookInLeft"]] = 0.2
    m[:, 52:55] = [0.1, 0.2, 0.3]
    out = canonical_side(m, UNILATERAL["contempt"])
    assert out[0, INDEX["mouthSmileLeft"]] == pytest.approx(0.6) and out[0, INDEX["mouthSmileRight"]] == 0
    assert out[0, INDEX["mouthDimpleLeft"]] == pytest.approx(0.3)
    assert out[0, INDEX["eyeLookInRight"]] == pytest.approx(0.2)  # both eyes' "in" stays "in"
    np.testing.assert_allclose(out[0, 52:55], [0.1, -0.2, -0.3])
    left = m.copy()
    left[:, [INDEX["mouthSmileLeft"], INDEX["mouthSmileRight"]]] = left[:, [INDEX["mouthSmileRight"], INDEX["mouthSmileLeft"]]]
    left[:, [INDEX["mouthDimpleLeft"], INDEX["mouthDimpleRight"]]] = left[:, [INDEX["mouthDimpleRight"], INDEX["mouthDimpleLeft"]]]
    assert canonical_side(left, UNILATERAL["contempt"]) is left  # already on the canonical side


def test_lips_false_closure_weight_counts_closed_predictions_on_open_targets():
    import torch

    from dreamtalk.core.training.train_lips import make_lips_loss
    from dreamtalk.rigs.arkit import MOUTH_SET

    names = list(MOUTH_SET)
    jaw = names.index("jawOpen")
    target = torch.zeros(1, 4, len(names))
    target[..., jaw] = 0.4  # lips open on every frame
    pred = target.clone()
    pred[0, :2, jaw] = 0.0  # the network seals them on two frames: false closures

    class Fixed(torch.nn.Module):
        def forward(self, audio, face, style, phones=False):
            return pred

    b = {"audio": torch.zeros(1, 4, 1), "face": torch.zeros(1, 4, 52), "style": torch.zeros(1, 2),
         "target": target, "mask": torch.ones(1, 4)}

    def loss(fcw):
        cfg = LipsConfig(closure_weight=8.0, false_closure_weight=fcw, phone_classes=0, phone_weight=0.0)
        return float(make_lips_loss(cfg)(Fixed(), b, None, train=False))

    # gap term: frames weighted 1 + fcw where closed on an open target, so the mean moves from 0.2 to 0.36
    assert loss(8.0) > loss(0.0) + 0.1
    pred[0, :2, jaw] = 0.3  # still open: no false closure, the weight does not apply
    assert loss(8.0) == pytest.approx(loss(0.0))


def test_consistency_teacher_scores_the_degraded_input_against_the_teachers_clean_answer():
    import torch

    from dreamtalk.core.training.train_lips import make_lips_loss
    from dreamtalk.rigs.arkit import MOUTH_SET

    n = len(MOUTH_SET)

    class Reads(torch.nn.Module):  # the mouth is a function of the audio column alone
        def forward(self, audio, face, style, phones=False):
            return audio[..., :1].expand(*audio.shape[:2], n)

    clean = torch.full((1, 4, 1), 0.3)
    noisy = torch.full((1, 4, 1), 0.7)
    b = {"audio": noisy, "audio_clean": clean, "face": torch.zeros(1, 4, 52), "style": torch.zeros(1, 2),
         "target": torch.zeros(1, 4, n), "mask": torch.ones(1, 4)}
    cfg = LipsConfig(phone_classes=0, phone_weight=0.0)
    with_teacher = make_lips_loss(cfg, teacher=Reads())
    assert float(with_teacher(Reads(), b, None, train=False)) > 0.3  # noisy answer 0.7 against clean 0.3
    assert float(with_teacher(Reads(), dict(b, audio=clean), None, train=False)) == pytest.approx(0.0)
    plain = dict(b, audio=clean)
    plain.pop("audio_clean")  # validation batches keep the corpus target
    assert float(with_teacher(Reads(), plain, None, train=False)) == pytest.approx(
        float(make_lips_loss(cfg)(Reads(), plain, None, train=False)))


@pytest.mark.skipif(not speech_states_module.available(), reason="Moonshine encoder or onnxruntime not installed")
def test_lips_fine_tunes_against_a_frozen_teacher(corpus, tmp_path):
    from dreamtalk.core.errors import InputError
    from dreamtalk.core.lips.speech_states import STATE_DIM
    from dreamtalk.core.training.train_emodiff import train_emodiff
    from dreamtalk.core.training.train_lips import train_lips
    emo = train_emodiff(corpus, tmp_path / "e", TINY_E, TINY_T, max_steps=1, quiet=True)
    cfg = LipsConfig(style_dim=16, channels=16, dilations=(1, 2), speech_states=True, mel_input=False,
                     audio_dim=STATE_DIM)
    first = train_lips(corpus, tmp_path / "a", cfg, TINY_T, emo["weights"], quiet=True)
    extra = {"p_degraded_states": 0.5, "degraded_channels": "telephone", "consistency_teacher": first["weights"]}
    tcfg = TrainConfig(**{**TINY_T.to_dict(), "init": first["weights"], "extra": extra})
    res = train_lips(corpus, tmp_path / "b", cfg, tcfg, emo["weights"], quiet=True)
    w = load_weights(res["weights"])
    assert np.isfinite(res["val_loss"]) and w.meta["consistency_teacher"] == str(first["weights"])
    assert not all(np.array_equal(w.params[k], v) for k, v in load_weights(first["weights"]).params.items())
    no_channels = TrainConfig(**{**TINY_T.to_dict(), "extra": {"consistency_teacher": first["weights"]}})
    with pytest.raises(InputError, match="needs p_degraded_states"):
        train_lips(corpus, tmp_path / "c", cfg, no_channels, emo["weights"], quiet=True)
    other = LipsConfig(style_dim=16, channels=16, dilations=(1, 2), speech_states=True, mel_input=False,
                       audio_dim=STATE_DIM, speech_layer=3)
    with pytest.raises(InputError, match="differ from the run's config"):
        train_lips(corpus, tmp_path / "d", other, TrainConfig(**{**TINY_T.to_dict(), "extra": extra}),
                   emo["weights"], quiet=True)


def test_window_stat_loss_prefers_a_sharp_event_to_its_blur():
    import torch

    from dreamtalk.core.training.train_emodiff import window_stat_loss
    target = torch.zeros(1, 12, 1)
    target[0, 5, 0] = 1.0  # one blink-like spike
    blur = torch.zeros(1, 12, 1)
    blur[0, 4:7, 0] = 1.0 / 3  # the same mass spread over three frames: what a squared error settles on
    m = torch.ones(1, 12, 1)
    assert float(window_stat_loss(target, target, m, 1.0)) < 1e-6
    assert float(window_stat_loss(blur, target, m, 1.0)) > 0.3
    late = torch.zeros(1, 12, 1)
    late[0, 11, 0] = 5.0  # an event on a padding frame does not count
    m2 = m.clone()
    m2[0, 11] = 0
    assert float(window_stat_loss(target + late, target, m2, 1.0)) < 1e-6


def test_stat_channels_are_checked_and_round_trip():
    from dreamtalk.core.models.config import EmoDiffConfig
    cfg = EmoDiffConfig(stat_weight=0.1, stat_channels=("cheekSquintLeft", "mouthSmileRight"))
    assert EmoDiffConfig.from_dict(cfg.to_dict()) == cfg  # a JSON list comes back as the tuple
    assert EmoDiffConfig().stat_channels is None  # None: the blink and brow channels
    with pytest.raises(ValueError, match="not ARKit blendshapes: smile"):
        EmoDiffConfig(stat_channels=("smile",))


def test_silence_pad_reflects_the_face_holds_the_mouth_and_is_quiet():
    from dreamtalk.core.models.layers import energy_column
    from dreamtalk.core.training.dataset import _ARTICULATION, pad_silence
    rng = np.random.default_rng(0)
    t, a = 40, 85
    feats = rng.standard_normal((t, a)).astype(np.float32)
    e = energy_column(a)
    feats[:5, e] = -3.0  # a quiet start
    motion = rng.random((t, 55)).astype(np.float32)
    f, m = pad_silence(feats, motion, 12, 7, rng)
    assert f.shape == (t + 19, a) and m.shape == (t + 19, 55)
    assert np.array_equal(f[12:12 + t], feats) and np.array_equal(m[12:12 + t], motion)
    upper = np.setdiff1d(np.arange(55), _ARTICULATION)
    assert np.array_equal(m[11, upper], motion[0, upper]) and np.array_equal(m[0, upper], motion[11, upper])
    assert np.array_equal(m[12 + t, upper], motion[-1, upper])  # the tail mirrors the last frame
    assert np.all(m[:12, _ARTICULATION] == motion[0, _ARTICULATION])  # nothing said: the mouth holds
    assert np.all(m[12 + t:, _ARTICULATION] == motion[-1, _ARTICULATION])
    assert f[:12, e].mean() < feats[:, e].mean() - 1.0  # the clip's own silence level
    assert f[:12].std(axis=0).sum() > 0  # with its spread, not one constant vector


def test_v_prediction_finetunes_from_x0_weights_with_silence_pads(corpus, tmp_path):
    import dataclasses

    from dreamtalk.core.training.train_emodiff import train_emodiff
    x0 = dataclasses.replace(TINY_E, prediction="x0", out_kernel=3)
    base = train_emodiff(corpus, tmp_path / "base", x0, TINY_T, max_steps=2, quiet=True)
    v = dataclasses.replace(x0, prediction="v", p_pad_silence=1.0, head_lowpass=1.0)
    fine = train_emodiff(corpus, tmp_path / "fine", v, dataclasses.replace(TINY_T, init=base["weights"]),
                         max_steps=2, quiet=True)
    wa, wb = load_weights(base["weights"]), load_weights(fine["weights"])
    assert wb.config["prediction"] == "v" and wb.config["p_pad_silence"] == 1.0
    # The x0 network's output layer started negated (v = -x0 near the data), then trained a little.
    assert np.corrcoef(wa.params["out.weight"].ravel(), wb.params["out.weight"].ravel())[0, 1] < -0.9
    x = EmoDiffNumpy(wb.params, wb.config)
    out = x.sample_sequence(np.zeros((30, TINY_E.audio_dim), np.float32), x.null_style, steps=3)
    assert out.shape == (30, 55) and np.isfinite(out).all()


@pytest.mark.skipif(not speech_states_module.available(), reason="Moonshine encoder or onnxruntime not installed")
def test_closure_probe_trains_from_the_cli_on_clean_and_telephone_states(corpus, tmp_path):
    from dreamtalk.cli import main
    from dreamtalk.core.lips.closures import ClosureProbe
    from dreamtalk.core.models.config import ClosureProbeConfig
    from dreamtalk.core.training.train_probe import frame_labels
    from dreamtalk.core.training.dataset import PHONE_CLASSES
    ids = np.array([PHONE_CLASSES.index(p) for p in ("P", "T", "SIL", "F", "M", "AA", "W", "V")] + [-1], np.int16)
    assert frame_labels(ids).tolist() == [1, 0, -1, 1, 1, 0, -1, 1, -1]
    pcfg = ClosureProbeConfig(context=1, hidden=4, threshold=0.25)
    cfg = tmp_path / "probe.json"
    cfg.write_text(json.dumps({"model": pcfg.to_dict(), "train": {**TINY_T.to_dict(), "batch_size": 16,
                                                                   "extra": {"frames_per_corpus": 50}}}))
    args = ["train", "closures", "--config", str(cfg), "--data", str(corpus), "--extra-data", str(corpus),
            "--out", str(tmp_path / "p"), "-q"]
    assert main(args + ["--steps", "4"]) == 0
    probe = ClosureProbe.from_file(tmp_path / "p/closure_probe.npz")
    assert probe.cfg == pcfg and probe.version.endswith("+closures.s4")
    report = json.loads((tmp_path / "p/report.json").read_text())
    assert report["steps"] == 4 and set(report["val_auc"]) == {"clean", "degraded"}
    assert [c["data"] for c in report["corpora"]] == [str(corpus)] * 2 and report["train_frames"] > 0
    assert len(list((tmp_path / "p/cache").glob("degraded_states_telephone_train_*.npz"))) == 1
    assert main(args + ["--resume"]) == 2  # a one-line error: nothing to resume
