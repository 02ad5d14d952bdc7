"""EmoDiff inference in pure numpy from the shipped ``emodiff.npz`` (no torch): the denoiser, the style encoder,
emotion-label styles, and window/sequence sampling.

The maths mirrors ``emodiff_torch.py`` exactly (same parameter names; layers in ``layers.py``); a test holds numpy
and torch within 1e-4 on the same inputs and noise.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ...rigs.arkit import NUM_BLENDSHAPES
from ..emotions import INTENSITY_LEVELS, canonical_emotion, check_intensity
from ..errors import InputError
from ..sampler import classifier_free_guidance, sample
from .config import EmoDiffConfig, gaussian_taps
from .layers import (F32, Params, depthwise_conv_edge, gelu, motion_from_animation, silu, softmax, style_slice,
                     timestep_embedding, window_slice)


@dataclass
class WindowCond:
    """Conditions of one batch of windows (normalised motion units)."""

    audio: np.ndarray  # (B, S, A) features over prefix + window + lookahead
    prefix: np.ndarray  # (B, K, 55) normalised previous frames
    prefix_mask: np.ndarray  # (B, K) 1 where a previous frame is given
    style: np.ndarray  # (B, style_dim), or (B, S, style_dim) per token (emotion that changes over time)


OVERLAP = 10  # frames two neighbouring windows share (cross-faded)
SEAM_SIGMA = 2.0  # frames: the head's extra low-pass around cross-fades (chosen on the selection part)


def crossfade_ramp(overlap: int) -> np.ndarray:
    """(overlap,) float64 raised-cosine weights rising 0 -> 1 for the later of two windows in their shared frames."""
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / max(overlap, 1))


@lru_cache(maxsize=1)
def helper_thread():
    """The one helper thread (EmoDiff's half batches, the prosody beside the mel), made on first use."""
    from concurrent.futures import ThreadPoolExecutor
    return ThreadPoolExecutor(1, thread_name_prefix="emodiff-half")


def _split_run(fn, h: np.ndarray) -> np.ndarray:
    """fn over the batch (B, ...) in two halves at once, one in a helper thread: numpy's element-wise work (softmax,
    GELU, layer norms: half of a block's time) runs on one core, and the windows are independent."""
    if len(h) < 4 or (os.cpu_count() or 1) < 2:
        return fn(h)
    m = len(h) // 2
    first = helper_thread().submit(fn, h[:m])
    rest = fn(h[m:])
    return np.concatenate([first.result(), rest])


def smooth_seams(x: np.ndarray, seams: list[int], width: int, sigma: float | None = None) -> np.ndarray:
    """(T, C) -> (T, C): a Gaussian low-pass (std ``sigma`` frames) faded in around each cross-fade that starts at
    frame s of ``seams`` and lasts ``width`` frames; frames more than 6 sigma from every cross-fade are
    unchanged (``sigma`` None: SEAM_SIGMA).

    Two windows that disagree meet in a cross-fade: a kink the per-window head low-pass never sees. It carried
    most of the head's power above 2 Hz, twice the corpus's share (docs/training.md, session 17)."""
    k = gaussian_taps(SEAM_SIGMA if sigma is None else float(sigma))
    r = len(k) // 2
    x = np.asarray(x, F32)
    smooth = depthwise_conv_edge(x[None], np.repeat(k[None], x.shape[1], 0), np.zeros(x.shape[1], F32))[0]
    t = np.arange(len(x))
    w = np.zeros(len(x), F32)
    for s in seams:  # full within r frames of the cross-fade, fading out over r more
        dist = np.maximum(np.maximum(s - r - t, t - (s + width + r - 1)), 0)
        w = np.maximum(w, np.clip(1.0 - dist / r, 0.0, 1.0).astype(F32))
    return (1.0 - w[:, None]) * x + w[:, None] * smooth


def _smooth_head_seams(motion: np.ndarray, stride: int, n_win: int, overlap: int) -> np.ndarray:
    """(T, 55) stitched windows with the head low-passed around each cross-fade (:func:`smooth_seams`)."""
    motion[:, NUM_BLENDSHAPES:] = smooth_seams(motion[:, NUM_BLENDSHAPES:], [w * stride for w in range(1, n_win)],
                                               overlap)
    return motion


class EmoDiffNumpy:
    """EmoDiff forward pass, style encoder, emotion-label styles and window/sequence sampling in numpy."""

    def __init__(self, params: dict[str, np.ndarray], config: EmoDiffConfig | dict,
                 extra: dict[str, np.ndarray] | None = None, version: str = "0"):
        self.cfg = config if isinstance(config, EmoDiffConfig) else EmoDiffConfig.from_dict(config)
        self.p = Params(params)
        self.extra = dict(extra or {})
        self.version = version
        self.acp = self.cfg.alphas_cumprod()
        self.mean, self.std = self.p["motion_mean"], self.p["motion_std"]

    @classmethod
    def from_file(cls, path) -> "EmoDiffNumpy":
        """Load and verify an EmoDiff weights file."""
        from ..weights import load_weights
        w = load_weights(path, expect_type="emodiff")
        return cls(w.params, w.config, w.extra, w.model_version)

    @property
    def _head_taps(self) -> np.ndarray | None:
        """(H, K) the fixed head low-pass per head channel (cfg.head_lowpass), or None."""
        k = self.cfg.head_lowpass_kernel()
        return None if k is None else np.tile(k, (self.cfg.motion_dim - NUM_BLENDSHAPES, 1))

    # -- units
    @property
    def x0_bound(self):
        """The sampler's bound on the clean estimate: clip_x0, or per channel (lo, hi) (55,) with clip_range."""
        c = self.cfg.clip_x0
        if not self.cfg.clip_range:
            return c
        lo, hi = np.full(self.cfg.motion_dim, -c, F32), np.full(self.cfg.motion_dim, c, F32)
        n = NUM_BLENDSHAPES
        lo[:n], hi[:n] = (0.0 - self.mean[:n]) / self.std[:n], (1.0 - self.mean[:n]) / self.std[:n]
        return lo, hi

    def normalize(self, motion: np.ndarray) -> np.ndarray:
        """Raw (..., 55) [weights | head radians] -> model units."""
        return ((np.asarray(motion, F32) - self.mean) / self.std).astype(F32)

    def denormalize(self, x: np.ndarray) -> np.ndarray:
        """Model units -> raw (..., 55); weights are NOT clipped here."""
        return (np.asarray(x, F32) * self.std + self.mean).astype(F32)

    # -- style
    @property
    def null_style(self) -> np.ndarray:
        """(style_dim,) the learned 'no style' vector."""
        return self.p["null_style"].copy()

    def _encode_chunk(self, clip_norm: np.ndarray) -> np.ndarray:
        p, c = self.p, self.cfg
        h = p.linear(clip_norm, "style_encoder.inp")
        h = h + gelu(p.conv(h, "style_encoder.conv"))
        for i in range(c.style_layers):
            h = p.block(h, f"style_encoder.blocks.{i}", c.style_heads)
        h = p.ln(h, "style_encoder.ln")
        w = softmax(p.linear(h, "style_encoder.score"), axis=1)
        return p.linear((w * h).sum(axis=1), "style_encoder.out")

    def encode_style_batch(self, clips_norm: np.ndarray) -> np.ndarray:
        """(B, L, 55) normalised clips of equal length -> (B, style_dim); no chunking."""
        return self._encode_chunk(np.asarray(clips_norm, F32))

    def encode_style(self, motion: np.ndarray) -> np.ndarray:
        """(L, 55) raw reference motion at 30 fps, any length -> (style_dim,); long clips in averaged chunks."""
        m = np.asarray(motion, F32)
        if m.ndim != 2 or m.shape[1] != self.cfg.motion_dim or m.shape[0] == 0:
            raise InputError(f"style clip must be (frames, {self.cfg.motion_dim}), got {m.shape}")
        x = self.normalize(m)
        n = max(1, math.ceil(len(x) / self.cfg.style_max_frames))
        bounds = np.linspace(0, len(x), n + 1).round().astype(int)
        vecs, lens = [], []
        for a, b in zip(bounds[:-1], bounds[1:]):
            vecs.append(self._encode_chunk(x[None, a:b])[0])
            lens.append(b - a)
        return (np.average(np.stack(vecs), axis=0, weights=lens)).astype(F32)

    def style_from_animation(self, anim) -> np.ndarray:
        """(style_dim,) style of a FaceAnimation reference clip (any fps; resampled to 30)."""
        return self.encode_style(motion_from_animation(anim))

    def emotion_style(self, emotion: str, intensity: float = 1.0) -> np.ndarray:
        """(style_dim,) style for an emotion label: piecewise-linear through neutral and the level-1..3 means."""
        emo = canonical_emotion(emotion)
        x = check_intensity(intensity)
        if "emotion_level_styles" not in self.extra:
            raise InputError("these EmoDiff weights carry no emotion styles; give a --style clip")
        names = [str(n) for n in self.extra["emotion_names"].tolist()]
        table = np.asarray(self.extra["emotion_level_styles"], F32)  # (E, 4, Ds); level 0 = neutral
        if emo not in names:
            raise InputError(f"these weights carry no style for {emo!r}; give a --style clip")
        row = table[names.index(emo)]
        if emo == "neutral":
            return row[0].copy()
        knots = np.array([0.0] + [INTENSITY_LEVELS[k] for k in (1, 2, 3)])
        return np.stack([np.interp(x, knots, row[:, j]) for j in range(row.shape[1])]).astype(F32)

    # -- denoiser
    def audio_context(self, audio: np.ndarray, style: np.ndarray) -> np.ndarray:
        """(B, S, d) the audio, position, token-type and style terms of the token sum (fixed for a window)."""
        p, c = self.p, self.cfg
        a = gelu(p.conv(np.asarray(audio, F32), "audio_conv"))
        sty = p.linear(np.asarray(style, F32), "style_proj")
        h = p.linear(a, "audio_lin") + p["pos_emb"] + (sty[:, None, :] if sty.ndim == 2 else sty)
        te, nm = p["type_emb"], p["null_motion"]
        h[:, c.prefix:c.prefix + c.window] += te[1]
        h[:, c.prefix + c.window:] += nm + te[2]
        h[:, :c.prefix] += te[0]
        return h.astype(F32)

    def context(self, cond: WindowCond, audio_ctx: np.ndarray | None = None) -> np.ndarray:
        """(B, S, d) everything in the token sum that does not change across diffusion steps (x_t and t aside)."""
        p, c = self.p, self.cfg
        h = (self.audio_context(cond.audio, cond.style) if audio_ctx is None else audio_ctx).copy()
        pm = np.asarray(cond.prefix_mask, F32)[..., None]
        h[:, :c.prefix] += p.linear(np.asarray(cond.prefix, F32), "motion_in") * pm + p["null_motion"] * (1 - pm)
        return h

    def _abar(self, t: int | np.ndarray, b: int) -> np.ndarray:
        """(B, 1, 1) abar at training step(s) t for a batch of b windows."""
        return self.acp[np.broadcast_to(np.asarray(t), (b,))].reshape(-1, 1, 1)

    def _step_vec(self, t: int | np.ndarray, b: int) -> np.ndarray:
        tt = np.broadcast_to(np.asarray(t), (b,))
        return self.p.linear(silu(self.p.linear(timestep_embedding(tt, self.cfg.d_model), "step1")), "step2")

    def eps(self, x_t: np.ndarray, t: int | np.ndarray, cond: WindowCond, ctx: np.ndarray | None = None) -> np.ndarray:
        """Predicted noise (B, W, 55) for noisy window frames x_t (B, W, 55) at training step(s) t.

        ``ctx`` = :meth:`context` (cond) may be passed to skip recomputing it at every step. An x0-predicting
        network's output is turned into the noise it implies.
        """
        out = self.raw(x_t, t, cond, ctx)
        if not self.cfg.predicts_clean:
            return out
        a = self._abar(t, out.shape[0])
        return ((np.asarray(x_t, np.float64) - np.sqrt(a) * out) / np.sqrt(1.0 - a)).astype(F32)

    def raw(self, x_t: np.ndarray, t: int | np.ndarray, cond: WindowCond,
            ctx: np.ndarray | None = None) -> np.ndarray:
        """The model's output (B, W, 55): the noise, or the clean window (``cfg.prediction`` "x0", or "v" turned
        into it)."""
        p, c = self.p, self.cfg
        x_t = np.asarray(x_t, F32)
        b = x_t.shape[0]
        h = (self.context(cond) if ctx is None else ctx).copy()
        h[:, c.prefix:c.prefix + c.window] += p.linear(x_t, "motion_in")
        if c.motion_kernel > 1:
            h[:, c.prefix:c.prefix + c.window] += p.conv(x_t, "motion_conv")
        h += self._step_vec(t, b)[:, None, :]
        h = _split_run(self._blocks, h)
        y = p.linear(p.ln(h[:, c.prefix:c.prefix + c.window], "ln_out"), "out")  # (B, W, 55)
        if c.out_kernel > 1:
            y = depthwise_conv_edge(y, p["out_conv.weight"][:, 0], p["out_conv.bias"])
        if c.prediction == "v":  # x0 = sqrt(abar) x_t - sqrt(1 - abar) v
            a = self._abar(t, b)
            y = (np.sqrt(a) * x_t - np.sqrt(1.0 - a) * y).astype(F32)
        taps = self._head_taps
        if taps is not None:
            n = NUM_BLENDSHAPES
            y[..., n:] = depthwise_conv_edge(y[..., n:], taps, np.zeros(len(taps), F32))
        return y

    def _blocks(self, h: np.ndarray) -> np.ndarray:
        """The transformer layers over a batch of token sequences (B, S, d)."""
        for i in range(self.cfg.n_layers):
            h = self.p.block(h, f"blocks.{i}", self.cfg.n_heads)
        return h

    def guided_eps_fn(self, guidance: float = 1.0, interval: tuple[int, int] | None = None):
        """``eps_fn(x_t, t, cond)`` for the sampler with classifier-free guidance on the style (1 = none), applied
        only at training steps t within ``interval`` (lo, hi) when given; other steps run the conditional batch
        alone. The step-invariant contexts are computed once per ``cond`` object, the null style's only when needed.
        """
        cache: dict[str, Any] = {}  # audio/style parts per window batch, full contexts per cond object
        guided = abs(guidance - 1.0) >= 1e-12

        def contexts(cond: WindowCond, need_null: bool) -> tuple[np.ndarray, np.ndarray | None]:
            if cache.get("audio") is not cond.audio or cache.get("style") is not cond.style:
                cache.clear()
                cache.update(audio=cond.audio, style=cond.style, actx=self.audio_context(cond.audio, cond.style))
            if cache.get("cond") is not cond:
                cache.update(cond=cond, ctx=self.context(cond, cache["actx"]), ctx_null=None)
            if need_null and cache["ctx_null"] is None:
                if "actx_null" not in cache:
                    null = np.broadcast_to(self.p["null_style"], cond.style.shape)
                    cache["actx_null"] = self.audio_context(cond.audio, null)
                cache["ctx_null"] = self.context(cond, cache["actx_null"])
            return cache["ctx"], cache["ctx_null"]

        def fn(x_t: np.ndarray, t: int, cond: WindowCond) -> np.ndarray:
            use = guided and (interval is None or interval[0] <= t <= interval[1])
            ctx, ctx_null = contexts(cond, use)
            if not use:
                return self.eps(x_t, t, cond, ctx)
            b = x_t.shape[0]
            e = self.eps(np.concatenate([x_t, x_t]), t, cond, np.concatenate([ctx, ctx_null]))
            return classifier_free_guidance(e[:b], e[b:], guidance)
        return fn

    def guidance_for(self, guidance: float | None) -> tuple[float, tuple[int, int] | None]:
        """(scale, interval): the weights' own label guidance for None, else ``guidance`` at every step."""
        if guidance is None:
            return float(self.cfg.sample_guidance), self.cfg.guidance_interval
        return float(guidance), None

    def sample_window(self, audio_window: np.ndarray, style: np.ndarray, rng: np.random.Generator,
                      prefix: np.ndarray | None = None, prefix_mask: np.ndarray | None = None, steps: int = 10,
                      guidance: float | None = None, eta: float = 0.0,
                      known: np.ndarray | None = None) -> np.ndarray:
        """One window: audio (S, A) from :func:`window_slice`, raw prefix (K, 55) -> raw motion (W, 55).

        ``guidance`` None = the weights' own (:meth:`guidance_for`). ``known`` (n, 55) raw frames fix the window's
        first n frames (inpainting: the clean estimate there is replaced by them at every step, so the rest is
        denoised around them); the window returns them unchanged."""
        c = self.cfg
        if prefix is None:
            prefix_n, prefix_mask = np.zeros((c.prefix, c.motion_dim), F32), np.zeros(c.prefix, F32)
        else:
            prefix_n = self.normalize(prefix)
            prefix_mask = np.ones(c.prefix, F32) if prefix_mask is None else np.asarray(prefix_mask, F32)
        cond = WindowCond(audio_window[None].astype(F32), prefix_n[None], prefix_mask[None],
                          np.asarray(style, F32)[None])
        fn = self.guided_eps_fn(*self.guidance_for(guidance))
        known_n = self.normalize(known) if known is not None and len(known) else None  # (n, 55)
        if known_n is not None:
            fn = self._inpainting(fn, known_n[None])
        x0 = sample(c.solver, fn, (1, c.window, c.motion_dim), self.acp, steps=steps, eta=eta, rng=rng, cond=cond,
                    clip_x0=self.x0_bound, spacing=c.sample_spacing)
        if known_n is not None:
            x0[0, :len(known_n)] = known_n  # exact, whatever the solver's rounding
        return self.denormalize(x0[0])

    def _inpainting(self, fn, known_n: np.ndarray):
        """``fn`` whose noise makes the clean estimate of the first frames equal ``known_n`` (1, n, 55) model units."""
        n = known_n.shape[1]

        def inpainted(x_t: np.ndarray, t: int, cond: WindowCond) -> np.ndarray:
            e = np.array(fn(x_t, t, cond), F32)
            a = float(self.acp[t])
            e[:, :n] = (x_t[:, :n] - math.sqrt(a) * known_n) / math.sqrt(1.0 - a)
            return e
        return inpainted

    def sample_sequence(self, features: np.ndarray, style: np.ndarray, rng: np.random.Generator | int = 0,
                        steps: int = 10, guidance: float | None = None, eta: float = 0.0,
                        initial: np.ndarray | None = None, parallel: bool = True, batch_windows: int = 64,
                        progress=None, overlap: int | None = None) -> np.ndarray:
        """(T, A) features -> (T, 55) raw motion, window by window; each window sees the previous window's tail.

        Windows start every ``window - overlap`` frames (``overlap`` defaults to OVERLAP, at most half of what a
        window adds to its prefix); in the ``overlap`` frames two windows share, the output
        cross-fades from the earlier to the later one, so no seam jumps (each window continues from the frames
        just before the shared part). ``parallel`` (default) denoises up to ``batch_windows`` consecutive windows
        as one batch: at every step each window's prefix is the previous window's current clean estimate; it is
        several times faster than ``parallel=False``, which samples the windows one after another on final
        frames. ``initial`` (55,) raw is the first frame's expression given to the first window. ``progress``
        (optional) is called with the number of frames done. ``style`` is (Ds,) for the whole take or (T, Ds)
        per frame (an emotion that changes within the take). The solver and timestep grid are the config's;
        ``guidance`` None = the weights' own (:meth:`guidance_for`).
        """
        c = self.cfg
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        style = np.asarray(style, F32)
        t_total = int(features.shape[0])
        if style.ndim == 2 and style.shape[0] != t_total:
            raise ValueError(f"per-frame style has {style.shape[0]} frames, the audio {t_total}")
        if overlap is None:
            overlap = min(OVERLAP, (c.window - c.prefix) // 2)
        if not 0 <= overlap <= c.window - c.prefix:
            raise ValueError(f"overlap must be in [0, {c.window - c.prefix}], got {overlap}")
        stride = c.window - overlap
        n_win = 1 + max(0, -(-(t_total - c.window) // stride))
        length = (n_win - 1) * stride + c.window
        acc = np.zeros((length, c.motion_dim), np.float64)  # the windows cross-faded (weights sum to 1 per frame)
        ramp = crossfade_ramp(overlap)  # (O,) rises 0 -> 1
        prev = None  # (K, 55) normalised frames just before the next window
        if initial is not None:
            prev = np.zeros((c.prefix, c.motion_dim), F32)
            prev[-1] = self.normalize(initial)
            prev_mask = np.zeros(c.prefix, F32)
            prev_mask[-1] = 1.0
        group = 1 if not parallel else max(1, int(batch_windows))
        fn = self.guided_eps_fn(*self.guidance_for(guidance))
        tail = slice(stride - c.prefix, stride)  # a window's frames that precede the next window
        for g0 in range(0, n_win, group):
            wins = list(range(g0, min(n_win, g0 + group)))
            b = len(wins)
            audio = np.stack([window_slice(features, w * stride, c) for w in wins])
            prefix = np.zeros((b, c.prefix, c.motion_dim), F32)
            pmask = np.zeros((b, c.prefix), F32)
            if prev is not None:
                prefix[0], pmask[0] = prev, prev_mask
            if style.ndim == 2:
                wstyle = np.stack([style_slice(style, w * stride, c) for w in wins])  # (B, S, Ds)
            else:
                wstyle = np.broadcast_to(style, (b, c.style_dim)).astype(F32)
            cond = WindowCond(audio, prefix, pmask, wstyle)

            def chain(cond: WindowCond, x0: np.ndarray, i: int) -> WindowCond:
                if x0.shape[0] < 2:
                    return cond
                pre = cond.prefix.copy()
                msk = cond.prefix_mask.copy()
                pre[1:] = x0[:-1, tail]
                msk[1:] = 1.0
                return WindowCond(cond.audio, pre, msk, cond.style)

            x0 = sample(c.solver, fn, (b, c.window, c.motion_dim), self.acp, steps=steps, eta=eta, rng=gen,
                        cond=cond, clip_x0=self.x0_bound, cond_fn=chain, spacing=c.sample_spacing)
            for j, w in enumerate(wins):
                wt = np.ones(c.window)
                if overlap and w > 0:
                    wt[:overlap] = ramp
                if overlap and w < n_win - 1:
                    wt[-overlap:] = 1.0 - ramp
                acc[w * stride:w * stride + c.window] += wt[:, None] * x0[j]
            prev, prev_mask = x0[-1, tail], np.ones(c.prefix, F32)
            if progress is not None:
                done_to = t_total if wins[-1] == n_win - 1 else min(t_total, (wins[-1] + 1) * stride)
                progress(done_to - min(t_total, wins[0] * stride))
        return self.denormalize(_smooth_head_seams(acc.astype(F32), stride, n_win, overlap)[:t_total])
