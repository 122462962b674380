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

The efficiencies themselves are data: infra/llmpod/planner/calibration/
throughput.json, per vLLM version range and GPU generation, with their sources
and the runs they were fitted on.
"""

from __future__ import annotations

from llmpod.gpus.spec import GpuSpec
from llmpod.models.facts import QuantFacts
from llmpod.planner.calibration import Efficiency, Generation, KernelClass

__all__ = ["Efficiency", "Generation", "KernelClass", "generation", "weight_class"]


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
