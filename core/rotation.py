"""Head rotations in one place (numpy only): [pitch, yaw, roll] to matrices and quaternions, the quaternion
product, and sign continuity. Quaternions are (x, y, z, w), glTF's order; Blender code reorders at its edge.

Angles are radians in the ARKit/glTF head frame (+Y up, face along +Z): R = Ry(yaw) Rx(pitch) Rz(roll).
"""
from __future__ import annotations

import numpy as np


def head_rotation_matrices(head_rotation: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotation matrices for (T, 3) [pitch, yaw, roll] radians, R = Ry(yaw) Rx(pitch) Rz(roll)."""
    hr = np.asarray(head_rotation, dtype=np.float64)
    p, y, r = hr[:, 0], hr[:, 1], hr[:, 2]
    cp, sp, cy, sy, cr, sr = np.cos(p), np.sin(p), np.cos(y), np.sin(y), np.cos(r), np.sin(r)
    one, zero = np.ones_like(p), np.zeros_like(p)
    rx = np.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).reshape(-1, 3, 3)
    ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(-1, 3, 3)
    rz = np.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return ry @ rx @ rz


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of (..., 4) quaternions (x, y, z, w)."""
    ax, ay, az, aw = np.moveaxis(np.asarray(a, np.float64), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.asarray(b, np.float64), -1, 0)
    return np.stack([aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw,
                     aw * bw - ax * bx - ay * by - az * bz], -1)


def quat_conj(q: np.ndarray) -> np.ndarray:
    """Conjugate of (..., 4) quaternions (x, y, z, w): the inverse of a unit quaternion."""
    return np.asarray(q, np.float64) * np.array([-1.0, -1.0, -1.0, 1.0])


def head_rotation_quaternions(head_rotation: np.ndarray) -> np.ndarray:
    """(T, 4) unit quaternions (x, y, z, w) for (T, 3) [pitch, yaw, roll] radians."""
    hr = np.asarray(head_rotation, dtype=np.float64)

    def about(axis: int, ang: np.ndarray) -> np.ndarray:
        out = np.zeros((len(ang), 4))
        out[:, axis] = np.sin(ang / 2)
        out[:, 3] = np.cos(ang / 2)
        return out
    return quat_mul(quat_mul(about(1, hr[:, 1]), about(0, hr[:, 0])), about(2, hr[:, 2]))


def head_rotation_from_quaternions(q: np.ndarray) -> np.ndarray:
    """Inverse of :func:`head_rotation_quaternions`: (T, 4) (x, y, z, w) -> (T, 3) float32 [pitch, yaw, roll]."""
    q = np.asarray(q, np.float64)
    x, y, z, w = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    # R = Ry(yaw) Rx(pitch) Rz(roll): row 1 is [cp sr, cp cr, -sp], column 2 is [sy cp, -sp, cy cp].
    r12 = 2 * (y * z - w * x)
    r10 = 2 * (x * y + w * z)
    r11 = 1 - 2 * (x * x + z * z)
    r02 = 2 * (x * z + w * y)
    r22 = 1 - 2 * (x * x + y * y)
    pitch = np.arcsin(np.clip(-r12, -1.0, 1.0))
    return np.stack([pitch, np.arctan2(r02, r22), np.arctan2(r10, r11)], -1).astype(np.float32)


def sign_continuous(q: np.ndarray) -> np.ndarray:
    """(T, 4) quaternions with each on the same hemisphere as the one before, so interpolating neighbours
    (LINEAR keys, slerp) never swings the long way round."""
    q = np.asarray(q, np.float64)
    flips = np.sum(q[1:] * q[:-1], axis=1) < 0  # (T-1,)
    sign = np.concatenate([[1.0], np.where(np.cumsum(flips) % 2 == 1, -1.0, 1.0)])
    return q * sign[:, None]


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """(4,) unit quaternion (x, y, z, w) of a (3, 3) rotation matrix."""
    m = np.asarray(m, np.float64)
    w = np.sqrt(max(0.0, 1 + m[0, 0] + m[1, 1] + m[2, 2])) / 2
    x = np.copysign(np.sqrt(max(0.0, 1 + m[0, 0] - m[1, 1] - m[2, 2])) / 2, m[2, 1] - m[1, 2])
    y = np.copysign(np.sqrt(max(0.0, 1 - m[0, 0] + m[1, 1] - m[2, 2])) / 2, m[0, 2] - m[2, 0])
    z = np.copysign(np.sqrt(max(0.0, 1 - m[0, 0] - m[1, 1] + m[2, 2])) / 2, m[1, 0] - m[0, 1])
    q = np.array([x, y, z, w])
    return q / np.linalg.norm(q)
