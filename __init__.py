"""DREAM-Talk: speech + emotion -> ARKit facial animation. A Python package and a Blender extension.

Importing the package never imports bpy; Blender calls :func:`register` / :func:`unregister`.
"""
from __future__ import annotations

__version__ = "0.1.0"


def register() -> None:
    """Blender entry point: register the add-on's classes."""
    from . import addon
    addon.register()


def unregister() -> None:
    """Blender entry point: unregister everything :func:`register` added."""
    from . import addon
    addon.unregister()


def __getattr__(name: str):
    # Light top level: heavy modules load on first use.
    if name == "FaceAnimation":
        from .core.animation import FaceAnimation
        return FaceAnimation
    if name in ("read_animation", "write_animation"):
        from .core import formats
        return getattr(formats, name)
    if name == "generate":
        from .core.pipeline import generate
        return generate
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
