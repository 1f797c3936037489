#!/usr/bin/env bash
# One GPU lease (2026-11-26): two candidate next stages of arcttt-tiny trained side by side, both on
# ARC-AGI-1 + ARC-AGI-2 training (overlap with evaluation dropped) and fresh generator tasks:
#   a: the same 4-layer shape; b: deepened to 6 layers (new layers start as identity).
# They are compared afterwards on this CPU with `bench/accuracy.py --suite select40`, never on dev80.
#
#   OUT_DIR=runs/gpu-stage5 TRAIN_SECONDS=420 bash scripts/train_gpu_stage5.sh
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-runs/gpu-stage5}
mkdir -p "$out"
source scripts/gpu_env.sh
export CHECKS=0 TRAIN_SECONDS=${TRAIN_SECONDS:-420} BATCH=${BATCH:-128} LR=${LR:-1.5e-3} DATA=arc1/train,arc2/train
OUT_DIR=$out/a STAGE_OUT=runs/tiny-stage5a SEED=5 EXTRA_ARGS=--mixed-bf16 \
  bash scripts/train_gpu.sh >"$out/a.out" 2>&1 &
OUT_DIR=$out/b STAGE_OUT=runs/tiny-stage5b SEED=6 EXTRA_ARGS="--mixed-bf16 --grow-layers 6" \
  bash scripts/train_gpu.sh >"$out/b.out" 2>&1 &
wait %1; rc_a=$?
wait %2; rc_b=$?
for c in a b; do echo "== $c"; grep -v '^finetune' "$out/$c.out" | tail -c 800; done
echo "exit status: a=$rc_a b=$rc_b"
[ "$rc_a" = 0 ] || [ "$rc_b" = 0 ]
