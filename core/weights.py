"""Shipped weights: one ``.npz`` per network with its config, model type, version and an embedded sha256.

Layout (no pickles): ``format`` = "dreamtalk-weights", ``format_version``, ``model_type`` ("emodiff" | "lips" |
"phone_gmm" | "closure_probe"), ``model_version``, ``config_json``, ``meta_json`` (training facts), ``param/<name>``
arrays (state-dict names), ``extra/<name>`` arrays (e.g. per-emotion style vectors), and ``sha256`` over all of the
above, so a truncated or edited file is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .fileio import atomic_path

FORMAT = "dreamtalk-weights"
FORMAT_VERSION = 1
MODEL_TYPES = ("emodiff", "lips", "phone_gmm", "closure_probe")


@dataclass
class Weights:
    """Everything a weights file holds, ready for the numpy networks."""

    model_type: str
    config: dict[str, Any]
    params: dict[str, np.ndarray]  # float32
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    model_version: str = "0"
    meta: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""


def _digest(entries: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in sorted(entries):
        a = np.ascontiguousarray(entries[key])
        h.update(key.encode())
        h.update(str(a.dtype.str).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes() if a.dtype.kind != "U" else str(a.tolist()).encode())
    return h.hexdigest()


def save_weights(path: str | os.PathLike, model_type: str, config: dict[str, Any], params: dict[str, np.ndarray],
                 extra: dict[str, np.ndarray] | None = None, model_version: str = "0",
                 meta: dict[str, Any] | None = None, half: bool = False) -> str:
    """Write a weights file atomically; returns its content sha256. ``half`` stores params as float16."""
    if model_type not in MODEL_TYPES:
        raise ValueError(f"model_type must be one of {MODEL_TYPES}")
    entries: dict[str, np.ndarray] = {
        "format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION),
        "model_type": np.array(model_type), "model_version": np.array(str(model_version)),
        "config_json": np.array(json.dumps(config, sort_keys=True)),
        "meta_json": np.array(json.dumps(meta or {}, sort_keys=True)),
    }
    for k, v in params.items():
        entries["param/" + k] = np.asarray(v, np.float16 if half else np.float32)
    for k, v in (extra or {}).items():
        v = np.asarray(v)
        entries["extra/" + k] = v.astype(np.float32) if v.dtype.kind == "f" else v
    digest = _digest(entries)
    entries["sha256"] = np.array(digest)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **entries)
    return digest


def load_weights(path: str | os.PathLike, expect_type: str | None = None) -> Weights:
    """Read and verify a weights file (format, sha256, model type); params come back as float32."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"weights file not found: {p}")
    try:
        with np.load(p, allow_pickle=False) as z:
            entries = {k: z[k] for k in z.files}
    except Exception as e:
        raise InputError(f"{p.name}: not a readable weights file ({type(e).__name__})") from None
    if str(entries.get("format", "")) != FORMAT:
        raise InputError(f"{p.name}: not a dreamtalk weights file")
    if int(entries["format_version"]) > FORMAT_VERSION:
        raise InputError(f"{p.name}: weights format {int(entries['format_version'])} is newer than this dreamtalk")
    stored = str(entries.pop("sha256", ""))
    if stored != _digest(entries):
        raise InputError(f"{p.name}: weights checksum mismatch (file corrupt or edited)")
    mtype = str(entries["model_type"])
    if expect_type is not None and mtype != expect_type:
        raise InputError(f"{p.name}: holds a {mtype} model, expected {expect_type}")
    params = {k[6:]: v.astype(np.float32) for k, v in entries.items() if k.startswith("param/")}
    extra = {k[6:]: v for k, v in entries.items() if k.startswith("extra/")}
    return Weights(mtype, json.loads(str(entries["config_json"])), params, extra, str(entries["model_version"]),
                   json.loads(str(entries["meta_json"])), stored)
