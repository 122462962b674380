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

from llmpod.gpus.spec import GpuSpec
from llmpod.models.facts import QuantFacts

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


# Hopper: fit with `python benchmarks/throughput_accuracy.py --fit` on the fit
# rows of benchmarks/throughput_h200.csv (vLLM 0.26.0, one H200): a grid search
# minimising the worst relative error per class; the other 22 rows are held out
# (worst held-out error 13.5%, see that script). Bandwidth shares are of the
# catalog's HBM peak, compute shares of its dense bf16 (fp8 for w8a8) peak.
_HOPPER: dict[KernelClass, Efficiency] = {
    # Llama-3.1-8B and Llama-3.2-3B bf16 (two sizes separate the fixed step
    # costs from the streamed bytes); the per-logit sampler cost in perf.py was
    # fit together with these. The compute share is capped at the 0.60 that
    # reproduces the measured lone-512-token TTFT (18.5 ms for Llama-3.1-8B).
    "dense": Efficiency(bandwidth=0.75, compute=0.60),
    # Llama-3.1-8B --quantization fp8 (w8a8 CUTLASS, dynamic per-token activation
    # scales) at 1 and 128 requests: the activation quantization before every
    # linear layer shows up as a lower bandwidth share, and at large batch the
    # fp8 GEMMs reach 34% of the fp8 peak (≈ bf16 dense speed, not twice it).
    "fp8": Efficiency(bandwidth=0.63, compute=0.34),
    # int8 w8a8 was not measured: assumed to behave like fp8 (same CUTLASS
    # kernel family, same dynamic activation quantization).
    "int8": Efficiency(bandwidth=0.63, compute=0.34),
    # Llama-3.1-8B and Qwen2.5-7B AWQ int4 group 128 at 1 and 128 requests
    # (vLLM 0.26 picks the Machete kernel on Hopper): 25% of HBM peak at small
    # batch — why a checkpoint 2.8× smaller decodes only 1.2× faster at one
    # request — and 52% of bf16 peak at 128, the dequantization's cost.
    "int4": Efficiency(bandwidth=0.25, compute=0.52),
    # Qwen3-30B-A3B (128 experts, top-8) bf16; with MOE_LAYER_S below. Held out:
    # Mixtral-8x7B (8 wide experts, top-2), worst error 13.5% (at 8 requests).
    "moe": Efficiency(bandwidth=0.86, compute=0.44),
}

#: Generations without H200-class measurements keep the Hopper figures
#: (estimates; the dense ones agree with the published A100 and H100 vLLM runs
#: quoted in perf.py within 5%). Marlin-style int4 kernels were designed for
#: Ampere (Frantar et al., "MARLIN", 2024), so Ampere int4 may do better than this.
TABLE: dict[Generation, dict[KernelClass, Efficiency]] = {
    "hopper": _HOPPER,
    "blackwell": _HOPPER,
    "ada": _HOPPER,
    "ampere": _HOPPER,
    # No ROCm or CPU measurements: the roofline's earlier single figures.
    "amd": {k: Efficiency(bandwidth=0.65, compute=0.40) for k in _HOPPER},
    "cpu": {k: Efficiency(bandwidth=0.5, compute=0.3) for k in _HOPPER},
}

#: Fixed time per MoE layer per decode step (top-k routing, sorting tokens by
#: expert, block alignment, the fused-MoE launches): 35 µs fit on Qwen3-30B-A3B,
#: whose 48 MoE layers spend 1.7 ms of a 4.1 ms step on it at one request.
MOE_LAYER_S: dict[Generation, float] = {
    "hopper": 35e-6,
    "blackwell": 35e-6,
    "ada": 35e-6,
    "ampere": 35e-6,
    "amd": 35e-6,
    "cpu": 35e-6,
}

SOURCES: dict[str, str] = {
    "hopper": (
        "fit to benchmarks/throughput_h200.csv (gpu-data runs, vLLM 0.26.0, one H200; "
        "raw results in benchmarks/h200/runs)"
    ),
    "ampere, ada, blackwell": "Hopper figures carried over (not measured)",
    "amd, cpu": "roofline defaults (not measured)",
}


def efficiency(gpu: GpuSpec, kernel: KernelClass) -> Efficiency:
    return TABLE[generation(gpu)][kernel]
