"""ServingSpec → PlanRequest → Plan: the bridge every backend uses.

``request_for`` is the one builder of a ``PlanRequest``: a stack's service and
`llmpod plan`'s flags (infra/llmpod/planning/flags.py builds a ServingSpec from
them) both come through it, so defaults and validation cannot differ.

Planning happens before any resource is registered: an infeasible service is
an error here, so `pulumi preview` and `llmpod render` stop with the planner's
explanation instead of creating pods that would crash-loop on OOM.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from llmpod import contract
from llmpod.errors import LlmpodError
from llmpod.gpus.catalog import find_gpu
from llmpod.models.resolve import ResolvedModel, resolve_model
from llmpod.planner.api import make_plan
from llmpod.planner.estimates import Estimates
from llmpod.planner.evaluate import Evaluation
from llmpod.planner.plan import Plan
from llmpod.planner.quantization import online_quantization
from llmpod.planner.request import PlanRequest, Targets
from llmpod.planner.workload import Workload
from llmpod.spec.service import ServingSpec
from llmpod.spec.service import Workload as WorkloadSpec


@dataclass(frozen=True)
class ServicePlan:
    spec: ServingSpec
    model: ResolvedModel
    plan: Plan
    environment: str
    #: The chosen layout. Only feasible plans become ServicePlans, so this is
    #: never None, unlike ``plan.evaluation`` (None when no layout exists).
    evaluation: Evaluation
    #: ``plan.estimates``, likewise never None here.
    estimates: Estimates
    #: Mark every object ``pulumi.com/skipAwait`` (StackSpec.skip_await): for control
    #: planes with no nodes, where nothing ever becomes ready.
    skip_await: bool = False
    #: ``vllm.speculative_model`` resolved (the loader fetches it); None without one.
    draft: ResolvedModel | None = None

    @property
    def name(self) -> str:
        return self.spec.name


def adapter_dir(source: str, name: str) -> str:
    """Where an adapter's files are in the container: a fetched one (hf://, s3://) in
    its own directory on the weights volume, a local one where it is."""
    if source.startswith(("hf://", "s3://")):
        return f"{contract.ADAPTERS_DIR}/{name}"
    return os.path.abspath(source)


def _adapter_paths(spec: ServingSpec, model: ResolvedModel) -> tuple[tuple[str, str], ...]:
    for adapter in spec.vllm.adapters:
        if adapter.name == model.served_name:
            # vLLM 0.32 (serve/engine/serving.py ``_maybe_get_adapters``) looks a
            # request's model up among the adapters first: the base model would be
            # unreachable under its own name.
            raise LlmpodError(
                code="invalid_spec",
                message=(
                    f"service {spec.name!r}: adapter name {adapter.name!r} is the base "
                    "model's served name; requests to that name would all go to the "
                    "adapter."
                ),
                suggestions=["rename the adapter in vllm.adapters (e.g. add a -lora suffix)"],
            )
    return tuple(sorted((a.name, adapter_dir(a.source, a.name)) for a in spec.vllm.adapters))


def request_for(
    spec: ServingSpec, model: ResolvedModel, draft: ResolvedModel | None = None
) -> PlanRequest:
    t = spec.targets
    ref = spec.vllm.speculative_model
    if draft is None and ref:
        draft = resolve_model(ref)
    return PlanRequest(
        model=model.facts,
        gpus=tuple(find_gpu(g) for g in spec.gpus.types),
        model_path=model.container_path,
        served_model_name=model.served_name,
        vllm=spec.vllm,
        draft=draft.facts if draft else None,
        draft_path=draft.container_path if draft else None,
        adapter_paths=_adapter_paths(spec, model),
        max_model_len=spec.max_model_len,
        kv_cache_dtype=spec.kv_cache_dtype,
        dtype=spec.dtype,
        online_quantization=online_quantization(spec.quantization, model.facts),
        vllm_version=spec.image.vllm_version,
        revision=spec.revision,
        weights_read_mb_s=spec.weights.load_bandwidth_mb_s,
        max_gpus_per_replica=spec.gpus.max_per_replica,
        max_nodes_per_replica=spec.gpus.max_nodes,
        min_replicas=max(1, spec.replicas.min),
        max_replicas=spec.replicas.max,
        targets=Targets(
            concurrency=t.concurrency,
            kv_tokens=t.kv_tokens,
            ttft_s=t.ttft_ms / 1000 if t.ttft_ms else None,
            inter_token_latency_s=(
                t.inter_token_latency_ms / 1000 if t.inter_token_latency_ms else None
            ),
            throughput_tokens_per_s=t.throughput_tokens_per_s,
            ttft_p95_s=t.ttft_p95_ms / 1000 if t.ttft_p95_ms else None,
            itl_p95_s=t.itl_p95_ms / 1000 if t.itl_p95_ms else None,
        ),
        workload=_workload(spec.workload),
        price_per_gpu_hour=dict(spec.gpus.price_per_gpu_hour),
    )


def _workload(w: WorkloadSpec | None) -> Workload | None:
    """The spec's traffic as the planner's simulation takes it."""
    if w is None:
        return None
    if w.concurrency is not None:
        return Workload(
            kind="closed",
            prompt_tokens=w.input_tokens,
            output_tokens=w.output_tokens,
            clients=w.concurrency,
            prefix_hit=w.prefix_hit,
        )
    return Workload(
        kind="open",
        prompt_tokens=w.input_tokens,
        output_tokens=w.output_tokens,
        rate_per_s=w.rate_per_s or 0.0,
        prefix_hit=w.prefix_hit,
    )


def plan_service(spec: ServingSpec, environment: str, *, skip_await: bool = False) -> ServicePlan:
    model = resolve_model(spec.model)
    ref = spec.vllm.speculative_model
    # Resolved once: the plan sizes it and the weights loader fetches it.
    draft = resolve_model(ref) if ref else None
    plan = make_plan(request_for(spec, model, draft))
    if plan.feasible and plan.evaluation is not None and plan.estimates is not None:
        return ServicePlan(
            spec, model, plan, environment, plan.evaluation, plan.estimates, skip_await, draft
        )
    err = plan.errors[0]
    # A stack file is edited, not a command line: ways out as spec keys.
    tips = [c.as_spec() for c in err.changes] if err.changes else err.suggestions
    raise LlmpodError(
        code=err.code,
        message=f"service {spec.name!r}: {err.message}",
        suggestions=tips,
        changes=err.changes,
        exit_code=2,
    )
