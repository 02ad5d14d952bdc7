"""Synthetic training data: speech with phone timings, face curves, corpus building."""
