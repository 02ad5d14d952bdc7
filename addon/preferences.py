"""Add-on preferences (Edit > Preferences > Add-ons > DREAM-Talk), keyed by the extension's package name."""
from __future__ import annotations

import os

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, StringProperty

from ..core.emotions import EMOTIONS

# The extension's top-level package ("bl_ext.<repo>.dreamtalk" when installed, "dreamtalk" from a checkout).
ADDON_PACKAGE = __package__.rpartition(".")[0]

FPS_MODES = (
    ("SCENE", "Scene Rate", "Generate at the scene's frame rate (fps / fps base); the scene is not changed"),
    ("SET_SCENE", "Set Scene to 30 fps", "Generate at 30 fps, the model's native rate, and set the scene to it"),
)
STYLE_SUFFIXES = (".csv", ".json", ".npz")


def get_preferences(context=None):
    """This add-on's preferences, or None when it is not enabled as an add-on (e.g. a bare import)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    return addon.preferences if addon is not None else None


def neural_python(context=None) -> str:
    """The preference's Python for the neural portrait backend (absolute path), or ''."""
    prefs = get_preferences(context)
    raw = prefs.neural_python if prefs is not None else ""
    return bpy.path.abspath(raw) if raw else ""


def default_style_dir() -> str:
    """``<user extension folder>/styles``: writable and outside the add-on's own (read-only) folder."""
    try:
        return bpy.utils.extension_path_user(ADDON_PACKAGE, path="styles", create=False)
    except (ValueError, AttributeError):  # not installed as an extension (checkout, legacy add-on)
        return ""


def style_dir(context=None) -> str:
    """The folder style presets are listed from: the preference, else the default."""
    prefs = get_preferences(context)
    raw = prefs.style_dir if prefs is not None and prefs.style_dir else default_style_dir()
    return bpy.path.abspath(raw) if raw else ""


def list_style_presets(folder: str) -> list[str]:
    """Sorted style clip file names (Live Link CSV, JSON, NPZ) directly inside ``folder``."""
    if not folder or not os.path.isdir(folder):
        return []
    return sorted(f for f in os.listdir(folder)
                  if f.lower().endswith(STYLE_SUFFIXES) and os.path.isfile(os.path.join(folder, f)))


class DREAMTALK_AP_preferences(bpy.types.AddonPreferences):
    """Defaults of the DREAM-Talk panel"""

    bl_idname = ADDON_PACKAGE

    default_emotion: EnumProperty(name="Default Emotion", description="Emotion of scenes that never set one",
                                  items=[(e, e.capitalize(), "") for e in EMOTIONS], default="neutral")
    default_intensity: FloatProperty(name="Default Intensity", default=2 / 3, min=0.0, max=1.0, subtype="FACTOR",
                                     description="Intensity of scenes that never set one")
    fps_mode: EnumProperty(name="Frame Rate", items=FPS_MODES, default="SCENE",
                           description="How generated animation meets the scene's frame rate")
    extend_frame_range: BoolProperty(name="Extend Frame Range", default=True,
                                     description="Make the scene's end frame cover the generated animation")
    add_sound_strip: BoolProperty(name="Add Sound Strip", default=True,
                                  description="Add the audio to the sequencer at the start frame (playback in sync)")
    style_dir: StringProperty(name="Style Presets", subtype="DIR_PATH",
                              description="Folder of style clips (Live Link CSV / JSON / NPZ); empty = the "
                                          "extension's user folder")
    neural_python: StringProperty(name="Python for Neural Portraits", subtype="FILE_PATH",
                                  description="A Python interpreter with PyTorch and dreamtalk installed (pip install "
                                              "dreamtalk torch): the neural portrait backend runs there, not in "
                                              "Blender's own Python")

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        col = layout.column()
        col.prop(self, "default_emotion")
        col.prop(self, "default_intensity")
        col.separator()
        col.prop(self, "fps_mode")
        col.prop(self, "extend_frame_range")
        col.prop(self, "add_sound_strip")
        col.separator()
        col.prop(self, "style_dir")
        if not self.style_dir:
            col.label(text=default_style_dir() or "(not installed as an extension)", icon="FILE_FOLDER")
        col.separator()
        col.prop(self, "neural_python")


classes = (DREAMTALK_AP_preferences,)
register, unregister = bpy.utils.register_classes_factory(classes)
