"""Train the closure probe (core/lips/closures.py): speech states -> do the lips meet (P, B, M) or touch the teeth
(F, V) in this frame?

Frames come from every corpus given (synthetic voices, foreign voices, real recorded prompts), each heard twice: as
recorded and through a telephone channel (the degraded-state cache of lips training), since the probe must judge
closures where the lip network errs most. F and V count with P, B and M: their lips are nearly shut too, and a check
that opened them would lose the lower lip on the teeth. Negatives are the other speech frames; silence and W are left
out. A tenth of each corpus' clips is held out for the validation AUC.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError
from ..fileio import atomic_write_text
from ..lips.closures import stack_context
from ..lips.phones import BILABIALS, LABIODENTALS, SILENCE
from ..models.config import ClosureProbeConfig, TrainConfig
from ..weights import save_weights
from .dataset import PHONE_CLASSES, load_corpus
from .loop import model_version

F32 = np.float32


def frame_labels(phone_ids: np.ndarray) -> np.ndarray:
    """(T,) int8: 1 bilabial or labiodental, 0 other speech, -1 silence, W or unknown."""
    lut = np.array([1 if p in BILABIALS | LABIODENTALS else -1 if p in ("W", SILENCE) else 0 for p in PHONE_CLASSES],
                   np.int8)
    ids = np.asarray(phone_ids)
    return np.where(ids >= 0, lut[np.clip(ids, 0, None)], -1).astype(np.int8)


def corpus_frames(corpus, cfg: ClosureProbeConfig, max_frames: int, rng: np.random.Generator,
                  held_out: float = 0.1) -> tuple[list, list]:
    """([(X, y) clean, (X, y) degraded] train, the same for validation): stacked labelled frames of a corpus, from
    whole clips in random order up to ``max_frames`` per view (a tenth of that for validation)."""
    clips = [c for c in corpus.clips if c.phone_ids is not None and c.degraded_states is not None]
    if not clips:
        raise InputError("closure probe: a corpus has no clips with phone labels and degraded speech states")
    order = rng.permutation(len(clips))
    n_val = max(1, int(round(held_out * len(clips))))
    parts = []
    for idx, cap in ((order[n_val:], max_frames), (order[:n_val], max(1, int(held_out * max_frames)))):
        views: list = [([], []), ([], [])]  # clean, degraded
        n = 0
        for i in idx:  # clips in random order until the cap (stacking every clip of a large corpus would not fit)
            c = clips[i]
            y = frame_labels(c.phone_ids)
            keep = np.flatnonzero(y >= 0)
            if not keep.size:
                continue
            for (xs, ys), s in zip(views, (c.features[:, -cfg.state_dim:], c.degraded_states)):
                xs.append(stack_context(s, cfg.context, keep).astype(np.float16))  # (k, input_dim)
                ys.append(y[keep])
            n += keep.size
            if n >= cap:
                break
        parts.append([(np.concatenate(xs), np.concatenate(ys)) for xs, ys in views])
    return parts[0], parts[1]


def auc(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the ROC curve of scores ``s`` for binary labels ``y`` (ties broken by order)."""
    o = np.argsort(s, kind="stable")
    r = np.empty(len(s))
    r[o] = np.arange(1, len(s) + 1)
    n1 = float(np.sum(y == 1))
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def train_closure_probe(data_dir: str | os.PathLike, out_dir: str | os.PathLike, cfg: ClosureProbeConfig,
                        tcfg: TrainConfig, extra_data: Sequence[str | os.PathLike] = (), limit: int | None = None,
                        quiet: bool = False, device: str = "cpu") -> dict:
    """Train the probe on the train splits of ``data_dir`` and ``extra_data``; writes closure_probe.npz and
    report.json in ``out_dir`` and returns the report."""
    import torch

    t0 = time.time()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    max_frames = int(tcfg.extra.get("frames_per_corpus", 100_000))
    rng = np.random.default_rng(tcfg.seed)
    train, val, per_corpus = [], [], []
    for k, d in enumerate([data_dir, *extra_data]):
        corpus = load_corpus(d, "train", out / ("cache" if k == 0 else f"cache_extra{k - 1}"), limit, extras=True,
                             speech_states=True, mel=False, speech_layer=cfg.speech_layer, degraded_states=True,
                             degraded_channels=str(tcfg.extra.get("degraded_channels", "telephone")))
        tr, va = corpus_frames(corpus, cfg, max_frames, rng)
        train += tr
        val += va
        per_corpus.append({"data": str(d), "clips": len(corpus.clips), "train_frames": int(sum(len(y) for _, y in tr)),
                           "positive": round(float(np.mean(np.concatenate([y for _, y in tr]))), 4)})
        if not quiet:
            print(f"closure probe: {per_corpus[-1]}", flush=True)
        del corpus
    x = np.concatenate([a for a, _ in train])  # (N, input_dim) float16
    y = np.concatenate([b for _, b in train]).astype(F32)
    mean = x.mean(0, dtype=np.float64).astype(F32)
    std = _chunked_std(x, mean)
    torch.manual_seed(tcfg.seed)
    torch.set_num_threads(max(1, tcfg.threads))
    net = torch.nn.Sequential(torch.nn.Dropout(cfg.dropout), torch.nn.Linear(cfg.input_dim, cfg.hidden),
                              torch.nn.GELU(approximate="tanh"), torch.nn.Dropout(cfg.dropout),
                              torch.nn.Linear(cfg.hidden, 1)).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    pos_weight = torch.tensor((1 - y.mean()) / max(y.mean(), 1e-6), device=device)
    m_t, s_t = torch.from_numpy(mean).to(device), torch.from_numpy(std).to(device)
    losses = []
    gen = np.random.default_rng(tcfg.seed + 1)
    for step in range(1, tcfg.max_steps + 1):
        b = gen.integers(0, len(y), tcfg.batch_size)
        xb = (torch.from_numpy(x[b].astype(F32)).to(device) - m_t) / s_t
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            net(xb).squeeze(1), torch.from_numpy(y[b]).to(device), pos_weight=pos_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if not quiet and step % max(1, tcfg.log_every) == 0:
            print(f"closure probe: step {step} loss {np.mean(losses[-tcfg.log_every:]):.4f}", flush=True)
    net.eval()
    params = {"mean": mean, "std": std, "fc1.weight": net[1].weight.detach().cpu().numpy(),
              "fc1.bias": net[1].bias.detach().cpu().numpy(), "fc2.weight": net[4].weight.detach().cpu().numpy(),
              "fc2.bias": net[4].bias.detach().cpu().numpy()}
    from ..lips.closures import ClosureProbe
    probe = ClosureProbe(params, cfg.to_dict())
    val_auc = {}
    for name, (xv, yv) in zip(("clean", "degraded"), (_join(val[0::2]), _join(val[1::2]))):
        val_auc[name] = round(auc(yv, _logits_stacked(probe, xv)), 4)
    report = {"steps": tcfg.max_steps, "final_loss": round(float(np.mean(losses[-100:])), 4), "val_auc": val_auc,
              "corpora": per_corpus, "train_frames": int(len(y)), "seconds": round(time.time() - t0)}
    path = out / "closure_probe.npz"
    sha = save_weights(path, "closure_probe", cfg.to_dict(), params,
                       model_version=model_version("closures", tcfg.max_steps, tcfg),
                       meta=dict(report, train=tcfg.to_dict()))
    report.update(weights=str(path), sha256=sha)
    atomic_write_text(out / "report.json", json.dumps(report, indent=1) + "\n")
    return report


def _join(parts: list) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts])


def _chunked_std(x: np.ndarray, mean: np.ndarray, chunk: int = 100_000) -> np.ndarray:
    acc = np.zeros(x.shape[1])
    for i in range(0, len(x), chunk):
        acc += ((x[i:i + chunk].astype(np.float64) - mean) ** 2).sum(0)
    return (np.sqrt(acc / len(x)) + 1e-3).astype(F32)


def _logits_stacked(probe, x: np.ndarray) -> np.ndarray:
    """Logits of already stacked float16 frames (the training layout), in chunks."""
    return np.concatenate([probe.logits_of_stacked(x[i:i + 50_000]) for i in range(0, len(x), 50_000)])
