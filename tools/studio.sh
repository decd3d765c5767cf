#!/usr/bin/env bash
# Starts the studio (Vite dev server on http://127.0.0.1:5173) with the embedded demo model loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/ensure-system.sh
bash tools/ensure-node-modules.sh
exec npx vite --host 127.0.0.1 "$@"
