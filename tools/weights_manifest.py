"""Write weights/MANIFEST.json: for every shipped weights file its sha256, size, model type, version and config.

Usage: python tools/weights_manifest.py [WEIGHTS_DIR]
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    """Describe each .npz in the weights folder."""
    from dreamtalk.core.fileio import atomic_write_text, sha256_file
    from dreamtalk.core.weights import load_weights

    d = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "weights"
    files = {}
    for p in sorted(d.glob("*.npz")):
        w = load_weights(p)
        files[p.name] = {"sha256": sha256_file(p), "bytes": p.stat().st_size, "model_type": w.model_type,
                         "model_version": w.model_version, "content_sha256": w.sha256, "config": w.config,
                         "training": w.meta}
    atomic_write_text(d / "MANIFEST.json", json.dumps({"files": files}, indent=1, sort_keys=True) + "\n")
    for name, f in files.items():
        print(f"{name}: {f['bytes'] / 1e6:.2f} MB sha256 {f['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
