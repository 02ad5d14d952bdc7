"""Build the Blender extension zip with Blender's own builder (``blender_ext.py build``).

Usage: ``python tools/build_extension.py [--output-dir DIR]``. Uses the builder shipped inside the ``bpy``
wheel (no Blender binary needed), or ``blender --command extension build`` when only a binary is installed.
"""
from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def find_builder() -> Path | None:
    """Path of ``blender_ext.py`` inside the installed bpy wheel, or None."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        hits = sorted(Path(loc).glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
        if hits:
            return hits[-1]
    return None


def build(output_dir: str | Path, source_dir: str | Path = ROOT) -> Path:
    """Build the extension into ``output_dir`` and return the zip's path."""
    out = Path(output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    builder = find_builder()
    if builder is not None:
        cmd = [sys.executable, str(builder), "build"]
    elif shutil.which("blender"):
        cmd = [shutil.which("blender"), "--factory-startup", "--command", "extension", "build"]
    else:
        raise SystemExit("no Blender extension builder: pip install bpy==5.0.1 or put blender on PATH")
    before = set(out.glob("*.zip"))
    subprocess.run(cmd + ["--source-dir", str(Path(source_dir).resolve()), "--output-dir", str(out)], check=True)
    made = sorted(set(out.glob("*.zip")) - before) or sorted(out.glob("*.zip"))
    if not made:
        raise SystemExit(f"the builder wrote no zip into {out}")
    return made[-1]


def main() -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output-dir", default=str(ROOT / "dist"), help="where the zip goes (default: dist/)")
    args = p.parse_args()
    print(build(args.output_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
