"""core/rotation.py: the one home of head rotation maths (matrices, quaternions, sign continuity)."""
import numpy as np

from dreamtalk.core.rotation import (head_rotation_from_quaternions, head_rotation_matrices, head_rotation_quaternions,
                                     matrix_to_quat, quat_conj, quat_mul, sign_continuous)


def _quat_to_matrix(q):
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def test_quaternions_matrices_and_product_agree():
    rng = np.random.default_rng(0)
    hr = rng.uniform(-1.2, 1.2, (50, 3))
    mats, quats = head_rotation_matrices(hr), head_rotation_quaternions(hr)
    for m, q in zip(mats, quats):
        assert np.allclose(_quat_to_matrix(q), m, atol=1e-12)
        back = matrix_to_quat(m)
        assert np.allclose(back, q, atol=1e-9) or np.allclose(back, -q, atol=1e-9)
    prod = quat_mul(quats[:-1], quats[1:])
    assert np.allclose(_quat_to_matrix(prod[3]), mats[3] @ mats[4], atol=1e-12)
    assert np.allclose(quat_mul(quats, quat_conj(quats)), [0, 0, 0, 1], atol=1e-12)
    back = head_rotation_from_quaternions(-quats)  # either sign of a quaternion is the same rotation
    assert back.dtype == np.float32 and np.allclose(back, hr, atol=1e-5)


def test_sign_continuity_keeps_rotations_and_takes_the_short_way():
    rng = np.random.default_rng(1)
    q = head_rotation_quaternions(np.cumsum(rng.normal(0, 0.05, (200, 3)), axis=0))
    flipped = q * rng.choice([-1.0, 1.0], size=(200, 1))
    fixed = sign_continuous(flipped)
    assert np.all(np.sum(fixed[1:] * fixed[:-1], axis=1) > 0)
    assert np.allclose(np.abs(np.sum(fixed * q, axis=1)), 1.0)  # the same rotations, only signs changed
    assert np.allclose(fixed[0], flipped[0])
