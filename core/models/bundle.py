"""The loaded inference networks as one bundle: the shipped (or given) EmoDiff and lip weights, read once."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ..errors import InputError

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
EMODIFF_FILE = "emodiff.npz"
LIPS_FILE = "lips.npz"
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


class Models:
    """The loaded numpy networks (EmoDiff and lip refinement)."""

    def __init__(self, emodiff, lips):
        self.emodiff, self.lips = emodiff, lips

    @property
    def version(self) -> str:
        """Both networks' weight versions, as written into each take's metadata."""
        return f"emodiff-{self.emodiff.version}+lips-{self.lips.version if self.lips else 'none'}"


def load_models(weights_dir: str | os.PathLike | None = None) -> Models:
    """Load (once, cached) the shipped weights, or those in ``weights_dir``."""
    from .emodiff_numpy import EmoDiffNumpy
    from .lips_numpy import LipsNumpy

    d = Path(weights_dir) if weights_dir else WEIGHTS_DIR
    key = str(d.resolve())
    with _LOCK:
        if key not in _MODELS:
            emo_path, lips_path = d / EMODIFF_FILE, d / LIPS_FILE
            if not emo_path.is_file():
                raise InputError(f"no trained EmoDiff weights at {emo_path}; train them with "
                                 "`dreamtalk train emodiff` or reinstall the package")
            emodiff = EmoDiffNumpy.from_file(emo_path)
            lips = LipsNumpy.from_file(lips_path) if lips_path.is_file() else None
            _MODELS[key] = Models(emodiff, lips)
        return _MODELS[key]
