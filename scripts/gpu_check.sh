#!/usr/bin/env bash
# Every GPU check of the book in one run, on a CUDA machine that may have no network and no Jupyter.
#
#     scripts/gpu_check.sh OUT_DIR [BUDGET_SECONDS] [more gpu-check options]
#
# Installs the wheels in .whl/ (made by scripts/gpu_wheels.sh) into /tmp/site without an index, prints
# the machine, then runs `python -m rnn_book gpu-check`, which writes OUT_DIR/gpu.md and the raw
# results, part by part, within the budget (default 480 s). A dry run on a CPU:
#     scripts/gpu_check.sh /tmp/dry 300 --device cpu --chapters 00 --small
set -u
out="${1:?usage: scripts/gpu_check.sh OUT_DIR [BUDGET_SECONDS] [gpu-check options]}"
budget="${2:-480}"
shift $(( $# < 2 ? $# : 2 ))
cd "$(dirname "$0")/.."
mkdir -p "$out"
py="${PYTHON:-python3}"

if compgen -G ".whl/*.whl" > /dev/null; then
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || echo "gpu_check.sh: installing the wheels failed; going on with what is installed"
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"      # this checkout's rnn_book first
export PYTHONUNBUFFERED=1 MPLBACKEND=agg JUPYTER_PLATFORM_DIRS=1
export JUPYTER_RUNTIME_DIR="${JUPYTER_RUNTIME_DIR:-/tmp/jupyter-runtime}"

command -v nvidia-smi > /dev/null && nvidia-smi
"$py" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, 'cuDNN', torch.backends.cudnn.version(), 'GPU', torch.cuda.is_available() and torch.cuda.get_device_name(0))"
exec "$py" -m rnn_book gpu-check --out "$out" --budget "$budget" "$@"
