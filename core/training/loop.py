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
from dataclasses import dataclass, replace
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


def model_version(kind: str, steps: int, tcfg: TrainConfig) -> str:
    """The version a run writes into its weights: package version, model kind, step and the config's
    ``version_tag`` (a run's own name), e.g. ``0.1.0+lips.s4000.v14c``."""
    from ... import __version__
    tag = tcfg.extra.get("version_tag")
    return f"{__version__}+{kind}.s{steps}" + (f".{tag}" if tag else "")


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


def _load_init(model, tcfg: TrainConfig, resuming: bool) -> str | None:
    """Start from ``tcfg.init``'s weights unless resuming; returns their version (recorded either way)."""
    if not tcfg.init:
        return None
    from ..weights import load_weights
    w = load_weights(tcfg.init)
    if not resuming:  # a checkpoint holds the weights to continue from
        if hasattr(model, "adapt_init"):  # e.g. an x0 network starting a v one
            w = replace(w, params=model.adapt_init(w))
        init_from_weights(model, w, tcfg.init)
    return w.model_version


def _freeze(model, tcfg: TrainConfig) -> list:
    """Freeze the parameters named by ``tcfg.freeze`` (prefixes); returns the trainable ones."""
    frozen = [n for n, p in model.named_parameters() if n.startswith(tuple(tcfg.freeze))] if tcfg.freeze else []
    if tcfg.freeze and not frozen:
        raise ValueError(f"freeze: no parameter starts with {', '.join(tcfg.freeze)}")
    for n, p in model.named_parameters():
        p.requires_grad_(n not in frozen)
    return [p for p in model.parameters() if p.requires_grad]


class _Session:
    """One call of :func:`run_loop`: model, EMA copy, optimiser, RNGs, step count, log and checkpoint files."""

    def __init__(self, spec: LoopSpec, tcfg: TrainConfig, out: Path, dev, resume: bool) -> None:
        import torch

        self.spec, self.tcfg, self.dev = spec, tcfg, dev
        self.ckpt = out / "checkpoint.pt"
        self.log_path = out / "loss.csv"
        self.resuming = resume and self.ckpt.is_file()
        self.model = spec.model.to(dev)
        self.init_version = _load_init(self.model, tcfg, self.resuming)  # the starting weights' version
        self.trainable = _freeze(self.model, tcfg)
        self.ema = copy.deepcopy(self.model).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.opt = torch.optim.AdamW(self.trainable, lr=tcfg.lr, weight_decay=tcfg.weight_decay, betas=(0.9, 0.99))
        self.rng = np.random.default_rng(tcfg.seed)
        self.tgen = torch.Generator(device="cpu").manual_seed(tcfg.seed)
        # LR horizon: the config's, not this call's stop (a budget run re-fits it after 20 steps).
        self.step, self.elapsed_before, self.horizon = 0, 0.0, tcfg.max_steps
        if self.resuming:
            self._restore()
        elif not resume or not self.log_path.exists():
            atomic_write_text(self.log_path, ",".join(LOG_FIELDS) + "\n")
        atomic_write_text(out / "train_config.json", json.dumps(tcfg.to_dict(), indent=2))
        self.t0 = time.monotonic()  # this session's clock; elapsed() adds the earlier sessions' seconds
        self.run_losses: list[float] = []
        self.last_val, self.val_step = float("nan"), -1

    def _restore(self) -> None:
        """Continue exactly where the checkpoint stopped: weights, optimiser, step, clock and every RNG."""
        import torch
        state = torch.load(self.ckpt, map_location=self.dev, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.opt.load_state_dict(state["opt"])
        self.step, self.elapsed_before, self.horizon = state["step"], state["elapsed_s"], state["horizon"]
        self.rng.bit_generator.state = state["np_rng"]
        self.tgen.set_state(state["torch_rng"])
        torch.set_rng_state(state["torch_global_rng"])

    def elapsed(self) -> float:
        """Training seconds so far, earlier sessions included."""
        return self.elapsed_before + time.monotonic() - self.t0

    def validate(self) -> float:
        """Mean loss of the EMA model over the fixed validation batches (nan when there are none)."""
        import torch
        model_losses = []
        g = torch.Generator(device="cpu").manual_seed(12345)  # same noise every time: comparable numbers
        with torch.no_grad():
            for vb in self.spec.val_batches:
                model_losses.append(float(self.spec.loss_fn(self.ema, to_tensors(vb, self.dev), g, False)))
        return float(np.mean(model_losses)) if model_losses else float("nan")

    def checkpoint(self) -> None:
        """Save everything :meth:`_restore` needs, atomically."""
        import torch
        _save_checkpoint(self.ckpt, {"model": self.model.state_dict(), "ema": self.ema.state_dict(),
                                     "opt": self.opt.state_dict(), "step": self.step, "elapsed_s": self.elapsed(),
                                     "horizon": self.horizon, "np_rng": self.rng.bit_generator.state,
                                     "torch_rng": self.tgen.get_state(), "torch_global_rng": torch.get_rng_state()})

    def log(self, row: dict) -> None:
        """Append one row to loss.csv."""
        with open(self.log_path, "a", newline="") as f:
            csv.DictWriter(f, LOG_FIELDS).writerow(row)

    def train_step(self) -> float:
        """One optimiser step at the scheduled LR, then the EMA update; returns the LR."""
        import torch
        lr = lr_at(self.step, self.tcfg, self.horizon)
        for grp in self.opt.param_groups:
            grp["lr"] = lr
        batch = to_tensors(self.spec.train_batch(self.rng), self.dev)
        loss = self.spec.loss_fn(self.model, batch, self.tgen, True)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.trainable, self.tcfg.grad_clip)
        self.opt.step()
        with torch.no_grad():
            d = min(self.tcfg.ema_decay, (1 + self.step) / (10 + self.step))  # short warm-up: early EMA is not all init
            for pe, pm in zip(self.ema.parameters(), self.model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
            for be, bm in zip(self.ema.buffers(), self.model.buffers()):
                be.copy_(bm)
        self.step += 1
        self.run_losses.append(float(loss.detach()))
        return lr

    def after_step(self, lr: float, stop_at: int) -> None:
        """Validate, log and checkpoint on their schedules (and at the last step)."""
        tcfg, step = self.tcfg, self.step
        val = ""
        if step % tcfg.val_every == 0 or step == stop_at:
            self.last_val, self.val_step = self.validate(), step
            val = f"{self.last_val:.6g}"
        if step % tcfg.log_every == 0 or val or step == stop_at:
            recent = self.run_losses[-tcfg.log_every:]
            self.log({"step": step, "train_loss": f"{np.mean(recent):.6g}", "val_loss": val, "lr": f"{lr:.3g}",
                      "elapsed_s": f"{self.elapsed():.1f}"})
        if step % tcfg.checkpoint_every == 0:
            self.checkpoint()

    def train(self, stop_at: int, budget: float | None, quiet: bool) -> int:
        """Step until ``stop_at`` or the wall-clock ``budget`` (seconds); returns the step this session began at."""
        horizon_fixed = self.resuming or budget is None
        start_step = self.step
        session_t0 = time.monotonic()
        bar = Progress(None if budget is not None else stop_at - self.step, f"train {self.spec.name}",
                       enabled=False if quiet else None)
        self.model.train()
        while self.step < stop_at and (budget is None or time.monotonic() - self.t0 < budget):
            lr = self.train_step()
            bar.update(1)
            if not horizon_fixed and self.step - start_step == 20:
                # A budget run: fit the LR schedule to the steps the measured rate will reach in the budget.
                rate = 20 / max(1e-6, time.monotonic() - session_t0)
                self.horizon = int(min(stop_at, self.step + rate * max(0.0, budget - (time.monotonic() - self.t0))))
                horizon_fixed = True
            self.after_step(lr, stop_at)
        bar.close()
        return start_step

    def finish(self, start_step: int) -> None:
        """Final validation row and checkpoint when this session trained (or none exists yet)."""
        if self.val_step != self.step and (self.step > start_step or not self.ckpt.exists()):
            self.last_val, self.val_step = self.validate(), self.step
            self.log({"step": self.step,
                      "train_loss": f"{np.mean(self.run_losses[-self.tcfg.log_every:]):.6g}" if self.run_losses else "",
                      "val_loss": f"{self.last_val:.6g}", "lr": "", "elapsed_s": f"{self.elapsed():.1f}"})
        if self.step > start_step or not self.ckpt.exists():
            self.checkpoint()
        if self.val_step != self.step:  # resumed at the end: report the current validation loss
            self.last_val = self.validate()


def run_loop(spec: LoopSpec, tcfg: TrainConfig, out_dir: str | os.PathLike, minutes: float | None = None,
             resume: bool = False, device: str = "cpu", max_steps: int | None = None,
             quiet: bool = False) -> dict:
    """Train until ``max_steps`` or the wall-clock budget; checkpoint, log, plot and export. Returns a summary."""
    import torch

    torch.set_num_threads(tcfg.threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s = _Session(spec, tcfg, out, torch.device(device), resume)
    start_step = s.train(max_steps or tcfg.max_steps, None if minutes is None else minutes * 60.0, quiet)
    s.finish(start_step)
    _plot(s.log_path, out / "loss.png", f"{spec.name} training loss")
    facts = {"steps": s.step, "train_seconds": round(s.elapsed(), 1), "val_loss": s.last_val,
             "final_train_loss": float(np.mean(s.run_losses[-50:])) if s.run_losses else None}
    if tcfg.init:
        facts["init_version"] = s.init_version
    weights = spec.export(s.ema.cpu(), out, facts)
    summary = dict(facts, weights=str(weights), checkpoint=str(s.ckpt), log=str(s.log_path), plot=str(out / "loss.png"))
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    return summary
