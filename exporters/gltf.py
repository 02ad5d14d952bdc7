"""glTF 2.0 / GLB export of ARKit animation: the proxy head with 52 morph targets, or a user's own file.

No Blender needed: files are assembled as glTF JSON plus one binary buffer with numpy (pygltflib is not
required at run time; the tests read the output back with it and check it with the Khronos validator).

Timing: key k sits at exactly k / fps seconds (float32). The animation lasts the audio's duration:
``metadata["audio_duration"]`` seconds when given, else frames / fps (frame k covers [k/fps, (k+1)/fps)),
so one extra key at that duration holds the last frame. Samplers are LINEAR; the morph weights of each
mesh are one channel on the node that instantiates it (glTF's rule); head rotation goes to a "Head" node.
"""
from __future__ import annotations

import base64
import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..core.animation import FaceAnimation
from ..core.rotation import head_rotation_quaternions, matrix_to_quat, quat_conj, quat_mul, sign_continuous
from ..core.errors import InputError
from ..core.fileio import atomic_write_bytes
from ..rigs.arkit import ARKIT_NAMES

GENERATOR = "dreamtalk glTF exporter"
FLOAT, UBYTE, USHORT, UINT = 5126, 5121, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
_GLB_MAGIC, _CHUNK_JSON, _CHUNK_BIN = 0x46546C67, 0x4E4F534A, 0x004E4942
ANIMATION_NAME = "DreamTalk"


# ---- binary assembly ------------------------------------------------------------------------------------

class _Bin:
    """Appends bufferViews and accessors to a glTF JSON dict, data going to one binary buffer."""

    def __init__(self, doc: dict, buffer_index: int, start: bytes = b"") -> None:
        self.doc = doc
        self.buffer = buffer_index
        self.data = bytearray(start)
        doc.setdefault("bufferViews", [])
        doc.setdefault("accessors", [])

    def view(self, raw: bytes, target: int | None = None) -> int:
        """Append bytes (4-byte aligned) as a new bufferView; its index."""
        self.data += b"\0" * (-len(self.data) % 4)
        bv = {"buffer": self.buffer, "byteOffset": len(self.data), "byteLength": len(raw)}
        if target is not None:
            bv["target"] = target
        self.data += raw
        self.doc["bufferViews"].append(bv)
        return len(self.doc["bufferViews"]) - 1

    def accessor(self, a: np.ndarray, type_: str, target: int | None = None, minmax: bool = False,
                 sparse_ok: bool = False) -> int:
        """Append a float32/uint accessor for ``a`` (N, k) or (N,); sparse when mostly zero and allowed."""
        a = np.ascontiguousarray(a)
        comp = {np.dtype(np.float32): FLOAT, np.dtype(np.uint16): USHORT, np.dtype(np.uint32): UINT,
                np.dtype(np.uint8): UBYTE}[a.dtype]
        count = int(a.shape[0])
        acc: dict[str, Any] = {"componentType": comp, "count": count, "type": type_}
        if minmax:
            flat = a.reshape(count, -1)
            acc["min"] = [_num(x) for x in flat.min(0)]
            acc["max"] = [_num(x) for x in flat.max(0)]
        rows = np.nonzero(np.any(a.reshape(count, -1) != 0, axis=1))[0] if sparse_ok else None
        if sparse_ok and len(rows) == 0:
            pass  # no bufferView: glTF defines the accessor as all zeros
        elif sparse_ok and len(rows) * (a[0].nbytes + 4) < 0.7 * a.nbytes:
            itype, idt = (USHORT, np.uint16) if count < 65536 else (UINT, np.uint32)
            acc["sparse"] = {"count": int(len(rows)),
                             "indices": {"bufferView": self.view(rows.astype(idt).tobytes()), "componentType": itype},
                             "values": {"bufferView": self.view(a[rows].tobytes())}}
        else:
            acc["bufferView"] = self.view(a.tobytes(), target)
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1


def _num(x) -> float | int:
    return int(x) if isinstance(x, (np.integer, int)) else float(x)


def _glb_bytes(doc: dict, blob: bytes) -> bytes:
    js = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    js += b" " * (-len(js) % 4)
    blob = bytes(blob) + b"\0" * (-len(blob) % 4)
    chunks = struct.pack("<II", len(js), _CHUNK_JSON) + js
    if blob:
        chunks += struct.pack("<II", len(blob), _CHUNK_BIN) + blob
    return struct.pack("<III", _GLB_MAGIC, 2, 12 + len(chunks)) + chunks


def _file_bytes(doc: dict, b: _Bin, glb: bool) -> bytes:
    """The file: GLB with ``b`` as its binary chunk, or .gltf JSON with ``b`` embedded as a data-URI buffer."""
    doc["buffers"][b.buffer]["byteLength"] = len(b.data)
    if glb:
        return _glb_bytes(doc, bytes(b.data))
    doc["buffers"][b.buffer]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(bytes(b.data)).decode()
    return json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")


def embed_glb_as_gltf(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Rewrite a GLB as a .gltf JSON file whose binary chunk is an embedded data-URI buffer; returns ``dst``."""
    doc, blob, is_glb = read_gltf(src)
    if not is_glb:
        raise InputError(f"{src} is not a GLB file")
    buffers = doc.get("buffers", [])
    if blob is not None and buffers and "uri" not in buffers[0]:
        b = _Bin(doc, 0, blob[:buffers[0].get("byteLength", len(blob))])
        data = _file_bytes(doc, b, glb=False)
    else:  # no binary chunk: the JSON alone is the file
        data = json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")
    atomic_write_bytes(dst, data)
    return Path(dst)


def read_gltf(path: str | os.PathLike) -> tuple[dict, bytes | None, bool]:
    """(JSON dict, GLB binary chunk or None, is_glb) of a .glb or .gltf file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read {p}: {e.strerror}") from None
    if raw[:4] == b"glTF":
        if len(raw) < 20:
            raise InputError(f"{p} is a truncated GLB file")
        _, version, length = struct.unpack_from("<III", raw, 0)
        if version != 2:
            raise InputError(f"{p} is glTF version {version}; only 2.0 is supported")
        off, doc, blob = 12, None, None
        while off + 8 <= min(length, len(raw)):
            clen, ctype = struct.unpack_from("<II", raw, off)
            body = raw[off + 8: off + 8 + clen]
            if ctype == _CHUNK_JSON and doc is None:
                doc = _parse_json(body, p)
            elif ctype == _CHUNK_BIN and blob is None:
                blob = bytes(body)
            off += 8 + clen
        if doc is None:
            raise InputError(f"{p} has no JSON chunk; not a valid GLB file")
        return doc, blob, True
    return _parse_json(raw, p), None, False


def _parse_json(raw: bytes, p: Path) -> dict:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{p} is neither a GLB nor a glTF JSON file") from None
    if not isinstance(doc, dict) or str(doc.get("asset", {}).get("version", "")).split(".")[0] != "2":
        raise InputError(f"{p} is not a glTF 2.0 file")
    return doc


# ---- animation data -------------------------------------------------------------------------------------

def animation_duration(anim: FaceAnimation) -> float:
    """Seconds the exported animation lasts: the audio's duration if recorded, else frames / fps."""
    d = anim.metadata.get("audio_duration")
    last = (anim.num_frames - 1) / anim.fps
    try:
        d = float(d) if d is not None else anim.duration
    except (TypeError, ValueError):
        d = anim.duration
    return max(d, last)


def _key_times(anim: FaceAnimation) -> tuple[np.ndarray, bool]:
    """(K,) float32 key times k/fps plus a closing hold key at the duration; whether a hold key was added."""
    t = np.arange(anim.num_frames, dtype=np.float64) / anim.fps
    d = animation_duration(anim)
    hold = np.float32(d) > np.float32(t[-1])
    if hold:
        t = np.append(t, d)
    return t.astype(np.float32), bool(hold)


def _with_hold(a: np.ndarray, hold: bool) -> np.ndarray:
    return np.concatenate([a, a[-1:]], 0) if hold else a


def _rotation_quaternions(anim: FaceAnimation) -> np.ndarray:
    """(T, 4) float32 unit quaternions, sign-continuous so LINEAR (slerp) never takes the long way."""
    q = sign_continuous(head_rotation_quaternions(anim.head_rotation)).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def _add_samplers(b: _Bin, anim: FaceAnimation, tracks: list[np.ndarray], rotation: bool,
                  reduce: float | None) -> tuple[list[dict], list[int], int | None, dict]:
    """Samplers for each (T, K) weights track (and head rotation); their indices and a summary."""
    times, hold = _key_times(anim)
    samplers: list[dict] = []
    shared_input: int | None = None
    keys_total = 0

    def input_acc(idx: np.ndarray | None) -> int:
        nonlocal shared_input
        if idx is None:
            if shared_input is None:
                shared_input = b.accessor(times, "SCALAR", minmax=True)
            return shared_input
        return b.accessor(times[idx], "SCALAR", minmax=True)

    weight_samplers = []
    for w in tracks:  # (T, K)
        w = _with_hold(np.asarray(w, dtype=np.float32), hold)
        idx = None
        if reduce is not None:
            from .keyreduce import reduce_linear
            idx = reduce_linear(w, reduce)
            idx = None if len(idx) == len(w) else idx
        out = w if idx is None else w[idx]
        samplers.append({"input": input_acc(idx), "output": b.accessor(np.ascontiguousarray(out).reshape(-1), "SCALAR"),
                         "interpolation": "LINEAR"})
        keys_total += len(out)
        weight_samplers.append(len(samplers) - 1)
    rot_sampler = None
    if rotation:
        q = _with_hold(_rotation_quaternions(anim), hold)
        idx = None
        if reduce is not None:
            from .keyreduce import reduce_rotation
            idx = reduce_rotation(q, reduce)
            idx = None if len(idx) == len(q) else idx
        out = q if idx is None else q[idx]
        samplers.append({"input": input_acc(idx), "output": b.accessor(np.ascontiguousarray(out), "VEC4"),
                         "interpolation": "LINEAR"})
        rot_sampler = len(samplers) - 1
    summary = {"frames": anim.num_frames, "keys": len(times), "hold_key": hold,
               "duration": float(times[-1]), "weight_keys": keys_total}
    return samplers, weight_samplers, rot_sampler, summary


def _anim_extras(anim: FaceAnimation) -> dict:
    meta = {}
    for k, v in anim.metadata.items():
        try:
            json.dumps(v)
            meta[k] = v
        except (TypeError, ValueError):
            continue
    return {"fps": anim.fps, "frames": anim.num_frames, "generator": GENERATOR, "metadata": meta}


# ---- proxy head -----------------------------------------------------------------------------------------

def write_proxy_glb(anim: FaceAnimation | None, path: str | os.PathLike, reduce: float | None = None) -> dict:
    """Write the proxy head (52 morph targets) animated by ``anim`` (None: no animation); a summary.

    GLB, or one .gltf JSON file with the buffer embedded when ``path`` ends in .gltf.

    ``reduce``: keyframe reduction tolerance (weights: absolute, rotation: radians), see keyreduce.
    """
    from ..rigs.proxy_head import MATERIALS, build_proxy_head, DOUBLE_SIDED
    head = build_proxy_head()
    doc: dict[str, Any] = {"asset": {"version": "2.0", "generator": GENERATOR}, "scene": 0,
                           "buffers": [{"byteLength": 0}]}
    b = _Bin(doc, 0)
    prims, materials = [], []
    tris = head.triangles.astype(np.int64)
    for m_id, m_name in enumerate(MATERIALS):
        sel = tris[head.material_ids == m_id]
        if len(sel) == 0:
            continue
        verts, inv = np.unique(sel.reshape(-1), return_inverse=True)
        idt = np.uint16 if len(verts) < 65536 else np.uint32
        pos = head.vertices[verts]
        prim = {"attributes": {"POSITION": b.accessor(pos, "VEC3", ARRAY_BUFFER, minmax=True),
                               "NORMAL": b.accessor(head.normals[verts], "VEC3", ARRAY_BUFFER)},
                "indices": b.accessor(inv.astype(idt), "SCALAR", ELEMENT_ARRAY_BUFFER),
                "material": len(materials), "mode": 4, "targets": []}
        for k in range(len(head.names)):
            prim["targets"].append({
                "POSITION": b.accessor(head.deltas[k][verts], "VEC3", ARRAY_BUFFER, minmax=True, sparse_ok=True),
                "NORMAL": b.accessor(head.normal_deltas[k][verts], "VEC3", ARRAY_BUFFER, sparse_ok=True)})
        prims.append(prim)
        color = list(head.material_colors[m_name])
        materials.append({"name": m_name, "doubleSided": m_name in DOUBLE_SIDED,
                          "pbrMetallicRoughness": {"baseColorFactor": color, "metallicFactor": 0.0,
                                                   "roughnessFactor": 0.35 if m_name in ("sclera", "iris", "pupil", "teeth") else 0.6}})
    doc["materials"] = materials
    doc["meshes"] = [{"name": "ProxyHead", "primitives": prims, "weights": [0.0] * len(head.names),
                      "extras": {"targetNames": list(head.names)}}]
    pivot = [float(x) for x in head.pivot]
    doc["nodes"] = [{"name": "Head", "translation": pivot, "children": [1]},
                    {"name": "ProxyHeadMesh", "mesh": 0, "translation": [-x for x in pivot]}]
    doc["scenes"] = [{"name": "Scene", "nodes": [0]}]
    summary: dict[str, Any] = {"vertices": head.num_vertices, "targets": len(head.names)}
    if anim is not None:
        samplers, ws, rs, s = _add_samplers(b, anim, [anim.weights], True, reduce)
        channels = [{"sampler": ws[0], "target": {"node": 1, "path": "weights"}},
                    {"sampler": rs, "target": {"node": 0, "path": "rotation"}}]
        doc["animations"] = [{"name": ANIMATION_NAME, "samplers": samplers, "channels": channels,
                              "extras": _anim_extras(anim)}]
        summary.update(s)
    data = _file_bytes(doc, b, glb=Path(path).suffix.lower() != ".gltf")
    atomic_write_bytes(path, data)
    summary["bytes"] = len(data)
    return summary


# ---- a user's file --------------------------------------------------------------------------------------

@dataclass
class UserAnimationReport:
    """What :func:`animate_user_gltf` did."""

    path: str
    preset: str
    meshes: list[str] = field(default_factory=list)  # animated meshes (by name or index)
    nodes: list[str] = field(default_factory=list)  # nodes given a weights channel
    head_node: str | None = None
    mapped: dict[str, list[str]] = field(default_factory=dict)  # ARKit name -> target names driven
    unmapped_arkit: list[str] = field(default_factory=list)
    unmapped_targets: dict[str, list[str]] = field(default_factory=dict)  # mesh -> its targets nothing drives
    skipped_meshes: list[str] = field(default_factory=list)  # have targets but none could be mapped
    frames: int = 0
    duration: float = 0.0
    keys: int = 0

    def lines(self) -> list[str]:
        """Human-readable summary, one fact a line."""
        out = [f"wrote {self.path}: {self.frames} frames, {self.duration:.3f} s, preset {self.preset}",
               f"animated meshes: {', '.join(self.meshes)} (nodes: {', '.join(self.nodes)})",
               f"head rotation on node: {self.head_node or 'none (no node named head/neck)'}"]
        if self.unmapped_arkit:
            out.append(f"ARKit channels with no target ({len(self.unmapped_arkit)}): {', '.join(self.unmapped_arkit)}")
        for m, t in self.unmapped_targets.items():
            if t:
                out.append(f"targets of {m} nothing drives ({len(t)}): {', '.join(t)}")
        if self.skipped_meshes:
            out.append(f"meshes with morph targets but no mappable names: {', '.join(self.skipped_meshes)}")
        return out


def _target_names(mesh: dict) -> list[str] | None:
    """The mesh's morph target names (mesh.extras.targetNames, or its first primitive's), or None."""
    n_targets = max((len(p.get("targets", [])) for p in mesh.get("primitives", [])), default=0)
    for holder in [mesh] + list(mesh.get("primitives", [])):
        names = (holder.get("extras") or {}).get("targetNames") if isinstance(holder.get("extras"), dict) else None
        if isinstance(names, list) and len(names) == n_targets and all(isinstance(x, str) for x in names):
            return names
    return None


def _map(names: Sequence[str], preset: str | None, overrides: dict | None = None):
    """rigs.presets mapping for these target names (``overrides``: ARKit name -> target name(s) or None)."""
    from ..rigs.presets import map_names
    return map_names(list(names), preset, overrides)


def _head_node(nodes: list[dict], head_node: str | bool) -> int | None:
    """Index of the node the head rotation goes on: found by name (True), none (False), or the one named so."""
    if head_node is True:
        return _find_head_node(nodes)
    if head_node is False:
        return None
    for i, n in enumerate(nodes):
        if n.get("name") == head_node:
            return i
    raise InputError(f"no node named {head_node!r} for the head rotation")


def _find_head_node(nodes: list[dict]) -> int | None:
    """Index of the node named head (preferred) or neck, case-insensitively; None if there is none."""
    def name(i):
        return str(nodes[i].get("name", "")).lower()
    tiers = [lambda n: n == "head", lambda n: n.endswith("head") or n.endswith(":head") or n.endswith("_head"),
             lambda n: "head" in n and not any(s in n for s in ("end", "top", "tip", "nub")),
             lambda n: n == "neck" or n.endswith("neck"), lambda n: "neck" in n]
    for t in tiers:
        for i in range(len(nodes)):
            if t(name(i)):
                return i
    return None


def _node_rotation(node: dict) -> np.ndarray:
    """The rotation part (x, y, z, w) of a node's rest transform."""
    if "rotation" in node:
        return np.asarray(node["rotation"], dtype=np.float64)
    if "matrix" in node:
        m = np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T[:3, :3]
        m = m / np.linalg.norm(m, axis=0, keepdims=True)
        return matrix_to_quat(m)
    return np.array([0.0, 0.0, 0.0, 1.0])


def _parent_world_rotation(nodes: list[dict], index: int) -> np.ndarray:
    """World rotation (x, y, z, w) of a node's parent chain at rest."""
    parent = {c: i for i, n in enumerate(nodes) for c in n.get("children", [])}
    chain, i = [], parent.get(index)
    while i is not None:
        chain.append(i)
        i = parent.get(i)
    q = np.array([0.0, 0.0, 0.0, 1.0])
    for i in reversed(chain):
        q = quat_mul(q, _node_rotation(nodes[i]))
    return q


def _mesh_tracks(anim: FaceAnimation, meshes: list[dict], with_targets: list[int], preset: str | None,
                 report: UserAnimationReport, overrides: dict | None = None) -> dict[int, np.ndarray]:
    """(T, targets) weights track per mesh index whose morph target names map; fills ``report``'s mapping."""
    mesh_tracks: dict[int, np.ndarray] = {}
    driven_arkit: set[str] = set()
    for mi in with_targets:
        mesh = meshes[mi]
        label = mesh.get("name") or f"mesh {mi}"
        names = _target_names(mesh)
        if names is None:
            report.skipped_meshes.append(f"{label} (no targetNames)")
            continue
        try:
            mapping = _map(names, preset, overrides)
        except InputError:
            report.skipped_meshes.append(label)
            continue
        out, out_names = mapping.apply(anim.weights)  # (T, K) in mapping order
        if not out_names:
            report.skipped_meshes.append(label)
            continue
        report.preset = mapping.preset
        default = list(mesh.get("weights") or [0.0] * len(names))
        track = np.tile(np.asarray(default, np.float32), (anim.num_frames, 1))  # (T, targets)
        col = {n: i for i, n in enumerate(names)}
        for j, n in enumerate(out_names):
            track[:, col[n]] = out[:, j]
        mesh_tracks[mi] = track
        report.meshes.append(label)
        for a, ts in mapping.arkit_to_targets.items():
            report.mapped.setdefault(a, [])
            report.mapped[a] += [t for t in ts if t not in report.mapped[a]]
            driven_arkit.add(a)
        driven_arkit.update(a for a in ARKIT_NAMES if a not in mapping.unmapped_arkit)
        report.unmapped_targets[label] = [n for n in names if n not in set(out_names)]
    report.unmapped_arkit = [a for a in ARKIT_NAMES if a not in driven_arkit]
    return mesh_tracks


def _new_data_buffer(doc: dict, blob: bytes | None, is_glb: bool, src: Path, dst: Path) -> _Bin:
    """Where new binary data goes: the GLB chunk (buffer 0), or a new embedded buffer for .gltf."""
    buffers = doc.setdefault("buffers", [])
    if is_glb:
        if buffers and "uri" not in buffers[0]:
            start = blob or b""
            start = start[:buffers[0].get("byteLength", len(start))]
        else:  # no GLB-stored buffer yet: insert one as buffer 0 and shift references
            for bv in doc.get("bufferViews", []):
                bv["buffer"] = bv.get("buffer", 0) + 1
            buffers.insert(0, {"byteLength": 0})
            start = b""
        b = _Bin(doc, 0, start)
    else:
        buffers.append({"byteLength": 0})
        b = _Bin(doc, len(buffers) - 1)
        _relocate_uris(doc, src.parent, dst.parent)

    return b


def _head_channel(doc: dict, b: _Bin, nodes: list[dict], head: int, samplers: list[dict], rs: int) -> dict:
    """Turn the head sampler's world rotations into the node's local ones (in place); returns its channel."""
    # Rotate in world axes about the node: local(t) = P^-1 R(t) P q0, P = parent's world rotation.
    p = _parent_world_rotation(nodes, head)
    q0 = _node_rotation(nodes[head])
    acc = doc["accessors"][samplers[rs]["output"]]
    q = np.frombuffer(bytes(b.data[doc["bufferViews"][acc["bufferView"]]["byteOffset"]:][:acc["count"] * 16]),
                      dtype=np.float32).reshape(-1, 4).astype(np.float64)
    local = quat_mul(quat_mul(quat_mul(quat_conj(p), q), p), q0)
    local = sign_continuous(local / np.linalg.norm(local, axis=1, keepdims=True))
    off = doc["bufferViews"][acc["bufferView"]]["byteOffset"]
    b.data[off:off + local.size * 4] = local.astype(np.float32).tobytes()
    if "matrix" in nodes[head]:
        raise InputError(f"head node {nodes[head].get('name')!r} uses a matrix transform, which glTF "
                         "forbids animating; re-export the model with TRS transforms")
    return {"sampler": rs, "target": {"node": head, "path": "rotation"}}


def animate_user_gltf(anim: FaceAnimation, src_path: str | os.PathLike, dst_path: str | os.PathLike,
                      preset: str | None = None, reduce: float | None = None, overrides: dict | None = None,
                      head_node: str | bool = True) -> UserAnimationReport:
    """Add ``anim`` to a user's glTF/GLB as one new animation, keeping everything else; write dst atomically.

    Every node whose mesh has mappable morph targets gets a weights channel (ordered by that mesh's own
    targets; targets nothing drives keep the mesh's default weight); ``preset`` and ``overrides`` are those of
    rigs.presets.map_names. The head rotation goes on a node named head/neck (case-insensitive; ``head_node``
    names the node instead, or False for none), composed with its rest rotation in world axes. Existing
    bufferViews, accessors and buffers keep their indices: new data is appended.
    """
    src, dst = Path(src_path), Path(dst_path)
    doc, blob, is_glb = read_gltf(src)
    out_glb = dst.suffix.lower() == ".glb"
    if out_glb != is_glb:
        raise InputError(f"write a {'.glb' if is_glb else '.gltf'} file for a {'.glb' if is_glb else '.gltf'} "
                         f"input (got {dst.name}); converting between the two is not supported")
    meshes = doc.get("meshes", [])
    nodes = doc.get("nodes", [])
    with_targets = [i for i, m in enumerate(meshes) if any(p.get("targets") for p in m.get("primitives", []))]
    if not with_targets:
        raise InputError(f"{src.name} has no morph targets (blend shapes); nothing to animate. "
                         "Export the model with its shape keys, or use the built-in proxy head")
    report = UserAnimationReport(path=str(dst), preset=preset or "auto", frames=anim.num_frames)
    mesh_tracks = _mesh_tracks(anim, meshes, with_targets, preset, report, overrides)
    if not mesh_tracks:
        raise InputError(f"none of the morph target names in {src.name} match ARKit blendshapes "
                         f"(checked {', '.join(report.skipped_meshes)}); pick a rig preset with --preset")
    mesh_nodes = [(ni, n["mesh"]) for ni, n in enumerate(nodes) if n.get("mesh") in mesh_tracks]
    if not mesh_nodes:
        raise InputError(f"the meshes with morph targets in {src.name} are not placed in any node")

    head = _head_node(nodes, head_node)
    b = _new_data_buffer(doc, blob, is_glb, src, dst)
    tracks = [mesh_tracks[mi] for mi in mesh_tracks]
    samplers, ws, rs, s = _add_samplers(b, anim, tracks, head is not None, reduce)
    sampler_of = {mi: ws[k] for k, mi in enumerate(mesh_tracks)}
    channels = [{"sampler": sampler_of[mi], "target": {"node": ni, "path": "weights"}} for ni, mi in mesh_nodes]
    report.nodes = [str(nodes[ni].get("name", f"node {ni}")) for ni, _ in mesh_nodes]
    if head is not None:
        channels.append(_head_channel(doc, b, nodes, head, samplers, rs))
        report.head_node = str(nodes[head].get("name"))
    doc.setdefault("animations", []).append({"name": ANIMATION_NAME, "samplers": samplers, "channels": channels,
                                             "extras": _anim_extras(anim)})
    report.duration, report.keys = s["duration"], s["keys"]
    atomic_write_bytes(dst, _file_bytes(doc, b, is_glb))
    return report


def _relocate_uris(doc: dict, src_dir: Path, dst_dir: Path) -> None:
    """Rewrite relative buffer/image URIs so they still resolve from the destination folder."""
    if src_dir.resolve() == dst_dir.resolve():
        return
    from urllib.parse import quote, unquote
    for key in ("buffers", "images"):
        for item in doc.get(key, []):
            uri = item.get("uri")
            if not uri or uri.startswith("data:") or "://" in uri:
                continue
            target = (src_dir / unquote(uri)).resolve()
            item["uri"] = quote(os.path.relpath(target, dst_dir.resolve()).replace(os.sep, "/"))
