"""EmoDiff in torch (training only): a transformer that predicts the noise in a window of facial motion.

Sequence per window = ``prefix`` clean frames of the previous window (the initial state; masked when absent)
+ ``window`` noisy frames to denoise + ``lookahead`` frames of future audio only. Every token gets its audio
features (temporal conv), a learned position, a token-type embedding, and one conditioning vector made of the
diffusion-step embedding plus the projected emotion style. A style encoder turns a reference clip of ARKit curves
(any length) into the style vector; a learned null style stands in for "no style" (classifier-free guidance).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ...rigs.arkit import NUM_BLENDSHAPES
from .config import EmoDiffConfig
from .layers import timestep_embedding


class Block(nn.Module):
    """Pre-LayerNorm transformer block (bidirectional attention, tanh-GELU MLP)."""

    def __init__(self, d: int, heads: int, ff_mult: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ff_mult * d)
        self.fc2 = nn.Linear(ff_mult * d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, d) -> (B, N, d)."""
        b, n, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (z.reshape(b, n, h, d // h).transpose(1, 2) for z in (q, k, v))  # (B, H, N, dh)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.drop(self.proj(y))
        x = x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh")))
        return x


class StyleEncoder(nn.Module):
    """Reference clip (B, L, 55) normalised motion -> (B, style_dim) style vector (attention pooling)."""

    def __init__(self, cfg: EmoDiffConfig):
        super().__init__()
        d = cfg.style_d_model
        self.inp = nn.Linear(cfg.motion_dim, d)
        self.conv = nn.Conv1d(d, d, 5, padding=2)
        self.blocks = nn.ModuleList(Block(d, cfg.style_heads, 2, cfg.dropout) for _ in range(cfg.style_layers))
        self.ln = nn.LayerNorm(d)
        self.score = nn.Linear(d, 1)
        self.out = nn.Linear(d, cfg.style_dim)

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        """(B, L, 55) normalised clip -> (B, style_dim)."""
        h = self.inp(clip)
        h = h + F.gelu(self.conv(h.transpose(1, 2)).transpose(1, 2), approximate="tanh")
        for blk in self.blocks:
            h = blk(h)
        h = self.ln(h)
        w = torch.softmax(self.score(h), dim=1)  # (B, L, 1)
        return self.out((w * h).sum(dim=1))


def _rescale_channels(params: dict[str, np.ndarray], r: np.ndarray) -> dict[str, np.ndarray]:
    """Arrays of a network whose motion std grows by ``r`` (55,) per channel, computing the same function on
    clean inputs: model-unit inputs shrink by r, so the layers reading them grow by r; outputs shrink by 1/r."""
    p = dict(params)
    p["motion_std"] = p["motion_std"] * r
    for k in ("motion_in.weight", "style_encoder.inp.weight"):  # (d, 55)
        p[k] = p[k] * r[None, :]
    if "motion_conv.weight" in p:  # (d, 55, k)
        p["motion_conv.weight"] = p["motion_conv.weight"] * r[None, :, None]
    p["out.weight"], p["out.bias"] = p["out.weight"] / r[:, None], p["out.bias"] / r  # (55, d), (55,)
    if "out_conv.bias" in p:  # depthwise: channel in = channel out, so only its bias scales
        p["out_conv.bias"] = p["out_conv.bias"] / r
    return p


class EmoDiff(nn.Module):
    """The denoiser plus its style encoder; ``forward`` returns predicted noise for the window frames."""

    def __init__(self, cfg: EmoDiffConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.register_buffer("motion_mean", torch.zeros(cfg.motion_dim))
        self.register_buffer("motion_std", torch.ones(cfg.motion_dim))
        self.style_encoder = StyleEncoder(cfg)
        self.null_style = nn.Parameter(torch.zeros(cfg.style_dim))
        self.motion_in = nn.Linear(cfg.motion_dim, d)
        if cfg.motion_kernel > 1:
            self.motion_conv = nn.Conv1d(cfg.motion_dim, d, cfg.motion_kernel, padding=cfg.motion_kernel // 2)
            nn.init.zeros_(self.motion_conv.weight)  # starts as the plain projection (fine-tuning keeps behaviour)
            nn.init.zeros_(self.motion_conv.bias)
        self.null_motion = nn.Parameter(torch.zeros(d))
        self.type_emb = nn.Parameter(torch.randn(3, d) * 0.02)  # prefix, target, lookahead
        self.pos_emb = nn.Parameter(torch.randn(cfg.seq_len, d) * 0.02)
        self.audio_conv = nn.Conv1d(cfg.audio_dim, d, cfg.audio_kernel, padding=cfg.audio_kernel // 2)
        self.audio_lin = nn.Linear(d, d)
        self.step1 = nn.Linear(d, d)
        self.step2 = nn.Linear(d, d)
        self.style_proj = nn.Linear(cfg.style_dim, d)
        self.blocks = nn.ModuleList(Block(d, cfg.n_heads, cfg.ff_mult, cfg.dropout) for _ in range(cfg.n_layers))
        self.ln_out = nn.LayerNorm(d)
        self.out = nn.Linear(d, cfg.motion_dim)
        if cfg.out_kernel > 1:
            k = cfg.out_kernel
            self.out_conv = nn.Conv1d(cfg.motion_dim, cfg.motion_dim, k, groups=cfg.motion_dim)
            with torch.no_grad():  # the identity: a fine-tune starts from the same function
                self.out_conv.weight.zero_()
                self.out_conv.weight[:, 0, k // 2] = 1.0
                self.out_conv.bias.zero_()
        # (T,) abar of the noise schedule; not a parameter or buffer (not saved): it follows from the config.
        self.acp = torch.as_tensor(cfg.alphas_cumprod(), dtype=torch.float32)

    def adapt_init(self, w) -> dict[str, np.ndarray]:
        """The arrays of weights ``w`` to start this model from: an "x0" network becomes a "v" one by negating
        its output (then x0 = sqrt(abar) x_t + sqrt(1 - abar) x0_old: the old estimate at high noise, the input
        near the data), so a fine-tune starts close to the old function."""
        params = dict(w.params)
        if self.cfg.prediction == "v" and w.config.get("prediction") == "x0":
            for k in ("out.weight", "out.bias", "out_conv.bias"):
                if k in params:
                    params[k] = -params[k]
        old = EmoDiffConfig.from_dict(w.config) if w.config else None
        r = self.cfg.norm_factors() / (old.norm_factors() if old is not None else 1.0)  # (55,) new std / old
        if not np.allclose(r, 1.0):
            if self.cfg.prediction == "eps":
                raise ValueError("norm_scale changes need a clean-window network (prediction x0 or v), not eps")
            params = _rescale_channels(params, r.astype(np.float32))
        return params

    def normalize(self, motion: torch.Tensor) -> torch.Tensor:
        """Raw (…, 55) weights+head -> model units."""
        return (motion - self.motion_mean) / self.motion_std

    def encode_style(self, clip_norm: torch.Tensor) -> torch.Tensor:
        """(B, L, 55) normalised reference motion -> (B, style_dim)."""
        return self.style_encoder(clip_norm)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, audio: torch.Tensor, prefix: torch.Tensor,
                prefix_mask: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """x_t (B,W,55), t (B,) int, audio (B,S,A), prefix (B,K,55), prefix_mask (B,K) 1=given,
        style (B,Ds) or per token (B,S,Ds)."""
        cfg = self.cfg
        b = x_t.shape[0]
        k, w, la = cfg.prefix, cfg.window, cfg.lookahead
        pm = prefix_mask.to(x_t.dtype)[..., None]
        tok_prefix = self.motion_in(prefix) * pm + self.null_motion * (1 - pm) + self.type_emb[0]
        tok_target = self.motion_in(x_t) + self.type_emb[1]
        if cfg.motion_kernel > 1:
            tok_target = tok_target + self.motion_conv(x_t.transpose(1, 2)).transpose(1, 2)
        tok_look = (self.null_motion + self.type_emb[2]).expand(b, la, -1)
        tok = torch.cat([tok_prefix, tok_target, tok_look], dim=1)  # (B, S, d)
        a = F.gelu(self.audio_conv(audio.transpose(1, 2)).transpose(1, 2), approximate="tanh")
        temb = torch.as_tensor(timestep_embedding(t.detach().cpu().numpy(), cfg.d_model), device=x_t.device)
        sty = self.style_proj(style)  # (B, d), or (B, S, d) for a per-token style
        cond = self.step2(F.silu(self.step1(temb)))[:, None, :] + (sty[:, None, :] if sty.dim() == 2 else sty)
        h = tok + self.audio_lin(a) + self.pos_emb + cond
        for blk in self.blocks:
            h = blk(h)
        y = self.out(self.ln_out(h[:, k:k + w]))  # (B, W, 55)
        if cfg.out_kernel > 1:
            pad = cfg.out_kernel // 2
            y = self.out_conv(F.pad(y.transpose(1, 2), (pad, pad), mode="replicate")).transpose(1, 2)
        if cfg.prediction == "v":  # x0 = sqrt(abar) x_t - sqrt(1 - abar) v
            a = self.acp.to(y.device)[t.to(y.device)].to(y.dtype)[:, None, None]
            y = a.sqrt() * x_t - (1 - a).sqrt() * y
        taps = cfg.head_lowpass_kernel()
        if taps is not None:
            n = NUM_BLENDSHAPES
            hd = y[..., n:].transpose(1, 2)  # (B, 3, W)
            kern = torch.as_tensor(taps, dtype=y.dtype, device=y.device).expand(hd.shape[1], 1, -1)
            hd = F.conv1d(F.pad(hd, (len(taps) // 2,) * 2, mode="replicate"), kern, groups=hd.shape[1])
            y = torch.cat([y[..., :n], hd.transpose(1, 2)], dim=-1)
        return y


def export_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    """State dict as float32 numpy arrays (what the weights file stores)."""
    return {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()}
