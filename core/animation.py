"""FaceAnimation: the one data model every reader, writer, model and exporter shares.

Head rotation convention (radians, per frame ``[pitch, yaw, roll]``), in a right-handed head frame where
+Y is up, the face looks along +Z and +X points to the subject's own left (glTF's convention):
- pitch: about +X, positive = chin down (nod down);
- yaw:   about +Y, positive = face turns to the subject's left;
- roll:  about +Z, positive = head tilts toward the subject's right shoulder;
composed as R = Ry(yaw) @ Rx(pitch) @ Rz(roll). See :func:`head_rotation_matrices`.

Eye gaze (optional) is ``(T, 6)``: left eye yaw, pitch, roll, right eye yaw, pitch, roll in radians,
as Live Link Face records them. Head translation (optional) is ``(T, 3)`` metres in the same frame.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..rigs.arkit import ARKIT_NAMES, INDEX, NUM_BLENDSHAPES, reorder
from .errors import InputError

# Real solvers and iPhones emit values a hair outside [0, 1] (NeuroSync: down to -0.004): those are clamped with one
# warning; more than this is an error.
RANGE_TOLERANCE = 0.02
ROUNDING = 1e-3  # overshoot from rounding alone: clamped silently


@dataclass
class FaceAnimation:
    """ARKit weights and head pose sampled at a fixed frame rate, with the channel names attached."""

    fps: float
    weights: np.ndarray  # (T, 52) float32 in [0, 1], order = blendshape_names
    head_rotation: np.ndarray | None = None  # (T, 3) radians [pitch, yaw, roll]
    head_translation: np.ndarray | None = None  # (T, 3) metres
    eye_gaze: np.ndarray | None = None  # (T, 6) radians
    metadata: dict[str, Any] = field(default_factory=dict)
    blendshape_names: tuple[str, ...] = ARKIT_NAMES

    def __post_init__(self) -> None:
        self.fps = float(self.fps)
        if not math.isfinite(self.fps) or self.fps <= 0 or self.fps > 1000:
            raise InputError(f"fps must be a positive number up to 1000, got {self.fps}")
        w = np.asarray(self.weights, dtype=np.float32)
        if w.ndim != 2:
            raise InputError(f"weights must be (frames, channels), got shape {w.shape}")
        names = tuple(self.blendshape_names)
        if w.shape[1] != len(names):
            raise InputError(f"weights have {w.shape[1]} channels but {len(names)} blendshape names")
        if names != ARKIT_NAMES:
            # Keep one internal order; reorder by name so a swapped column order can never slip through.
            unknown = [n for n in names if n not in INDEX]
            if unknown:
                raise InputError(f"unknown blendshape names: {', '.join(unknown[:5])}")
            missing = [n for n in ARKIT_NAMES if n not in names]
            if missing:
                raise InputError(f"missing blendshapes ({len(missing)} of 52): {', '.join(missing[:5])}"
                                 + (" ..." if len(missing) > 5 else ""))
            if len(set(names)) != len(names):
                raise InputError("duplicate blendshape names")
            w = reorder(w, names, ARKIT_NAMES)
            names = ARKIT_NAMES
        self.blendshape_names = names
        if w.shape[0] == 0:
            raise InputError("animation has no frames")
        if not np.all(np.isfinite(w)):
            bad = np.argwhere(~np.isfinite(w))[0]
            raise InputError(f"weight is not a number at frame {bad[0]}, channel {ARKIT_NAMES[bad[1]]}")
        lo, hi = float(w.min()), float(w.max())
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            i = np.unravel_index(np.argmax(np.abs(w - 0.5)), w.shape)
            raise InputError(f"weight {w[i]:.4g} out of range [0, 1] at frame {i[0]}, channel {ARKIT_NAMES[i[1]]}")
        outside = int(np.count_nonzero((w < -ROUNDING) | (w > 1 + ROUNDING)))
        if outside:
            import warnings

            from .errors import DreamTalkWarning
            warnings.warn(f"{outside} blendshape weights slightly outside [0, 1] (from {lo:.4g} to {hi:.4g}) were "
                          "clamped", DreamTalkWarning, stacklevel=3)
        self.weights = np.clip(w, 0.0, 1.0)
        t = w.shape[0]
        self.head_rotation = self._track(self.head_rotation, 3, "head_rotation", t, zeros=True)
        self.head_translation = self._track(self.head_translation, 3, "head_translation", t)
        self.eye_gaze = self._track(self.eye_gaze, 6, "eye_gaze", t)
        self.metadata = dict(self.metadata or {})

    @staticmethod
    def _track(a, width: int, what: str, t: int, zeros: bool = False) -> np.ndarray | None:
        if a is None:
            return np.zeros((t, width), np.float32) if zeros else None
        a = np.asarray(a, dtype=np.float32)
        if a.shape != (t, width):
            raise InputError(f"{what} must have shape ({t}, {width}), got {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InputError(f"{what} contains values that are not numbers")
        return a

    # ---- basic properties -------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.weights.shape[0])

    @property
    def duration(self) -> float:
        """Seconds covered: frame k spans [k/fps, (k+1)/fps)."""
        return self.num_frames / self.fps

    @property
    def times(self) -> np.ndarray:
        """(T,) start time of each frame in seconds."""
        return np.arange(self.num_frames, dtype=np.float64) / self.fps

    def channel(self, name: str) -> np.ndarray:
        """(T,) one blendshape by ARKit name."""
        return self.weights[:, INDEX[name]]

    def named_weights(self, names: Sequence[str]) -> np.ndarray:
        """(T, len(names)) weights in another order, matched by name."""
        return reorder(self.weights, ARKIT_NAMES, names)

    def replace(self, **changes: Any) -> "FaceAnimation":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def copy(self) -> "FaceAnimation":
        """A deep copy."""
        def c(a):
            return None if a is None else np.array(a, copy=True)
        return FaceAnimation(self.fps, c(self.weights), c(self.head_rotation), c(self.head_translation),
                             c(self.eye_gaze), dict(self.metadata))

    # ---- time -------------------------------------------------------------------------------------
    def resample(self, fps: float) -> "FaceAnimation":
        """Linear resampling to ``fps`` between frame centres; frame count = round(duration * fps), no drift."""
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0:
            raise InputError(f"target fps must be positive, got {fps}")
        if abs(fps - self.fps) < 1e-9:
            return self.copy()
        n = max(1, int(round(self.num_frames * fps / self.fps)))
        # Frame k spans [k, k+1)/fps and shows the motion at its centre (k + 0.5)/fps, as the model's frames and
        # the lip-sync metric do: output centres mapped onto source centres (exact in float64). Mapping starts
        # instead (k/fps) put a 60 fps output's content a quarter source frame early.
        pos = (np.arange(n, dtype=np.float64) + 0.5) * (self.fps / fps) - 0.5
        i0 = np.clip(np.floor(pos).astype(np.int64), 0, self.num_frames - 1)
        i1 = np.minimum(i0 + 1, self.num_frames - 1)
        frac = np.clip(pos - i0, 0.0, 1.0)[:, None]

        def interp(a):
            if a is None:
                return None
            a = a.astype(np.float64)
            return (a[i0] * (1 - frac) + a[i1] * frac).astype(np.float32)

        return FaceAnimation(fps, interp(self.weights), interp(self.head_rotation), interp(self.head_translation),
                             interp(self.eye_gaze), dict(self.metadata))

    def slice(self, start: int, stop: int) -> "FaceAnimation":
        """Frames [start, stop)."""
        def s(a):
            return None if a is None else a[start:stop]
        return FaceAnimation(self.fps, s(self.weights), s(self.head_rotation), s(self.head_translation),
                             s(self.eye_gaze), dict(self.metadata))

    # ---- comparisons ------------------------------------------------------------------------------
    def max_abs_difference(self, other: "FaceAnimation") -> float:
        """Largest difference over weights and head rotation (same frame count required)."""
        if other.num_frames != self.num_frames:
            raise ValueError(f"frame counts differ: {self.num_frames} vs {other.num_frames}")
        return float(max(np.abs(self.weights - other.weights).max(),
                         np.abs(self.head_rotation - other.head_rotation).max()))


def zeros(num_frames: int, fps: float = 30.0, **metadata: Any) -> FaceAnimation:
    """A rest-pose animation."""
    return FaceAnimation(fps, np.zeros((num_frames, NUM_BLENDSHAPES), np.float32), metadata=metadata)
