"""The Blender layer (bpy only): operators, panels and properties, kept thin over core/."""
from __future__ import annotations

import importlib

# Each module has its own class list and register/unregister (register_classes_factory).
_MODULES = ("preferences", "properties", "operators", "panels", "portrait", "live")


def _modules():
    return [importlib.import_module(f".{m}", __name__) for m in _MODULES]


def register() -> None:
    """Register every add-on module in order."""
    for m in _modules():
        m.register()


def unregister() -> None:
    """Unregister in reverse order."""
    for m in reversed(_modules()):
        m.unregister()
