"""The planner's answer: a layout, its memory, its flags, its cost — and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmpod.errors import LlmpodError
from llmpod.planner import perf
from llmpod.planner.estimates import Estimates
from llmpod.planner.evaluate import Evaluation
from llmpod.planner.weights import GIB


@dataclass(frozen=True)
class Plan:
    model: str
    feasible: bool
    evaluation: Evaluation | None
    replicas: int
    vllm_args: tuple[str, ...]
    #: None only when no layout was found at all (the JSON then shows ``{}``).
    estimates: Estimates | None
    reasons: tuple[str, ...]
    errors: tuple[LlmpodError, ...] = field(default_factory=tuple)
    price_per_gpu_hour: float = 0.0
    vllm_version: str = ""
    warnings: tuple[str, ...] = ()
    """Things that may make the plan wrong (e.g. a name that says AWQ, a config that does not)."""

    def __post_init__(self) -> None:
        # Consumers (backends, diagnose) rely on a feasible plan having both.
        if self.feasible and (self.evaluation is None or self.estimates is None):
            raise ValueError("a feasible Plan needs its evaluation and estimates")

    @property
    def gpu(self) -> str | None:
        return self.evaluation.gpu.key if self.evaluation else None

    @property
    def gpus_total(self) -> int:
        return self.evaluation.gpus_per_replica * self.replicas if self.evaluation else 0

    @property
    def cost_per_hour(self) -> float:
        return round(self.gpus_total * self.price_per_gpu_hour, 2)

    @property
    def weights_gib_total(self) -> float:
        return self.evaluation.checkpoint_bytes / GIB if self.evaluation else 0.0

    def to_json(self) -> dict[str, Any]:
        """The CLI contract of DESIGN.md ("CLI contract"), plus context fields."""
        e = self.evaluation
        pooling = e.settings.pooling_task if e else None
        out: dict[str, Any] = {
            "feasible": self.feasible,
            "model": self.model,
            "gpu": self.gpu,
            "tensor_parallel_size": e.tp if e else None,
            "pipeline_parallel_size": e.pp if e else None,
            "expert_parallel": e.expert_parallel if e else None,
            "replicas": self.replicas if e else 0,
            "gpus_per_replica": e.gpus_per_replica if e else None,
            "nodes_per_replica": e.nodes_per_replica if e else None,
            "per_gpu": _per_gpu(e) if e else None,
            "kv_cache_tokens": e.capacity.tokens if e else 0,
            "kv_cache_blocks": e.capacity.num_blocks if e else 0,
            "kv_bytes_per_token_per_gpu": e.geometry.bytes_per_token if e else None,
            "max_concurrency": round(e.capacity.max_concurrency, 2) if e else 0.0,
            "max_model_len": e.settings.max_model_len if e else None,
            "weights_gib_total": round(self.weights_gib_total, 2),
            # The checkpoint on disk (what the volume holds and pods read) is not
            # what one GPU holds: per_gpu.weights_gib is this GPU's shard.
            "checkpoint_gib": round(self.weights_gib_total, 2),
            "vllm_version": self.vllm_version,
            "vllm_args": list(self.vllm_args),
            "estimates": self.estimates or {},
            "cost": {
                "per_hour": self.cost_per_hour,
                "price_per_gpu_hour": self.price_per_gpu_hour,
                "source": e.gpu.price_source if e else None,
                "as_of": e.gpu.price_as_of if e else None,
                "per_million_output_tokens": self.cost_per_million_tokens(),
                # A pooling model (embeddings, scores) generates nothing: it is
                # paid per input token.
                **({"per_million_input_tokens": self._input_cost()} if pooling else {}),
            },
            **({"task": pooling} if pooling else {}),
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "errors": [err.as_json() for err in self.errors],
        }
        return out

    def _input_cost(self) -> float | None:
        """Per 1M input tokens of a pooling model: full max_num_batched_tokens prefill steps."""
        e = self.evaluation
        if not e or not self.feasible or not self.price_per_gpu_hour:
            return None
        step = e.settings.max_num_batched_tokens
        per_hour_tokens = step / perf.prefill_s(e.perf, step) * 3600 * self.replicas
        hourly = self.gpus_total * self.price_per_gpu_hour
        return round(hourly / per_hour_tokens * 1e6, 4)

    def cost_per_million_tokens(self) -> float | None:
        """From the throughput estimate at the largest benchmark concurrency one replica holds."""
        e = self.evaluation
        if not e or not self.feasible or not self.price_per_gpu_hour or not self.estimates:
            return None
        if e.settings.pooling_task:
            return None  # nothing is generated
        tps = self.estimates["decode_tokens_per_s"]
        usable = [int(c) for c in tps if int(c) <= max(1, e.concurrent_requests)]
        if not usable:
            return None
        per_replica = float(tps[str(max(usable))])
        per_hour_tokens = per_replica * 3600 * self.replicas
        # The unrounded hourly cost: rounding it first made the per-token figure of
        # 1 and 2 replicas differ by a cent's rounding (0.805 → 0.81 vs 1.61).
        hourly = self.gpus_total * self.price_per_gpu_hour
        return round(hourly / per_hour_tokens * 1e6, 3) if per_hour_tokens else None


def _per_gpu(e: Evaluation) -> dict[str, float]:
    s = e.limiting
    out = {
        "total_gib": round(s.total_gib, 2),
        "requested_gib": round(s.requested_gib, 2),
        "weights_gib": round(s.weights_gib, 2),
        "activation_gib": round(s.activation_gib, 2),
        "non_torch_gib": round(s.non_torch_gib, 2),
        "cuda_graph_gib": round(s.cuda_graph_gib, 2),
        # An encoder-only model gets no KV cache: what is left stays unused.
        "kv_cache_gib": 0.0 if e.settings.no_kv_cache else round(s.kv_cache_gib, 2),
    }
    # Only with LoRA or a proposer on, so other plans keep their exact shape.
    if s.lora_gib > 0:
        out["lora_gib"] = round(s.lora_gib, 2)
    if s.draft_gib > 0:
        out["draft_gib"] = round(s.draft_gib, 2)
    return out
