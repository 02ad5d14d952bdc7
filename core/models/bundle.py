"""The loaded inference networks as one bundle: the shipped (or given) EmoDiff and lip weights, read once."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from ..errors import DreamTalkWarning, InputError, MissingDependency

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "weights"
EMODIFF_FILE = "emodiff.npz"
LIPS_FILE = "lips.npz"
# A lip network on mel features alone: where the main one reads Moonshine's speech states and they cannot be
# computed (no onnxruntime or encoder file, e.g. the plain Blender zip), and for live streaming (frame by frame).
LIPS_MEL_FILE = "lips_mel.npz"
# The check on the speech-state network's closures (core/lips/closures.py); optional.
CLOSURE_PROBE_FILE = "closure_probe.npz"
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


class Models:
    """The loaded numpy networks (EmoDiff, lip refinement and the check on its closures)."""

    def __init__(self, emodiff, lips, lips_mel=None, closure_probe=None):
        self.emodiff, self.lips = emodiff, lips
        self._lips_mel = lips_mel
        self.closure_probe = closure_probe  # None unless ``lips`` reads the speech states it was trained on

    @property
    def mel_lips(self):
        """The lip network that needs only the mel features (live streaming), or None."""
        if self.lips is not None and _mel_only(self.lips.cfg):
            return self.lips
        return self._lips_mel

    @property
    def version(self) -> str:
        """Weight versions of EmoDiff, lips and the closure probe (if any), as written into each take's metadata."""
        v = f"emodiff-{self.emodiff.version}+lips-{self.lips.version if self.lips else 'none'}"
        return v + (f"+closures-{self.closure_probe.version}" if self.closure_probe is not None else "")


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
            mel_path = d / LIPS_MEL_FILE
            lips_mel = LipsNumpy.from_file(mel_path) if mel_path.is_file() else None
            if lips_mel is not None and not _mel_only(lips_mel.cfg):
                raise InputError(f"{mel_path}: reads more than the mel features")
            if lips is not None and lips.cfg.speech_states:
                from ..lips import speech_states
                if not speech_states.available(lips.cfg.speech_layer):
                    if lips_mel is None:
                        raise MissingDependency(f"{lips_path} reads Moonshine's speech states: they need onnxruntime "
                                                "and weights/moonshine (python tools/fetch_moonshine.py)")
                    import warnings
                    warnings.warn(DreamTalkWarning(
                        "the lips follow the mel-feature network: the speech-state network needs onnxruntime and "
                        "Moonshine's encoder (pip install onnxruntime; python tools/fetch_moonshine.py)"), stacklevel=3)
                    lips = lips_mel  # the mel network, named as such in each take's version
            _MODELS[key] = Models(emodiff, lips, lips_mel, _closure_probe(d, lips))
        return _MODELS[key]


def _closure_probe(d: Path, lips):
    """The closure probe in ``d`` if the lip network reads the same speech states, else None."""
    path = d / CLOSURE_PROBE_FILE
    if lips is None or not lips.cfg.speech_states or not path.is_file():
        return None
    from ..lips.closures import ClosureProbe
    probe = ClosureProbe.from_file(path)
    if probe.cfg.speech_layer != lips.cfg.speech_layer:
        raise InputError(f"{path}: reads the states after encoder layer {probe.cfg.speech_layer}, the lip network "
                         f"after {lips.cfg.speech_layer}")
    return probe


def _mel_only(cfg) -> bool:
    return cfg.mel_input and not (cfg.speech_states or cfg.phone_scores or cfg.subframe_audio)
