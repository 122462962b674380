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

from llmpod.planner.estimates import StartupEstimate
from llmpod.planner.weights import GIB

if TYPE_CHECKING:
    from llmpod.planner.evaluate import Evaluation
    from llmpod.planner.request import PlanRequest

STARTUP_SOURCE = (
    "vLLM 0.26.0 engine logs on one H200 (gpu-data runs, benchmarks/h200/runs/"
    "*/summary.json): torch.compile, graph capture and init-engine phases of 11 "
    "models/settings, cold and with a warm compile cache"
)

#: Imports, CUDA init and worker start before loading, i.e. the entrypoint's
#: "health after" minus vLLM's model loading and init engine: 35-40 s when the
#: machine had started vLLM before, 55-64 s on a first start (H200 runs).
PROCESS_START_S = 45.0
PROCESS_START_PER_EXTRA_RANK_S = 1.0
#: Multi-node replicas also wait for Ray workers to join and NCCL to connect
#: across nodes (not measured here; the LWS example's order of magnitude).
MULTI_NODE_START_S = 120.0
#: Cold torch.compile ("torch.compile took X s in total"): 18-26 s for the 28-36
#: layer models, 34 s for Qwen2.5-32B (64 layers), 36 s for Qwen3-30B-A3B (48).
#: Outlier: Llama-3.1-8B with --quantization fp8 took 43 s (the fp8 quant ops).
COMPILE_BASE_S = 10.0
COMPILE_PER_LAYER_S = 0.40
#: Warm cache: Dynamo still traces, Inductor loads artifacts ("Directly load the
#: compiled graph(s) ... from the cache"): 3.2-3.5 s for 32 layers, 6.3 s for 48.
COMPILE_WARM_BASE_S = 0.5
COMPILE_WARM_PER_LAYER_S = 0.11
#: CUDA graph capture, per captured batch size and layer of the stage: 2.8 ms
#: for dense models (Llama-3.1-8B 4-5 s, Qwen2.5-32B 9 s, at 51 sizes with
#: FULL_AND_PIECEWISE); MoE layers take ~3.5× as long (Qwen3-30B-A3B 21-22 s,
#: Mixtral-8x7B 18 s).
CAPTURE_PER_SIZE_LAYER_S = 0.0028
CAPTURE_MOE_FACTOR = 3.5
#: The rest of "init engine": profiling run, KV cache allocation, sampler and
#: kernel warmup with their JIT compilation (Triton, FlashInfer): 13-23 s cold,
#: 14-16 s with only vLLM's compile cache warm (3 s once every cache on the
#: machine was warm).
PROFILE_AND_KV_S = 20.0
PROFILE_AND_KV_WARM_S = 16.0
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
    moe: bool = False


def startup_inputs(req: PlanRequest, e: Evaluation) -> StartupInputs:
    return StartupInputs(
        checkpoint_bytes=e.checkpoint_bytes,
        read_mb_s=req.weights_read_mb_s,
        stage_layers=math.ceil(req.model.num_layers / e.pp),
        ranks=e.gpus_per_replica,
        nodes=e.nodes_per_replica,
        max_num_seqs=e.settings.max_num_seqs,
        enforce_eager=req.vllm.enforce_eager,
        bf16_tflops=e.gpu.bf16_tflops,
        gpu_vendor=e.gpu.vendor,
        moe=req.model.moe is not None,
    )


def _process_start_s(p: StartupInputs) -> float:
    start = PROCESS_START_S + PROCESS_START_PER_EXTRA_RANK_S * (p.ranks - 1)
    return start + (MULTI_NODE_START_S if p.nodes > 1 else 0.0)


def _capture_s(p: StartupInputs) -> float:
    if p.enforce_eager or p.gpu_vendor == "cpu":
        return 0.0
    speed = REFERENCE_BF16_TFLOPS / p.bf16_tflops if p.bf16_tflops else 1.0
    # Launch-bound, not FLOP-bound: a slower GPU is slower, but not in proportion.
    # typeshed types float ** float as Any (a negative base gives a complex); speed is positive.
    root: float = speed**0.5
    scale = max(1.0, root)
    per_layer = CAPTURE_PER_SIZE_LAYER_S * (CAPTURE_MOE_FACTOR if p.moe else 1.0)
    return per_layer * capture_sizes(p.max_num_seqs) * p.stage_layers * scale


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
    # Eager mode has no compile cache to find: a later start is no faster.
    rest_warm = PROFILE_AND_KV_S if p.enforce_eager else PROFILE_AND_KV_WARM_S
    warm = _compile_s(p, warm=True) + _capture_s(p) + rest_warm
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
        "method": (
            "estimate, not a measurement: checkpoint / volume read bandwidth + "
            "engine init modelled per layer and capture size; " + STARTUP_SOURCE
        ),
    }
