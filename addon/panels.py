"""The sidebar panel: 3D Viewport > Sidebar (N) > DREAM-Talk, its sub-panels and the mapping list."""
from __future__ import annotations

import bpy

from . import operators


def property_split(layout):
    """``layout`` set to draw labels beside their fields, without keyframe decorators; returns it."""
    layout.use_property_split = True
    layout.use_property_decorate = False
    return layout


class _Sidebar:
    # Shared placement of every panel (a plain mixin; Blender reads the attributes through the MRO).
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "DREAM-Talk"


class _SubPanel(_Sidebar):
    # A collapsed child of the main panel.
    bl_parent_id = "DREAMTALK_PT_main"
    bl_options = {"DEFAULT_CLOSED"}


class DREAMTALK_UL_mapping(bpy.types.UIList):
    """ARKit channel -> shape key rows; the shape key can be picked from the target's shape keys"""

    bl_idname = "DREAMTALK_UL_mapping"

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0, flt_flag=0):
        obj = bpy.data.objects.get(data.mapping_object)
        key = obj.data.shape_keys if obj is not None and obj.type == "MESH" else None
        row = layout.row(align=True)
        split = row.split(factor=0.45, align=True)
        split.label(text=item.arkit, icon="CHECKMARK" if item.shape_key else "ERROR")
        if key is not None:
            split.prop_search(item, "shape_key", key, "key_blocks", text="")
        else:
            split.prop(item, "shape_key", text="")
        row.prop(item, "is_override", text="", icon="PINNED" if item.is_override else "UNPINNED", emboss=False)


class DREAMTALK_PT_main(_Sidebar, bpy.types.Panel):
    """Audio and emotion in, keyed shape keys out"""

    bl_label = "DREAM-Talk"
    bl_idname = "DREAMTALK_PT_main"

    def draw(self, context):
        layout = property_split(self.layout)
        props = context.scene.dreamtalk
        layout.operator("dreamtalk.add_proxy_head", icon="MONKEY")
        col = layout.column()
        col.prop(props, "target_object")
        obj = operators.target_mesh(context)
        if props.target_object is None:
            col.label(text=f"Active: {obj.name}" if obj is not None else "No mesh selected",
                      icon="OBJECT_DATA" if obj is not None else "ERROR")
        col.prop(props, "start_frame")
        col.separator()
        col.prop(props, "audio_path")
        col.prop(props, "emotion")
        col.prop(props, "intensity", slider=True)
        if operators.emotion_is_keyed(context.scene):
            col.prop(props, "transition")
        col.prop(props, "style_preset")
        col.prop(props, "style_path")
        row = col.row(align=True)
        row.prop(props, "seed")
        row.operator("dreamtalk.randomize_seed", text="", icon="FILE_REFRESH")
        layout.separator()
        big = layout.row()
        big.scale_y = 2.0
        big.operator("dreamtalk.generate", icon="PLAY")


class DREAMTALK_PT_mapping(_SubPanel, bpy.types.Panel):
    """Which shape key each ARKit channel drives"""

    bl_label = "Shape Key Mapping"
    bl_idname = "DREAMTALK_PT_mapping"

    def draw(self, context):
        layout = self.layout
        props = context.scene.dreamtalk
        obj = operators.target_mesh(context)
        row = layout.row(align=True)
        row.prop(props, "preset", text="")
        row.operator("dreamtalk.refresh_mapping", text="", icon="FILE_REFRESH")
        if obj is None:
            layout.label(text="No target mesh", icon="ERROR")
            return
        if props.mapping_object != obj.name:
            layout.label(text=f"Refresh to list {obj.name}'s shape keys", icon="INFO")
            return
        mapped = sum(1 for r in props.mapping if r.shape_key)
        layout.label(text=f"Preset {props.mapping_preset}: {mapped} of {len(props.mapping)} mapped")
        layout.template_list("DREAMTALK_UL_mapping", "", props, "mapping", props, "mapping_index", rows=6)
        op = layout.operator("dreamtalk.refresh_mapping", text="Reset Overrides", icon="LOOP_BACK")
        op.reset = True


class DREAMTALK_PT_head(_Sidebar, bpy.types.Panel):
    """What the generated head rotation drives"""

    bl_label = "Head"
    bl_idname = "DREAMTALK_PT_head"
    bl_parent_id = "DREAMTALK_PT_main"

    def draw(self, context):
        layout = property_split(self.layout)
        props = context.scene.dreamtalk
        layout.prop(props, "head_mode", expand=True)
        if props.head_mode == "NONE":
            return
        layout.prop(props, "head_object")
        head = props.head_object
        if props.head_mode == "BONE":
            if head is not None and head.type == "ARMATURE":
                layout.prop_search(props, "head_bone", head.data, "bones")
            else:
                layout.label(text="Choose an armature", icon="ERROR")
        elif head is None:
            layout.label(text="Rotates the target mesh", icon="INFO")


class DREAMTALK_PT_advanced(_SubPanel, bpy.types.Panel):
    """Sampler settings"""

    bl_label = "Advanced"
    bl_idname = "DREAMTALK_PT_advanced"

    def draw(self, context):
        layout = property_split(self.layout)
        props = context.scene.dreamtalk
        layout.prop(props, "blink")
        layout.prop(props, "lip_source")
        if props.lip_source == "TRANSCRIPT":
            layout.prop(props, "transcript")
        layout.prop(props, "use_sampler_settings")
        col = layout.column()
        col.enabled = props.use_sampler_settings
        col.prop(props, "steps")
        col.prop(props, "guidance")


class DREAMTALK_PT_files(_SubPanel, bpy.types.Panel):
    """Import captures, export the result"""

    bl_label = "Import / Export"
    bl_idname = "DREAMTALK_PT_files"

    def draw(self, context):
        layout = property_split(self.layout)
        props = context.scene.dreamtalk
        col = layout.column()
        col.prop(props, "anim_path")
        col.operator("dreamtalk.import_animation", icon="IMPORT")
        col.separator()
        col.prop(props, "export_format")
        col.operator("dreamtalk.export_animation", icon="EXPORT")


classes = (DREAMTALK_UL_mapping, DREAMTALK_PT_main, DREAMTALK_PT_mapping, DREAMTALK_PT_head,
           DREAMTALK_PT_advanced, DREAMTALK_PT_files)
register, unregister = bpy.utils.register_classes_factory(classes)
