"""Every panel / list / preferences ``draw()`` of the add-on runs against a recording stand-in for ``layout``.

No Blender UI is needed: the add-on is registered into the ``bpy`` module and each draw function is called
with a fake layout that checks every call against Blender's own UILayout API (function and argument names,
icon names, property names on the data, operator ids and operator properties, registered UIList names). A typo
in UI code therefore fails here instead of printing an error into a user's console.
"""
from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import pytest

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="bpy (pip install bpy==5.0.1) not installed"),
]

_LAYOUT_RETURNING = {"row", "column", "box", "split", "column_flow", "grid_flow", "menu_pie", "panel"}


class UIError(AssertionError):
    """A draw() call that Blender would reject."""


class OpProps:
    """What ``layout.operator()`` returns: setting an unknown property fails."""

    def __init__(self, idname: str, rna):
        object.__setattr__(self, "_idname", idname)
        object.__setattr__(self, "_names", {p.identifier for p in rna.properties})

    def __setattr__(self, name, value):
        if name not in self._names:
            raise UIError(f"operator {self._idname} has no property {name!r}")
        object.__setattr__(self, name, value)


class RecordingLayout:
    """Records calls, validates them against ``bpy.types.UILayout``; row()/column()/... return a new recorder."""

    def __init__(self, log: list):
        object.__setattr__(self, "_log", log)

    @staticmethod
    def _rna():
        import bpy
        return bpy.types.UILayout.bl_rna

    def __setattr__(self, name, value):
        if name not in self._rna().properties:
            raise UIError(f"UILayout has no attribute {name!r}")
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        fn = self._rna().functions.get(name)
        if fn is None:
            raise UIError(f"UILayout has no function {name!r}")
        params = [p.identifier for p in fn.parameters if not p.is_output]

        def call(*args, **kwargs):
            if len(args) > len(params):
                raise UIError(f"{name}() takes {len(params)} arguments, got {len(args)}")
            bound = dict(zip(params, args))
            for k, v in kwargs.items():
                if k not in params:
                    raise UIError(f"{name}() has no argument {k!r}")
                bound[k] = v
            for p in fn.parameters:
                if p.is_required and not p.is_output and p.identifier not in bound:
                    raise UIError(f"{name}() is missing {p.identifier!r}")
            for k in ("icon",):
                if k in bound and bound[k] not in fn.parameters[k].enum_items:
                    raise UIError(f"{name}(): unknown icon {bound[k]!r}")
            self._log.append((name, bound))
            return self._check(name, bound)
        return call

    def _check(self, name, a):
        import bpy

        if name in ("prop", "prop_search", "props_enum", "prop_enum", "prop_menu_enum", "prop_tabs_enum"):
            _check_prop(a["data"], a["property"])
        if name == "prop_search":
            _check_prop(a["search_data"], a["search_property"])
        if name == "template_list":
            if not hasattr(bpy.types, a["listtype_name"]):
                raise UIError(f"UIList {a['listtype_name']!r} is not registered")
            _check_prop(a["dataptr"], a["propname"])
            _check_prop(a["active_dataptr"], a["active_propname"])
        if name == "operator":
            mod, _, op = a["operator"].partition(".")
            try:
                rna = getattr(getattr(bpy.ops, mod), op).get_rna_type()
            except (AttributeError, KeyError):
                raise UIError(f"no operator {a['operator']!r}") from None
            return OpProps(a["operator"], rna)
        if name in _LAYOUT_RETURNING:
            return RecordingLayout(self._log)
        return None


def _check_prop(data, name):
    if data is None:
        raise UIError(f"prop {name!r} drawn on None")
    if name not in data.bl_rna.properties:
        raise UIError(f"{data.bl_rna.identifier} has no property {name!r}")


@pytest.fixture(scope="module")
def addon():
    """The add-on registered into this process's bpy (from the checkout), with a few objects to draw for."""
    import bpy
    import dreamtalk

    dreamtalk.register()
    made = []
    try:
        yield made
    finally:
        for ob in made:
            data, kind = ob.data, ob.type
            bpy.data.objects.remove(ob)
            (bpy.data.meshes if kind == "MESH" else bpy.data.armatures).remove(data)
        dreamtalk.unregister()


def _objects(made):
    import bpy

    scene = bpy.context.scene
    mesh = bpy.data.objects.new("DrawFace", bpy.data.meshes.new("DrawFace"))
    scene.collection.objects.link(mesh)
    for n in ("Basis", "jawOpen", "eyeBlinkLeft", "custom"):
        mesh.shape_key_add(name=n)
    arm = bpy.data.objects.new("DrawRig", bpy.data.armatures.new("DrawRig"))
    scene.collection.objects.link(arm)
    made += [mesh, arm]
    return mesh, arm


def _states(mesh, arm):
    """Settings that take the draw code down each of its branches."""
    yield "empty", dict(target_object=None, head_mode="NONE"), None
    yield "active mesh", dict(target_object=None, head_mode="OBJECT", head_object=None), mesh
    yield "stale mapping", dict(target_object=mesh, mapping_object="", head_mode="BONE", head_object=None), None
    yield "mapped", dict(target_object=mesh, head_mode="BONE", head_object=arm, use_sampler_settings=True), None
    yield "object head", dict(target_object=mesh, head_mode="OBJECT", head_object=arm), None


def _panels():
    import dreamtalk.addon.panels as panels
    import dreamtalk.addon.portrait as portrait
    import bpy
    return [c for c in panels.classes + portrait.classes if issubclass(c, bpy.types.Panel)]


def test_every_panel_draws_in_every_state(addon):
    import bpy

    mesh, arm = _objects(addon)
    scene = bpy.context.scene
    s = scene.dreamtalk
    s.target_object = mesh
    assert bpy.ops.dreamtalk.refresh_mapping() == {"FINISHED"}
    drawn = set()
    for state, values, active in _states(mesh, arm):
        for k, v in values.items():
            setattr(s, k, v)
        if state == "mapped":
            s.mapping_object = mesh.name
        ctx = SimpleNamespace(scene=scene, active_object=active, preferences=bpy.context.preferences)
        for cls in _panels():
            log = []
            cls.draw(SimpleNamespace(layout=RecordingLayout(log)), ctx)
            assert log, (cls.__name__, state)
            drawn.add(cls.__name__)
            if cls.__name__ == "DREAMTALK_PT_main":
                ops = [a["operator"] for name, a in log if name == "operator"]
                assert "dreamtalk.generate" in ops and "dreamtalk.randomize_seed" in ops
            if cls.__name__ == "DREAMTALK_PT_mapping" and state == "mapped":
                assert any(name == "template_list" for name, _ in log)
    assert drawn == {c.__name__ for c in _panels()}


def test_mapping_list_rows_draw(addon):
    import bpy
    from dreamtalk.addon.panels import DREAMTALK_UL_mapping

    s = bpy.context.scene.dreamtalk
    if not len(s.mapping):
        mesh, _ = _objects(addon)
        s.target_object = mesh
        bpy.ops.dreamtalk.refresh_mapping()
    labels = []
    for item in s.mapping:
        log = []
        DREAMTALK_UL_mapping.draw_item(None, bpy.context, RecordingLayout(log), s, item, 0, s, "mapping_index")
        labels += [a.get("icon") for name, a in log if name == "label"]
    assert len(labels) == 52
    assert labels.count("CHECKMARK") == 2 and labels.count("ERROR") == 50  # jawOpen and eyeBlinkLeft exist


def test_preferences_draw(addon):
    from dreamtalk.addon.preferences import DREAMTALK_AP_preferences

    for style_dir in ("", "/tmp"):
        log = []
        stand = SimpleNamespace(layout=RecordingLayout(log), bl_rna=DREAMTALK_AP_preferences.bl_rna,
                                style_dir=style_dir)
        DREAMTALK_AP_preferences.draw(stand, None)
        assert [a["property"] for name, a in log if name == "prop"][0] == "default_emotion"


def _portrait_states():
    """Portrait settings and status lines that take its draw code down each branch (mediapipe present or not)."""
    long = "wrote portrait.mp4: 45 frames of DT_hello_happy (warp, 3.1 s); the face is upscaled 1.6x"
    yield "warp idle", dict(portrait_backend="warp"), dict(text="", icon="NONE", running=False), True
    yield "warp no mediapipe", dict(portrait_backend="warp"), dict(text="", icon="NONE", running=False), False
    yield "neural", dict(portrait_backend="neural", portrait_checkpoint="/tmp/x.safetensors"), \
        dict(text="Cancelled", icon="CANCEL", running=False), True
    yield "running", dict(portrait_backend="warp"), \
        dict(text="Rendering 42%  (Esc to cancel)", icon="RENDER_ANIMATION", running=True), True
    yield "done", dict(portrait_backend="warp"), dict(text=long, icon="CHECKMARK", running=False), True
    yield "error", dict(portrait_backend="warp"), dict(text="no face found in the portrait", icon="ERROR",
                                                       running=False), True


def test_portrait_panel_draws_in_every_state(addon, monkeypatch):
    import sys
    import textwrap

    import bpy
    from dreamtalk.addon import portrait

    scene = bpy.context.scene
    s = scene.dreamtalk
    ctx = SimpleNamespace(scene=scene, active_object=None, preferences=bpy.context.preferences)
    saved = dict(portrait.STATUS)
    try:
        for state, values, status, has_mediapipe in _portrait_states():
            for k, v in values.items():
                setattr(s, k, v)
            portrait.STATUS.update(status)
            with monkeypatch.context() as m:
                if not has_mediapipe:
                    m.setitem(sys.modules, "mediapipe", None)  # import blocked: find_spec says not there
                log = []
                portrait.DREAMTALK_PT_portrait.draw(SimpleNamespace(layout=RecordingLayout(log)), ctx)
            props = [a["property"] for name, a in log if name == "prop"]
            labels = [a["text"] for name, a in log if name == "label"]
            ops = [a["operator"] for name, a in log if name == "operator"]
            assert ops == ["dreamtalk.render_portrait"], state
            assert props[:2] == ["portrait_image", "portrait_backend"] and "portrait_output" in props, state
            assert ("portrait_checkpoint" in props) == (values["portrait_backend"] == "neural"), state
            note = " ".join(labels)
            if has_mediapipe or values["portrait_backend"] != "warp":
                assert "mediapipe" not in note, state
            else:
                assert note.startswith(" ".join(textwrap.wrap(portrait.MEDIAPIPE_NOTE, 38))), (state, labels)
            if status["text"]:
                assert " ".join(status["text"].split()) in " ".join(note.split()), (state, labels)
            # One render at a time: the operator refuses to start while a render runs.
            assert bpy.ops.dreamtalk.render_portrait.poll() == (not status["running"]), state
    finally:
        portrait.STATUS.update(saved)


@pytest.mark.parametrize("bad", [
    lambda L, s: L.prop(s, "emotoin"),
    lambda L, s: L.row(align=True).operator("dreamtalk.generatte"),
    lambda L, s: setattr(L.operator("dreamtalk.refresh_mapping"), "rest", True),
    lambda L, s: L.label(text="x", icon="NO_SUCH_ICON"),
    lambda L, s: L.colum(),
    lambda L, s: L.prop(s, "seed", txt="Seed"),
    lambda L, s: L.template_list("DREAMTALK_UL_maping", "", s, "mapping", s, "mapping_index"),
    lambda L, s: setattr(L, "scale_yy", 2.0),
])
def test_recorder_catches_typos(addon, bad):
    import bpy

    with pytest.raises(UIError):
        bad(RecordingLayout([]), bpy.context.scene.dreamtalk)
