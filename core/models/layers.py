"""Numpy building blocks shared by the inference networks (``emodiff_numpy.py``, ``lips_numpy.py``): layers that
mirror the torch modules exactly (tanh-GELU, LayerNorm eps 1e-5, 'same' convolutions), the parameter lookup by
torch state-dict name, and the feature/motion window helpers the trainers and the live engine share.
"""
from __future__ import annotations

import math

import numpy as np

from ..audio import FEATURE_DIM, SUBFRAME_FEATURE_DIM
from ..errors import InputError
from .config import EmoDiffConfig

F32 = np.float32
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


class Params:
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
        dh = d // heads
        qkv = self.linear(self.ln(x, name + ".ln1"), name + ".qkv")
        # Contiguous heads: numpy's stacked matmul only reaches BLAS for contiguous operands (15x faster here).
        q, k, v = (np.ascontiguousarray(z.reshape(b, n, heads, dh).transpose(0, 2, 1, 3))
                   for z in np.split(qkv, 3, axis=-1))  # (B, H, N, dh) each
        q *= F32(1.0 / math.sqrt(dh))
        att = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))  # (B, H, N, N) logits
        # Softmax without its two slow row reductions: where |q| |k| bounds every logit below exp's float32 range the
        # max shift is not needed, and the row sums come out of the value GEMM as a column of ones.
        bound = math.sqrt(float(np.einsum("bhnd,bhnd->bhn", q, q).max())) * \
            math.sqrt(float(np.einsum("bhnd,bhnd->bhn", k, k).max()))
        if bound < 60.0:
            np.exp(att, out=att)
        else:
            np.exp(att - att.max(axis=-1, keepdims=True), out=att)
        o = att @ np.concatenate([v, np.ones((b, heads, n, 1), F32)], axis=-1)  # (B, H, N, dh + 1)
        y = (o[..., :dh] / o[..., dh:]).transpose(0, 2, 1, 3).reshape(b, n, d)
        x = x + self.linear(y, name + ".proj")
        return x + self.linear(gelu(self.linear(self.ln(x, name + ".ln2"), name + ".fc1")), name + ".fc2")
