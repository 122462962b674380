"""What the planner is asked: one model, candidate GPUs, and targets.

Both the CLI and the ServingSpec build a ``PlanRequest``; the planner never
reads raw config or CLI flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmpod.gpus.spec import GpuSpec
from llmpod.models.facts import ModelFacts, QuantFacts
from llmpod.planner.versions import DEFAULT_VLLM_VERSION
from llmpod.planner.workload import Workload
from llmpod.spec.vllm_options import VllmOptions


@dataclass(frozen=True)
class Targets:
    """Service-level targets. ``None`` = not constrained."""

    #: Simultaneous requests that must fit at full context, across all replicas.
    concurrency: int = 1
    #: Alternatively, a KV-token budget across all replicas.
    kv_tokens: int | None = None
    #: Time to first token for a lone 512-token prompt (estimate), seconds.
    ttft_s: float | None = None
    #: Per-request inter-token latency at concurrency 1 (estimate), seconds.
    inter_token_latency_s: float | None = None
    #: Aggregate output tokens/s across replicas at the benchmark scenario.
    throughput_tokens_per_s: float | None = None
    #: At the request's workload (simulated): 95th-percentile TTFT and ITL, seconds.
    ttft_p95_s: float | None = None
    itl_p95_s: float | None = None


@dataclass(frozen=True)
class PlanRequest:
    model: ModelFacts
    gpus: tuple[GpuSpec, ...]
    model_path: str
    served_model_name: str
    tp: int | None = None
    pp: int | None = None
    #: The user's engine options (infra/llmpod/spec/vllm_options.py, the one definition).
    vllm: VllmOptions = field(default_factory=VllmOptions)
    #: Facts of ``vllm.speculative_model`` (draft model or EAGLE head), resolved
    #: by whoever builds the request; None without one.
    draft: ModelFacts | None = None
    #: Where the draft's files are in the container (its --speculative-config "model").
    draft_path: str | None = None
    #: (name, directory in the container) of each of ``vllm.adapters``, sorted by
    #: name: what --lora-modules serves.
    adapter_paths: tuple[tuple[str, str], ...] = ()
    max_model_len: int | None = None
    kv_cache_dtype: str = "auto"
    dtype: str = "auto"
    #: Quantization the checkpoint does not declare (vLLM quantizes at load).
    online_quantization: QuantFacts | None = None
    vllm_version: str = DEFAULT_VLLM_VERSION
    revision: str | None = None
    max_gpus_per_replica: int = 64
    max_nodes_per_replica: int = 4
    min_replicas: int = 1
    max_replicas: int = 64
    targets: Targets = field(default_factory=Targets)
    #: The traffic to size for (planner/simulate.py); None: worst-case sizing only.
    workload: Workload | None = None
    #: Ways out only (planner/suggest.py): size a layout for the workload only up to
    #: the replicas that keep it cheaper than this ($/h); None: no such bound.
    cost_cap_per_hour: float | None = None
    price_per_gpu_hour: dict[str, float] = field(default_factory=dict)
    #: Sustained read bandwidth of the weights volume (MiB/s), for the startup
    #: estimate; the spec's weights.load_bandwidth_mb_s (same default).
    weights_read_mb_s: float = 400.0

    @property
    def workload_text(self) -> str:
        w = self.workload
        if w is None:
            return "no workload"
        load = f"{w.clients} users" if w.kind == "closed" else f"{w.rate_per_s:g} requests/s"
        return f"{load}, {w.prompt_tokens} tokens in / {w.output_tokens} out"
