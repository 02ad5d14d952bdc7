"""The numpy transformer block's fast softmax (no max shift where a bound allows, row sums from the value GEMM)
equals the textbook one, also where the logits are large; the two-half batch run equals the whole."""
import math

import numpy as np
import pytest

from dreamtalk.core.models.emodiff_numpy import _split_run
from dreamtalk.core.models.layers import Params, gelu, layer_norm


def _params(d=16, rng=np.random.default_rng(0)):
    p = {}
    for name, (i, o) in {"qkv": (d, 3 * d), "proj": (d, d), "fc1": (d, 2 * d), "fc2": (2 * d, d)}.items():
        p[f"b.{name}.weight"] = rng.normal(0, 0.3, (o, i))
        p[f"b.{name}.bias"] = rng.normal(0, 0.1, o)
    for ln in ("ln1", "ln2"):
        p[f"b.{ln}.weight"] = 1 + rng.normal(0, 0.1, d)
        p[f"b.{ln}.bias"] = rng.normal(0, 0.1, d)
    return Params(p)


def _reference(P, x, heads):
    b, n, d = x.shape
    lin = lambda z, k: z @ P[k + ".weight"].T + P[k + ".bias"]  # noqa: E731
    qkv = lin(layer_norm(x.copy(), P["b.ln1.weight"], P["b.ln1.bias"]), "b.qkv")
    q, k, v = (z.reshape(b, n, heads, d // heads).transpose(0, 2, 1, 3) for z in np.split(qkv, 3, axis=-1))
    s = q.astype(np.float64) @ k.transpose(0, 1, 3, 2) / math.sqrt(d // heads)
    s = np.exp(s - s.max(-1, keepdims=True))
    att = s / s.sum(-1, keepdims=True)
    y = (att @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
    x = x + lin(y, "b.proj")
    return x + lin(gelu(lin(layer_norm(x.copy(), P["b.ln2.weight"], P["b.ln2.bias"]), "b.fc1")), "b.fc2")


@pytest.mark.parametrize("scale", [1.0, 300.0])  # 300: logits beyond exp's range, the max-shift path
def test_fast_block_equals_the_textbook_block(scale):
    P = _params()
    x = (np.random.default_rng(1).normal(0, 1, (3, 7, 16)) * scale).astype(np.float32)
    if scale > 1:  # large logits need a large projection, not only a large input (layer norm undoes that)
        P.p["b.qkv.weight"] = P.p["b.qkv.weight"] * 40
        P._wt.clear()
    got = P.block(x, "b", heads=4)
    ref = _reference(P, x, 4)
    assert np.all(np.isfinite(got))
    assert np.abs(got - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())


def test_split_run_equals_the_whole_batch():
    h = np.random.default_rng(2).normal(size=(9, 5, 4)).astype(np.float32)
    assert np.array_equal(_split_run(lambda z: z * 2 + 1, h), h * 2 + 1)
    assert np.array_equal(_split_run(lambda z: z * 2 + 1, h[:2]), h[:2] * 2 + 1)  # small batches stay whole
