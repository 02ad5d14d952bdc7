"""Rigs: the ARKit spec, name presets for real rigs, and the procedural proxy head. Never imports bpy."""
from .arkit import (ARKIT_NAMES, NUM_BLENDSHAPES, LLF_COLUMNS, LLF_BLENDSHAPE_ORDER, LLF_POSE_COLUMNS,
                    ALPHABETICAL_NAMES, GROUPS, MIRROR_PAIRS, MOUTH_SET, EMOTION_MOUTH, UPPER_FACE,
                    reorder, convert_order, canonical_name, order)
from .presets import PRESETS, Mapping, detect_preset, map_names, project_weights, apply_to_rig

__all__ = ["ARKIT_NAMES", "NUM_BLENDSHAPES", "LLF_COLUMNS", "LLF_BLENDSHAPE_ORDER", "LLF_POSE_COLUMNS",
           "ALPHABETICAL_NAMES", "GROUPS", "MIRROR_PAIRS", "MOUTH_SET", "EMOTION_MOUTH", "UPPER_FACE",
           "reorder", "convert_order", "canonical_name", "order",
           "PRESETS", "Mapping", "detect_preset", "map_names", "project_weights", "apply_to_rig"]
