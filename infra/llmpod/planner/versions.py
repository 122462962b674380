"""What changes with the vLLM version: defaults and how memory is accounted.

Sources: /work/shared/benchmarks/vllm_rules.md (vLLM 0.11.0 and 0.33.0 read
from the wheels) and the llm-d version sweep in kv_observations.csv (rows
LLMD-VS-0.15.0 … 0.18.0, LLMD-*: 0.19.0). Each constant names the behaviour
it models; where a figure is a fit to logged numbers it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from llmpod.gpus.spec import GpuSpec
from llmpod.planner.cudagraph_rules import FIRST_SUBTRACTING, Vendor, subtracts_cudagraph

# Re-exported: the version grammar lives with the spec, which validates it.
from llmpod.spec.vllm_version import DEFAULT_VLLM_VERSION as DEFAULT_VLLM_VERSION
from llmpod.spec.vllm_version import OLDEST_SUPPORTED as OLDEST_SUPPORTED
from llmpod.spec.vllm_version import parse_version as parse_version


@dataclass(frozen=True)
class VersionProfile:
    version: tuple[int, int, int]
    gpu_memory_utilization: float
    #: From 0.21 the KV budget also subtracts a CUDA-graph memory estimate
    #: (PR #38284, VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1); before, graphs
    #: were captured after KV sizing and lived in the 1-utilization headroom.
    #: Whether a given model gets the subtraction also depends on the model
    #: runner and the release: see ``subtracts_cudagraph_for``.
    subtracts_cudagraph: bool
    #: From 0.27 the non-KV figure is the free-memory drop since the worker's
    #: first snapshot plus the profile's transient peak (vllm/utils/mem_utils.py
    #: :317-326 in 0.27.0-0.29.0, :312-321 in 0.30.0-0.32.0), so torch
    #: buffers a runner allocates after the weights and before the profile run
    #: come off the KV budget. 0.26.0 (mem_utils.py:309-311) counted weights +
    #: the profile's peak increase over what was allocated before it, which left
    #: those buffers out. See ``memory.runner_buffers_gib``.
    counts_runner_buffers: bool
    #: Bytes the dummy sampler run holds per (request × padded vocab entry).
    #: Fit to logged activation peaks at 1024 requests: from 0.17 ≈ 14.9 B
    #: (Llama-3.1-8B 1.89 GiB, Qwen2.5-7B 2.21, gemma 3.65, gpt-oss 2.87);
    #: up to 0.16 ≈ 38.3 B (Llama 4.76 GiB, Qwen3-0.6B 5.56, Qwen3-32B 5.64,
    #: gpt-oss-20b 7.38): the older top-k/top-p path kept more full-vocab copies.
    sampler_bytes_per_logit: float
    #: Non-torch memory (CUDA context, cuBLAS workspace) with one GPU per rank.
    non_torch_tp1_gib: float
    #: With TP > 1 over NVLink: NCCL + custom/symmetric-memory all-reduce buffers
    #: (≈2.1 GiB in every v0.19 H100 TP≥2 log; 0.54 GiB in v0.11 TP2 logs).
    non_torch_tp_nvlink_gib: float
    non_torch_tp_pcie_gib: float
    #: Hybrid (sliding + full) KV-cache manager sizes windows group-aware.
    hybrid_kv_manager: bool

    def subtracts_cudagraph_for(
        self,
        architecture: str,
        *,
        is_moe: bool,
        is_quantized: bool,
        vendor: Vendor,
        enforce_eager: bool,
        speculative: str | None = None,
    ) -> bool:
        """Whether this version subtracts the CUDA-graph estimate for this model.

        Per release and case, as read in each wheel: ``cudagraph_rules.RULES``.
        """
        if not self.subtracts_cudagraph:
            return False
        return subtracts_cudagraph(
            self.version,
            architecture,
            is_moe=is_moe,
            is_quantized=is_quantized,
            vendor=vendor,
            enforce_eager=enforce_eager,
            speculative=speculative,
        )

    @property
    def text(self) -> str:
        return ".".join(map(str, self.version))

    def batch_defaults(self, gpu: GpuSpec) -> tuple[int, int]:
        """(max_num_seqs, max_num_batched_tokens) for the OpenAI API server.

        vllm/engine/arg_utils.py get_batch_defaults: ≥160 GiB cards get
        1024/16384 (v0.33), ≥70 GiB non-A100 cards 1024/8192, everything else
        256/2048.
        """
        if gpu.vendor == "cpu":
            return 256, 4096
        big = gpu.memory_gib >= 160 and self.version >= (0, 20, 0)
        if big:
            return 1024, 16384
        if gpu.memory_gib >= 70 and not gpu.is_a100:
            return 1024, 8192
        return 256, 2048


@cache
def profile_for(version_text: str) -> VersionProfile:
    v = parse_version(version_text)
    return VersionProfile(
        version=v,
        gpu_memory_utilization=0.92 if v >= (0, 21, 0) else 0.9,
        subtracts_cudagraph=v >= FIRST_SUBTRACTING,
        counts_runner_buffers=v >= (0, 27, 0),
        sampler_bytes_per_logit=14.87 if v >= (0, 17, 0) else 38.34,
        non_torch_tp1_gib=0.25 if v >= (0, 18, 0) else 0.13,
        non_torch_tp_nvlink_gib=2.1 if v >= (0, 12, 0) else 0.54,
        non_torch_tp_pcie_gib=0.6 if v >= (0, 12, 0) else 0.54,
        hybrid_kv_manager=v >= (0, 10, 0),
    )
