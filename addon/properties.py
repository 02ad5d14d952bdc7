"""Scene settings of the add-on: ``bpy.types.Scene.dreamtalk`` (everything the panel shows)."""
from __future__ import annotations

import bpy
from bpy.props import (BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty,
                       PointerProperty, StringProperty)

from ..core.emotions import EMOTIONS
from ..rigs.presets import PRESETS
from . import preferences

EXPORT_FORMATS = (
    ("GLB", "glTF Binary (.glb)", "The keyed take written like the command line's .glb: the proxy head with its 52 "
                                  "morph targets, or your mesh (geometry from Blender's glTF exporter) and head"),
    ("GLTF", "glTF (.gltf)", "Like GLB, as one .gltf JSON file with its data embedded"),
    ("FBX", "FBX (.fbx)", "Blend shapes and head bone for Unreal / Unity / Maya (exported in a helper process)"),
    ("CSV", "Live Link Face CSV (.csv)", "The keyed shape-key and head curves as an iPhone Live Link Face take"),
)
PORTRAIT_BACKENDS = (
    ("warp", "Warp", "Warp the photo with face landmarks (no weights; needs mediapipe in Blender's Python)"),
    ("neural", "Neural", "LivePortrait's networks driven by the proxy head (needs your LivePortrait weights and a "
                         "Python with PyTorch set in the preferences; slow on CPU)"),
)
HEAD_MODES = (
    ("NONE", "None", "Do not animate the head"),
    ("OBJECT", "Object", "Rotate an object (the target mesh when Head Object is empty)"),
    ("BONE", "Bone", "Rotate a bone of an armature"),
)


def _poll_mesh(_self, obj) -> bool:
    return obj.type == "MESH"


def _mark_override(self, _context) -> None:
    # Editing a row's shape key makes it a user override that auto-mapping never replaces.
    self.is_override = True


_STYLE_ITEMS: list = []  # Blender keeps no reference to dynamic enum strings: hold them here


def _style_items(_self, context):
    names = preferences.list_style_presets(preferences.style_dir(context))
    _STYLE_ITEMS[:] = [("NONE", "None", "No style clip")] + [(n, n, f"Style clip {n}") for n in names]
    return _STYLE_ITEMS


def _emotion_property(default: str):
    return EnumProperty(name="Emotion", description="Emotion of the generated face (keyframe it to change the "
                                                     "emotion within the take)",
                        items=[(e, e.capitalize(), f"{e} (MEAD emotion)") for e in EMOTIONS], default=default)


def _intensity_property(default: float):
    return FloatProperty(name="Intensity", description="Emotion intensity, 0 = neutral, 1 = strongest (can be "
                                                       "keyframed)",
                         default=default, min=0.0, max=1.0, subtype="FACTOR")


class DREAMTALK_PG_mapping_item(bpy.types.PropertyGroup):
    """One ARKit channel and the shape key it drives on the target mesh (empty = nothing)."""

    arkit: StringProperty(name="ARKit", description="ARKit blendshape name")
    shape_key: StringProperty(name="Shape Key", description="Shape key this ARKit channel drives (empty = none)",
                              update=_mark_override)
    is_override: BoolProperty(name="Override", description="Set by hand; auto-mapping keeps it")


LIP_SOURCES = [
    ("AUDIO", "Audio", "The lip network reads the audio alone (fast; no extra package)"),
    ("TRANSCRIPT", "Transcript", "Force-align the transcript below: the sharpest lips (needs the pocketsphinx "
                                "package in Blender's Python)"),
    ("RECOGNIZE", "Recognize Speech", "Recognise the English words first (Moonshine on onnxruntime, else "
                                      "pocketsphinx; the per-platform zips carry both), slower than Audio"),
]


class DREAMTALK_PG_settings(bpy.types.PropertyGroup):
    """Inputs for generating, importing and exporting facial animation."""

    # ---- generation inputs
    audio_path: StringProperty(name="Audio", description="Speech audio file (WAV, FLAC, OGG)", subtype="FILE_PATH")
    emotion: _emotion_property("neutral")
    intensity: _intensity_property(2 / 3)
    style_preset: EnumProperty(name="Style Preset", items=_style_items,
                               description="A style clip from the preferences' style presets folder")
    style_path: StringProperty(name="Style Clip", subtype="FILE_PATH",
                               description="Optional Live Link Face CSV / JSON take whose manner the face "
                                           "follows (wins over the preset)")
    transition: FloatProperty(name="Transition", description="Seconds of cross-fade when a keyframed emotion or "
                                                              "intensity changes", default=0.5, min=0.0, max=10.0,
                              subtype="TIME_ABSOLUTE", unit="TIME_ABSOLUTE")
    seed: IntProperty(name="Seed", description="Random seed of the diffusion sampler", default=0, min=0)
    lip_source: EnumProperty(name="Lip Sync", items=LIP_SOURCES, default="AUDIO",
                             description="Where the lips' phone timings come from")
    transcript: StringProperty(name="Transcript", description="What is said in the audio (any length of text)")
    blink: BoolProperty(name="Blinks", description="Add natural eye blinks", default=True)
    use_sampler_settings: BoolProperty(name="Custom Sampler", default=False,
                                       description="Use the steps and guidance below instead of the model's")
    steps: IntProperty(name="Steps", description="Diffusion sampling steps", default=25, min=1, max=1000)
    guidance: FloatProperty(name="Guidance", description="Classifier-free guidance scale for the emotion",
                            default=2.0, min=0.0, max=20.0)
    # ---- targets
    target_object: PointerProperty(name="Target", description="Mesh whose shape keys get keyed "
                                   "(empty = the active object)", type=bpy.types.Object, poll=_poll_mesh)
    preset: EnumProperty(name="Preset", description="Shape-key naming convention of the target",
                         items=[("AUTO", "Auto-detect", "Detect from the shape-key names")]
                         + [(p.name, p.name, p.description) for p in PRESETS.values()], default="AUTO")
    mapping: CollectionProperty(type=DREAMTALK_PG_mapping_item, name="Mapping")
    mapping_index: IntProperty(name="Active Mapping Row", default=0, min=0)
    mapping_object: StringProperty(name="Mapped Object", description="The mesh the mapping list was made for")
    mapping_preset: StringProperty(name="Detected Preset", description="Preset the mapping list was made with")
    head_mode: EnumProperty(name="Head", items=HEAD_MODES, default="OBJECT",
                            description="What the generated head rotation drives")
    head_object: PointerProperty(name="Head Object", type=bpy.types.Object,
                                 description="Object (Object mode) or armature (Bone mode) to rotate")
    head_bone: StringProperty(name="Bone", description="Bone of the armature to rotate")
    start_frame: IntProperty(name="Start Frame", description="Frame of the first animation frame", default=1)
    # ---- import / export
    anim_path: StringProperty(name="Animation", description="Live Link Face CSV, DREAM-Talk JSON or NPZ to import",
                              subtype="FILE_PATH")
    export_format: EnumProperty(name="Format", items=EXPORT_FORMATS, default="GLB")
    # ---- portrait video
    portrait_image: StringProperty(name="Portrait", subtype="FILE_PATH",
                                   description="Photo of a face (PNG / JPEG) to animate with the current take")
    portrait_backend: EnumProperty(name="Backend", items=PORTRAIT_BACKENDS, default="warp",
                                   description="How the photo is animated")
    portrait_checkpoint: StringProperty(name="Weights", subtype="DIR_PATH",
                                        description="Folder with LivePortrait's five published .pth files "
                                                    "(loaded weights-only); nothing is downloaded")
    portrait_output: StringProperty(name="Output", subtype="FILE_PATH", default="//portrait.mp4",
                                    description="MP4 to write (// = next to the .blend file)")
    portrait_size: IntProperty(name="Size", description="Width and height of the video in pixels (even)",
                               default=512, min=64, max=2048, step=2)


classes = (DREAMTALK_PG_mapping_item, DREAMTALK_PG_settings)
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def _apply_preference_defaults() -> None:
    """Defaults of scenes that never set emotion / intensity come from the preferences (read at enable time)."""
    prefs = preferences.get_preferences()
    if prefs is None:
        return
    ann = DREAMTALK_PG_settings.__annotations__  # strings here (postponed annotations): replace them
    ann["emotion"] = _emotion_property(prefs.default_emotion)
    ann["intensity"] = _intensity_property(prefs.default_intensity)


def register() -> None:
    """Register the property groups and attach the settings to every scene."""
    _apply_preference_defaults()
    _register_classes()
    bpy.types.Scene.dreamtalk = PointerProperty(type=DREAMTALK_PG_settings)


def unregister() -> None:
    """Detach ``Scene.dreamtalk`` and unregister the property groups."""
    del bpy.types.Scene.dreamtalk
    _unregister_classes()
    _STYLE_ITEMS.clear()
