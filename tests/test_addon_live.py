"""The Live operator under bpy: a file input streamed onto the proxy head, recorded into new actions through
Generate's keying path, the pose put back, Esc through the modal's own code, bad input as one error line."""
from __future__ import annotations

import socket

from test_addon import _write_wav, addon_zip, run_session  # noqa: F401  (addon_zip: the module fixture)
from test_extension import pytestmark  # noqa: F401  (same skips and marks)


def test_live_streams_onto_the_proxy_and_records_on_stop(addon_zip, tmp_path):
    _write_wav(tmp_path / "a.wav", 1.0)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.settimeout(0.01)
    port = u.getsockname()[1]
    out = run_session(f'''
    import types
    sc = bpy.context.scene
    sc.render.fps = 30
    bpy.ops.dreamtalk.add_proxy_head()
    s, live = sc.dreamtalk, sc.dreamtalk_live
    key = s.target_object.data.shape_keys
    live.source = TMP + "/a.wav"
    live.livelink = "127.0.0.1:{port}"
    before = [k.value for k in key.key_blocks]
    out["ret"] = sorted(bpy.ops.dreamtalk.live(synchronous=True))
    out["restored"] = [k.value for k in key.key_blocks] == before
    act = key.animation_data.action
    out["action"] = act.name
    out["curves"] = len(curves_of(key))
    out["head_action"] = s.head_object.animation_data.action.name
    cv = curves_of(key)
    fr = [f for f, _ in next(iter(cv.values()))]
    out["frames"] = [min(fr), max(fr)]
    out["jaw_max"] = max(v for p, pts in cv.items() if "jawOpen" in p for _, v in pts)

    # bad input: one error line, nothing started
    live.source = TMP + "/missing.wav"
    out["err"] = error_of(bpy.ops.dreamtalk.live)

    # the modal's own code with stand-in events: Esc stops and puts the pose back
    Op = bpy.types.DREAMTALK_OT_live
    class Stand:
        _start, _tick, _finish, _cleanup, modal = Op._start, Op._tick, Op._finish, Op._cleanup, Op.modal
        _timer = None
        def __init__(self):
            self.reports = []
        def report(self, kind, msg):
            self.reports.append([sorted(kind)[0], msg])
    live.source = TMP + "/a.wav"
    live.record = False
    op = Stand()
    before = [k.value for k in key.key_blocks]
    assert op._start(bpy.context)
    import time
    time.sleep(0.4)
    Ev = types.SimpleNamespace
    r1 = op.modal(bpy.context, Ev(type="TIMER", value="NOTHING"))
    moved = [k.value for k in key.key_blocks] != before
    r2 = op.modal(bpy.context, Ev(type="ESC", value="PRESS"))
    out["modal"] = [sorted(r1), sorted(r2), moved, [k.value for k in key.key_blocks] == before]
    ''', addon_zip, tmp_path)
    got = 0
    try:
        while True:
            u.recv(65536)
            got += 1
    except socket.timeout:
        pass
    u.close()
    assert out["ret"] == ["FINISHED"]
    assert out["action"].startswith("DreamTalk_Live") and out["curves"] == 52
    assert out["head_action"].startswith("DreamTalk_Live_head")
    assert out["frames"][0] == 1 and 29 <= out["frames"][1] <= 31  # 1 s at the scene's 30 fps
    assert out["jaw_max"] > 0.05
    assert "not found" in out["err"]
    assert out["modal"] == [["RUNNING_MODAL"], ["FINISHED"], True, True]
    assert got >= 55  # the Live Link packets sent meanwhile (1 s at 60 fps)


def test_live_panel_draws_with_real_layout_calls():
    """The Live panel's draw() against bpy's own UILayout signatures (the test_addon_draw harness)."""
    import pytest
    pytest.importorskip("bpy")
    from types import SimpleNamespace

    import bpy
    import dreamtalk
    from test_addon_draw import RecordingLayout

    dreamtalk.register()
    try:
        from dreamtalk.addon.live import DREAMTALK_PT_live
        log = []
        DREAMTALK_PT_live.draw(SimpleNamespace(layout=RecordingLayout(log)), SimpleNamespace(scene=bpy.context.scene))
        assert any(n == "operator" and a.get("operator") == "dreamtalk.live" for n, a in log)
        props = [a.get("property") for n, a in log if n == "prop"]
        assert {"source", "lookahead", "livelink", "vmc", "record"} <= set(props)
    finally:
        dreamtalk.unregister()
