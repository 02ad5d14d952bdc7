"""FBX export through Blender: shape-key animation (+ head rotation) on the proxy head or a user's mesh.

Needs ``bpy`` (Blender's Python module, ``pip install bpy==5.0.1`` on Python 3.11) or a Blender process.
``bpy`` is imported inside the functions so the rest of the package never needs it.

Timing: the export scene runs at ``anim.fps`` exactly (fps / fps_base, e.g. 30 / 1.001 for 29.97),
sample k is keyed on frame k + 1, and the file's first key sits at FBX time 0, so Blender's importer
(anim_offset = 1) puts the first sample back on frame 1. See ``blender_scene.FBX_EXPORT_OPTIONS`` for
the exporter settings and why each one matters.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.errors import InputError
from ..core.fileio import atomic_path

MESH_SUFFIXES = (".blend", ".fbx", ".glb", ".gltf")
NO_BPY_MESSAGE = ("FBX export needs Blender's Python module: pip install bpy==5.0.1 (Python 3.11), "
                  "or run inside Blender")


@dataclass
class FbxReport:
    """What an FBX export wrote and what it could not drive."""

    path: str
    frames: int
    fps: float
    source: str  # "proxy" or the user's mesh file
    preset: str | None = None
    driven: dict = field(default_factory=dict)  # mesh object name -> shape-key names keyed
    unmapped_arkit: tuple = ()  # ARKit channels that reach no shape key
    head: str | None = None  # "Armature/Head" (bone) or an object name; None = head rotation not exported
    size_bytes: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return asdict(self)

    def summary(self) -> str:
        """Human-readable lines for the CLI."""
        keys = sum(len(v) for v in self.driven.values())
        lines = [f"wrote {self.path}: {self.frames} frames at {self.fps:g} fps, {keys} shape keys on "
                 f"{len(self.driven)} mesh(es), {self.size_bytes / 1e6:.2f} MB in {self.seconds:.1f} s"]
        lines.append(f"head rotation: {self.head or 'not exported (no head bone or object found)'}")
        if self.unmapped_arkit:
            lines.append(f"unmapped ARKit channels ({len(self.unmapped_arkit)}): {', '.join(self.unmapped_arkit)}")
        return "\n".join(lines)


def _require_bpy():
    try:
        import bpy  # noqa: F401
    except ImportError:
        raise InputError(NO_BPY_MESSAGE) from None
    return bpy


def _check_paths(path, mesh) -> tuple[Path, Path | None]:
    out = Path(path)
    if out.suffix.lower() != ".fbx":
        raise InputError(f"FBX output must end in .fbx, got {out.name!r}")
    if mesh is None:
        return out, None
    m = Path(mesh)
    if m.suffix.lower() not in MESH_SUFFIXES:
        raise InputError(f"mesh must be one of {', '.join(MESH_SUFFIXES)}, got {m.name!r}")
    if not m.is_file():
        raise InputError(f"mesh file not found: {m}")
    if m.resolve() == out.resolve():
        raise InputError("the output would overwrite the source mesh; choose another path")
    return out, m


def export_fbx(anim, path, mesh=None, preset: str | None = None) -> FbxReport:
    """Write ``anim`` as FBX shape-key animation on the proxy head (``mesh=None``) or a .blend/.fbx/.glb/.gltf."""
    out, mesh_path = _check_paths(path, mesh)
    bpy = _require_bpy()
    if not bpy.app.background:
        # Inside a user's interactive Blender: never reset their scene; work in a helper process.
        return _export_in_helper(anim, out, mesh_path, preset)
    return export_fbx_here(anim, out, mesh_path, preset)


def export_fbx_here(anim, out: Path, mesh_path: Path | None, preset: str | None) -> FbxReport:
    """The standalone path: this process owns Blender's state and resets it."""
    import bpy

    from ..core.rotation import head_rotation_quaternions
    from ..rigs.arkit import ARKIT_NAMES
    from . import blender_scene as bs

    t0 = time.perf_counter()
    t = anim.num_frames
    bs.reset_session()
    scene = bpy.context.scene
    report = FbxReport(str(out), t, float(anim.fps), "proxy" if mesh_path is None else str(mesh_path))
    rotations = head_rotation_quaternions(anim.head_rotation)  # (T, 4) glTF frame (x, y, z, w)

    if mesh_path is None:
        from ..rigs.proxy_head import build_proxy_head
        ph = build_proxy_head()
        ob = bs.new_mesh_object("DreamTalkHead", ph.vertices, ph.triangles, ph.delta_dict,
                                material_ids=ph.material_ids, materials=ph.materials,
                                material_colors=ph.material_colors)
        rig = bs.new_head_rig(ob, ph.pivot)
        bs.set_timing(scene, anim.fps, t)
        bs.key_shape_keys(ob, list(ARKIT_NAMES), anim.weights)
        bs.key_head_rotation(rig, bs.HEAD_NAME, rotations)
        report.preset = "arkit"
        report.driven = {ob.name: list(ARKIT_NAMES)}
        report.head = f"{rig.name}/{bs.HEAD_NAME}"
    else:
        _load_user_file(bpy, mesh_path)
        bs.set_timing(scene, anim.fps, t)  # after loading: the FBX/glTF importers set their own rate
        _key_user_meshes(bs, scene, anim, preset, report)
        head_ob, bone = bs.find_head(scene.objects)
        if head_ob is not None:
            bs.key_head_rotation(head_ob, bone, rotations)
            report.head = f"{head_ob.name}/{bone}" if bone else head_ob.name

    with atomic_path(out) as tmp:
        info = bs.export_owned_scene(str(tmp), 1, t)
    report.fps = info["fps"]
    report.size_bytes = out.stat().st_size
    report.seconds = time.perf_counter() - t0
    return report


def _load_user_file(bpy, mesh_path: Path) -> None:
    """Bring the user's objects into the (fresh) scene; the file itself is only read."""
    suffix = mesh_path.suffix.lower()
    scene = bpy.context.scene
    if suffix == ".blend":
        try:
            with bpy.data.libraries.load(str(mesh_path), link=False) as (src, dst):
                dst.objects = list(src.objects)
        except OSError as e:
            raise InputError(f"cannot read {mesh_path.name}: {e}") from None
        for ob in dst.objects:
            if ob is not None and ob.name not in scene.collection.objects:
                scene.collection.objects.link(ob)
        return
    try:
        if suffix == ".fbx":
            res = bpy.ops.import_scene.fbx(filepath=str(mesh_path))
        else:
            res = bpy.ops.import_scene.gltf(filepath=str(mesh_path))
    except RuntimeError as e:
        raise InputError(f"cannot import {mesh_path.name}: {str(e).strip().splitlines()[-1]}") from None
    if "FINISHED" not in res:
        raise InputError(f"cannot import {mesh_path.name}")


def _key_user_meshes(bs, scene, anim, preset, report: FbxReport) -> None:
    """Map ARKit onto every shape-keyed mesh by name (rig presets) and key it; fills the report."""
    from ..rigs.arkit import ARKIT_NAMES
    from ..rigs.presets import detect_preset, map_names

    meshes = bs.shape_key_meshes(scene.objects)
    if not meshes:
        raise InputError(f"{Path(report.source).name} has no mesh with shape keys to animate")
    all_names = [n for ob in meshes for n in bs.shape_key_names(ob)]
    # One preset for the whole file (CC4 keeps Tongue_Out on its own mesh, which alone detects nothing).
    preset = preset or detect_preset(all_names)[0]
    reached: set[str] = set()
    for ob in meshes:
        mapping = map_names(bs.shape_key_names(ob), preset=preset)
        if not mapping.target_names:
            continue
        values, names = mapping.apply(anim.weights)  # (T, K)
        bs.key_shape_keys(ob, names, values)
        report.driven[ob.name] = list(names)
        reached |= set(ARKIT_NAMES) - set(mapping.unmapped_arkit)
    if not report.driven:
        raise InputError(f"no shape key in {Path(report.source).name} matches ARKit or the {preset!r} preset")
    report.preset = preset
    report.unmapped_arkit = tuple(a for a in ARKIT_NAMES if a not in reached)


# ---- inside a user's Blender: helper processes -------------------------------------------------

def _helper_command(code: str) -> list[str]:
    """Run ``code`` in a fresh background Blender (or this Python with the bpy wheel)."""
    import bpy
    if bpy.app.binary_path and Path(bpy.app.binary_path).exists():
        return [bpy.app.binary_path, "--background", "--factory-startup", "--python-exit-code", "1",
                "--python-expr", code]
    return [sys.executable, "-c", code]


def _helper_code(body: str) -> str:
    """Python for a helper process: this package's ``fbx``, ``bs`` (blender_scene) and ``formats`` modules
    imported by their public names, then ``body``."""
    pkg_dir = Path(__file__).resolve().parents[1]
    pkg = pkg_dir.name
    return ("import sys, json, importlib\n"
            f"sys.path.insert(0, {str(pkg_dir.parent)!r})\n"
            f"fbx = importlib.import_module({pkg + '.exporters.fbx'!r})\n"
            f"bs = importlib.import_module({pkg + '.exporters.blender_scene'!r})\n"
            f"formats = importlib.import_module({pkg + '.core.formats'!r})\n" + body)


def _run_helper(code: str) -> None:
    proc = subprocess.run(_helper_command(code), capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"FBX export failed in the helper Blender process: {tail[0]}")


def _export_in_helper(anim, out: Path, mesh_path: Path | None, preset: str | None) -> FbxReport:
    """Run :func:`export_fbx` in a background Blender so the user's session is left alone."""
    import json

    from ..core.formats import write_animation
    with tempfile.TemporaryDirectory() as td:
        anim_file = Path(td) / "anim.npz"
        report_file = Path(td) / "report.json"
        write_animation(anim, anim_file)
        mp = None if mesh_path is None else str(mesh_path)
        code = _helper_code(
            f"a = formats.read_animation({str(anim_file)!r})\n"
            f"r = fbx.export_fbx_here(a, fbx.Path({str(out)!r}), fbx.Path({mp!r}) if {mp!r} else None, {preset!r})\n"
            f"open({str(report_file)!r}, 'w').write(json.dumps(r.to_dict()))\n"
        )
        _run_helper(code)
        d = json.loads(report_file.read_text())
    d["unmapped_arkit"] = tuple(d["unmapped_arkit"])
    return FbxReport(**d)


def export_fbx_from_scene(objects, path, frame_start: int | None = None, frame_end: int | None = None) -> dict:
    """Export ``objects`` (already animated in the user's scene) to FBX without changing the user's session.

    The objects and what they use are written to a temporary .blend; a background Blender loads
    it into a fresh scene, moves the first frame to FBX time 0 and exports with the same options.
    """
    bpy = _require_bpy()
    out = Path(path)
    if out.suffix.lower() != ".fbx":
        raise InputError(f"FBX output must end in .fbx, got {out.name!r}")
    objects = [ob for ob in objects if ob is not None]
    if not objects:
        raise InputError("select the objects to export")
    scene = bpy.context.scene
    fs = scene.frame_start if frame_start is None else int(frame_start)
    fe = scene.frame_end if frame_end is None else int(frame_end)
    if fe < fs:
        raise InputError(f"frame range {fs}..{fe} is empty")
    with tempfile.TemporaryDirectory() as td, atomic_path(out) as tmp:
        blend = Path(td) / "selection.blend"
        bpy.data.libraries.write(str(blend), set(objects), fake_user=True)
        code = _helper_code(f"bs.export_blend_objects({str(blend)!r}, {str(tmp)!r}, {fs}, {fe}, "
                            f"{scene.render.fps}, {scene.render.fps_base!r})\n")
        _run_helper(code)
    return {"path": str(out), "frames": fe - fs + 1, "fps": scene.render.fps / scene.render.fps_base,
            "objects": [ob.name for ob in objects], "size_bytes": out.stat().st_size}
