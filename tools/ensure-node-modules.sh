#!/usr/bin/env bash
# Installs npm packages from the lock file when node_modules is missing or older than the lock.
# onnxruntime-node's postinstall would download CUDA files (no network for that here): skip it.
set -euo pipefail
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
fi
