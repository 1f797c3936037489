#!/usr/bin/env bash
# The main job on the shipped default model (arcttt.models.DEFAULT_MODEL, no --model needed): program search, then
# TTT + augmented inference where no program explains a task, on a slice of ARC-AGI-1 evaluation; the run
# directory gets a report.html to open in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
arcttt solve --dataset arc1/eval --tasks dev80 --max-tasks 4 --out runs/quickstart "$@"
