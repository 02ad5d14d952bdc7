"""Trajectory distillation of EmoDiff: a student whose few DDIM steps land where the teacher's whole sampler lands.

The teacher is the shipped sampler as users run it (its solver, steps, spacing and classifier-free guidance, in
numpy, the code `generate` runs). For each training window the set stores the start noise and the teacher's clean
window from it; the student, started from the teacher's weights, runs its own K-step DDIM chain from the same noise
(torch, with gradients through every step) and is pulled onto the teacher's result. The map noise -> window is
deterministic, so the target is one window, not an average (session 6's progressive distillation regressed onto
a two-step target and lost blink depth). Guidance is folded into the student: it runs one batch per step, not two
(Meng et al., 2023, "On distillation of guided diffusion models").
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..emotions import EMOTIONS
from ..models.config import EmoDiffConfig
from ..models.emodiff_numpy import EmoDiffNumpy, WindowCond
from ..sampler import ddim_timesteps, sample
from .dataset import Corpus, emodiff_batch

F32 = np.float32
SET_KEYS = ("x_T", "target", "audio", "prefix", "prefix_mask", "style", "data", "mask", "own", "emotion",
            "style_emotion")
# data: the corpus window itself (raw, B, W, 55) with its loss mask (B, W); own: 1 where the window was styled by
# its own reference clip (so the data is a sample of what the teacher was asked for), 0 for a random label;
# emotion: the window's clip's emotion (an index into EMOTIONS); style_emotion: the emotion the teacher was asked
# for (the label's, or the clip's own where own is 1).
INT_KEYS = ("emotion", "style_emotion")


def teacher_set(teacher: EmoDiffNumpy, corpus: Corpus, n: int, seed: int, p_label: float = 0.5,
                batch: int = 64, progress=None, clip_guidance: float | None = None) -> dict[str, np.ndarray]:
    """``n`` random corpus windows with the teacher's samples: start noise x_T and the teacher's clean window
    (target), both in model units (B, W, 55), plus the window's audio, raw prefix and mask, and style vector.

    A batch's styles are emotion labels' (random emotion and intensity) with ``p_label``, else the teacher's
    encodings of the windows' reference clips. Both are sampled with the teacher's label guidance, or clips with
    ``clip_guidance`` at every step when given (as the teacher's `generate` runs a clip: its style_guidance)."""
    c = teacher.cfg
    rng = np.random.default_rng(seed)
    parts: dict[str, list] = {k: [] for k in SET_KEYS}
    label_fn = teacher.guided_eps_fn(*teacher.guidance_for(None))
    clip_fn = label_fn if clip_guidance is None else teacher.guided_eps_fn(float(clip_guidance), None)
    for start in range(0, n, batch):
        b = emodiff_batch(corpus, c, min(batch, n - start), rng, p_pad=c.p_pad_silence)
        m = len(b["x0"])
        labels = rng.random() < p_label
        if labels:
            asked, style = [], []
            for _ in range(m):  # the draws in this order: sets made before style_emotion stay the same
                asked.append(int(rng.integers(len(EMOTIONS))))
                style.append(teacher.emotion_style(EMOTIONS[asked[-1]], float(rng.uniform(0.3, 1.0))))
            style, asked = np.stack(style), np.array(asked)
        else:
            style = teacher.encode_style_batch(teacher.normalize(b["style"]))  # (m, Ds)
            asked = b["emotion"]
        cond = WindowCond(b["audio"], teacher.normalize(b["prefix"]), b["prefix_mask"], style.astype(F32))
        x_t = rng.standard_normal((m, c.window, c.motion_dim)).astype(F32)
        x0 = sample(c.solver, label_fn if labels else clip_fn, x_t.shape, teacher.acp, steps=c.sample_steps,
                    rng=None, x_T=x_t, cond=cond, clip_x0=teacher.x0_bound, spacing=c.sample_spacing)
        own = np.full(m, 0.0 if labels else 1.0, F32)
        for k, v in (("x_T", x_t), ("target", x0), ("audio", b["audio"]), ("prefix", b["prefix"]),
                     ("prefix_mask", b["prefix_mask"]), ("style", style), ("data", b["x0"]), ("mask", b["mask"]),
                     ("own", own), ("emotion", b["emotion"]), ("style_emotion", asked)):
            parts[k].append(np.asarray(v, np.int64 if k in INT_KEYS else F32))
        if progress is not None:
            progress(m)
    return {k: np.concatenate(v) for k, v in parts.items()}


def cached_teacher_set(path: Path, teacher: EmoDiffNumpy, corpus: Corpus, n: int, seed: int, p_label: float,
                       quiet: bool = True, clip_guidance: float | None = None) -> dict[str, np.ndarray]:
    """:func:`teacher_set`, read from ``path`` when a run made it before (it is the costly part of a start)."""
    from ..fileio import atomic_path
    from ..progress import Progress
    if path.is_file():
        with np.load(path) as z:
            if all(k in z for k in SET_KEYS):  # a set from before the data keys is made again
                return {k: z[k] for k in SET_KEYS}
    bar = Progress(n, f"teacher samples ({path.stem})", enabled=False if quiet else None)
    out = teacher_set(teacher, corpus, n, seed, p_label, progress=bar.update, clip_guidance=clip_guidance)
    bar.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **out)
    return out


def set_batch(data: dict[str, np.ndarray], batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A random batch of rows of a teacher set."""
    idx = rng.integers(0, len(data["x_T"]), size=batch)
    return {k: data[k][idx] for k in SET_KEYS}


def straight_through(raw, clipped):
    """``clipped``'s values with ``raw``'s gradient: a loss still reaches a frame the clip holds at its bound. (A
    resting frown the student had pushed under 0 sat flat at the clip, where no gradient reached it: the spread
    term's frame step was met by hiding there, 96% of neutral frames at 0; session 23.)"""
    return raw + (clipped - raw).detach()


def student_chain(model, b: dict, grid: np.ndarray, acp, bound, straight: bool = False,
                  raws: list | None = None) -> list:
    """The student's clean estimates (B, W, 55) at each step of its DDIM chain from b["x_T"] (torch, with
    gradients): the same updates as ``sampler.ddim_sample`` with eta 0 and the clean estimate clipped to ``bound``
    ((lo, hi) tensors). ``straight``: the clip passes gradients through unchanged (same values), so a loss can
    still move a channel the clip holds at its bound. ``raws``: a list that receives the unclipped estimates."""
    import torch
    x = b["x_T"]
    prefix = model.normalize(b["prefix"])
    outs = []
    for i, t in enumerate(grid):
        a_t = float(acp[t])
        tt = torch.full((x.shape[0],), int(t), dtype=torch.long)
        raw = model(x, tt, b["audio"], prefix, b["prefix_mask"], b["style"])
        x0 = torch.maximum(torch.minimum(raw, bound[1]), bound[0])
        if raws is not None:
            raws.append(raw)
        if straight:
            x0 = straight_through(raw, x0)
        outs.append(x0)
        if i + 1 == len(grid):
            break
        eps = (x - math.sqrt(a_t) * x0) / math.sqrt(1.0 - a_t)
        a_n = float(acp[grid[i + 1]])
        x = math.sqrt(a_n) * x0 + math.sqrt(1.0 - a_n) * eps
    return outs


def window_sizes(x, m):
    """Mean over windows of each channel's standard deviation over time and mean frame-to-frame step, (C,) each,
    of (N, W, C) windows with frame mask m (N, W, 1) (torch)."""
    n = m.sum(1).clamp(min=2)
    mm = m[:, 1:] * m[:, :-1]
    mu = (x * m).sum(1) / n
    sd = ((((x - mu[:, None]) ** 2) * m).sum(1) / n + 1e-10).sqrt().mean(0)
    step = ((x[:, 1:] - x[:, :-1]).abs() * mm).sum(1) / mm.sum(1).clamp(min=1)
    return sd, step.mean(0) + 1e-6


def _size_gap(pred_sizes, ref_sizes):
    """Mean squared log ratio of a student's :func:`window_sizes` (std, step) to reference ones."""
    (ps, pv), (ds, dv) = pred_sizes, ref_sizes
    return ((ps / ds).log() ** 2 + (pv / dv).log() ** 2).mean()


def _raw(model, pred, rows, channels):
    """(N, W, C) the student's ``channels`` of windows ``rows`` in raw units."""
    import torch
    idx = torch.as_tensor(channels)
    return pred[rows][:, :, idx] * model.motion_std[idx] + model.motion_mean[idx]


def data_spread_loss(model, pred, b: dict, channels: list[int]):
    """How far the student's spread of ``channels`` strays from the corpus's: over the batch's windows styled by
    their own clip, the mean standard deviation over time and the mean frame-to-frame step of each channel (raw
    units), each as a squared log ratio to the same figure of the corpus windows. A target on the size of the
    motion, not its values: a resting face's slow drift is random, so no window's values can be regressed onto.
    (Per window, each against its own corpus window, moved cheeks and smile half as far; session 21. Each
    emotion's own target is :func:`emotion_spread_loss`.)"""
    import torch
    own = b["own"] > 0.5
    if not bool(own.any()):
        return pred.sum() * 0
    raw = _raw(model, pred, own, channels)  # (N, W, C)
    data = b["data"][own][:, :, torch.as_tensor(channels)]
    m = b["mask"][own][:, :, None]  # (N, W, 1)
    return _size_gap(window_sizes(raw, m), window_sizes(data, m))


def emotion_spread_targets(data: dict[str, np.ndarray], channels: list[int]) -> np.ndarray:
    """(E, 2, C) mean standard deviation and frame step (raw units, :func:`window_sizes`) of ``channels`` over a
    teacher set's corpus windows of clips of each emotion (NaN where the set has none)."""
    import torch
    out = np.full((len(EMOTIONS), 2, len(channels)), np.nan, F32)
    for e in range(len(EMOTIONS)):
        g = data["emotion"] == e
        if g.any():
            x = torch.from_numpy(data["data"][g][:, :, channels])
            sd, step = window_sizes(x, torch.from_numpy(data["mask"][g])[:, :, None])
            out[e] = np.stack([sd.numpy(), step.numpy()])
    return out


def emotion_spread_loss(model, pred, b: dict, channels: list[int], targets, emotions: list[int] | None = None):
    """How far the student's spread of ``channels`` strays from the corpus's for the emotion it was asked for:
    windows grouped by that emotion, each group's :func:`window_sizes` (raw units) as squared log ratios to that
    emotion's ``targets`` (E, 2, C tensor, :func:`emotion_spread_targets`). Own-clip windows count, and label
    windows asking for neutral on a neutral clip. Other label windows continue a prefix of another emotion's
    clip (a neutral label after an angry prefix: the frown fading, twice the corpus's neutral spread) or ask for
    an intensity that is not the corpus's level: their size is not the target's. ``emotions`` (indices): only
    windows asking for these count (default all). (The batch-wide term of :func:`data_spread_loss` let angry
    frowns stand in for a neutral face's resting browDown drift, which the student then left out on every input:
    0.0013 against the corpus's 0.0032 on its own neutral clips; session 22.)"""
    import torch
    emo, neutral = b["style_emotion"], EMOTIONS.index("neutral")
    keep = (b["own"] > 0.5) | ((emo == neutral) & (b["emotion"] == neutral))
    if emotions is not None:
        keep = keep & torch.isin(emo, torch.as_tensor(emotions, dtype=emo.dtype))
    if not bool(keep.any()):
        return pred.sum() * 0
    raw = _raw(model, pred, keep, channels)  # (N, W, C)
    m, emo = b["mask"][keep][:, :, None], emo[keep]
    terms = []
    for e in torch.unique(emo):
        g = emo == e
        terms.append(_size_gap(window_sizes(raw[g], m[g]), (targets[e, 0], targets[e, 1])))
    return torch.stack(terms).mean()


def make_trajectory_loss(cfg: EmoDiffConfig, bound, intermediate: float = 0.1, stat: float = 0.0,
                         data_spread: float = 0.0, spread_channels: tuple[str, ...] = (),
                         emotion_spread: float = 0.0, emotion_spread_channels: tuple[str, ...] = (),
                         pool: dict[str, np.ndarray] | None = None,
                         emotion_spread_emotions: tuple[str, ...] | None = None, straight_clip: str = ""):
    """Loss of a student with config ``cfg`` (solver "ddim", ``sample_steps`` K) on teacher-set batches: squared
    error of its final clean window against the teacher's, plus ``intermediate`` times that of its earlier
    estimates (each should already point at the same window), each with the config's velocity term; plus ``stat``
    times the squared differences of each channel's maximum and spread over the final window (a student that
    cannot place an event exactly would otherwise hedge with a smaller one: brows and cheeks lost spread).
    ``bound`` limits the clean estimate as the sampler's ``clip_x0`` does: c, or per-channel (lo, hi).
    ``data_spread`` weighs :func:`data_spread_loss` over ``spread_channels`` (ARKit names); ``emotion_spread``
    weighs :func:`emotion_spread_loss` over ``emotion_spread_channels``, its targets from the teacher set
    ``pool``, counting the windows that ask for ``emotion_spread_emotions`` (names; default all).
    ``straight_clip``: gradients pass the clip of the clean estimates (:func:`student_chain`) everywhere ("all")
    or only into the spread terms ("spread"; "" neither)."""
    import torch
    if not cfg.predicts_clean or cfg.prediction != "x0":
        raise ValueError("trajectory distillation needs a clean-window (x0) model")
    if straight_clip not in ("", "all", "spread"):
        raise ValueError(f"straight_clip must be '', 'all' or 'spread', not {straight_clip!r}")
    if cfg.solver != "ddim":
        raise ValueError("trajectory distillation trains a DDIM student: set the config's solver to 'ddim'")
    if abs(cfg.sample_guidance - 1.0) > 1e-12 or abs(cfg.style_guidance - 1.0) > 1e-12:
        raise ValueError("a distilled student carries the teacher's guidance: set sample_guidance and "
                         "style_guidance to 1")
    grid = ddim_timesteps(cfg.diffusion_steps, cfg.sample_steps, cfg.sample_spacing)
    acp = cfg.alphas_cumprod()
    pair = bound if isinstance(bound, tuple) else (-bound, bound)
    lo, hi = (torch.tensor(np.broadcast_to(v, (cfg.motion_dim,)), dtype=torch.float32) for v in pair)

    def err_loss(err):
        loss = (err ** 2).mean()
        if cfg.vel_weight > 0:
            loss = loss + cfg.vel_weight * (torch.diff(err, dim=1) ** 2).mean()
        return loss

    from .train_emodiff import window_stat_loss
    from ...rigs.arkit import INDEX
    spread_idx = [INDEX[n] for n in spread_channels]
    emo_idx = [INDEX[n] for n in emotion_spread_channels]
    targets = None
    if emotion_spread > 0:
        if pool is None or not emo_idx:
            raise ValueError("the emotion spread term needs its channels and the teacher set")
        targets = torch.from_numpy(emotion_spread_targets(pool, emo_idx))
    only = None if emotion_spread_emotions is None else [EMOTIONS.index(e) for e in emotion_spread_emotions]

    def loss_fn(model, b: dict, gen, train: bool):
        raws = []
        outs = student_chain(model, b, grid, acp, (lo, hi), straight_clip == "all", raws)
        # "spread": only the spread terms see the final window through a straight-through clip.
        sized = straight_through(raws[-1], outs[-1]) if straight_clip == "spread" else outs[-1]
        loss = err_loss(outs[-1] - b["target"])
        if stat > 0:
            every = torch.ones(outs[-1].shape[:2] + (1,))  # (B, W, 1): every frame of a teacher window counts
            loss = loss + stat * window_stat_loss(outs[-1], b["target"], every, 1.0)
        for x0 in outs[:-1]:
            loss = loss + intermediate * err_loss(x0 - b["target"])
        if data_spread > 0:
            loss = loss + data_spread * data_spread_loss(model, sized, b, spread_idx)
        if emotion_spread > 0:
            loss = loss + emotion_spread * emotion_spread_loss(model, sized, b, emo_idx, targets, only)
        return loss
    return loss_fn
