"""Keyframe reduction with a hard error bound on every channel.

Approach: glTF gives all morph weights of one mesh ONE sampler (one shared time axis), so the keys are
chosen jointly: a greedy sweep extends each linear segment as far as EVERY channel of the sampler stays
within ``tol`` of its original sample at every original frame, then starts the next segment there.
The kept keys are original samples (values unchanged), so re-sampling the reduced curve at the original
frame times differs from the source by at most ``tol`` per channel (plus float32 rounding).
Rotations use the same sweep with the angle between the slerped key and the original as the error.
The sweep uses exponential then binary search for the segment end, so long holds cost O(n log n).
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def _greedy(n: int, ok: Callable[[int, int], bool]) -> np.ndarray:
    """Indices kept by the greedy sweep; ``ok(a, b)`` says whether segment a..b is within bound."""
    if n <= 2:
        return np.arange(n)
    keep = [0]
    a = 0
    while a < n - 1:
        step = 1
        while a + 2 * step <= n - 1 and ok(a, a + 2 * step):
            step *= 2
        lo, hi = a + step, min(a + 2 * step, n)  # lo is valid; hi is invalid or past the end
        if hi == n:
            hi = n - 1 if ok(a, n - 1) else hi
            if hi == n - 1:
                lo = hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ok(a, mid):
                lo = mid
            else:
                hi = mid
        keep.append(lo)
        a = lo
    return np.asarray(keep, dtype=np.int64)


def reduce_linear(values: np.ndarray, tol: float) -> np.ndarray:
    """Kept frame indices for (T, C) values sharing one time axis, LINEAR interpolation, max abs error <= tol."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if tol < 0 or not np.isfinite(tol):
        raise ValueError(f"tolerance must be a non-negative number, got {tol}")

    def ok(a: int, b: int) -> bool:
        if b - a < 2:
            return True
        f = (np.arange(a + 1, b) - a)[:, None] / (b - a)
        interp = v[a] + (v[b] - v[a]) * f
        return bool(np.max(np.abs(interp - v[a + 1:b])) <= tol)

    return _greedy(len(v), ok)


def slerp(qa: np.ndarray, qb: np.ndarray, f: np.ndarray) -> np.ndarray:
    """(N, 4) spherical interpolation from qa to qb (shortest path) at fractions f (N,)."""
    qa, qb = np.asarray(qa, np.float64), np.asarray(qb, np.float64)
    d = float(np.dot(qa, qb))
    if d < 0:
        qb, d = -qb, -d
    f = np.asarray(f, np.float64)[:, None]
    if d > 0.9995:
        q = qa + (qb - qa) * f
    else:
        th = np.arccos(np.clip(d, -1, 1))
        q = (np.sin((1 - f) * th) * qa + np.sin(f * th) * qb) / np.sin(th)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def quat_angle(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """(N,) rotation angle in radians between unit quaternions."""
    q1, q2 = np.asarray(q1, np.float64), np.asarray(q2, np.float64)
    s = np.where(np.sum(q1 * q2, axis=-1) < 0, -1.0, 1.0)[..., None]
    # Chord form: accurate for tiny angles, where arccos(dot) loses half the digits.
    return 4 * np.arcsin(np.clip(np.linalg.norm(q1 - s * q2, axis=-1) / 2, 0.0, 1.0))


def reduce_rotation(quats: np.ndarray, tol_rad: float) -> np.ndarray:
    """Kept frame indices for (T, 4) unit quaternions under slerp, max angle error <= tol_rad."""
    q = np.asarray(quats, dtype=np.float64)

    def ok(a: int, b: int) -> bool:
        if b - a < 2:
            return True
        f = (np.arange(a + 1, b) - a) / (b - a)
        return bool(np.max(quat_angle(slerp(q[a], q[b], f), q[a + 1:b])) <= tol_rad)

    return _greedy(len(q), ok)


def resample_linear(times: np.ndarray, key_times: np.ndarray, key_values: np.ndarray) -> np.ndarray:
    """(N, C) piecewise-linear evaluation of keys at ``times`` (clamped at the ends), as glTF LINEAR does."""
    kv = np.asarray(key_values, dtype=np.float64)
    if kv.ndim == 1:
        kv = kv[:, None]
    return np.stack([np.interp(times, key_times, kv[:, c]) for c in range(kv.shape[1])], axis=1)
