"""Write weights/phone_gmm.npz: the context-independent part of pocketsphinx's en-us acoustic model as arrays.

Usage: python tools/extract_phone_gmm.py [OUT]   (needs the pocketsphinx package, only for this step)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Extract, save and print the sha256."""
    from importlib.metadata import version

    import pocketsphinx

    from dreamtalk.core.lips.phone_scores import extract_model, save_model

    model_dir = Path(os.path.dirname(pocketsphinx.__file__)) / "model" / "en-us" / "en-us"
    out = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "weights" / "phone_gmm.npz"
    digest = save_model(extract_model(model_dir), out, f"pocketsphinx {version('pocketsphinx')} model/en-us/en-us")
    print(f"{out}: sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
