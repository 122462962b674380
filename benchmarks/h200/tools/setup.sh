#!/bin/bash
# Device side, from the repository root, in the call that carries the last bundle part:
# unpack vLLM 0.26.0 (NOTES-gpu.md), start both lanes in their own sessions (they outlive
# this call), then wait and collect like collect.py.   usage: setup.sh LAST_PART [MAX_S]
# H200_KIT: the carried folder with tools/, tok/<vocab_size>/ (one full-vocabulary tokenizer per
# vocabulary the scenarios' configs use, README step 1), models/ and scenarios.json (default .gpu).
T0=$(date +%s)
mkdir -p /tmp/parts /tmp/h200/app/llmpod && cp ".gpu/parts/$1" /tmp/parts/ || exit 1
PY=python3; $PY -c 'import torch' 2>/dev/null || PY=/opt/torch/.venv/bin/python3
export H200_PY=$PY
ls -la /tmp/parts
cat /tmp/parts/w.* | tar x -C /tmp || exit 1
$PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site /tmp/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
$PY -c "import vllm, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)" || exit 1
cp infra/llmpod/__init__.py /tmp/h200/app/llmpod/ && cp -r infra/llmpod/image /tmp/h200/app/llmpod/ || exit 1
K=${H200_KIT:-.gpu}
cp -r "$K/tools" "$K/tok" "$K/models" "$K/scenarios.json" /tmp/h200/ || exit 1
$PY /tmp/h200/tools/driver.py --prepare /tmp/h200/scenarios.json || exit 1
nvidia-smi -L; N=$(nvidia-smi -L | wc -l)
cd /tmp/h200 || exit 1
export VLLM_USE_FLASHINFER_SAMPLER=0 HF_HUB_OFFLINE=1 VLLM_NO_USAGE_STATS=1 PYTHONUNBUFFERED=1
if [ "$N" -ge 2 ]; then
  setsid nohup $PY tools/driver.py scenarios.json 0 0 8000 >lane0.log 2>&1 </dev/null &
  setsid nohup $PY tools/driver.py scenarios.json 1 1 8100 >lane1.log 2>&1 </dev/null &
else
  setsid nohup bash -c "$PY tools/driver.py scenarios.json 0 0 8000 >lane0.log 2>&1; \
    $PY tools/driver.py scenarios.json 1 0 8100 >lane1.log 2>&1" </dev/null >/dev/null 2>&1 &
fi
echo "setup took $(( $(date +%s) - T0 )) s; lanes started on $N GPU(s)"
exec $PY /tmp/h200/tools/collect.py $(( ${2:-540} - ($(date +%s) - T0) ))
