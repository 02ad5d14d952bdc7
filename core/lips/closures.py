"""A second opinion on each lip closure: is there a P, B or M (or an F or V) in the speech states under it?

The lip network closes the lips now and then on other consonants (T, D, N, S), more often on telephone-band or noisy
audio, where a quiet stretch of tongue consonant reads like a closure. A small frame classifier on the same speech
states, trained on synthetic and real recorded speech, clean and through a telephone channel, scores each frame
for lips that meet or touch the teeth (P, B, M, F, V; its logit). A closure run of the network's mouth with no
frame scoring ``threshold`` or more within ``pad`` frames of it is opened: its mouth channels are drawn straight
between the open frames on either side. The take's first and last runs (resting lips at its edges) and the resting
mouth in pauses are never touched.
"""
from __future__ import annotations

import numpy as np

from ...rigs.arkit import INDEX, MOUTH_SET
from .mouth import lip_gap

F32 = np.float32
_MOUTH_IDX = [INDEX[n] for n in MOUTH_SET]


def closed_threshold(gap: np.ndarray) -> float:
    """Lip gap under which a frame counts as closed: a fifth of the take's open mouth (its 95th percentile), the
    lip-sync metric's own rule (core/eval/lipsync.py)."""
    return max(0.03, 0.2 * float(np.percentile(gap, 95))) if len(gap) else 0.03


def closed_runs(gap: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame runs of (T,) lip gap under :func:`closed_threshold`."""
    closed = np.concatenate([[0], (np.asarray(gap) < closed_threshold(gap)).astype(np.int8), [0]])
    e = np.flatnonzero(np.diff(closed))
    return list(zip(e[::2].tolist(), e[1::2].tolist()))


def stack_context(states: np.ndarray, context: int, frames: np.ndarray | None = None) -> np.ndarray:
    """(T, D) -> (T, D * (2 context + 1)): each frame with ``context`` frames on each side (edges repeated); only
    the rows of the frame indices ``frames`` if given."""
    x = np.asarray(states, F32)
    k = np.arange(len(x)) if frames is None else np.asarray(frames, np.int64)
    return np.concatenate([x[np.clip(k + o, 0, len(x) - 1)] for o in range(-context, context + 1)], axis=1)


class ClosureProbe:
    """The numpy frame classifier: speech states -> logit per frame that the lips meet or touch the teeth."""

    def __init__(self, params: dict[str, np.ndarray], config: dict, version: str = "0"):
        from ..models.config import ClosureProbeConfig
        self.cfg = ClosureProbeConfig.from_dict(config)
        self.p = {k: np.asarray(v, F32) for k, v in params.items()}
        self.version = version
        d, h = self.cfg.input_dim, self.cfg.hidden
        want = {"mean": (d,), "std": (d,), "fc1.weight": (h, d), "fc1.bias": (h,), "fc2.weight": (1, h),
                "fc2.bias": (1,)}
        bad = [k for k, s in want.items() if k not in self.p or self.p[k].shape != s]
        if bad:
            raise ValueError(f"closure probe: missing or misshapen parameters {', '.join(bad)}")

    @classmethod
    def from_file(cls, path) -> "ClosureProbe":
        """Load and verify a closure-probe weights file."""
        from ..weights import load_weights
        w = load_weights(path, expect_type="closure_probe")
        return cls(w.params, w.config, w.model_version)

    def logits(self, states: np.ndarray, frames: np.ndarray | None = None) -> np.ndarray:
        """(T, state_dim) speech states -> (T,) logits (P, B, M, F or V against other speech), or (K,) logits of
        the frame indices ``frames`` only."""
        s = np.asarray(states, F32)
        if s.ndim != 2 or s.shape[1] != self.cfg.state_dim:
            raise ValueError(f"closure probe: states must be (T, {self.cfg.state_dim}), got {s.shape}")
        return self.logits_of_stacked(stack_context(s, self.cfg.context, frames))

    def logits_of_stacked(self, x: np.ndarray) -> np.ndarray:
        """(K, input_dim) frames already stacked by :func:`stack_context` -> (K,) logits."""
        from ..models.layers import gelu
        h = gelu((np.asarray(x, F32) - self.p["mean"]) / self.p["std"] @ self.p["fc1.weight"].T
                 + self.p["fc1.bias"])  # (K, hidden)
        return (h @ self.p["fc2.weight"][0] + self.p["fc2.bias"][0]).astype(F32)


def _checked_runs(gap: np.ndarray, rest: np.ndarray | None) -> list[tuple[int, int]]:
    """Closed runs the check may open: not at the take's edges, not touching a pause."""
    t = len(gap)
    return [(a, b) for a, b in closed_runs(gap)
            if a > 0 and b < t and not (rest is not None and np.any(rest[a:b] > 0))]


def check_closures(weights: np.ndarray, states: np.ndarray, probe: ClosureProbe,
                   rest: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """(T, 52) weights with the doubtful closures opened (:func:`open_doubtful` with the probe's threshold and pad);
    the probe runs only on the frames near a closure that could be opened (a tenth or so of a take)."""
    t, pad = len(weights), probe.cfg.pad
    runs = _checked_runs(lip_gap(np.asarray(weights, F32)), rest)
    logits = np.full(t, -np.inf, F32)
    if runs:
        frames = np.unique(np.concatenate([np.arange(max(0, a - pad), min(t, b + pad)) for a, b in runs]))
        logits[frames] = probe.logits(states, frames)
    return open_doubtful(weights, logits, probe.cfg.threshold, pad, rest=rest)


def open_doubtful(weights: np.ndarray, logits: np.ndarray, threshold: float, pad: int,
                  rest: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """(T, 52) weights with each closure run that has no logit >= ``threshold`` within ``pad`` frames opened, and how
    many runs were opened; runs touching the take's edges or a pause (``rest`` (T,) > 0) are kept."""
    w = np.array(weights, F32, copy=True)
    t = len(w)
    lg = np.asarray(logits, np.float64)
    n = 0
    for a, b in _checked_runs(lip_gap(w), rest):
        if lg[max(0, a - pad):min(t, b + pad)].max() >= threshold:
            continue
        f = ((np.arange(a, b) - (a - 1)) / (b - (a - 1)))[:, None].astype(F32)  # (L, 1) 0..1 across the run
        w[a:b, _MOUTH_IDX] = (1 - f) * w[a - 1, _MOUTH_IDX] + f * w[b, _MOUTH_IDX]
        n += 1
    return w, n
