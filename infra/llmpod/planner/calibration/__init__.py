"""The cost model's constants as versioned data (``throughput.json`` beside this file).

One entry per vLLM version range and GPU generation, each with its source and
the rows it was fitted on; an entry without measurements of its own names the
entry it carries figures from (``carried_from``), and every plan built on it
says so. Nothing here is mutable: a fit returns a new ``Calibration``
(``replace``), it never rewrites module state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

KernelClass = Literal["dense", "fp8", "int8", "int4", "moe"]
Generation = Literal["ampere", "ada", "hopper", "blackwell", "amd", "cpu"]
KERNEL_CLASSES: tuple[KernelClass, ...] = ("dense", "fp8", "int8", "int4", "moe")


@dataclass(frozen=True)
class Efficiency:
    #: Share of peak HBM bandwidth while streaming this class's weights.
    bandwidth: float
    #: Share of the class's tensor peak (bf16, or fp8/int8 for w8a8) in large GEMMs.
    compute: float


@dataclass(frozen=True)
class FrontEndCosts:
    """CPU seconds vLLM's API server process spends, on its one asyncio loop.

    The process receives every request and streams every token (vLLM 0.26.0
    ``vllm/v1/engine/async_llm.py`` ``_run_output_handler``); while it is busy,
    tokens the GPU already produced reach clients late. A token that travels on
    its own costs ``token_s``: ``output_s`` (= ``output_share`` × ``token_s``) in
    the output handler (``OutputProcessor.process_outputs``), paid per output
    whatever the load, and ``chunk_s`` (the rest) for its request's task to wake
    and write one SSE chunk — paid once per request each time the loop yields,
    however many tokens merged in its collector since (``RequestOutputCollector.put``).
    A request costs ``request_s`` of process CPU: ``intake_share`` of it on the
    loop (routing, validation, ``add_request``; the little after its stream ends is
    counted here too), the rest on the tokenizer pool's thread, which does not hold
    the loop up.
    ``token_s``, ``step_s`` and ``request_s`` are fitted on the H200 recordings' CPU
    counters; ``output_share`` and ``intake_share`` measured on the real API server
    by py-spy (benchmarks/frontend_profile.py): the counters count tokens and
    requests, not chunks, nor when a request's work is done.
    """

    step_s: float = 0.0
    token_s: float = 0.0
    output_share: float = 0.0
    request_s: float = 0.0
    prompt_token_s: float = 0.0
    intake_share: float = 1.0
    #: VLLM_V1_OUTPUT_PROC_CHUNK_SIZE (vllm/envs.py): outputs handled between yields.
    chunk: int = 128
    source: str = "not measured: no API-server costs modelled"

    @property
    def output_s(self) -> float:
        return self.token_s * self.output_share

    @property
    def chunk_s(self) -> float:
        return self.token_s - self.output_s

    @property
    def intake_s(self) -> float:
        return self.request_s * self.intake_share


@dataclass(frozen=True)
class Calibration:
    key: str
    generation: Generation
    vllm_from: tuple[int, int, int]
    #: Fitted to runs of this generation (False: carried over, see ``source``).
    measured: bool
    source: str
    fitted_on: tuple[str, ...]
    efficiency: Mapping[KernelClass, Efficiency]
    moe_layer_s: float
    step_overhead_s: float
    per_logit_step_s: float
    per_layer_overhead_s: float
    request_overhead_s: float
    allreduce_latency_s: Mapping[str, float]
    pp_hop_s: float
    pp_hop_intra_node_s: float
    carried_from: str | None = None
    notes: Mapping[str, str] = field(default_factory=dict)
    frontend: FrontEndCosts = FrontEndCosts()

    @property
    def method_text(self) -> str:
        """How a plan built on these constants should describe them."""
        if self.measured:
            return f"constants {self.key}: {self.source}"
        return (
            f"constants {self.key}: not measured on {self.generation} GPUs; "
            f"figures carried over from {self.carried_from} ({self.source})"
        )


def _version(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def _build(raw: Mapping[str, Any], by_key: Mapping[str, Mapping[str, Any]]) -> Calibration:
    merged: dict[str, Any] = {}
    base = raw.get("carried_from")
    if base is not None:
        merged.update(by_key[base])
        merged["measured"] = False
        merged["fitted_on"] = []
        merged["source"] = "Hopper figures carried over (not measured)"
        merged["notes"] = {}
    merged.update(raw)
    eff = {k: Efficiency(**merged["efficiency"][k]) for k in KERNEL_CLASSES}
    return Calibration(
        key=merged["key"],
        generation=merged["generation"],
        vllm_from=_version(merged["vllm_from"]),
        measured=bool(merged["measured"]),
        source=merged["source"],
        fitted_on=tuple(merged["fitted_on"]),
        efficiency=MappingProxyType(eff),
        moe_layer_s=float(merged["moe_layer_s"]),
        step_overhead_s=float(merged["step_overhead_s"]),
        per_logit_step_s=float(merged["per_logit_step_s"]),
        per_layer_overhead_s=float(merged["per_layer_overhead_s"]),
        request_overhead_s=float(merged["request_overhead_s"]),
        allreduce_latency_s=MappingProxyType(dict(merged["allreduce_latency_s"])),
        pp_hop_s=float(merged["pp_hop_s"]),
        pp_hop_intra_node_s=float(merged["pp_hop_intra_node_s"]),
        carried_from=base,
        notes=MappingProxyType(dict(merged.get("notes", {}))),
        frontend=_frontend(merged.get("frontend")),
    )


def _frontend(raw: Mapping[str, Any] | None) -> FrontEndCosts:
    if raw is None:
        return FrontEndCosts()
    return FrontEndCosts(
        step_s=float(raw["step_s"]),
        token_s=float(raw["token_s"]),
        output_share=float(raw["output_share"]),
        request_s=float(raw["request_s"]),
        prompt_token_s=float(raw["prompt_token_s"]),
        intake_share=float(raw["intake_share"]),
        chunk=int(raw["chunk"]),
        source=str(raw["source"]),
    )


@cache
def all_calibrations() -> tuple[Calibration, ...]:
    text = resources.files(__package__).joinpath("throughput.json").read_text("utf-8")
    entries = json.loads(text)["entries"]
    by_key = {e["key"]: e for e in entries}
    return tuple(_build(e, by_key) for e in entries)


def calibration_for(version: tuple[int, int, int], generation: Generation) -> Calibration:
    """The newest entry for this generation whose range starts at or below ``version``."""
    candidates = [
        c for c in all_calibrations() if c.generation == generation and c.vllm_from <= version
    ]
    if not candidates:
        raise LookupError(f"no calibration for {generation} GPUs and vLLM {version}")
    return max(candidates, key=lambda c: c.vllm_from)
