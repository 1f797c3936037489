#!/usr/bin/env bash
# The test command: set up, then run the fast suite (slow tests need --runslow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m pytest -q -p no:cacheprovider "$@"
