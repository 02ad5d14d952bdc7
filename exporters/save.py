"""Write a FaceAnimation in the format its file suffix names: animation files (.json/.csv/.npz, core/formats.py),
glTF/GLB (``gltf.py``) or FBX (``fbx.py``); what ``dreamtalk generate -o`` writes."""
from __future__ import annotations

import os
from pathlib import Path

from ..core.animation import FaceAnimation
from ..core.errors import InputError


def save_output(anim: FaceAnimation, path: str | os.PathLike, mesh: str | os.PathLike | None = None,
                reduce: float | None = None) -> dict:
    """Write ``anim`` in the format of the suffix: .json/.csv/.npz, .glb/.gltf (proxy or ``mesh``), .fbx."""
    from ..core.formats import write_animation

    p = Path(path)
    suf = p.suffix.lower()
    if suf in (".glb", ".gltf"):
        from .gltf import animate_user_gltf, write_proxy_glb
        if mesh:
            rep = animate_user_gltf(anim, mesh, p, reduce=reduce)
            return {"report": "\n".join(rep.lines())}
        return dict(write_proxy_glb(anim, p, reduce=reduce))
    if suf == ".fbx":
        from .fbx import export_fbx
        rep = export_fbx(anim, p, mesh=mesh)
        return {"report": rep.summary()}
    if mesh:
        raise InputError("--mesh only applies to .glb/.gltf/.fbx outputs")
    write_animation(anim, p)
    return {}
