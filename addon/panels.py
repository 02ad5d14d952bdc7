"""The sidebar panel: 3D Viewport > Sidebar (N) > DREAM-Talk."""
from __future__ import annotations

import bpy


class DREAMTALK_PT_main(bpy.types.Panel):
    """Inputs and actions of DREAM-Talk"""

    bl_label = "DREAM-Talk"
    bl_idname = "DREAMTALK_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "DREAM-Talk"

    def draw(self, context):
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        props = context.scene.dreamtalk
        col = layout.column()
        col.prop(props, "target_object")
        col.prop(props, "start_frame")
        col.separator()
        col.prop(props, "audio_path")
        col.prop(props, "emotion")
        col.prop(props, "intensity")
        col.prop(props, "seed")
        col.separator()
        col.prop(props, "anim_path")
        col.operator("dreamtalk.import_animation", icon="IMPORT")


classes = (DREAMTALK_PT_main,)
register, unregister = bpy.utils.register_classes_factory(classes)
