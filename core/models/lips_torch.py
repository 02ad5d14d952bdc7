"""Lip refinement in torch (training only): a dilated residual conv stack that re-predicts the mouth set.

Input per frame: audio features, the full-face weights from EmoDiff (52, in [0, 1]) and the emotion style
vector (added to every frame). Output: the MOUTH_SET channels in [0, 1] (sigmoid). It is fully convolutional,
so it runs over a whole clip of any length with no windows or seams.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...rigs.arkit import INDEX
from .config import LipsConfig


class ResBlock(nn.Module):
    """LayerNorm -> dilated conv -> tanh-GELU -> linear, residual."""

    def __init__(self, c: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.ln = nn.LayerNorm(c)
        self.conv = nn.Conv1d(c, c, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)
        self.lin = nn.Linear(c, c)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, C) -> (B, T, C)."""
        y = self.conv(self.ln(x).transpose(1, 2)).transpose(1, 2)
        return x + self.drop(self.lin(F.gelu(y, approximate="tanh")))


class Lips(nn.Module):
    """(audio (B,T,A), face (B,T,52), style (B,Ds)) -> mouth (B,T,len(mouth_names)) in [0, 1]."""

    def __init__(self, cfg: LipsConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.channels
        self.inp = nn.Linear(cfg.audio_dim + 52, c)
        self.style_proj = nn.Linear(cfg.style_dim, c)
        self.null_style = nn.Parameter(torch.zeros(cfg.style_dim))
        self.blocks = nn.ModuleList(ResBlock(c, cfg.kernel, d, cfg.dropout) for d in cfg.dilations)
        self.ln_out = nn.LayerNorm(c)
        self.out = nn.Linear(c, cfg.out_dim)
        if cfg.phone_classes:
            self.phone_head = nn.Linear(c, cfg.phone_classes)  # training only; not exported
        # Face columns hidden from the network (see LipsConfig.mouth_input); a plain list, not a parameter.
        self._hidden = ([] if cfg.mouth_input else [INDEX[n] for n in cfg.mouth_names]) \
            + [INDEX[n] for n in cfg.hidden_face]

    def forward(self, audio: torch.Tensor, face: torch.Tensor, style: torch.Tensor, phones: bool = False):
        """audio (B,T,A), face (B,T,52), style (B,Ds) -> (B,T,M) in [0, 1]; with ``phones`` also (B,T,P) logits."""
        if self._hidden:
            face = face.clone()
            face[..., self._hidden] = 0.0
        h = self.inp(torch.cat([audio, face], dim=-1)) + self.style_proj(style)[:, None, :]
        for blk in self.blocks:
            h = blk(h)
        h = self.ln_out(h)
        mouth = torch.sigmoid(self.out(h))
        if phones:
            return mouth, self.phone_head(h)
        return mouth


def inference_arrays(model: Lips) -> dict:
    """The exported state (numpy float32) without the training-only phone head."""
    return {k: v.detach().cpu().float().numpy() for k, v in model.state_dict().items()
            if not k.startswith("phone_head.")}
