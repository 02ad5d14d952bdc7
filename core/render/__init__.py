"""Rendering: a numpy software rasterizer, proxy-head preview videos (MP4 with audio), contact sheets, plots."""
