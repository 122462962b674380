"""What the planner knows about one accelerator model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class GpuSpec:
    key: str
    display: str
    aliases: tuple[str, ...]
    vendor: Literal["nvidia", "amd", "cpu"]
    #: Total memory as the runtime reports it (torch.cuda.mem_get_info total),
    #: which is what vLLM multiplies by gpu_memory_utilization; less than the
    #: marketing number because the driver reserves some.
    memory_gib: float
    hbm_bandwidth_gbs: float
    bf16_tflops: float
    #: Dense FP8 tensor throughput; 0 when the architecture has no FP8 math
    #: (Ampere: vLLM runs fp8 checkpoints weight-only through Marlin there).
    fp8_tflops: float
    interconnect: Literal["nvlink", "pcie", "infinity-fabric", "none"]
    #: Per-GPU, one direction, GB/s (NVLink 4: 450; PCIe Gen5 x16: ~64; Gen4: ~32).
    interconnect_gbs: float
    interconnect_name: str
    max_gpus_per_node: int
    #: Values of the node label that identifies this GPU (NVIDIA GPU Feature
    #: Discovery ``nvidia.com/gpu.product``; AMD node labeller for MI300X).
    k8s_product_labels: tuple[str, ...]
    k8s_resource: str
    price_per_gpu_hour: float
    price_source: str
    price_as_of: str
    compute_capability: str
    #: vLLM treats A100-class cards separately when choosing batch defaults
    #: (vllm/engine/arg_utils.py get_batch_defaults: "A100" in the device name).
    is_a100: bool = False
    notes: str = ""

    @property
    def has_fp8_compute(self) -> bool:
        return self.fp8_tflops > 0
