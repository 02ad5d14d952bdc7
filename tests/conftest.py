"""Shared fixtures: the ../shared material (skipped when absent), synthetic animations, running the CLI."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()


def _bpy_version() -> tuple[int, ...]:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return tuple(int(x) for x in version("bpy").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return ()


# The bpy 4.2 wheel crashes at interpreter exit after any call of Blender's own glTF exporter
# (`import bpy; bpy.ops.export_scene.gltf(...)` alone exits 139); sessions that use it cannot end cleanly there.
gltf_exporter_crashes_at_exit = pytest.mark.xfail(
    (4, 0) <= _bpy_version() < (4, 3), strict=True,
    reason="bpy 4.2 wheel: Blender's glTF exporter segfaults at interpreter exit")


def shared_file(rel: str) -> Path:
    """A file under ../shared, or skip the test when it is not there (e.g. a bare clone)."""
    p = SHARED / rel
    if not p.is_file():
        pytest.skip(f"{p} not available")
    return p


@pytest.fixture
def sample_csv() -> Path:
    """The real iPhone Live Link Face take in ../shared/data."""
    return shared_file("data/livelink_sample.csv")


def make_animation(frames: int = 90, fps: float = 30.0, seed: int = 0, gaze: bool = False, **metadata):
    """A smooth random FaceAnimation with nonzero head rotation (and optional eye gaze)."""
    from dreamtalk.core.animation import FaceAnimation

    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] / fps
    phase = rng.uniform(0, 2 * np.pi, (1, 52))
    freq = rng.uniform(0.2, 3.0, (1, 52))
    w = 0.5 + 0.5 * np.sin(2 * np.pi * freq * t + phase)  # (T, 52) in [0, 1]
    head = 0.3 * np.sin(2 * np.pi * np.array([[0.5, 0.3, 0.2]]) * t + np.array([[0.1, 1.0, 2.0]]))  # (T, 3)
    eye = 0.2 * np.cos(2 * np.pi * 0.7 * t + np.arange(6)[None]) if gaze else None
    return FaceAnimation(fps, w.astype(np.float32), head.astype(np.float32), eye_gaze=eye, metadata=metadata)


@pytest.fixture
def make_anim():
    """Factory fixture for :func:`make_animation`."""
    return make_animation


def dreamtalk_command() -> list[str]:
    """The installed ``dreamtalk`` console script beside this Python, else ``python -m dreamtalk``."""
    exe = Path(sys.executable).parent / "dreamtalk"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dreamtalk")
    return [found] if found else [sys.executable, "-m", "dreamtalk"]


@pytest.fixture
def run_cli():
    """Run ``dreamtalk ARGS...`` in a subprocess; returns CompletedProcess with text output."""
    def run(*args, cwd=None):
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run(dreamtalk_command() + [str(a) for a in args], capture_output=True, text=True,
                              cwd=cwd, env=env, timeout=300)
    return run
