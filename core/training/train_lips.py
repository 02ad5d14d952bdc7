"""Train lip refinement: audio + style + a degraded face -> the mouth set, with extra weight on lip closures.

Target choice: the full-face ``weights`` restricted to MOUTH_SET (default). It is the corpus' disentangled mouth
track plus the emotion's effect on the articulators (e.g. surprise's dropped jaw), so refined lips keep the
emotion; ``target: "mouth"`` in the config's train section trains on the emotion-free ``mouth`` track instead.
The input face is the ground truth with its mouth blurred, shifted, rescaled and noised (what EmoDiff's sampled
mouth looks like), so no EmoDiff sampling is needed during training.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ...rigs.arkit import INDEX
from ..data.augment import CHANNEL_GROUPS
from ..errors import InputError
from ..lips.phone_scores import N_PHONE_SCORES
from ..lips.speech_states import STATE_DIM
from ..models.config import LipsConfig, TrainConfig
from ..models.emodiff_numpy import EmoDiffNumpy
from ..weights import save_weights
from .loop import LoopSpec, model_version, run_loop
from .dataset import (PHONE_CLASSES, Corpus, lips_batch, load_corpus, load_train_val, merge_corpora,
                      sampling_weights)

CLOSED_GAP = 0.05  # lip gap below which the lips count as closed in the loss
SEGMENT = 96  # frames per training segment (receptive field of the default stack is 61)


def lip_gap_torch(mouth, face, names):
    """Lip gap g of the lip-sync metric (mouth channels from ``mouth``, press channels from ``face``)."""
    import torch
    ix = {n: i for i, n in enumerate(names)}

    def m(n):
        return mouth[..., ix[n]]

    press = (face[..., INDEX["mouthPressLeft"]] + face[..., INDEX["mouthPressRight"]]) / 2
    g = (torch.clamp(m("jawOpen") - m("mouthClose"), 0, 1)
         + 0.3 * (m("mouthLowerDownLeft") + m("mouthLowerDownRight")) / 2
         + 0.3 * (m("mouthUpperUpLeft") + m("mouthUpperUpRight")) / 2 + 0.2 * m("mouthFunnel")
         - 0.3 * (m("mouthRollLower") + m("mouthRollUpper")) / 2 - 0.2 * press)
    return torch.clamp(g, min=0)


def make_lips_loss(cfg: LipsConfig, teacher=None):
    """L1 on the mouth channels + lip-gap L1 weighted up on target closures and on predicted false closures.

    With a frozen ``teacher`` network, a batch that carries "audio_clean" is scored against the teacher's mouth on
    the clean audio instead of the corpus target: the student learns to answer a degraded channel as the teacher
    answers the clean one (batches without it, e.g. validation, keep the corpus target).
    """
    def loss_fn(model, b: dict, gen, train: bool):
        import torch
        style = b["style"]
        if train and cfg.p_drop_style > 0:
            drop = (torch.rand(style.shape[0], generator=gen) < cfg.p_drop_style).to(style.device)[:, None]
            style = torch.where(drop, model.null_style.expand_as(style), style)
        if teacher is not None and "audio_clean" in b:
            with torch.no_grad():
                b = dict(b, target=teacher(b["audio_clean"], b["face"], style))
        aux = cfg.phone_classes > 0 and cfg.phone_weight > 0
        pred = model(b["audio"], b["face"], style, phones=aux)
        if aux:
            pred, logits = pred
        m = b["mask"]
        l1 = ((pred - b["target"]).abs().mean(-1) * m).sum() / m.sum().clamp(min=1)
        g_t = lip_gap_torch(b["target"], b["face"], cfg.mouth_names)
        g_p = lip_gap_torch(pred, b["face"], cfg.mouth_names)
        closed_t = (g_t < CLOSED_GAP).float()
        # (B, L): a false closure is an open target with a closed prediction (a mask: no gradient through it)
        false_c = (1 - closed_t) * (g_p.detach() < CLOSED_GAP).float()
        w = m * (1 + cfg.closure_weight * closed_t + cfg.false_closure_weight * false_c)
        gap = ((g_p - g_t).abs() * w).sum() / w.sum().clamp(min=1)
        if not aux:
            return l1 + gap
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), b["phones"].reshape(-1),
                                               ignore_index=-1)
        return l1 + gap + cfg.phone_weight * ce
    return loss_fn


def style_vectors(emodiff_path: str | os.PathLike, corpus: Corpus) -> dict[str, np.ndarray]:
    """Style vector of every style clip, from a trained EmoDiff's style encoder."""
    nm = EmoDiffNumpy.from_file(emodiff_path)
    return {k: nm.encode_style(v) for k, v in corpus.styles.items()}


def train_lips(data_dir: str | os.PathLike, out_dir: str | os.PathLike, cfg: LipsConfig, tcfg: TrainConfig,
               emodiff: str | os.PathLike | None, minutes: float | None = None, resume: bool = False,
               device: str = "cpu", max_steps: int | None = None, limit: int | None = None,
               quiet: bool = False, extra_data: Sequence[str | os.PathLike] = ()) -> dict:
    """Train lips; writes checkpoint.pt, loss.csv, loss.png and lips.npz in ``out_dir``.

    ``extra_data``: more corpora whose train split joins the training clips (val stays ``data_dir``'s).
    """
    import torch

    from ..models.lips_torch import Lips, inference_arrays

    if emodiff is None:
        raise InputError("lips training needs --emodiff WEIGHTS (its style encoder gives the style vectors)")
    out = Path(out_dir)
    cache = out / "cache"
    p_swap = float(tcfg.extra.get("p_swap_emotion", 0.0))
    p_aug = float(tcfg.extra.get("p_feature_aug", 0.0))
    p_drop_scores = float(tcfg.extra.get("p_drop_phone_scores", 0.0))
    p_band = float(tcfg.extra.get("p_band_limit", 0.0))
    p_degraded = float(tcfg.extra.get("p_degraded_states", 0.0))
    if cfg.phone_classes and cfg.phone_classes != len(PHONE_CLASSES):
        raise InputError(f"phone_classes must be 0 or {len(PHONE_CLASSES)}, got {cfg.phone_classes}")
    extras = bool(p_swap > 0 or cfg.phone_classes)  # emotion layers and phone labels
    if not cfg.mel_input and (p_aug > 0 or p_band > 0):
        raise InputError("feature augmentation and the telephone-band view act on the mel features: "
                         "p_feature_aug and p_band_limit need mel_input")
    channels, teacher_path, teacher = _channel_options(cfg, tcfg, p_degraded, device)
    feats_kw = dict(extras=extras, subframes=cfg.subframe_audio, phone_scores=cfg.phone_scores,
                    band_view=p_band > 0, speech_states=cfg.speech_states, mel=cfg.mel_input,
                    levels=cfg.level_input, speech_layer=cfg.speech_layer, degraded_states=p_degraded > 0,
                    degraded_channels=channels)
    train, val, val_source = load_train_val(data_dir, cache, limit, **feats_kw)
    for k, d in enumerate(extra_data):
        more = load_corpus(d, "train", out / f"cache_extra{k}", limit, style_prefix=f"extra{k}:", **feats_kw)
        train = merge_corpora(train, more)
    styles = style_vectors(emodiff, train)
    styles.update(style_vectors(emodiff, val))
    if tcfg.extra.get("train_on_val"):
        # More voices for the final model; the val loss then no longer measures unseen voices (said in meta).
        train, val_source = merge_corpora(train, val), val_source + " (also trained on)"
    p_clip = sampling_weights(train, tcfg.extra.get("voice_weights"))
    if not styles:
        raise InputError(f"{data_dir}: no style clips; lips training needs the corpus' styles/")
    dim = next(iter(styles.values())).shape[0]
    if dim != cfg.style_dim:
        raise InputError(f"EmoDiff style_dim {dim} does not match lips config style_dim {cfg.style_dim}")
    target = str(tcfg.extra.get("target", "weights"))
    torch.manual_seed(tcfg.seed)
    model = Lips(cfg)
    vr = np.random.default_rng(999)
    # Validation: the val voices as they are (no swap, no feature augmentation): comparable across runs.
    val_batches = [lips_batch(val, styles, cfg.mouth_names, SEGMENT, tcfg.batch_size, vr, target)
                   for _ in range(tcfg.val_batches)]

    def export(ema, out_path: Path, facts: dict) -> Path:
        path = out_path / "lips.npz"
        meta = dict(facts, data=str(data_dir), val_source=val_source, target=target, emodiff=str(emodiff),
                    train_clips=len(train.clips), extra_data=[str(d) for d in extra_data], p_swap_emotion=p_swap,
                    p_feature_aug=p_aug, p_drop_phone_scores=p_drop_scores, p_band_limit=p_band,
                    p_degraded_states=p_degraded, degraded_channels=channels,
                    consistency_teacher=str(teacher_path or ""), voice_weights=tcfg.extra.get("voice_weights") or {})
        save_weights(path, "lips", cfg.to_dict(), inference_arrays(ema),
                     model_version=model_version("lips", facts["steps"], tcfg), meta=meta)
        return path

    # Trailing columns that are not mel features (augmentation leaves them alone); only posteriors are dropped.
    n_extra = N_PHONE_SCORES if cfg.phone_scores else STATE_DIM if cfg.speech_states else 0
    if p_drop_scores > 0 and not cfg.phone_scores:
        raise InputError("p_drop_phone_scores needs phone_scores")
    spec = LoopSpec("lips", model,
                    lambda rng: lips_batch(train, styles, cfg.mouth_names, SEGMENT, tcfg.batch_size, rng, target,
                                           p_swap, p_aug, p_clip, n_extra, p_drop_scores, p_band, p_degraded,
                                           clean_copy=teacher is not None),
                    val_batches, make_lips_loss(cfg, teacher), export)
    return run_loop(spec, tcfg, out, minutes, resume, device, max_steps, quiet)


def _channel_options(cfg: LipsConfig, tcfg: TrainConfig, p_degraded: float, device: str):
    """(channel group, teacher path, frozen teacher or None) of a run's degraded-copy settings, checked."""
    if p_degraded > 0 and not cfg.speech_states:
        raise InputError("p_degraded_states needs speech_states")
    channels = str(tcfg.extra.get("degraded_channels", "all"))
    if channels not in CHANNEL_GROUPS:
        raise InputError(f"degraded_channels must be one of {', '.join(CHANNEL_GROUPS)}, got {channels!r}")
    path = tcfg.extra.get("consistency_teacher")
    if path and not p_degraded > 0:
        raise InputError("consistency_teacher needs p_degraded_states (the channel copies the student hears)")
    return channels, path, (_frozen_teacher(path, cfg, device) if path else None)


def _frozen_teacher(path: str | os.PathLike, cfg: LipsConfig, device: str):
    """The lip network of weights ``path`` in torch, frozen, in eval mode; it must read the same inputs as ``cfg``."""
    from ..weights import load_weights
    from ..models.lips_torch import Lips
    from .loop import init_from_weights

    w = load_weights(path, "lips")
    tcfg = LipsConfig.from_dict(w.config)
    if (tcfg.audio_dim, tcfg.speech_layer, tuple(tcfg.mouth_names)) != (cfg.audio_dim, cfg.speech_layer,
                                                                      tuple(cfg.mouth_names)):
        raise InputError(f"consistency_teacher {path}: its inputs or outputs differ from the run's config")
    teacher = Lips(tcfg)
    init_from_weights(teacher, w, path)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher.eval().to(device)
