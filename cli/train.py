"""``dreamtalk train emodiff|lips|closures``: train a network on a corpus directory and export its weights."""
from __future__ import annotations

import argparse
import json

HELP = "train EmoDiff, the lip refinement network or its closure probe on a corpus (resumable, wall-clock budget)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=("emodiff", "lips", "closures"),
                   help="which network (closures: the probe that checks the lip network's closures)")
    p.add_argument("--config", required=True, help="JSON with 'model' and 'train' sections (configs/*.json)")
    p.add_argument("--data", required=True, help="corpus directory (clips.jsonl, audio/, anim/, styles/)")
    p.add_argument("--out", required=True, help="run directory: checkpoint.pt, loss.csv, loss.png, weights .npz")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--minutes", type=float, default=None, help="stop after this much training time")
    p.add_argument("--steps", type=int, default=None, help="stop at this step (overrides the config's max_steps)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--init", default=None, metavar="WEIGHTS",
                   help="start from these trained weights (.npz; overrides the config's train.init)")
    p.add_argument("--emodiff", default=None, help="lips only: trained EmoDiff weights (for style vectors)")
    p.add_argument("--extra-data", action="append", default=[], metavar="DIR",
                   help="lips and closures: another corpus whose train split is added (repeatable; e.g. 'dreamtalk "
                        "data synth --voices foreign')")
    p.add_argument("--limit", type=int, default=None, help="use only the first N clips per split (smoke tests)")


def load_config(path: str, kind: str):
    """(model config, TrainConfig) from a JSON file."""
    from ..core.errors import InputError
    from ..core.models.config import ClosureProbeConfig, EmoDiffConfig, LipsConfig, TrainConfig

    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"cannot read config {path}: {e}") from None
    cls = {"emodiff": EmoDiffConfig, "lips": LipsConfig, "closures": ClosureProbeConfig}[kind]
    try:
        return cls.from_dict(d.get("model", {})), TrainConfig.from_dict(d.get("train", {}))
    except (TypeError, ValueError) as e:
        raise InputError(f"config {path}: {e}") from None


def run(args: argparse.Namespace) -> int:
    from ..core.errors import InputError

    if args.minutes is not None and args.minutes <= 0:
        raise InputError("--minutes must be positive")
    if args.device.startswith("cuda"):
        import torch
        if not torch.cuda.is_available():
            raise InputError("--device cuda but no CUDA device is available")
    mcfg, tcfg = load_config(args.config, args.model)
    if args.init:
        import dataclasses
        tcfg = dataclasses.replace(tcfg, init=args.init)
    common = dict(minutes=args.minutes, resume=args.resume, device=args.device, max_steps=args.steps,
                  limit=args.limit, quiet=args.quiet)
    if args.extra_data and args.model == "emodiff":
        raise InputError("--extra-data is for lips and closures training only")
    if args.model == "closures":
        if args.resume or args.minutes is not None or args.init:
            raise InputError("closures training is short and starts from scratch: --resume, --minutes and --init "
                             "do not apply")
        if args.steps is not None:
            import dataclasses
            tcfg = dataclasses.replace(tcfg, max_steps=args.steps)
        from ..core.training.train_probe import train_closure_probe
        report = train_closure_probe(args.data, args.out, mcfg, tcfg, extra_data=args.extra_data, limit=args.limit,
                                     quiet=args.quiet, device=args.device)
        if not args.quiet:
            print(f"closures: {report['steps']} steps, validation AUC {report['val_auc']}, weights {report['weights']}")
        return 0
    if args.model == "emodiff":
        from ..core.training.train_emodiff import train_emodiff
        summary = train_emodiff(args.data, args.out, mcfg, tcfg, **common)
    else:
        from ..core.training.train_lips import train_lips
        summary = train_lips(args.data, args.out, mcfg, tcfg, args.emodiff, extra_data=args.extra_data,
                             **common)
    if not args.quiet:
        print(f"{args.model}: {summary['steps']} steps, val loss {summary['val_loss']:.4g}, "
              f"weights {summary['weights']}")
    return 0
