"""Train EmoDiff (DDPM, epsilon prediction) on a corpus and export its EMA weights with per-emotion styles."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...rigs.arkit import INDEX, mirror_weights
from ..emotions import EMOTIONS
from ..models.config import EmoDiffConfig, TrainConfig
from ..models.emodiff_numpy import EmoDiffNumpy
from ..weights import save_weights
from .loop import LoopSpec, model_version, run_loop
from .dataset import Corpus, emodiff_batch, load_train_val, motion_stats

F32 = np.float32
STAT_CHANNELS = ("eyeBlinkLeft", "eyeBlinkRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight")


def window_stat_loss(pred, target, m, w):
    """Squared differences of each window's max and std over time (B, W, C) -> scalar; ``m`` (B, W, 1) marks
    real frames, ``w`` is 1 or a per-example weight (B, 1, 1)."""
    import torch
    valid = m > 0
    low = torch.finfo(pred.dtype).min
    pmax = torch.where(valid, pred, low).amax(1)  # (B, C)
    tmax = torch.where(valid, target, low).amax(1)
    n = m.sum(1).clamp(min=2)  # (B, 1)

    def std(x):
        mu = (x * m).sum(1) / n
        return (((x - mu[:, None]) ** 2 * m).sum(1) / n + 1e-8).sqrt()  # (B, C)

    per = (pmax - tmax) ** 2 + (std(pred) - std(target)) ** 2  # (B, C)
    per = per * (w.reshape(-1, 1) if torch.is_tensor(w) else w)
    keep = m.sum((1, 2)) > 1  # (B,) windows with at least two real frames
    return per[keep].mean() if bool(keep.any()) else per.sum() * 0


def emodiff_loss(model, b: dict, gen, train: bool):
    """Masked MSE between the true and predicted noise, or clean window with prediction "x0" or "v" (+ the temporal
    differences of the error, weighted by vel_weight and acc_weight); style dropped to the null style with
    p_drop_style."""
    import torch

    cfg = model.cfg
    x0 = model.normalize(b["x0"])
    style = model.encode_style(model.normalize(b["style"]))
    bsz = x0.shape[0]
    if train and cfg.p_drop_style > 0:
        drop = (torch.rand(bsz, generator=gen) < cfg.p_drop_style).to(x0.device)[:, None]
        style = torch.where(drop, model.null_style.expand_as(style), style)
    acp = model.acp.to(x0.device)
    t = torch.randint(0, cfg.diffusion_steps, (bsz,), generator=gen).to(x0.device)
    noise = torch.randn(x0.shape, generator=gen).to(x0.device)
    a = acp[t][:, None, None]
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
    out = model(x_t, t, b["audio"], model.normalize(b["prefix"]), b["prefix_mask"], style)
    m = b["mask"][..., None]
    err = out - (x0 if cfg.predicts_clean else noise)  # (B, W, 55)
    w = 1.0
    if cfg.snr_cap > 0 and cfg.predicts_clean:
        w = (a / (1 - a) + 1).clamp(max=cfg.snr_cap)  # (B, 1, 1) min(SNR + 1, cap) per example
    loss = (err ** 2 * m * w).sum() / (m.sum() * x0.shape[-1]).clamp(min=1)
    for order, weight in ((1, cfg.vel_weight), (2, cfg.acc_weight)):
        if weight > 0:
            d = torch.diff(err, n=order, dim=1)
            md = m[:, order:]
            for k in range(order):  # a difference counts only where every frame it spans is real
                md = md * m[:, k:k + d.shape[1]]
            loss = loss + weight * (d ** 2 * md * w).sum() / (md.sum() * x0.shape[-1]).clamp(min=1)
    if cfg.stat_weight > 0 and cfg.predicts_clean:
        ch = [INDEX[n] for n in (cfg.stat_channels or STAT_CHANNELS)]
        loss = loss + cfg.stat_weight * window_stat_loss(out[..., ch], x0[..., ch], m, w)
    return loss


# Emotions carried by one side of the face: actors pick their own side, so a plain mean of their styles would
# cancel the asymmetry that defines the emotion. Their clips are mirrored onto one side before averaging.
UNILATERAL: dict[str, tuple[str, ...]] = {"contempt": ("mouthSmile", "mouthDimple")}
CANONICAL_SIDE = "Left"


def canonical_side(motion: np.ndarray, prefixes: tuple[str, ...]) -> np.ndarray:
    """(L, 55) clip mirrored if its ``prefixes`` channels are stronger on the non-canonical side."""
    w = motion[:, :52]
    left = sum(w[:, INDEX[p + "Left"]].mean() for p in prefixes)
    right = sum(w[:, INDEX[p + "Right"]].mean() for p in prefixes)
    if (left >= right) == (CANONICAL_SIDE == "Left"):
        return motion
    out = motion.copy()
    out[:, :52] = mirror_weights(w)
    out[:, 53:55] *= -1.0  # yaw and roll flip in a mirror; pitch does not
    return out


def emotion_style_table(nm: EmoDiffNumpy, corpus: Corpus) -> tuple[np.ndarray, list[str], list[str]]:
    """(8, 4, Ds) mean style per emotion and level (level 0 = neutral) from the corpus' style clips.

    Missing levels are filled linearly between neutral and the nearest present level; returns the table, the
    emotion names and a list of what had to be filled.
    """
    groups: dict[tuple[str, int], list[np.ndarray]] = {}
    for key, clip in corpus.styles.items():
        emo, lvl = corpus.style_meta[key]
        if emo in UNILATERAL:
            clip = canonical_side(clip, UNILATERAL[emo])
        groups.setdefault((emo, 0 if emo == "neutral" else lvl), []).append(nm.encode_style(clip))
    if ("neutral", 0) in groups:
        neutral = np.mean(groups[("neutral", 0)], axis=0)
    else:
        neutral = nm.null_style
    table = np.zeros((len(EMOTIONS), 4, nm.cfg.style_dim), F32)
    filled = []
    for e, emo in enumerate(EMOTIONS):
        table[e, 0] = neutral
        have = {lvl: np.mean(groups[(emo, lvl)], axis=0) for lvl in (1, 2, 3) if (emo, lvl) in groups}
        for lvl in (1, 2, 3):
            if emo == "neutral":
                table[e, lvl] = neutral
            elif lvl in have:
                table[e, lvl] = have[lvl]
            elif have:
                ref = max(have) if lvl > max(have) else min(k for k in have if k > lvl)
                table[e, lvl] = neutral + (have[ref] - neutral) * lvl / ref
                filled.append(f"{emo}:{lvl}")
            else:
                table[e, lvl] = neutral
                filled.append(f"{emo}:{lvl}")
    return table, list(EMOTIONS), filled


DISTILL_KEYS = {"windows", "p_label", "intermediate", "seed", "teacher", "clip_guidance", "stat", "data_spread",
                "spread_channels", "emotion_spread", "emotion_spread_channels", "emotion_spread_emotions",
                "straight_clip"}


def train_emodiff(data_dir: str | os.PathLike, out_dir: str | os.PathLike, cfg: EmoDiffConfig, tcfg: TrainConfig,
                  minutes: float | None = None, resume: bool = False, device: str = "cpu",
                  max_steps: int | None = None, limit: int | None = None, quiet: bool = False) -> dict:
    """Train EmoDiff; writes checkpoint.pt, loss.csv, loss.png and emodiff.npz in ``out_dir``."""
    import torch

    from ..models.emodiff_torch import EmoDiff, export_arrays

    out = Path(out_dir)
    cache = out / "cache"
    train, val, val_source = load_train_val(data_dir, cache, limit, prosody=cfg.prosody)
    torch.manual_seed(tcfg.seed)
    model = EmoDiff(cfg)
    mean, std = motion_stats(train)
    std = std * cfg.norm_factors()  # (55,)
    with torch.no_grad():
        model.motion_mean.copy_(torch.from_numpy(mean))
        model.motion_std.copy_(torch.from_numpy(std))
    teacher = None  # EmoDiffNumpy of the weights a distillation starts from

    def export(ema, out_path: Path, facts: dict) -> Path:
        arrays = export_arrays(ema)
        nm = EmoDiffNumpy(arrays, cfg)
        if teacher is not None:  # a student keeps its teacher's label styles: it learnt from their samples
            table, names, filled = teacher.extra["emotion_level_styles"], teacher.extra["emotion_names"].tolist(), []
        else:
            table, names, filled = emotion_style_table(nm, train)
        meta = dict(facts, data=str(data_dir), init=tcfg.init, frozen=list(tcfg.freeze),
                    distill=tcfg.extra.get("distill") or {},
                    train_clips=len(train.clips), train_hours=train.frames / 30 / 3600,
                    val_clips=len(val.clips), val_source=val_source, filled_emotion_levels=filled)
        path = out_path / "emodiff.npz"
        save_weights(path, "emodiff", cfg.to_dict(), arrays,
                     {"emotion_names": np.array(names), "emotion_level_styles": table},
                     model_version=model_version("emodiff", facts["steps"], tcfg), meta=meta)
        return path

    loss, draw = emodiff_loss, (lambda rng: emodiff_batch(train, cfg, tcfg.batch_size, rng, p_pad=cfg.p_pad_silence))
    distill = tcfg.extra.get("distill")
    if distill:
        # The student starts as a copy of the teacher (``init``) and learns its few steps.
        from .distill_emodiff import cached_teacher_set, make_trajectory_loss, set_batch
        unknown = sorted(set(distill) - DISTILL_KEYS)
        if unknown:  # e.g. session 21's "spread_by_emotion", gone: a run must not silently differ from its config
            raise ValueError(f"distill: unknown keys {', '.join(unknown)}")
        teacher_path = distill.get("teacher", tcfg.init)  # the student may start from an earlier student
        if not teacher_path:
            raise ValueError("distillation needs the teacher's weights: 'init' or distill's 'teacher'")
        teacher = EmoDiffNumpy.from_file(teacher_path)
        n, n_val = int(distill.get("windows", 20000)), tcfg.val_batches * tcfg.batch_size
        p_label, seed = float(distill.get("p_label", 0.5)), int(distill.get("seed", 0))
        # Reference clips sampled with the label guidance (None; shipped) or this guidance at every step.
        cg = distill.get("clip_guidance")
        tag = f"{Path(teacher_path).stem}_{teacher.version}_{seed}_p{p_label:g}" + (f"_cg{cg:g}" if cg else "")
        pool, vset = (cached_teacher_set(cache / f"teacher_{tag}_{part}{k}.npz", teacher, corpus, k, seed + i,
                                         p_label, quiet, cg)
                      for i, (part, corpus, k) in enumerate((("train", train, n), ("val", val, n_val))))
        loss = make_trajectory_loss(
            cfg, teacher.x0_bound, intermediate=float(distill.get("intermediate", 0.1)),
            stat=float(distill.get("stat", 0.0)), data_spread=float(distill.get("data_spread", 0.0)),
            spread_channels=tuple(distill.get("spread_channels", ())),
            emotion_spread=float(distill.get("emotion_spread", 0.0)),
            emotion_spread_channels=tuple(distill.get("emotion_spread_channels", ())), pool=pool,
            emotion_spread_emotions=distill.get("emotion_spread_emotions"),
            straight_clip=distill.get("straight_clip") or "")
        val_batches = [{k: v[i::tcfg.val_batches] for k, v in vset.items()} for i in range(tcfg.val_batches)]
        draw = (lambda rng: set_batch(pool, tcfg.batch_size, rng))
    else:
        vr = np.random.default_rng(999)
        val_batches = [emodiff_batch(val, cfg, tcfg.batch_size, vr, style_len=min(120, cfg.style_max_frames))
                       for _ in range(tcfg.val_batches)]
    spec = LoopSpec("emodiff", model, draw, val_batches, loss, export)
    return run_loop(spec, tcfg, out, minutes, resume, device, max_steps, quiet)
