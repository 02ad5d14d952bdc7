"""Still images of a clip: a contact sheet of rendered frames and a plot of the main curves."""
from __future__ import annotations

import math

import numpy as np

from ..animation import FaceAnimation
from ..errors import InputError

# Curves shown per panel (averaged left/right pairs keep the plot readable).
CURVE_PANELS: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = (
    ("mouth", (("jawOpen", ("jawOpen",)), ("mouthClose", ("mouthClose",)), ("mouthFunnel", ("mouthFunnel",)),
               ("mouthPucker", ("mouthPucker",)), ("mouthSmile", ("mouthSmileLeft", "mouthSmileRight")),
               ("mouthFrown", ("mouthFrownLeft", "mouthFrownRight")),
               ("mouthStretch", ("mouthStretchLeft", "mouthStretchRight")))),
    ("brows", (("browInnerUp", ("browInnerUp",)), ("browDown", ("browDownLeft", "browDownRight")),
               ("browOuterUp", ("browOuterUpLeft", "browOuterUpRight")))),
    ("eyes", (("eyeBlinkLeft", ("eyeBlinkLeft",)), ("eyeBlinkRight", ("eyeBlinkRight",)),
              ("eyeWide", ("eyeWideLeft", "eyeWideRight")), ("eyeSquint", ("eyeSquintLeft", "eyeSquintRight")),
              ("cheekSquint", ("cheekSquintLeft", "cheekSquintRight")))),
)


def _check(anim) -> None:
    if not isinstance(anim, FaceAnimation):
        raise InputError("expected a FaceAnimation")


def contact_sheet(anim: FaceAnimation, out_png, n: int = 12, view: str = "front", tile: int = 256,
                  columns: int | None = None) -> dict:
    """Write a PNG grid of ``n`` evenly spaced rendered frames, each labelled with its frame number and time."""
    from PIL import Image, ImageDraw

    from ..fileio import atomic_path
    from .preview import HeadRenderer, check_size

    _check(anim)
    if not isinstance(n, int) or n < 1 or n > 200:
        raise InputError(f"contact sheet needs 1..200 frames, got {n}")
    tile = check_size(tile)
    n = min(n, anim.num_frames)
    cols = columns or min(n, 4 if n <= 12 else 6)
    rows = math.ceil(n / cols)
    idx = np.unique(np.round(np.linspace(0, anim.num_frames - 1, n)).astype(int))
    r = HeadRenderer(view, tile)
    sheet = Image.new("RGB", (cols * tile, rows * tile), (12, 14, 18))
    draw = ImageDraw.Draw(sheet)
    ht = anim.head_translation
    for k, f in enumerate(idx):
        img = r.frame(anim.weights[f], anim.head_rotation[f], None if ht is None else ht[f])
        x, y = (k % cols) * tile, (k // cols) * tile
        sheet.paste(Image.fromarray(img), (x, y))
        draw.text((x + 6, y + 4), f"#{f}  {f / anim.fps:.2f}s", fill=(235, 235, 235))
    with atomic_path(out_png) as tmp:
        sheet.save(tmp, format="PNG")
    return {"path": str(out_png), "frames": [int(i) for i in idx], "size": sheet.size}


def plot_curves(anim: FaceAnimation, out_png, title: str | None = None) -> dict:
    """Write a PNG with four panels over time: mouth, brows, eyes (blendshape weights) and head rotation (degrees)."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..fileio import atomic_path

    _check(anim)
    t = anim.times
    fig, axes = plt.subplots(4, 1, figsize=(11, 9), sharex=True, constrained_layout=True)
    try:
        for ax, (panel, curves) in zip(axes, CURVE_PANELS):
            for label, names in curves:
                ax.plot(t, np.mean([anim.channel(nm) for nm in names], axis=0), label=label, lw=1.2)
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel(panel)
            ax.grid(alpha=0.3)
            ax.legend(loc="upper right", fontsize=7, ncol=4)
        ax = axes[3]
        for k, label in enumerate(("pitch", "yaw", "roll")):
            ax.plot(t, np.degrees(anim.head_rotation[:, k]), label=label, lw=1.2)
        ax.set_ylabel("head (deg)")
        ax.set_xlabel("time (s)")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=7, ncol=3)
        md = anim.metadata
        head = title or " ".join(str(x) for x in (md.get("emotion"), md.get("intensity")) if x)
        fig.suptitle(f"{head}  {anim.num_frames} frames @ {anim.fps:g} fps".strip(), fontsize=10)
        with atomic_path(out_png) as tmp:
            fig.savefig(tmp, format="png", dpi=90)
    finally:
        plt.close(fig)
    return {"path": str(out_png)}
