"""Keying benchmark: 60 s at 30 fps onto 52 ARKit shape keys + a head bone, with the add-on's keying code.

Usage: ``python tools/bench_keying.py [--seconds 60] [--baseline-seconds 2] [--repeat 3]``. Needs the ``bpy``
module (pip install bpy==5.0.1). Prints the fast keying time (best of ``--repeat``) and compares it per key
with a naive ``keyframe_insert``-per-key baseline measured in the same run on a shorter clip.
"""
from __future__ import annotations

import argparse
import sys
import time



def _scene():
    """An empty scene at 30 fps with a 52-shape-key mesh and a one-bone "Head" rig."""
    import bpy
    import numpy as np
    from dreamtalk.exporters import blender_scene as bs
    from dreamtalk.rigs.arkit import ARKIT_NAMES

    bs.reset_session()
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    verts = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], np.float64)
    tris = np.array([[0, 1, 2], [1, 3, 2]])
    deltas = {n: np.full((4, 3), 0.01 * (i + 1)) for i, n in enumerate(ARKIT_NAMES)}
    mesh = bs.new_mesh_object("Face", verts, tris, deltas)
    rig = bs.new_head_rig(mesh, np.zeros(3), name="Rig")
    return scene, mesh, rig


def _animation(seconds: float, fps: float = 30.0):
    import numpy as np
    from dreamtalk.core.animation import FaceAnimation

    t = int(round(seconds * fps))
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, (t, 52)).astype(np.float32)
    head = (0.2 * np.sin(np.arange(t)[:, None] / 9.0 + np.arange(3))).astype(np.float32)
    return FaceAnimation(fps, w, head)


def fast_keying(seconds: float) -> tuple[float, int]:
    """Seconds to key ``seconds`` of animation with addon.keying; and the number of keys written."""
    from dreamtalk.addon import keying
    from dreamtalk.rigs.presets import map_names

    _scene_, mesh, rig = _scene()
    anim = _animation(seconds)
    mapping = map_names(keying.shape_key_names(mesh))
    t0 = time.perf_counter()
    keying.key_mapped_animation(mesh, anim, mapping, 1, "bench")
    keying.key_head_animation(rig, "Head", anim, 1, "bench_head")
    dt = time.perf_counter() - t0
    return dt, anim.num_frames * (52 + 4)


def naive_keying(seconds: float) -> tuple[float, int]:
    """Seconds to key the same data with one ``keyframe_insert`` per key; and the number of keys."""
    from dreamtalk.addon import keying

    _scene_, mesh, rig = _scene()
    anim = _animation(seconds)
    blocks = [mesh.data.shape_keys.key_blocks[n] for n in anim.blendshape_names]
    pb = rig.pose.bones["Head"]
    t0 = time.perf_counter()
    quats = keying.head_local_quaternions(rig, "Head", anim.head_rotation)  # (T, 4), same maths as fast
    for k in range(anim.num_frames):
        for j, kb in enumerate(blocks):
            kb.value = float(anim.weights[k, j])
            kb.keyframe_insert("value", frame=k + 1)
        pb.rotation_quaternion = quats[k].tolist()
        pb.keyframe_insert("rotation_quaternion", frame=k + 1)
    dt = time.perf_counter() - t0
    return dt, anim.num_frames * (52 + 4)


def main() -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--baseline-seconds", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    runs = [fast_keying(args.seconds) for _ in range(max(1, args.repeat))]
    fast, n_fast = min(runs)
    slow, n_slow = naive_keying(args.baseline_seconds)
    per_fast, per_slow = fast / n_fast, slow / n_slow
    print(f"fast keying: {args.seconds:g} s at 30 fps = {n_fast} keys (52 shape keys + 4 head quaternion "
          f"channels) in {fast:.3f} s (best of {len(runs)}; all: {', '.join(f'{r[0]:.3f}' for r in runs)})")
    print(f"naive keyframe_insert: {args.baseline_seconds:g} s = {n_slow} keys in {slow:.3f} s")
    print(f"per key: fast {1e6 * per_fast:.2f} us, naive {1e6 * per_slow:.2f} us -> {per_slow / per_fast:.0f}x faster;"
          f" naive for {args.seconds:g} s would take about {per_slow * n_fast:.1f} s")
    print("PASS" if fast < 1.0 else "FAIL", "(budget: under 1 s)")
    return 0 if fast < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
