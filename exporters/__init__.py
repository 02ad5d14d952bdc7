"""Exporters: glTF/GLB, FBX (through Blender), Live Link Face CSV, JSON. They take plain arrays, not bpy objects.

``save.save_output`` writes a FaceAnimation by file suffix (what ``dreamtalk generate -o`` uses).
"""
