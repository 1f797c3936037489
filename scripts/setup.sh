#!/usr/bin/env bash
# Installs arcttt with its engine (CPU torch wheel pinned; see README) and test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check "torch==2.13.0" -e ".[engine,test,ray,bench]"
