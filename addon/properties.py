"""Scene settings of the add-on: ``bpy.types.Scene.dreamtalk``."""
from __future__ import annotations

import bpy
from bpy.props import EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty

from ..core.emotions import EMOTIONS


def _poll_mesh(_self, obj) -> bool:
    return obj.type == "MESH"


class DREAMTALK_PG_settings(bpy.types.PropertyGroup):
    """Inputs for generating or importing facial animation."""

    audio_path: StringProperty(name="Audio", description="Speech audio file (WAV)", subtype="FILE_PATH")
    emotion: EnumProperty(name="Emotion", description="Emotion of the generated face",
                          items=[(e, e.capitalize(), f"{e} (MEAD emotion)") for e in EMOTIONS], default="neutral")
    intensity: FloatProperty(name="Intensity", description="Emotion intensity, 0 = neutral, 1 = strongest",
                             default=2 / 3, min=0.0, max=1.0, subtype="FACTOR")
    seed: IntProperty(name="Seed", description="Random seed of the diffusion sampler", default=0, min=0)
    target_object: PointerProperty(name="Target", description="Mesh whose ARKit-named shape keys get keyed",
                                   type=bpy.types.Object, poll=_poll_mesh)
    start_frame: IntProperty(name="Start Frame", description="Frame of the first animation frame", default=1)
    anim_path: StringProperty(name="Animation", description="Live Link Face CSV, DREAM-Talk JSON or NPZ to import",
                              subtype="FILE_PATH")


classes = (DREAMTALK_PG_settings,)
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register() -> None:
    """Register the property group and attach it to every scene."""
    _register_classes()
    bpy.types.Scene.dreamtalk = PointerProperty(type=DREAMTALK_PG_settings)


def unregister() -> None:
    """Detach ``Scene.dreamtalk`` and unregister the property group."""
    del bpy.types.Scene.dreamtalk
    _unregister_classes()
