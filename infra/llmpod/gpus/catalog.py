"""The GPU catalog: memory, bandwidth, compute, interconnect, labels, prices.

Per GPU: the machines each GPU is sold in, with their prices, are the node
catalogue (infra/llmpod/gpus/nodes.py).

Memory is what CUDA/ROCm reports as total device memory (the figure vLLM logs
as ``total_memory``), not the marketing capacity: H100 80GB reports 79.19 GiB
in vLLM 0.19 logs (kv_observations.csv), A100 80GB 79.15 GiB, A100 40GB 39.39 GiB.
For cards without a logged figure it is nvidia-smi's total minus the ~470 MiB the
driver keeps back on H100 (an estimate; marked in ``notes``).

Throughput figures are the vendors' dense (no sparsity) datasheet numbers.
AWS prices: EC2 on-demand, Linux, us-east-1, as published after the June 2025
P4/P5 price reduction; per-GPU = instance price / GPUs. Other prices are public
list prices of GPU clouds where AWS has no instance; override per service with
``price_per_gpu_hour`` in the spec.
"""

from __future__ import annotations

from functools import cache

from llmpod.errors import LlmpodError, hint, shown
from llmpod.gpus.spec import GpuSpec

_AWS = "AWS EC2 on-demand pricing, us-east-1 Linux (aws.amazon.com/ec2/pricing/on-demand)"
_AWS_DATE = "2025-06"

_GPUS: tuple[GpuSpec, ...] = (
    GpuSpec(
        key="H100",
        display="NVIDIA H100 SXM 80GB",
        aliases=("h100-sxm", "h100-80gb", "h100sxm"),
        vendor="nvidia",
        memory_gib=79.19,
        hbm_bandwidth_gbs=3350,
        bf16_tflops=989,
        fp8_tflops=1979,
        interconnect="nvlink",
        interconnect_gbs=450,
        interconnect_name="NVLink 4 (900 GB/s bidirectional)",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-H100-80GB-HBM3",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=6.88,
        price_source=_AWS + ": p5.48xlarge $55.04/h ÷ 8",
        price_as_of=_AWS_DATE,
        compute_capability="9.0",
    ),
    GpuSpec(
        key="H100-PCIE",
        display="NVIDIA H100 PCIe 80GB",
        aliases=("h100pcie", "h100-pcie-80gb"),
        vendor="nvidia",
        memory_gib=79.19,
        hbm_bandwidth_gbs=2000,
        bf16_tflops=756,
        fp8_tflops=1513,
        interconnect="pcie",
        interconnect_gbs=64,
        interconnect_name="PCIe Gen5 x16",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-H100-PCIe",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=2.49,
        price_source="Lambda on-demand list price, 1x H100 PCIe",
        price_as_of="2025-06",
        compute_capability="9.0",
        notes="memory assumed equal to H100 SXM (same 80 GB part)",
    ),
    GpuSpec(
        key="H200",
        display="NVIDIA H200 141GB",
        aliases=("h200-sxm", "h200-141gb"),
        vendor="nvidia",
        memory_gib=139.8,
        hbm_bandwidth_gbs=4800,
        bf16_tflops=989,
        fp8_tflops=1979,
        interconnect="nvlink",
        interconnect_gbs=450,
        interconnect_name="NVLink 4 (900 GB/s bidirectional)",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-H200", "NVIDIA-H200-141GB-HBM3e"),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=7.91,
        price_source=_AWS + ": p5en.48xlarge $63.30/h ÷ 8",
        price_as_of=_AWS_DATE,
        compute_capability="9.0",
        notes="memory = nvidia-smi 143771 MiB minus driver reserve (estimate)",
    ),
    GpuSpec(
        key="B200",
        display="NVIDIA B200 180GB",
        aliases=("b200-sxm", "b200-180gb"),
        vendor="nvidia",
        memory_gib=178.4,
        hbm_bandwidth_gbs=8000,
        bf16_tflops=2250,
        fp8_tflops=4500,
        interconnect="nvlink",
        interconnect_gbs=900,
        interconnect_name="NVLink 5 (1.8 TB/s bidirectional)",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-B200",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=14.24,
        price_source=_AWS + ": p6-b200.48xlarge $113.93/h ÷ 8",
        price_as_of=_AWS_DATE,
        compute_capability="10.0",
        notes="memory = nvidia-smi 183359 MiB minus driver reserve (estimate)",
    ),
    GpuSpec(
        key="A100-80GB",
        display="NVIDIA A100 SXM4 80GB",
        aliases=("a100", "a100-80g", "a10080gb", "a100-sxm4-80gb"),
        vendor="nvidia",
        memory_gib=79.15,
        hbm_bandwidth_gbs=2039,
        bf16_tflops=312,
        fp8_tflops=0,
        interconnect="nvlink",
        interconnect_gbs=300,
        interconnect_name="NVLink 3 (600 GB/s bidirectional)",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe"),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=3.43,
        price_source=_AWS + ": p4de.24xlarge $27.45/h ÷ 8",
        price_as_of=_AWS_DATE,
        compute_capability="8.0",
        is_a100=True,
    ),
    GpuSpec(
        key="A100-40GB",
        display="NVIDIA A100 SXM4 40GB",
        aliases=("a100-40g", "a10040gb", "a100-sxm4-40gb"),
        vendor="nvidia",
        memory_gib=39.39,
        hbm_bandwidth_gbs=1555,
        bf16_tflops=312,
        fp8_tflops=0,
        interconnect="nvlink",
        interconnect_gbs=300,
        interconnect_name="NVLink 3 (600 GB/s bidirectional)",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-PCIE-40GB"),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=2.74,
        price_source=_AWS + ": p4d.24xlarge $21.96/h ÷ 8",
        price_as_of=_AWS_DATE,
        compute_capability="8.0",
        is_a100=True,
    ),
    GpuSpec(
        key="L40S",
        display="NVIDIA L40S 48GB",
        aliases=("l40s-48gb",),
        vendor="nvidia",
        memory_gib=44.53,
        hbm_bandwidth_gbs=864,
        bf16_tflops=362,
        fp8_tflops=733,
        interconnect="pcie",
        interconnect_gbs=32,
        interconnect_name="PCIe Gen4 x16",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-L40S",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=1.861,
        price_source=_AWS + ": g6e.xlarge $1.861/h",
        price_as_of=_AWS_DATE,
        compute_capability="8.9",
        notes="memory = nvidia-smi 46068 MiB minus driver reserve (estimate)",
    ),
    GpuSpec(
        key="L4",
        display="NVIDIA L4 24GB",
        aliases=("l4-24gb",),
        vendor="nvidia",
        memory_gib=22.03,
        hbm_bandwidth_gbs=300,
        bf16_tflops=121,
        fp8_tflops=242,
        interconnect="pcie",
        interconnect_gbs=32,
        interconnect_name="PCIe Gen4 x16",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-L4",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=0.805,
        price_source=_AWS + ": g6.xlarge $0.805/h",
        price_as_of=_AWS_DATE,
        compute_capability="8.9",
        notes="memory = nvidia-smi 23034 MiB minus driver reserve (estimate)",
    ),
    GpuSpec(
        key="A10G",
        display="NVIDIA A10G 24GB",
        aliases=("a10g-24gb", "a10"),
        vendor="nvidia",
        memory_gib=22.03,
        hbm_bandwidth_gbs=600,
        bf16_tflops=70,
        fp8_tflops=0,
        interconnect="pcie",
        interconnect_gbs=32,
        interconnect_name="PCIe Gen4 x16",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-A10G",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=1.006,
        price_source=_AWS + ": g5.xlarge $1.006/h",
        price_as_of=_AWS_DATE,
        compute_capability="8.6",
        notes="memory = nvidia-smi 23028 MiB minus driver reserve (estimate)",
    ),
    GpuSpec(
        key="RTX-4090",
        display="NVIDIA GeForce RTX 4090 24GB",
        aliases=("4090", "rtx4090"),
        vendor="nvidia",
        memory_gib=23.64,
        hbm_bandwidth_gbs=1008,
        bf16_tflops=165,
        fp8_tflops=330,
        interconnect="pcie",
        interconnect_gbs=32,
        interconnect_name="PCIe Gen4 x16 (no peer-to-peer)",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-GeForce-RTX-4090",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=0.69,
        price_source="RunPod community cloud list price, RTX 4090",
        price_as_of="2025-06",
        compute_capability="8.9",
    ),
    GpuSpec(
        key="RTX-3090",
        display="NVIDIA GeForce RTX 3090 24GB",
        aliases=("3090", "rtx3090"),
        vendor="nvidia",
        memory_gib=23.69,
        hbm_bandwidth_gbs=936,
        bf16_tflops=71,
        fp8_tflops=0,
        interconnect="pcie",
        interconnect_gbs=32,
        interconnect_name="PCIe Gen4 x16",
        max_gpus_per_node=8,
        k8s_product_labels=("NVIDIA-GeForce-RTX-3090",),
        k8s_resource="nvidia.com/gpu",
        price_per_gpu_hour=0.43,
        price_source="RunPod community cloud list price, RTX 3090",
        price_as_of="2025-06",
        compute_capability="8.6",
    ),
    GpuSpec(
        key="MI300X",
        display="AMD Instinct MI300X 192GB",
        aliases=("mi300", "mi300x-oam"),
        vendor="amd",
        memory_gib=191.98,
        hbm_bandwidth_gbs=5300,
        bf16_tflops=1307,
        fp8_tflops=2615,
        interconnect="infinity-fabric",
        interconnect_gbs=448,
        interconnect_name="Infinity Fabric (896 GB/s bidirectional peak)",
        max_gpus_per_node=8,
        k8s_product_labels=("AMD_Instinct_MI300X_OAM", "AMD_Instinct_MI300X"),
        k8s_resource="amd.com/gpu",
        price_per_gpu_hour=2.69,
        price_source="Vultr on-demand list price, MI300X",
        price_as_of="2025-06",
        compute_capability="gfx942",
    ),
    GpuSpec(
        key="CPU",
        display="CPU test target (vLLM CPU backend)",
        aliases=("cpu-test",),
        vendor="cpu",
        memory_gib=1.0,
        hbm_bandwidth_gbs=20,
        bf16_tflops=0.5,
        fp8_tflops=0,
        interconnect="none",
        interconnect_gbs=1,
        interconnect_name="none",
        max_gpus_per_node=1,
        k8s_product_labels=(),
        k8s_resource="cpu",
        price_per_gpu_hour=0.0,
        price_source="n/a (local test target)",
        price_as_of="n/a",
        compute_capability="cpu",
        notes="1 GiB budget for end-to-end tests with a tiny model on vLLM's CPU backend",
    ),
)


def _norm(name: str) -> str:
    return name.lower().replace("_", "-").replace(" ", "-").removeprefix("nvidia-")


@cache
def _index() -> dict[str, GpuSpec]:
    idx: dict[str, GpuSpec] = {}
    for g in _GPUS:
        for n in (g.key, *g.aliases):
            idx[_norm(n)] = g
            idx[_norm(n).replace("-", "")] = g
    return idx


def all_gpus() -> tuple[GpuSpec, ...]:
    return _GPUS


def find_gpu(name: str) -> GpuSpec:
    """Look a GPU up by key or alias, case-insensitively (``h100``, ``A100-80GB``)."""
    key = _norm(name)
    gpu = _index().get(key) or _index().get(key.replace("-", ""))
    if gpu is None:
        keys = [g.key for g in _GPUS]
        raise LlmpodError(
            code="unknown_gpu",
            # Truncated: the name may come from a hostile or corrupted stack file.
            message=f"Unknown GPU {shown(name)}.{hint(name[:80], keys)}",
            suggestions=[f"use one of {', '.join(keys)}", "see `llmpod catalog gpus`"],
        )
    return gpu
