#!/usr/bin/env bash
# The test command: set up (and Debian's Chromium for the report's browser test), then run the fast
# suite (slow tests need --runslow).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_browser.sh
python3 -m pytest -q -p no:cacheprovider "$@"
