"""Build the Blender extension zip with Blender's own builder (``blender_ext.py build``).

Usage: ``python tools/build_extension.py [--output-dir DIR] [--wheels [--platforms P,...]]``. Uses the builder
shipped inside the ``bpy`` wheel (no Blender binary needed), or ``blender --command extension build`` when only a
binary is installed. ``--wheels`` bundles pocketsphinx (Lip Sync = Transcript / Recognize Speech) and onnxruntime
(which runs the Moonshine recogniser of Recognize Speech, ``core/lips/asr.py``) as Python wheels, adds the Moonshine
model folder ``weights/moonshine`` (fetched by ``tools/fetch_moonshine.py`` when missing), and writes one zip per
platform (Blender's ``--split-platforms``); missing wheels are fetched from PyPI into ``--wheels-dir`` first.
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


POCKETSPHINX = "pocketsphinx==5.1.1"
ONNXRUNTIME = "onnxruntime==1.23.2"  # the newest release with wheels for all four platforms and CPython 3.11
BUNDLED = (POCKETSPHINX, ONNXRUNTIME)
MODEL_EXCLUDE = '  "/weights/moonshine/",\n'  # the manifest line that keeps the model out of the plain zip
PYTHON_VERSION = "3.11"  # Blender 4.2-5.0 embed CPython 3.11
# Blender platform -> (pip platform tag to fetch: the newest OS the wheels may need, pip also accepts older ones;
# OS part of a matching wheel name, accepted architectures). A macOS universal2 wheel serves both Macs; onnxruntime
# 1.23 needs macOS 13.
PLATFORMS = {"linux-x64": ("manylinux_2_28_x86_64", "linux", ("x86_64",)),
             "windows-x64": ("win_amd64", "win", ("amd64",)),
             "macos-arm64": ("macosx_13_0_arm64", "macosx", ("arm64", "universal2")),
             "macos-x64": ("macosx_13_0_x86_64", "macosx", ("x86_64", "universal2"))}
COPY_IGNORE = (".git", ".venv", "venv", "node_modules", "dist", "build", "data", "runs", "out", "__pycache__",
               "*.egg-info", ".pytest_cache")


def _builder_cmd() -> list[str]:
    builder = find_builder()
    if builder is not None:
        return [sys.executable, str(builder), "build"]
    if shutil.which("blender"):
        return [shutil.which("blender"), "--factory-startup", "--command", "extension", "build"]
    raise SystemExit("no Blender extension builder: pip install bpy==5.0.1 or put blender on PATH")


def build(output_dir: str | Path, source_dir: str | Path = ROOT) -> Path:
    """Build the extension into ``output_dir`` and return the zip's path."""
    out = Path(output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.zip"))
    subprocess.run(_builder_cmd() + ["--source-dir", str(Path(source_dir).resolve()), "--output-dir", str(out)],
                   check=True)
    made = sorted(set(out.glob("*.zip")) - before) or sorted(out.glob("*.zip"))
    if not made:
        raise SystemExit(f"the builder wrote no zip into {out}")
    return made[-1]


def fetch_wheels(wheels_dir: str | Path, platforms: list[str], packages: tuple[str, ...] = BUNDLED) -> list[Path]:
    """The wheel of each package for each platform in ``wheels_dir``, downloaded from PyPI when missing."""
    d = Path(wheels_dir).resolve()
    d.mkdir(parents=True, exist_ok=True)
    found = []
    for package in packages:
        name, version = package.split("==")
        for plat in platforms:
            tag, os_part, archs = PLATFORMS[plat]

            def matches(w: Path) -> bool:
                return os_part in w.name and any(a in w.name for a in archs)
            have = [w for w in sorted(d.glob(f"{name}-{version}-*.whl")) if matches(w)]
            if not have:
                subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                                "--platform", tag, "--python-version", PYTHON_VERSION, package, "-d", str(d)],
                               check=True)
                have = [w for w in sorted(d.glob(f"{name}-{version}-*.whl")) if matches(w)]
            if not have:
                raise SystemExit(f"no {package} wheel for {plat} in {d}")
            found.append(have[0])
    return sorted(set(found))


def fetch_moonshine_model(source_dir: Path) -> Path:
    """``weights/moonshine`` of the source, where the zips take the Moonshine model from: fetched when missing."""
    d = source_dir / "weights" / "moonshine"
    if not (d / "encoder_model.onnx").is_file():
        sys.path.insert(0, str(ROOT / "tools"))  # the fetch tool and its download helpers
        try:
            from fetch_moonshine import fetch
            fetch(d, Path("~/.cache/dreamtalk/moonshine").expanduser())
        finally:
            sys.path.pop(0)
    return d


def build_with_wheels(output_dir: str | Path, wheels_dir: str | Path, platforms: list[str],
                      source_dir: str | Path = ROOT) -> list[Path]:
    """One zip per platform, each carrying that platform's pocketsphinx and onnxruntime wheels and the Moonshine
    model; returns the zips' paths."""
    import tempfile

    wheels = fetch_wheels(wheels_dir, platforms)
    fetch_moonshine_model(Path(source_dir).resolve())  # the copy of the source below then carries it
    out = Path(output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(Path(source_dir).resolve(), src, ignore=shutil.ignore_patterns(*COPY_IGNORE))
        (src / "wheels").mkdir()
        for w in wheels:
            shutil.copy(w, src / "wheels" / w.name)
        manifest = (src / "blender_manifest.toml").read_text(encoding="utf-8")
        if MODEL_EXCLUDE not in manifest:
            raise SystemExit(f"blender_manifest.toml lacks the line {MODEL_EXCLUDE.strip()!r}")
        manifest = manifest.replace(MODEL_EXCLUDE, "")
        lines = [f'platforms = [{", ".join(repr(p).replace(chr(39), chr(34)) for p in platforms)}]',
                 "wheels = [" + ", ".join(f'"./wheels/{w.name}"' for w in wheels) + "]"]
        # Top-level keys must come before the first [table].
        head, sep, rest = manifest.partition("\n[")
        (src / "blender_manifest.toml").write_text(head + "\n" + "\n".join(lines) + "\n" + sep + rest,
                                                   encoding="utf-8")
        before = set(out.glob("*.zip"))
        subprocess.run(_builder_cmd() + ["--source-dir", str(src), "--output-dir", str(out), "--split-platforms"],
                       check=True)
    made = sorted(set(out.glob("*.zip")) - before)
    if len(made) != len(platforms):
        raise SystemExit(f"expected {len(platforms)} zips in {out}, the builder wrote {len(made)}")
    return made


def main() -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--output-dir", default=str(ROOT / "dist"), help="where the zip goes (default: dist/)")
    p.add_argument("--wheels", action="store_true",
                   help=f"bundle {POCKETSPHINX}, {ONNXRUNTIME} and the Moonshine model; one zip per platform")
    p.add_argument("--platforms", default=",".join(PLATFORMS),
                   help=f"with --wheels: comma list of {', '.join(PLATFORMS)} (default all)")
    p.add_argument("--wheels-dir", default=str(ROOT / "build" / "wheels"),
                   help="with --wheels: where wheels are cached (default build/wheels)")
    p.add_argument("--fetch-only", action="store_true",
                   help="only fetch what --wheels bundles (the wheels of --platforms and the Moonshine model); "
                        "tools/test.sh does this so the tests build zips offline")
    args = p.parse_args()
    if not (args.wheels or args.fetch_only):
        print(build(args.output_dir))
        return 0
    plats = [x.strip() for x in args.platforms.split(",") if x.strip()]
    bad = [x for x in plats if x not in PLATFORMS]
    if bad or not plats:
        raise SystemExit(f"unknown platform {', '.join(bad) or '(none)'}; choose from {', '.join(PLATFORMS)}")
    if args.fetch_only:
        for path in fetch_wheels(args.wheels_dir, plats) + [fetch_moonshine_model(ROOT)]:
            print(path)
        return 0
    for z in build_with_wheels(args.output_dir, args.wheels_dir, plats):
        print(f"{z}  {z.stat().st_size / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
