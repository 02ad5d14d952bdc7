"""Pure-numpy inference of EmoDiff and lip refinement from the shipped ``.npz`` weights (no torch).

The layer maths mirrors ``emodiff_torch.py`` / ``lips_torch.py`` exactly (tanh-GELU, LayerNorm eps 1e-5, same
parameter names); a test holds numpy and torch within 1e-4 on the same inputs and noise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...rigs.arkit import ARKIT_NAMES, INDEX
from ..audio import FEATURE_DIM, SUBFRAME_FEATURE_DIM
from ..emotions import INTENSITY_LEVELS, canonical_emotion, check_intensity
from ..errors import InputError
from ..sampler import alphas_cumprod, betas_for, classifier_free_guidance, sample
from .config import EmoDiffConfig, LipsConfig

F32 = np.float32
MOTION_NAMES: tuple[str, ...] = ARKIT_NAMES + ("headPitch", "headYaw", "headRoll")  # the 55 motion channels
# Frames outside the clip get the average spectrum (0), energy at the floor, no onsets. Energy is the second to
# last feature in both kinds (82 frame, 242 sub-frame features).
PAD_ENERGY = -0.5


# ---- shared helpers (also used by the torch modules and the trainers) ------------------------------
def timestep_embedding(t: np.ndarray | int, dim: int) -> np.ndarray:
    """(B, dim) float32 sinusoidal embedding of integer diffusion steps ([cos | sin], periods up to 10000)."""
    t = np.atleast_1d(np.asarray(t, np.float64))
    half = dim // 2
    freqs = np.exp(-math.log(10000.0) * np.arange(half, dtype=np.float64) / half)
    args = t[:, None] * freqs[None, :]
    emb = np.concatenate([np.cos(args), np.sin(args)], axis=1)
    if dim % 2:
        emb = np.concatenate([emb, np.zeros((len(t), 1))], axis=1)
    return emb.astype(F32)


def energy_column(width: int) -> int:
    """Index of the energy column in features of ``width``: the frame (82) or sub-frame (242) features come
    first (energy, then flux, last), then any appended columns."""
    return (SUBFRAME_FEATURE_DIM if width >= SUBFRAME_FEATURE_DIM else FEATURE_DIM) - 2


def window_slice(features: np.ndarray, start: int, cfg: EmoDiffConfig) -> np.ndarray:
    """(prefix+window+lookahead, A) audio features for the window whose first generated frame is ``start``."""
    s0, s1 = start - cfg.prefix, start + cfg.window + cfg.lookahead
    out = np.zeros((s1 - s0, features.shape[1]), F32)
    out[:, energy_column(features.shape[1])] = PAD_ENERGY  # appended columns (prosody, posteriors) pad with 0
    lo, hi = max(0, s0), min(features.shape[0], s1)
    if hi > lo:
        out[lo - s0:hi - s0] = features[lo:hi]
    return out


def style_slice(styles: np.ndarray, start: int, cfg: EmoDiffConfig) -> np.ndarray:
    """(prefix+window+lookahead, Ds) per-frame styles for a window, the edge frames' styles held outside."""
    idx = np.clip(np.arange(start - cfg.prefix, start + cfg.window + cfg.lookahead), 0, styles.shape[0] - 1)
    return np.asarray(styles, F32)[idx]


def motion_from_animation(anim) -> np.ndarray:
    """(T, 55) float32 [52 ARKit weights | pitch, yaw, roll] of a FaceAnimation resampled to 30 fps."""
    a = anim if abs(anim.fps - 30.0) < 1e-9 else anim.resample(30.0)
    return np.concatenate([a.weights, a.head_rotation], axis=1).astype(F32)


# ---- layers -----------------------------------------------------------------------------------------
def gelu(x: np.ndarray) -> np.ndarray:
    """tanh approximation of GELU (torch ``approximate='tanh'``); returns a new array."""
    y = x * x
    y *= F32(0.044715)
    y += F32(1.0)
    y *= x
    y *= F32(math.sqrt(2.0 / math.pi))
    np.tanh(y, out=y)
    y += F32(1.0)
    y *= x
    y *= F32(0.5)
    return y


def silu(x: np.ndarray) -> np.ndarray:
    """x * sigmoid(x)."""
    return x / (1.0 + np.exp(-x))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, overflow-safe."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """LayerNorm over the last axis."""
    xc = x - x.mean(-1, keepdims=True)
    var = np.einsum("...i,...i->...", xc, xc)[..., None] / F32(x.shape[-1])
    xc *= 1.0 / np.sqrt(var + F32(eps))
    xc *= w
    xc += b
    return xc


def conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int = 1, taps: list | None = None) -> np.ndarray:
    """'Same' 1-D convolution over time: x (B, T, Cin), w (Cout, Cin, k) torch layout -> (B, T, Cout).

    ``taps`` optionally gives the k contiguous (Cin, Cout) matrices w[:, :, j].T (precomputed for speed).
    """
    k = w.shape[2]
    pad = dilation * (k - 1) // 2
    bsz, t, cin = x.shape
    xp = np.zeros((bsz, t + 2 * pad, cin), F32)
    xp[:, pad:pad + t] = x
    taps = taps if taps is not None else [np.ascontiguousarray(w[:, :, j].T) for j in range(k)]
    # One GEMM per tap over every window of the batch at once: shifted views of the padded input, flattened.
    out = xp[:, 0:t].reshape(-1, cin) @ taps[0] + b
    for j in range(1, k):
        out += xp[:, j * dilation:j * dilation + t].reshape(-1, cin) @ taps[j]
    return out.reshape(bsz, t, w.shape[0])


def depthwise_conv_edge(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(B, L, C) -> (B, L, C): each channel convolved with its own odd kernel ``w`` (C, K), edges repeated
    (torch Conv1d with groups=C on a replicate-padded input)."""
    k = w.shape[1]
    pad = k // 2
    xp = np.concatenate([np.repeat(x[:, :1], pad, axis=1), x, np.repeat(x[:, -1:], pad, axis=1)], axis=1)
    n = x.shape[1]
    out = np.broadcast_to(np.asarray(b, F32), x.shape).astype(F32)
    for j in range(k):
        out = out + xp[:, j:j + n] * w[:, j]
    return out


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax (overwrites and returns ``x``)."""
    x -= x.max(axis=axis, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=axis, keepdims=True)
    return x


class _Params:
    """Parameter lookup by torch state-dict name with a helpful error; caches GEMM-ready weight layouts."""

    def __init__(self, params: dict[str, np.ndarray]):
        self.p = {k: np.asarray(v, F32) for k, v in params.items()}
        self._wt: dict[str, np.ndarray] = {}
        self._taps: dict[str, list] = {}

    def __getitem__(self, k: str) -> np.ndarray:
        try:
            return self.p[k]
        except KeyError:
            raise InputError(f"weights file lacks parameter {k!r} (wrong model or version)") from None

    def linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """torch nn.Linear over the last axis."""
        wt = self._wt.get(name)
        if wt is None:
            wt = self._wt[name] = np.ascontiguousarray(self[name + ".weight"].T)
        y = x.reshape(-1, x.shape[-1]) @ wt + self[name + ".bias"]  # one GEMM over all leading axes
        return y.reshape(x.shape[:-1] + (wt.shape[1],))

    def conv(self, x: np.ndarray, name: str, dilation: int = 1) -> np.ndarray:
        """torch nn.Conv1d ('same' padding) over time of (B, T, C)."""
        w = self[name + ".weight"]
        taps = self._taps.get(name)
        if taps is None:
            taps = self._taps[name] = [np.ascontiguousarray(w[:, :, j].T) for j in range(w.shape[2])]
        return conv1d(x, w, self[name + ".bias"], dilation, taps)

    def ln(self, x: np.ndarray, name: str) -> np.ndarray:
        """torch nn.LayerNorm."""
        return layer_norm(x, self[name + ".weight"], self[name + ".bias"])

    def block(self, x: np.ndarray, name: str, heads: int) -> np.ndarray:
        """The pre-LN transformer block of emodiff_torch.Block."""
        b, n, d = x.shape
        qkv = self.linear(self.ln(x, name + ".ln1"), name + ".qkv")
        # Contiguous heads: numpy's stacked matmul only reaches BLAS for contiguous operands (15x faster here).
        q, k, v = (np.ascontiguousarray(z.reshape(b, n, heads, d // heads).transpose(0, 2, 1, 3))
                   for z in np.split(qkv, 3, axis=-1))  # (B, H, N, d/H) each
        att = softmax(q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2)) / F32(math.sqrt(d // heads)))  # (B,H,N,N)
        y = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
        x = x + self.linear(y, name + ".proj")
        return x + self.linear(gelu(self.linear(self.ln(x, name + ".ln2"), name + ".fc1")), name + ".fc2")


# ---- EmoDiff ----------------------------------------------------------------------------------------
@dataclass
class WindowCond:
    """Conditions of one batch of windows (normalised motion units)."""

    audio: np.ndarray  # (B, S, A) features over prefix + window + lookahead
    prefix: np.ndarray  # (B, K, 55) normalised previous frames
    prefix_mask: np.ndarray  # (B, K) 1 where a previous frame is given
    style: np.ndarray  # (B, style_dim), or (B, S, style_dim) per token (emotion that changes over time)


OVERLAP = 10  # frames two neighbouring windows share (cross-faded)


def crossfade_ramp(overlap: int) -> np.ndarray:
    """(overlap,) float64 raised-cosine weights rising 0 -> 1 for the later of two windows in their shared frames."""
    return 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / max(overlap, 1))


class EmoDiffNumpy:
    """EmoDiff forward pass, style encoder, emotion-label styles and window/sequence sampling in numpy."""

    def __init__(self, params: dict[str, np.ndarray], config: EmoDiffConfig | dict,
                 extra: dict[str, np.ndarray] | None = None, version: str = "0"):
        self.cfg = config if isinstance(config, EmoDiffConfig) else EmoDiffConfig.from_dict(config)
        self.p = _Params(params)
        self.extra = dict(extra or {})
        self.version = version
        self.acp = alphas_cumprod(betas_for(self.cfg.schedule, self.cfg.diffusion_steps,
                                            self.cfg.beta_start, self.cfg.beta_end))
        self.mean, self.std = self.p["motion_mean"], self.p["motion_std"]

    @classmethod
    def from_file(cls, path) -> "EmoDiffNumpy":
        """Load and verify an EmoDiff weights file."""
        from ..weights import load_weights
        w = load_weights(path, expect_type="emodiff")
        return cls(w.params, w.config, w.extra, w.model_version)

    # -- units
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

    def _step_vec(self, t: int | np.ndarray, b: int) -> np.ndarray:
        tt = np.broadcast_to(np.asarray(t), (b,))
        return self.p.linear(silu(self.p.linear(timestep_embedding(tt, self.cfg.d_model), "step1")), "step2")

    def eps(self, x_t: np.ndarray, t: int | np.ndarray, cond: WindowCond, ctx: np.ndarray | None = None) -> np.ndarray:
        """Predicted noise (B, W, 55) for noisy window frames x_t (B, W, 55) at training step(s) t.

        ``ctx`` = :meth:`context` (cond) may be passed to skip recomputing it at every step. An x0-predicting
        network's output is turned into the noise it implies.
        """
        out = self.raw(x_t, t, cond, ctx)
        if self.cfg.prediction == "eps":
            return out
        a = self.acp[np.broadcast_to(np.asarray(t), (out.shape[0],))].reshape(-1, 1, 1)
        return ((np.asarray(x_t, np.float64) - np.sqrt(a) * out) / np.sqrt(1.0 - a)).astype(F32)

    def raw(self, x_t: np.ndarray, t: int | np.ndarray, cond: WindowCond,
            ctx: np.ndarray | None = None) -> np.ndarray:
        """The network's own output (B, W, 55): the noise, or the clean window (``cfg.prediction``)."""
        p, c = self.p, self.cfg
        x_t = np.asarray(x_t, F32)
        b = x_t.shape[0]
        h = (self.context(cond) if ctx is None else ctx).copy()
        h[:, c.prefix:c.prefix + c.window] += p.linear(x_t, "motion_in")
        if c.motion_kernel > 1:
            h[:, c.prefix:c.prefix + c.window] += p.conv(x_t, "motion_conv")
        h += self._step_vec(t, b)[:, None, :]
        for i in range(c.n_layers):
            h = p.block(h, f"blocks.{i}", c.n_heads)
        y = p.linear(p.ln(h[:, c.prefix:c.prefix + c.window], "ln_out"), "out")  # (B, W, 55)
        if c.out_kernel > 1:
            y = depthwise_conv_edge(y, p["out_conv.weight"][:, 0], p["out_conv.bias"])
        return y

    def guided_eps_fn(self, guidance: float = 1.0):
        """``eps_fn(x_t, t, cond)`` for the sampler with classifier-free guidance on the style (1 = none).

        The step-invariant context is computed once per ``cond`` object and reused across steps.
        """
        cache: dict[str, Any] = {}  # audio/style part per window batch, full context per cond object
        guided = abs(guidance - 1.0) >= 1e-12

        def both(a: np.ndarray) -> np.ndarray:
            return np.concatenate([a, a]) if guided else a

        def fn(x_t: np.ndarray, t: int, cond: WindowCond) -> np.ndarray:
            b = x_t.shape[0]
            if cache.get("audio") is not cond.audio or cache.get("style") is not cond.style:
                style = cond.style
                if guided:
                    style = np.concatenate([style, np.broadcast_to(self.p["null_style"], style.shape)])
                cache.clear()
                cache.update(audio=cond.audio, style=cond.style, actx=self.audio_context(both(cond.audio), style))
            if cache.get("cond") is not cond:
                full = WindowCond(both(cond.audio), both(cond.prefix), both(cond.prefix_mask), cond.style)
                cache.update(cond=cond, ctx=self.context(full, cache["actx"]))
            hit = (cond, cache["ctx"])
            if not guided:
                return self.eps(x_t, t, cond, hit[1])
            e = self.eps(np.concatenate([x_t, x_t]), t, cond, hit[1])
            return classifier_free_guidance(e[:b], e[b:], guidance)
        return fn

    def sample_window(self, audio_window: np.ndarray, style: np.ndarray, rng: np.random.Generator,
                      prefix: np.ndarray | None = None, prefix_mask: np.ndarray | None = None, steps: int = 10,
                      guidance: float = 1.0, eta: float = 0.0) -> np.ndarray:
        """One window: audio (S, A) from :func:`window_slice`, raw prefix (K, 55) -> raw motion (W, 55)."""
        c = self.cfg
        if prefix is None:
            prefix_n, prefix_mask = np.zeros((c.prefix, c.motion_dim), F32), np.zeros(c.prefix, F32)
        else:
            prefix_n = self.normalize(prefix)
            prefix_mask = np.ones(c.prefix, F32) if prefix_mask is None else np.asarray(prefix_mask, F32)
        cond = WindowCond(audio_window[None].astype(F32), prefix_n[None], prefix_mask[None],
                          np.asarray(style, F32)[None])
        x0 = sample(c.solver, self.guided_eps_fn(guidance), (1, c.window, c.motion_dim), self.acp, steps=steps,
                    eta=eta, rng=rng, cond=cond, clip_x0=c.clip_x0)
        return self.denormalize(x0[0])

    def sample_sequence(self, features: np.ndarray, style: np.ndarray, rng: np.random.Generator | int = 0,
                        steps: int = 10, guidance: float = 1.0, eta: float = 0.0,
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
        per frame (an emotion that changes within the take). The solver is the config's.
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
        fn = self.guided_eps_fn(guidance)
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
                        cond=cond, clip_x0=c.clip_x0, cond_fn=chain)
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
        return self.denormalize(acc[:t_total].astype(F32))


# ---- lip refinement ---------------------------------------------------------------------------------
class LipsNumpy:
    """Lip refinement forward pass; :meth:`apply` replaces only the mouth-set channels, matched by name."""

    def __init__(self, params: dict[str, np.ndarray], config: LipsConfig | dict, version: str = "0"):
        self.cfg = config if isinstance(config, LipsConfig) else LipsConfig.from_dict(config)
        self.p = _Params(params)
        self.version = version
        self.mouth_index = np.array([INDEX[n] for n in self.cfg.mouth_names], np.int64)
        hidden = ([] if self.cfg.mouth_input else list(self.mouth_index)) + [INDEX[n] for n in self.cfg.hidden_face]
        self.hidden_index = np.array(hidden, np.int64)

    @classmethod
    def from_file(cls, path) -> "LipsNumpy":
        """Load and verify a lips weights file."""
        from ..weights import load_weights
        w = load_weights(path, expect_type="lips")
        return cls(w.params, w.config, w.model_version)

    @property
    def null_style(self) -> np.ndarray:
        """(style_dim,) the learned 'no style' vector."""
        return self.p["null_style"].copy()

    def predict(self, features: np.ndarray, face: np.ndarray, style: np.ndarray | None = None) -> np.ndarray:
        """features (T, A) or (B, T, A), face weights (…, T, 52), style (Ds,)/(B, Ds) or per frame (…, T, Ds)
        -> mouth (…, T, n_mouth)."""
        p, c = self.p, self.cfg
        single = np.asarray(features).ndim == 2
        f = np.asarray(features, F32)[None] if single else np.asarray(features, F32)
        w = np.asarray(face, F32)[None] if single else np.asarray(face, F32)
        s = self.null_style if style is None else np.asarray(style, F32)
        per_frame = s.ndim == (2 if single else 3)
        if per_frame:
            s = np.broadcast_to(s, (f.shape[0], f.shape[1], c.style_dim))
        else:
            s = np.broadcast_to(s, (f.shape[0], c.style_dim))
        if self.hidden_index.size:
            w = w.copy()
            w[..., self.hidden_index] = 0.0
        sp = p.linear(s, "style_proj")
        h = p.linear(np.concatenate([f, w], axis=-1), "inp") + (sp if per_frame else sp[:, None, :])
        for i, d in enumerate(c.dilations):
            name = f"blocks.{i}"
            y = p.conv(p.ln(h, name + ".ln"), name + ".conv", dilation=d)
            h = h + p.linear(gelu(y), name + ".lin")
        out = sigmoid(p.linear(p.ln(h, "ln_out"), "out"))
        return out[0] if single else out

    def apply(self, features: np.ndarray, weights: np.ndarray, style: np.ndarray | None = None) -> np.ndarray:
        """(T, 52) weights with the mouth set re-predicted; every other channel is copied unchanged."""
        w = np.asarray(weights, F32)
        out = w.copy()
        out[:, self.mouth_index] = self.predict(features, np.clip(w, 0, 1), style)
        return out
