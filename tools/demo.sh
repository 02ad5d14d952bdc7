#!/usr/bin/env bash
# Install DREAM-Talk into .venv and run the main job on the bundled example.
# Until `dreamtalk generate` exists, the main job converts the bundled Live Link Face take to JSON.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3.11 -m venv --help >/dev/null 2>&1 || ! python3.11 -c "import ensurepip" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3.11 python3.11-venv
fi
[ -x .venv/bin/python ] || python3.11 -m venv .venv
.venv/bin/python -m pip install -q .
mkdir -p out
.venv/bin/dreamtalk convert examples/hello_livelink.csv out/hello.json
