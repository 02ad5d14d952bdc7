"""Rigs: the ARKit spec, name presets for real rigs, and the procedural proxy head. Never imports bpy."""
from .arkit import (ARKIT_NAMES, NUM_BLENDSHAPES, LLF_COLUMNS, LLF_BLENDSHAPE_ORDER, LLF_POSE_COLUMNS,
                    ALPHABETICAL_NAMES, GROUPS, MIRROR_PAIRS, MOUTH_SET, EMOTION_MOUTH, UPPER_FACE,
                    reorder, convert_order, canonical_name, order)

__all__ = ["ARKIT_NAMES", "NUM_BLENDSHAPES", "LLF_COLUMNS", "LLF_BLENDSHAPE_ORDER", "LLF_POSE_COLUMNS",
           "ALPHABETICAL_NAMES", "GROUPS", "MIRROR_PAIRS", "MOUTH_SET", "EMOTION_MOUTH", "UPPER_FACE",
           "reorder", "convert_order", "canonical_name", "order"]
