"""The in-memory ONNX graph cut (core/onnx_proto.py): a hand-built two-node model run through onnxruntime whole
and cut, and the tiny encoder cut after a layer where it is installed."""
import struct

import numpy as np
import pytest

from dreamtalk.core.errors import InputError
from dreamtalk.core import onnx_proto as oc
from dreamtalk.core.lips import speech_states as ss

ort = pytest.importorskip("onnxruntime")


def _f(num: int, payload: bytes) -> bytes:
    return oc._field(num, payload)


def _v(num: int, value: int) -> bytes:
    return oc._put_varint(num << 3) + oc._put_varint(value)


def _node(op: str, inputs, outputs) -> bytes:
    return b"".join(_f(1, s.encode()) for s in inputs) + b"".join(_f(2, s.encode()) for s in outputs) + \
        _f(3, f"{op}_{outputs[0]}".encode()) + _f(4, op.encode())


def _const(name: str, value: float) -> bytes:  # TensorProto: dims [1], FLOAT, raw_data, name
    return _v(1, 1) + _v(2, 1) + _f(9, struct.pack("<f", value)) + _f(8, name.encode())


def _model() -> bytes:
    """y = (x + 1) * 2 - 3 over x (n,) float, with the intermediate tensors 'a' and 'b'."""
    graph = (_f(1, _node("Add", ["x", "one"], ["a"])) + _f(1, _node("Mul", ["a", "two"], ["b"])) +
             _f(1, _node("Sub", ["b", "three"], ["y"])) + _f(2, b"g") +
             _f(5, _const("one", 1.0)) + _f(5, _const("two", 2.0)) + _f(5, _const("three", 3.0)) +
             _f(11, oc._float_output("x", ("n",))) + _f(12, oc._float_output("y", ("n",))))
    return _v(1, 8) + _f(7, graph) + _f(8, _f(1, b"") + oc._put_varint(2 << 3) + oc._put_varint(17))


def _run(model: bytes, x: np.ndarray) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"]).run(None, {"x": x})


def test_cut_returns_the_inner_tensor_and_drops_what_follows():
    x = np.array([0.0, 1.5, -2.0], np.float32)
    whole = _model()
    assert np.allclose(_run(whole, x)[0], (x + 1) * 2 - 3)
    cut = oc.cut_model(whole, "b", ("n",))
    out = _run(cut, x)
    assert len(out) == 1 and np.allclose(out[0], (x + 1) * 2)
    assert b"three" not in cut and b"Sub" not in cut and len(cut) < len(whole)  # its node and initialiser are gone
    assert np.allclose(_run(oc.cut_model(whole, "a", ("n",)), x)[0], x + 1)


def test_cut_refuses_an_unknown_tensor_and_bad_bytes():
    with pytest.raises(InputError, match="no tensor named 'zz'"):
        oc.cut_model(_model(), "zz")
    with pytest.raises(InputError, match="truncated|no graph"):
        oc.cut_model(_model()[:-5], "a")


@pytest.mark.skipif(not ss.available(3), reason="no Moonshine .onnx encoder or onnxruntime")
def test_encoder_cut_after_a_layer_gives_states_of_its_width_that_differ_from_the_last():
    rng = np.random.default_rng(0)
    t = np.arange(3 * 16000) / 16000
    a = (0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0) + rng.normal(0, 0.01, t.size))
    a = a.astype(np.float32)
    last = ss.speech_states(a, 90, threads=1)
    inner = ss.speech_states(a, 90, threads=1, layer=3)
    assert inner.shape == last.shape == (90, ss.STATE_DIM)
    assert np.isfinite(inner).all() and not np.allclose(inner, last, atol=1e-2)
    assert np.array_equal(inner, ss.speech_states(a, 90, threads=1, layer=3))
