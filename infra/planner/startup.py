"""Estimate of how long one replica takes from container start to vLLM /health.

An estimate, labelled as such in the plan (``estimates.startup_s``). Phases, as
vLLM logs them:

* ``process_start``: Python imports, CUDA context, NCCL/Ray setup (before the
  model is built).
* ``weights_read``: the whole checkpoint crosses the weights volume once per
  replica (every GPU reads its shard, all from the same volume), at the spec's
  ``weights.load_bandwidth_mb_s``. vLLM logs it within "Model loading took".
* ``engine_init``: what vLLM logs as "init engine (profile, create kv cache,
  warmup model) took X s": Dynamo tracing and Inductor compilation
  ("torch.compile takes X s in total"), the profiling run, KV allocation and
  CUDA graph capture ("Graph capturing finished in X secs"). ``cold``: nothing
  in the compile cache; ``warm_cache``: the cache of this layout (vLLM version,
  model revision, TP/PP, GPU type) is on the shared volume, so Inductor loads
  artifacts instead of compiling (Dynamo still traces the model).

The coefficients come from engine logs of vLLM 0.26.0 on one H200 (see
``STARTUP_SOURCE``); compile and capture run once per rank in parallel, so they
scale with the layers of one pipeline stage, not with TP. Other GPU generations
are scaled by their dense bf16 throughput relative to the H200 for the GPU-bound
parts only (graph capture); compilation runs on the CPU and is not scaled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.planner.estimates import StartupEstimate
from infra.planner.weights import GIB

if TYPE_CHECKING:
    from infra.planner.evaluate import Evaluation
    from infra.planner.request import PlanRequest

STARTUP_SOURCE = ("vLLM 0.26.0 engine logs on one H200 (benchmarks/h200/startup.csv): "
                  "torch.compile, graph capture and init-engine phases, cold and with a warm "
                  "compile cache")

#: Imports, CUDA init and worker start before loading; multi-GPU replicas start
#: one worker process per rank (in parallel) plus NCCL/custom all-reduce setup.
PROCESS_START_S = 20.0
PROCESS_START_PER_EXTRA_RANK_S = 1.0
#: Multi-node replicas also wait for Ray workers to join and NCCL to connect
#: across nodes (LWS example, observed tens of seconds to minutes).
MULTI_NODE_START_S = 120.0
#: Cold torch.compile: a fixed part (Inductor start, the shared subgraph
#: compiled per compile range) plus Dynamo tracing and graph splitting, which
#: grow with the layers one rank holds.
COMPILE_BASE_S = 12.0
COMPILE_PER_LAYER_S = 0.40
#: Warm cache: Dynamo still traces; Inductor artifacts are loaded from disk.
COMPILE_WARM_BASE_S = 3.0
COMPILE_WARM_PER_LAYER_S = 0.08
#: CUDA graph capture: per captured batch size, per layer of the stage
#: (piecewise graphs are captured layer by layer), plus full decode graphs.
CAPTURE_PER_SIZE_LAYER_S = 0.0045
#: Profiling run, KV cache allocation, sampler warmup.
PROFILE_AND_KV_S = 3.0
#: Reference GPU of the capture coefficient (dense bf16 TFLOPS of the H200).
REFERENCE_BF16_TFLOPS = 989.0
MB = 1024 * 1024


def capture_sizes(max_num_seqs: int) -> int:
    """How many batch sizes vLLM captures CUDA graphs for.

    vLLM (0.11+ ``CompilationConfig``): 1, 2, 4, then every 8 up to 256, then
    every 16, up to ``max_cudagraph_capture_size`` = min(2 × max_num_seqs, 512).
    """
    top = min(2 * max_num_seqs, 512)
    sizes = [s for s in (1, 2, 4) if s <= top]
    sizes += list(range(8, min(top, 255) + 1, 8))
    sizes += list(range(256, top + 1, 16))
    return len(sizes)


@dataclass(frozen=True)
class StartupInputs:
    checkpoint_bytes: float
    read_mb_s: float
    stage_layers: int
    ranks: int
    nodes: int
    max_num_seqs: int
    enforce_eager: bool
    bf16_tflops: float
    gpu_vendor: str


def startup_inputs(req: PlanRequest, e: Evaluation) -> StartupInputs:
    return StartupInputs(
        checkpoint_bytes=e.checkpoint_bytes, read_mb_s=req.weights_read_mb_s,
        stage_layers=math.ceil(req.model.num_layers / e.pp), ranks=e.gpus_per_replica,
        nodes=e.nodes_per_replica, max_num_seqs=e.settings.max_num_seqs,
        enforce_eager=req.vllm.enforce_eager, bf16_tflops=e.gpu.bf16_tflops,
        gpu_vendor=e.gpu.vendor)


def _process_start_s(p: StartupInputs) -> float:
    start = PROCESS_START_S + PROCESS_START_PER_EXTRA_RANK_S * (p.ranks - 1)
    return start + (MULTI_NODE_START_S if p.nodes > 1 else 0.0)


def _capture_s(p: StartupInputs) -> float:
    if p.enforce_eager or p.gpu_vendor == "cpu":
        return 0.0
    speed = REFERENCE_BF16_TFLOPS / p.bf16_tflops if p.bf16_tflops else 1.0
    # Launch-bound, not FLOP-bound: a slower GPU is slower, but not in proportion.
    scale = max(1.0, speed ** 0.5)
    return CAPTURE_PER_SIZE_LAYER_S * capture_sizes(p.max_num_seqs) * p.stage_layers * scale


def _compile_s(p: StartupInputs, warm: bool) -> float:
    if p.enforce_eager:
        return 0.0  # --enforce-eager: no torch.compile, no graphs
    if warm:
        return COMPILE_WARM_BASE_S + COMPILE_WARM_PER_LAYER_S * p.stage_layers
    return COMPILE_BASE_S + COMPILE_PER_LAYER_S * p.stage_layers


def startup_estimate(p: StartupInputs) -> StartupEstimate:
    """``estimates.startup_s`` of the plan JSON (DESIGN.md "CLI contract")."""
    read = p.checkpoint_bytes / (p.read_mb_s * MB)
    cold = _compile_s(p, warm=False) + _capture_s(p) + PROFILE_AND_KV_S
    warm = _compile_s(p, warm=True) + _capture_s(p) + PROFILE_AND_KV_S
    start = _process_start_s(p)
    return {
        "weights_read": round(read, 1),
        "engine_init": {"cold": round(cold, 1), "warm_cache": round(warm, 1)},
        "process_start": round(start, 1),
        # The first replica of a layout compiles; every later one finds the cache.
        "total": round(start + read + cold, 1),
        "total_warm_cache": round(start + read + warm, 1),
        "checkpoint_gib": round(p.checkpoint_bytes / GIB, 2),
        "read_mb_s": p.read_mb_s,
        "method": ("estimate, not a measurement: checkpoint / volume read bandwidth + "
                   "engine init modelled per layer and capture size; " + STARTUP_SOURCE),
    }
