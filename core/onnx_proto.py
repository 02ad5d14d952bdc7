"""Edit ONNX graphs as bytes, with no dependency but the standard library (no ``onnx`` package).

Two edits: :func:`cut_model` makes an inner tensor the only output and drops what it does not need (the lip
network reads Moonshine's encoder after its 4th of 6 layers, which separates bilabials from other consonants on real
speech as well as the last one and costs less; docs/training.md), and :func:`add_graph_output` exposes an inner
tensor beside the outputs (tools/fetch_kokoro.py: Kokoro's phone durations). onnxruntime accepts the resulting
bytes as a model. Only the protobuf wire format is read and written (field numbers of onnx.proto3:
ModelProto.graph 7; GraphProto node 1, initializer 5, input 11, output 12, value_info 13; NodeProto input 1,
output 2, op_type 4; TensorProto.name 8; ValueInfoProto name 1, type 2).
"""
from __future__ import annotations

from .errors import InputError

_MODEL_GRAPH = 7
_G_NODE, _G_INIT, _G_INPUT, _G_OUTPUT, _G_VALUE_INFO = 1, 5, 11, 12, 13
_N_INPUT, _N_OUTPUT, _N_OP = 1, 2, 4
_T_NAME = 8
_SUBGRAPH_OPS = {"If", "Loop", "Scan"}  # their bodies read outer tensors the walk below would not see


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        if i >= len(buf):
            raise InputError("ONNX model: truncated protobuf")
        b = buf[i]
        i += 1
        out |= (b & 0x7F) << shift
        if b < 0x80:
            return out, i
        shift += 7


def _put_varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fields(buf: bytes) -> list[tuple[int, int, bytes, bytes]]:
    """Top-level fields of a message: (number, wire type, payload, the field's whole encoding)."""
    out, i = [], 0
    while i < len(buf):
        start = i
        tag, i = _varint(buf, i)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            _, i = _varint(buf, i)
            payload = b""
        elif wt == 1:
            i += 8
            payload = b""
        elif wt == 2:
            n, i = _varint(buf, i)
            payload = buf[i:i + n]
            i += n
        elif wt == 5:
            i += 4
            payload = b""
        else:
            raise InputError(f"ONNX model: unsupported protobuf wire type {wt}")
        if i > len(buf):
            raise InputError("ONNX model: truncated protobuf")
        out.append((num, wt, payload, buf[start:i]))
    return out


def _field(num: int, payload: bytes) -> bytes:
    return _put_varint(num << 3 | 2) + _put_varint(len(payload)) + payload


def _strings(msg: bytes, num: int) -> list[str]:
    return [p.decode() for n, wt, p, _ in _fields(msg) if n == num and wt == 2]


def _float_output(name: str, dims: tuple) -> bytes:
    """A ValueInfoProto: float tensor ``name`` with dims (int: fixed, str: symbolic)."""
    shape = b"".join(_field(1, (_put_varint(1 << 3) + _put_varint(d)) if isinstance(d, int) else
                             _field(2, str(d).encode())) for d in dims)
    tensor = _put_varint(1 << 3) + _put_varint(1) + _field(2, shape)  # elem_type FLOAT, shape
    return _field(1, name.encode()) + _field(2, _field(1, tensor))


def _graph(top: list) -> bytes:
    """The GraphProto bytes among a ModelProto's fields."""
    graph = next((p for n, wt, p, _ in top if n == _MODEL_GRAPH and wt == 2), None)
    if graph is None:
        raise InputError("ONNX model: no graph")
    return graph


def add_graph_output(model: bytes, name: str) -> bytes:
    """ONNX ``model`` bytes with the tensor ``name`` appended to its graph's outputs (a ValueInfoProto without a
    type); every other byte is kept."""
    top = _fields(model)
    _graph(top)
    return b"".join(_field(_MODEL_GRAPH, p + _field(_G_OUTPUT, _field(1, name.encode())))
                    if n == _MODEL_GRAPH and wt == 2 else raw for n, wt, p, raw in top)


def cut_model(model: bytes, tensor: str, dims: tuple = ("batch", "frames", "width")) -> bytes:
    """ONNX ``model`` bytes -> a model whose only output is the inner float ``tensor`` (``dims``: its shape, ints
    fixed, strings symbolic) and that computes nothing else."""
    top = _fields(model)
    gf = _fields(_graph(top))
    nodes = [(k, p) for k, (n, _, p, _) in enumerate(gf) if n == _G_NODE]
    needed, keep = {tensor}, set()
    for k, p in reversed(nodes):  # nodes are stored in topological order
        if needed.intersection(_strings(p, _N_OUTPUT)):
            op = next(iter(_strings(p, _N_OP)), "")
            if op in _SUBGRAPH_OPS:
                raise InputError(f"ONNX model: cannot cut through a {op} node")
            keep.add(k)
            needed.update(s for s in _strings(p, _N_INPUT) if s)
    if not keep:  # no node writes the tensor
        raise InputError(f"ONNX model: no tensor named {tensor!r}")
    parts = []
    for k, (n, wt, p, raw) in enumerate(gf):
        if n == _G_NODE and k not in keep:
            continue
        if n == _G_INIT and next(iter(_strings(p, _T_NAME)), None) not in needed:
            continue
        if n in (_G_OUTPUT, _G_VALUE_INFO):
            continue  # one new output below; value_info is optional shape information
        parts.append(raw)
    parts.append(_field(_G_OUTPUT, _float_output(tensor, dims)))
    new_graph = b"".join(parts)
    return b"".join(_field(_MODEL_GRAPH, new_graph) if n == _MODEL_GRAPH else raw for n, _, _, raw in top)
