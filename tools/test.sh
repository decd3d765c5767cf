#!/usr/bin/env bash
# Runs every test: type check, unit and GPU kernel tests (vitest, Node + Dawn on lavapipe), end-to-end
# tests in headless Chromium (WebGPU on SwiftShader). Installs what a fresh machine lacks first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-system.sh
bash tools/ensure-node-modules.sh
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== unit and kernel tests"; npx vitest run
echo "== end-to-end tests"; node e2e/run.mjs
