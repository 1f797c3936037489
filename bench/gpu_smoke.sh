#!/usr/bin/env bash
# One prepared GPU check (under 8 minutes): install, run the CUDA/vLLM tests, time TTT + inference.
#
#   bash bench/gpu_smoke.sh                 # writes bench/results/gpu_smoke_<hostname>.json
#   WITH_VLLM=1 bash bench/gpu_smoke.sh     # also installs vllm (large; may replace torch)
#
# Budget: install <= ~1 min, tests <= 4 min, speed <= 3 min (each step has its own timeout).
set -uo pipefail
cd "$(dirname "$0")/.."
host=$(hostname)
out="bench/results/gpu_smoke_${host}.json"
mkdir -p bench/results

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"

echo "== install"
if ! timeout 120 pip install -q -e '.[engine,test]'; then
  # offline machines: the dependencies may already be there; install arcttt alone
  timeout 60 pip install -q --no-deps --no-build-isolation -e . || true
fi
if [ "${WITH_VLLM:-0}" = 1 ]; then timeout 300 pip install -q -e '.[vllm]' || echo "vllm install failed"; fi
python -c "import arcttt, torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" || exit 1

echo "== tests (CUDA, vLLM)"
timeout 240 python -m pytest -q -p no:cacheprovider -rs tests/test_cuda.py tests/test_vllm.py
rc=$?
echo "pytest exit status: $rc"

echo "== speed"
timeout "${SPEED_TIMEOUT:-200}" python bench/gpu_speed.py --tasks "${SPEED_TASKS:-2}" --ttt-steps 10 \
  --pytest-rc "$rc" --out "$out"
speed_rc=$?
echo "speed exit status: $speed_rc; results in $out"
[ "$rc" = 0 ] && [ "$speed_rc" = 0 ]
