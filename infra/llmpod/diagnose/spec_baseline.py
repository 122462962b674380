"""The service as it runs today, from ``--stack/--service`` or ``--model/--gpu`` flags.

Both paths go through the same code as the rest of llmpod (``request_for`` for a
stack's service; `llmpod plan`'s flag definitions and ``request_from_args`` in
infra/llmpod/planning/flags.py for flags), so diagnose's "now" is exactly what
`llmpod plan` / `render` produce.
"""

from __future__ import annotations

import argparse
import dataclasses

from llmpod.diagnose.analyze import Baseline
from llmpod.errors import LlmpodError

#: diagnose flag → `llmpod plan` flag, forwarded verbatim when given.
_FORWARDED = (
    "tp",
    "max_model_len",
    "max_num_seqs",
    "max_num_batched_tokens",
    "full_context_concurrency",
    "kv_cache_dtype",
    "quantization",
    "vllm_version",
)


def _bad(message: str, fix: str) -> LlmpodError:
    return LlmpodError(code="bad_diagnose_flags", message=message, suggestions=[fix])


def baseline_from_args(ns: argparse.Namespace) -> Baseline | None:
    model_flags = [
        f"--{k.replace('_', '-')}"
        for k in ("gpu", "replicas", *_FORWARDED)
        if getattr(ns, k, None) is not None
    ]
    if ns.stack or ns.service:
        if ns.model or model_flags:
            raise _bad(
                "give the current spec either as --stack/--service or as --model/--gpu "
                f"flags, not both (also got {', '.join(['--model', *model_flags])}).",
                "drop one of them",
            )
        if not (ns.stack and ns.service):
            missing = "--service" if ns.stack else "--stack"
            raise _bad(
                f"--stack and --service go together; {missing} is missing.",
                "e.g. --stack dev --service qwen-7b",
            )
        return _from_stack(ns.stack, ns.service)
    if ns.model:
        return _from_flags(ns)
    if model_flags:
        raise _bad(
            f"{', '.join(model_flags)} describe the current spec only together with --model.",
            "add --model M --gpu G",
        )
    return None


def _from_stack(stack_name: str, service: str) -> Baseline:
    from llmpod.environments.stack_files import load_service
    from llmpod.planning.service import plan_service, request_for

    stack, spec = load_service(stack_name, service)
    planned = plan_service(spec, stack.environment)
    return Baseline(
        f"{stack_name}/{service}",
        request_for(spec, planned.model),
        planned.plan,
        planned.evaluation,
    )


def _from_flags(ns: argparse.Namespace) -> Baseline:
    from llmpod.planner.api import make_plan
    from llmpod.planning.flags import add_plan_arguments, request_from_args

    if not ns.gpu:
        raise _bad("--model needs --gpu to plan the current layout.", "add --gpu H100 (say)")
    argv = ["--model", ns.model]
    for gpu in ns.gpu:
        argv += ["--gpu", gpu]
    for key in _FORWARDED:
        value = getattr(ns, key)
        if value is not None:
            argv += [f"--{key.replace('_', '-')}", str(value)]
    parser = argparse.ArgumentParser(prog="llmpod diagnose", add_help=False, exit_on_error=False)
    add_plan_arguments(parser)
    try:
        plan_ns = parser.parse_args(argv)
    except argparse.ArgumentError as exc:
        raise _bad(f"current spec flags: {exc}.", "use the values `llmpod plan` accepts") from None
    request = request_from_args(plan_ns)
    if ns.replicas is not None:
        if ns.replicas < 1:
            raise _bad(f"--replicas {ns.replicas} must be at least 1.", "e.g. --replicas 2")
        request = dataclasses.replace(
            request, min_replicas=ns.replicas, max_replicas=max(ns.replicas, request.max_replicas)
        )
    plan = make_plan(request)
    if plan.feasible and plan.evaluation is not None:
        label = f"{ns.model} on {'/'.join(ns.gpu)}"
        return Baseline(label, request, plan, plan.evaluation)
    err = plan.errors[0]
    raise LlmpodError(
        code=err.code,
        message=f"the current spec (--model {ns.model}) is not feasible: {err.message}",
        suggestions=err.suggestions,
    )
