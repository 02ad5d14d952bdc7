#!/usr/bin/env python3
"""Fetch the Moonshine tiny English recogniser (MIT) that ``--recognize`` / Lip Sync = Recognize Speech uses.

    python tools/fetch_moonshine.py [--out weights/moonshine] [--cache ~/.cache/dreamtalk/moonshine]

The two int8 networks come from the npm package ``@moonshine-ai/moonshine-js`` (``npm pack``), the tokenizer from
the PyPI package ``useful-moonshine-onnx`` (``pip download``); both are MIT-licensed by their authors (Moonshine AI /
Useful Sensors), whose licence text is written next to the files. Every written file is checked against its sha256.
Without these files recognition falls back to pocketsphinx.
"""
from __future__ import annotations

import argparse
import hashlib
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NPM_PACKAGE = "@moonshine-ai/moonshine-js@0.1.29"
PYPI_PACKAGE = "useful-moonshine-onnx==20251121"
# written name -> (member in its package, sha256)
FROM_NPM = {
    "encoder_model.onnx": ("package/dist/model/tiny/quantized/encoder_model.onnx",
                           "c6fc4b7bc5af75c0591fd157a1f3829b533d18e9769a888fd95a62e470dd4f4a"),
    "decoder_model_merged.onnx": ("package/dist/model/tiny/quantized/decoder_model_merged.onnx",
                                  "eed87831c3a6103534aae7d47a5d485025c659a1323901513961c39fe8a1a367"),
}
FROM_PYPI = {"tokenizer.json": ("moonshine_onnx/assets/tokenizer.json", "b68b995a58b3373db6c4f46864a9db50cd1333d086150ffa2c1096581ede9c10")}
LICENSE_MEMBER = "package/LICENSE"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(out: Path, cache: Path) -> list[Path]:
    """Write the model files into ``out`` (checked, all or nothing) and return their paths."""
    from registry_cache import npm_tarball, pip_wheel  # tools/ is on the path of a tool
    cache.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    with tarfile.open(npm_tarball(NPM_PACKAGE, cache)) as tar:
        for name, (member, _) in FROM_NPM.items():
            files[name] = tar.extractfile(member).read()
        files["LICENSE"] = tar.extractfile(LICENSE_MEMBER).read()
    with zipfile.ZipFile(pip_wheel(PYPI_PACKAGE, cache)) as whl:
        for name, (member, _) in FROM_PYPI.items():
            files[name] = whl.read(member)
        files["LICENSE.tokenizer"] = next(whl.read(n) for n in whl.namelist() if n.endswith(".dist-info/LICENSE"))
    for name, (_, sha) in {**FROM_NPM, **FROM_PYPI}.items():
        if _sha(files[name]) != sha:
            raise SystemExit(f"fetch_moonshine: {name} has sha256 {_sha(files[name])}, expected {sha}")
    files["SOURCE.txt"] = (f"Moonshine tiny English (int8), MIT licence (LICENSE, section 1; LICENSE.tokenizer).\n"
                           f"encoder/decoder: npm {NPM_PACKAGE}; tokenizer.json: PyPI {PYPI_PACKAGE}\n"
                           f"written by tools/fetch_moonshine.py\n").encode()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        for name in files:
            (Path(tmp) / name).replace(out / name)
    return [out / n for n in files]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "weights" / "moonshine"), help="folder to write (default %(default)s)")
    ap.add_argument("--cache", default=str(Path("~/.cache/dreamtalk/moonshine").expanduser()),
                    help="download cache (default %(default)s)")
    args = ap.parse_args()
    for p in fetch(Path(args.out), Path(args.cache)):
        print(f"{p} ({p.stat().st_size / 2 ** 20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
