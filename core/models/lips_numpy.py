"""Lip refinement inference in pure numpy from the shipped ``lips.npz`` (no torch); mirrors ``lips_torch.py``."""
from __future__ import annotations

import numpy as np

from ...rigs.arkit import INDEX
from .config import LipsConfig
from .layers import F32, Params, gelu, sigmoid


class LipsNumpy:
    """Lip refinement forward pass; :meth:`apply` replaces only the mouth-set channels, matched by name."""

    def __init__(self, params: dict[str, np.ndarray], config: LipsConfig | dict, version: str = "0"):
        self.cfg = config if isinstance(config, LipsConfig) else LipsConfig.from_dict(config)
        self.p = Params(params)
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
