"""Exporters: the face leaves the library here. Files: glTF/GLB (``gltf.py``, with key reduction in
``keyreduce.py``), FBX through Blender (``fbx.py``, ``blender_scene.py``), and by suffix ``save.save_output``
(what ``dreamtalk generate -o`` uses). Streams: Live Link Face UDP (``livelink_udp.py``), VMC over OSC (``vmc.py``,
``osc.py``), wired to the core live engine by ``live.start_live``. They take plain arrays, not bpy objects
(``blender_scene.py`` aside).
"""
