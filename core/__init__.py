"""Core: audio, models, sampler, pipeline, training, data synthesis, evaluation, rendering. Never imports bpy."""
