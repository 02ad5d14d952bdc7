"""The training loop (torch): AdamW, warmup + cosine LR, EMA, validation, resumable checkpoints,
a wall-clock budget, a loss log (CSV) and a loss-curve PNG. ``train_emodiff`` / ``train_lips`` plug into it.
"""
from __future__ import annotations

import copy
import csv
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..fileio import atomic_path, atomic_write_text
from ..models.config import TrainConfig
from ..progress import Progress

LOG_FIELDS = ("step", "train_loss", "val_loss", "lr", "elapsed_s")


@dataclass
class LoopSpec:
    """What a trainer hands the loop."""

    name: str  # "emodiff" | "lips"
    model: Any  # torch.nn.Module
    train_batch: Callable[[np.random.Generator], dict]  # draws one batch (numpy arrays)
    val_batches: list[dict]  # fixed validation batches
    loss_fn: Callable[[Any, dict, Any, bool], Any]  # (model, batch tensors, torch.Generator, train) -> scalar loss
    export: Callable[[Any, Path, dict], Path]  # (ema model, out dir, facts) -> weights path


def lr_at(step: int, tcfg: TrainConfig, horizon: int) -> float:
    """Linear warmup then cosine decay to 10% at ``horizon``."""
    if step < tcfg.warmup_steps:
        return tcfg.lr * (step + 1) / tcfg.warmup_steps
    frac = min(1.0, (step - tcfg.warmup_steps) / max(1, horizon - tcfg.warmup_steps))
    return tcfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))


def to_tensors(batch: dict, device) -> dict:
    """numpy batch -> torch tensors on ``device``."""
    import torch
    return {k: torch.as_tensor(v, device=device) for k, v in batch.items()}


def _save_checkpoint(path: Path, state: dict) -> None:
    import torch
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _plot(log_path: Path, png: Path, title: str) -> None:
    """Loss curves (train and validation, log scale) as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(log_path.open()))
    if not rows:
        return
    st = [int(r["step"]) for r in rows]
    tr = [float(r["train_loss"]) if r["train_loss"] else np.nan for r in rows]
    va = [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"]]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    ax.plot(st, tr, label="train", lw=1)
    if va:
        ax.plot([v[0] for v in va], [v[1] for v in va], "o-", label="validation (EMA)", ms=3)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def init_from_weights(model, w, path: str | os.PathLike) -> None:
    """Load the arrays of weights ``w`` (read from ``path``) into ``model``; parameters it lacks keep their
    initialisation. Every array must match a parameter or buffer of the model by name and shape, or be smaller
    along one axis only (the model has new input columns, e.g. more audio features): it fills the leading part
    and the rest is zero, so the new inputs start with no effect.
    """
    import torch

    state = model.state_dict()
    extra = sorted(set(w.params) - set(state))
    load, bad = {}, []
    for k, v in w.params.items():
        if k not in state:
            continue
        have, want = tuple(v.shape), tuple(state[k].shape)
        diff = [i for i, (a, b) in enumerate(zip(have, want)) if a != b]
        if have == want:
            load[k] = torch.as_tensor(v)
        elif len(have) == len(want) and len(diff) == 1 and have[diff[0]] < want[diff[0]]:
            grown = torch.zeros(want, dtype=state[k].dtype)
            grown[tuple(slice(0, n) for n in have)] = torch.as_tensor(v)
            load[k] = grown
        else:
            bad.append(k)
    if extra or bad:
        raise ValueError(f"init {path}: arrays that do not fit the model: {', '.join((extra + bad)[:5])}")
    model.load_state_dict(load, strict=False)


def run_loop(spec: LoopSpec, tcfg: TrainConfig, out_dir: str | os.PathLike, minutes: float | None = None,
             resume: bool = False, device: str = "cpu", max_steps: int | None = None,
             quiet: bool = False) -> dict:
    """Train until ``max_steps`` or the wall-clock budget; checkpoint, log, plot and export. Returns a summary."""
    import torch

    torch.set_num_threads(tcfg.threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device)
    model = spec.model.to(dev)
    init_version = None  # the starting weights' version, recorded with the result (also when resuming)
    if tcfg.init:
        from ..weights import load_weights
        w = load_weights(tcfg.init)
        init_version = w.model_version
        if not (resume and (out / "checkpoint.pt").is_file()):
            init_from_weights(model, w, tcfg.init)
    frozen = [n for n, p in model.named_parameters() if n.startswith(tuple(tcfg.freeze))] if tcfg.freeze else []
    if tcfg.freeze and not frozen:
        raise ValueError(f"freeze: no parameter starts with {', '.join(tcfg.freeze)}")
    for n, p in model.named_parameters():
        p.requires_grad_(n not in frozen)
    trainable = [p for p in model.parameters() if p.requires_grad]
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(trainable, lr=tcfg.lr, weight_decay=tcfg.weight_decay, betas=(0.9, 0.99))
    rng = np.random.default_rng(tcfg.seed)
    tgen = torch.Generator(device="cpu").manual_seed(tcfg.seed)
    step, elapsed_before, horizon = 0, 0.0, tcfg.max_steps  # LR horizon: the config's, not this call's stop
    stop_at = max_steps or tcfg.max_steps
    ckpt = out / "checkpoint.pt"
    log_path = out / "loss.csv"
    if resume and ckpt.is_file():
        state = torch.load(ckpt, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        step, elapsed_before, horizon = state["step"], state["elapsed_s"], state["horizon"]
        rng.bit_generator.state = state["np_rng"]
        tgen.set_state(state["torch_rng"])
        torch.set_rng_state(state["torch_global_rng"])
    elif not resume or not log_path.exists():
        atomic_write_text(log_path, ",".join(LOG_FIELDS) + "\n")
    atomic_write_text(out / "train_config.json", json.dumps(tcfg.to_dict(), indent=2))
    t0 = time.monotonic()
    budget = None if minutes is None else minutes * 60.0
    horizon_fixed = resume and ckpt.is_file() or budget is None
    run_losses: list[float] = []
    last_val, val_step = float("nan"), -1

    def elapsed() -> float:
        return elapsed_before + time.monotonic() - t0

    def validate() -> float:
        model_losses = []
        g = torch.Generator(device="cpu").manual_seed(12345)  # same noise every time: comparable numbers
        with torch.no_grad():
            for vb in spec.val_batches:
                model_losses.append(float(spec.loss_fn(ema, to_tensors(vb, dev), g, False)))
        return float(np.mean(model_losses)) if model_losses else float("nan")

    def checkpoint() -> None:
        _save_checkpoint(ckpt, {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                                "step": step, "elapsed_s": elapsed(), "horizon": horizon,
                                "np_rng": rng.bit_generator.state, "torch_rng": tgen.get_state(),
                                "torch_global_rng": torch.get_rng_state()})

    def log(row: dict) -> None:
        with open(log_path, "a", newline="") as f:
            csv.DictWriter(f, LOG_FIELDS).writerow(row)

    start_step = step
    session_t0 = time.monotonic()
    bar = Progress(None if budget is not None else stop_at - step, f"train {spec.name}",
                   enabled=False if quiet else None)
    model.train()
    while step < stop_at and (budget is None or time.monotonic() - t0 < budget):
        lr = lr_at(step, tcfg, horizon)
        for grp in opt.param_groups:
            grp["lr"] = lr
        batch = to_tensors(spec.train_batch(rng), dev)
        loss = spec.loss_fn(model, batch, tgen, True)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, tcfg.grad_clip)
        opt.step()
        with torch.no_grad():
            d = min(tcfg.ema_decay, (1 + step) / (10 + step))  # short warm-up so early EMA is not all init
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)
        step += 1
        run_losses.append(float(loss.detach()))
        bar.update(1)
        if not horizon_fixed and step - start_step == 20:
            rate = 20 / max(1e-6, time.monotonic() - session_t0)
            horizon = int(min(stop_at, step + rate * max(0.0, budget - (time.monotonic() - t0))))
            horizon_fixed = True
        val = ""
        if step % tcfg.val_every == 0 or step == stop_at:
            last_val, val_step = validate(), step
            val = f"{last_val:.6g}"
        if step % tcfg.log_every == 0 or val or step == stop_at:
            recent = run_losses[-tcfg.log_every:]
            log({"step": step, "train_loss": f"{np.mean(recent):.6g}", "val_loss": val, "lr": f"{lr:.3g}",
                 "elapsed_s": f"{elapsed():.1f}"})
        if step % tcfg.checkpoint_every == 0:
            checkpoint()
    bar.close()
    if val_step != step and (step > start_step or not ckpt.exists()):
        last_val, val_step = validate(), step
        log({"step": step, "train_loss": f"{np.mean(run_losses[-tcfg.log_every:]):.6g}" if run_losses else "",
             "val_loss": f"{last_val:.6g}", "lr": "", "elapsed_s": f"{elapsed():.1f}"})
    if step > start_step or not ckpt.exists():
        checkpoint()
    if val_step != step:  # resumed at the end: report the current validation loss
        last_val = validate()
    _plot(log_path, out / "loss.png", f"{spec.name} training loss")
    facts = {"steps": step, "train_seconds": round(elapsed(), 1), "val_loss": last_val,
             "final_train_loss": float(np.mean(run_losses[-50:])) if run_losses else None}
    if tcfg.init:
        facts["init_version"] = init_version
    weights = spec.export(ema.cpu(), out, facts)
    summary = dict(facts, weights=str(weights), checkpoint=str(ckpt), log=str(log_path), plot=str(out / "loss.png"))
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    return summary
