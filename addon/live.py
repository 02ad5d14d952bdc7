"""Live in the viewport: a modal operator (Esc stops) that drives the target mesh and head from live speech, and
can record the stream into new actions on stop through Generate's keying path. The stream itself is core.live
(threads, numpy only); this module only moves its newest frame onto the scene on a timer."""
from __future__ import annotations

import threading

import bpy
from bpy.props import BoolProperty, FloatProperty, PointerProperty, StringProperty

from ..core.errors import DreamTalkError, InputError
from . import keying, operators


class DREAMTALK_PG_live(bpy.types.PropertyGroup):
    """Settings of the Live panel (``scene.dreamtalk_live``)"""

    source: StringProperty(name="Input", default="mic",
                           description="mic, an audio file (played at real-time pace), stdin or tcp://HOST:PORT")
    lookahead: FloatProperty(name="Look-ahead (ms)", default=33.0, min=0.0, max=200.0,
                             description="Audio the lips may wait for: more is slightly better lip-sync, more latency")
    record: BoolProperty(name="Record on Stop", default=True,
                         description="Key the streamed take into new actions when the stream stops")
    livelink: StringProperty(name="Live Link", default="",
                             description="Also send Live Link Face to HOST:PORT (empty: none)")
    vmc: StringProperty(name="VMC", default="", description="Also send the VMC protocol to HOST:PORT (empty: none)")


class LiveTarget:
    """The mesh's mapped shape keys and the head, set from streamed frames (main thread only)."""

    def __init__(self, context):
        obj = operators.target_mesh(context)
        self.mapping = operators.mapping_for(context, obj)
        self.obj_name = obj.name
        head, self.bone = operators.head_target(context, obj)
        self.head_name = head.name if head is not None else None
        key = obj.data.shape_keys
        self.saved_keys = {k.name: k.value for k in key.key_blocks}
        self.saved_rot = None
        if head is not None:
            owner, _, _ = self._owner(head)
            if owner.rotation_mode == "AXIS_ANGLE":
                raise InputError(f"{owner.name}: axis-angle rotation is not supported live; use quaternion or Euler")
            self.saved_rot = (owner.rotation_mode, tuple(owner.rotation_quaternion), tuple(owner.rotation_euler))

    def _owner(self, head):
        from ..exporters.blender_scene import rotation_target
        return rotation_target(head, self.bone)

    def apply(self, weights, head_rotation) -> None:
        """Set the shape keys from (52,) weights and the head from a (3,) rotation."""
        import numpy as np
        obj = bpy.data.objects.get(self.obj_name)
        if obj is None or obj.data.shape_keys is None:
            raise InputError(f"target mesh {self.obj_name!r} is gone")
        values, names = self.mapping.apply(np.asarray(weights)[None])  # (1, K) in target order, by name
        blocks = obj.data.shape_keys.key_blocks
        for n, v in zip(names, values[0]):
            if n in blocks:
                blocks[n].value = float(v)
        if self.head_name is not None:
            head = bpy.data.objects.get(self.head_name)
            if head is None:
                return
            self._restore_rotation(head)  # the delta is relative to the pose before the stream
            q = keying.head_local_quaternions(head, self.bone, np.asarray(head_rotation)[None])[0]  # (w, x, y, z)
            owner, _, _ = self._owner(head)
            if owner.rotation_mode == "QUATERNION":
                owner.rotation_quaternion = q
            else:
                from mathutils import Quaternion
                owner.rotation_euler = Quaternion(q).to_euler(owner.rotation_mode)

    def _restore_rotation(self, head) -> None:
        owner, _, _ = self._owner(head)
        mode, q, e = self.saved_rot
        owner.rotation_quaternion, owner.rotation_euler = q, e

    def restore(self) -> None:
        """Put the shape keys and the head back as they were before the stream."""
        obj = bpy.data.objects.get(self.obj_name)
        if obj is not None and obj.data.shape_keys is not None:
            for k in obj.data.shape_keys.key_blocks:
                if k.name in self.saved_keys:
                    k.value = self.saved_keys[k.name]
        head = bpy.data.objects.get(self.head_name) if self.head_name else None
        if head is not None:
            self._restore_rotation(head)

    def record(self, context, anim) -> str:
        """Key ``anim`` (the frames sent) into new actions, exactly as Generate keys its take."""
        scene = context.scene
        obj = bpy.data.objects[self.obj_name]
        start = scene.dreamtalk.start_frame
        fps = keying.scene_fps(scene)
        action, keyed = keying.key_mapped_animation(obj, anim, self.mapping, start, "DreamTalk_Live", fps=fps)
        keying.store_take_metadata(action, anim.metadata)
        msg = f"{action.name}: recorded {anim.duration:.1f} s live on {len(keyed)} shape keys of {obj.name}"
        head = bpy.data.objects.get(self.head_name) if self.head_name else None
        if head is not None:
            ha = keying.key_head_animation(head, self.bone, anim, start, "DreamTalk_Live_head", fps=fps)
            msg += f" and the head ({ha.name})"
        return msg


class DREAMTALK_OT_live(bpy.types.Operator):
    """Drive the target from live speech in the viewport (Esc stops; records into new actions if asked)"""

    bl_idname = "dreamtalk.live"
    bl_label = "Go Live"
    bl_options = {"REGISTER", "UNDO"}

    synchronous: BoolProperty(name="Synchronous", default=False, options={"SKIP_SAVE"},
                              description="Play a file input to its end before returning (scripts, background mode)")

    _timer = None
    _session = None
    _target = None

    @classmethod
    def poll(cls, context) -> bool:
        return context.scene is not None and hasattr(context.scene, "dreamtalk_live")

    def _start(self, context) -> bool:
        """Check everything, then start the stream; False after one error line."""
        from ..exporters.live import start_live
        live = context.scene.dreamtalk_live
        props = context.scene.dreamtalk
        src = live.source.strip()
        if src not in ("mic", "stdin", "-") and not src.startswith("tcp://"):
            src = bpy.path.abspath(src)
        self._latest = None
        self._lock = threading.Lock()
        self._lines: list[str] = []

        def on_frame(frame):
            with self._lock:
                self._latest = frame

        try:
            self._target = LiveTarget(context)
            self._session = start_live(src, livelink=[live.livelink] if live.livelink.strip() else [],
                                       vmc=[live.vmc] if live.vmc.strip() else [], fps=60.0,
                                       lookahead_ms=live.lookahead, emotion=props.emotion,
                                       intensity=props.intensity, record=live.record, on_frame=on_frame,
                                       log=self._lines.append)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            return False
        except OSError as e:
            self.report({"ERROR"}, f"cannot start the live input: {e.strerror or e}")
            return False
        self._emotion = (props.emotion, props.intensity)
        return True

    def _tick(self, context) -> None:
        """Apply the newest frame and pass panel emotion changes to the stream."""
        props = context.scene.dreamtalk
        if (props.emotion, props.intensity) != self._emotion:
            self._emotion = (props.emotion, props.intensity)
            try:
                self._session.set_emotion(props.emotion, props.intensity)
            except DreamTalkError as e:
                self.report({"WARNING"}, str(e))
        with self._lock:
            frame, self._latest = self._latest, None
        if frame is not None:
            self._target.apply(frame.weights, frame.head)
        for line in self._lines[:]:
            self._lines.remove(line)
            self.report({"INFO"}, f"DREAM-Talk live: {line}")

    def _finish(self, context) -> set:
        """Stop the stream, put the pose back, key the recording if asked."""
        s = self._session
        s.stop()
        s.wait(12.0)  # its threads finish their block first (milliseconds; seconds only on a loaded machine)
        self._target.restore()
        if s.error:
            self.report({"ERROR"}, s.error)
            return {"CANCELLED"}
        if context.scene.dreamtalk_live.record and s.recorded:
            try:
                self.report({"INFO"}, self._target.record(context, s.recording()))
            except DreamTalkError as e:
                self.report({"ERROR"}, str(e))
                return {"CANCELLED"}
            return {"FINISHED"}
        self.report({"INFO"}, f"DREAM-Talk live: stopped after {s.sent} frames")
        return {"FINISHED"}

    def execute(self, context):
        """Synchronous: stream a file input to its end, applying every frame, then finish."""
        import time
        if not self._start(context):
            return {"CANCELLED"}
        while not self._session.done.is_set():
            self._tick(context)
            time.sleep(1 / 60)
        self._tick(context)
        return self._finish(context)

    def invoke(self, context, event):
        """Start the stream and the 60 Hz timer; synchronous in background mode or without a window."""
        if bpy.app.background or self.synchronous or context.window is None:
            return self.execute(context)
        if not self._start(context):
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(1 / 60, window=context.window)
        wm.modal_handler_add(self)
        if context.workspace is not None:
            context.workspace.status_text_set("DREAM-Talk: live (Esc to stop)")
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        """Esc stops; each timer event moves the newest frame onto the scene."""
        stop = (event.type == "ESC" and event.value == "PRESS") or self._session.done.is_set()
        if not stop and event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            self._tick(context)
        except DreamTalkError as e:
            self.report({"ERROR"}, str(e))
            stop = True
        if context.area is not None:
            context.area.tag_redraw()
        if not stop:
            return {"RUNNING_MODAL"}
        self._cleanup(context)
        return self._finish(context)

    def _cleanup(self, context) -> None:
        """Remove the timer and clear the status bar."""
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        if context.workspace is not None:
            context.workspace.status_text_set(None)

    def cancel(self, context):
        """Blender ends the modal (file load, window closed): stop the stream."""
        if self._session is not None:
            self._session.stop()
            self._target.restore()
        self._cleanup(context)


class DREAMTALK_PT_live(bpy.types.Panel):
    """Live speech in, face out in the viewport (and to Unreal / VTuber apps)"""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "DREAM-Talk"
    bl_label = "Live"
    bl_idname = "DREAMTALK_PT_live"
    bl_parent_id = "DREAMTALK_PT_main"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        """Input, look-ahead, targets, recording, Go Live."""
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        live = context.scene.dreamtalk_live
        layout.prop(live, "source")
        layout.prop(live, "lookahead")
        layout.prop(live, "livelink")
        layout.prop(live, "vmc")
        layout.prop(live, "record")
        layout.label(text="Emotion and Intensity above change it live", icon="INFO")
        layout.operator("dreamtalk.live", icon="REC")


classes = (DREAMTALK_PG_live, DREAMTALK_OT_live, DREAMTALK_PT_live)
_register_classes, _unregister_classes = bpy.utils.register_classes_factory(classes)


def register() -> None:
    """Register the live classes and ``Scene.dreamtalk_live``."""
    _register_classes()
    bpy.types.Scene.dreamtalk_live = PointerProperty(type=DREAMTALK_PG_live)


def unregister() -> None:
    """Remove ``Scene.dreamtalk_live`` and the live classes."""
    del bpy.types.Scene.dreamtalk_live
    _unregister_classes()
