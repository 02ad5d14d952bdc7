"""Exporters: glTF/GLB, FBX (through Blender), Live Link Face CSV, JSON. They take plain arrays, not bpy objects."""
