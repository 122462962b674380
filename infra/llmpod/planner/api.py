"""The planner's entry point: a PlanRequest in, a Plan out (never a traceback)."""

from __future__ import annotations

from llmpod.errors import LlmpodError
from llmpod.planner.explain import reasons_for, vllm_args_for
from llmpod.planner.plan import Plan
from llmpod.planner.quantization import quantization_warnings
from llmpod.planner.request import PlanRequest
from llmpod.planner.search import check_fixed_layout, search
from llmpod.planner.suggest import structured_suggestions
from llmpod.releases.for_release import argv_for_version
from llmpod.suggestion import Suggestion


def validate_request(req: PlanRequest) -> None:
    m = req.model
    if m.pooling and req.workload is not None:
        # The traffic simulation (planner/simulate.py) schedules decode steps and
        # KV blocks; a pooling model has neither, so its figures would be noise.
        raise LlmpodError(
            code="workload_not_for_pooling",
            message=(
                f"{m.name} is a {m.pooling} model served by vLLM's pooling runner: it "
                f"generates no tokens, and the traffic simulation models generation "
                f"({req.workload_text})."
            ),
            suggestions=[
                "drop the workload (--input-len/--output-len/--concurrency/--rate, or the "
                "spec's workload section) and size replicas with targets.concurrency"
            ],
        )
    if req.max_model_len is not None and req.max_model_len > m.max_model_len:
        raise LlmpodError(
            code="context_too_long",
            message=(
                f"max_model_len {req.max_model_len} is longer than the {m.max_model_len} "
                f"tokens {m.name} supports (derived from its config.json as vLLM does); "
                f"vLLM refuses it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1."
            ),
            suggestions=[f"--max-model-len {m.max_model_len} or less"],
            changes=[
                Suggestion("max_model_len", m.max_model_len, "or less", "the model's own limit")
            ],
        )
    if req.max_model_len is not None and req.max_model_len < 1:
        raise LlmpodError(
            code="bad_max_model_len",
            message=f"max_model_len {req.max_model_len} must be positive.",
            suggestions=["e.g. --max-model-len 8192"],
        )
    u = req.vllm.gpu_memory_utilization
    if u is not None and not 0 < u <= 1:
        raise LlmpodError(
            code="bad_gpu_memory_utilization",
            message=f"gpu_memory_utilization {u} must be in (0, 1]: it is a fraction of the "
            f"GPU's total memory.",
            suggestions=["e.g. --gpu-memory-utilization 0.9"],
        )
    check_fixed_layout(req)


def make_plan(req: PlanRequest) -> Plan:
    validate_request(req)
    result = search(req)
    version = req.vllm_version
    warnings = req.model.notes + tuple(
        quantization_warnings(req.model, overridden=req.online_quantization is not None)
    )
    if result.best is not None:
        chosen = result.best
        e = chosen.evaluation
        return Plan(
            model=req.model.name,
            feasible=True,
            evaluation=e,
            replicas=chosen.replicas,
            vllm_args=tuple(argv_for_version(vllm_args_for(req, e).build_args(), version)),
            estimates=chosen.estimates,
            reasons=tuple(reasons_for(req, chosen, result)),
            price_per_gpu_hour=chosen.price,
            vllm_version=version,
            warnings=warnings,
        )
    closest = result.closest
    changes, _longest = structured_suggestions(req, closest)
    tips = [c.as_flag() for c in changes]
    if closest is None:
        error = LlmpodError(
            code="no_valid_layout",
            message=(
                f"No tensor/pipeline layout of {req.model.name} on "
                f"{', '.join(g.key for g in req.gpus)} is one vLLM accepts with "
                f"{_reach(req)}: "
                + "; ".join(f"TP {tp}: {why}" for tp, why in result.rejected_layouts[:4])
                + "."
            ),
            suggestions=tips,
            changes=changes,
            exit_code=2,
        )
    else:
        e = closest.evaluation
        code = (
            "weights_do_not_fit"
            if not e.weights_fit
            else "context_does_not_fit"
            if not e.kv_fits
            else "targets_not_met"
        )
        where = (
            f"TP {e.tp} × PP {e.pp} on {e.gpus_per_replica} {e.gpu.key}"
            if (req.tp or req.pp)
            else f"any layout of {_reach(req)} (closest: TP {e.tp} × PP {e.pp})"
        )
        error = LlmpodError(
            code=code,
            message=(
                f"{req.model.name} "
                + (
                    "meets the targets on no layout"
                    if code == "targets_not_met"
                    else "does not fit"
                )
                + f" {where.removeprefix('any layout ')}: {'; '.join(closest.problems)}."
                if code == "targets_not_met" and not (req.tp or req.pp)
                else f"{req.model.name} does not fit {where}: {'; '.join(closest.problems)}."
            ),
            suggestions=tips,
            changes=changes,
            exit_code=2,
        )
    # An infeasible plan still carries the closest layout's figures when there is one,
    # so `plan --json` shows how far off it is.
    return Plan(
        model=req.model.name,
        feasible=False,
        evaluation=closest.evaluation if closest else None,
        replicas=0,
        vllm_args=(),
        estimates=closest.estimates if closest else None,
        reasons=(),
        errors=(error,),
        price_per_gpu_hour=closest.price if closest else 0.0,
        vllm_version=version,
        warnings=warnings,
    )


def _reach(req: PlanRequest) -> str:
    """What the search could use per replica, e.g. 'at most 8 H100 on 1 node': the GPU
    limit capped by what the node limit holds, so `--max-nodes 1` never reads as
    '64 GPUs / 1 node'."""
    nodes = req.max_nodes_per_replica
    counts = " or ".join(
        f"{min(req.max_gpus_per_replica, g.max_gpus_per_node * nodes)} {g.key}" for g in req.gpus
    )
    return f"at most {counts} on {'1 node' if nodes == 1 else f'up to {nodes} nodes'}"
