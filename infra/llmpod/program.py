"""The Pulumi program: stack config → StackSpec → plans → one component per service.

Every service is planned before any resource is registered, so a bad spec or
an infeasible plan stops `pulumi preview`/`up` (and `llmpod render`, which runs
this same function under Pulumi's mock engine) with the planner's explanation
and nothing half-created.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pulumi

from llmpod.backends.extras import require_backends
from llmpod.deploy.registry import BACKENDS, backend_for
from llmpod.deploy.stack import cost_per_hour, plan_stack
from llmpod.errors import LlmpodError
from llmpod.planning.service import ServicePlan
from llmpod.spec.stack import StackSpec

#: Optional keys Pulumi.yaml declares with ``default: ""``: the CLI insists on a default
#: for every declared key a stack may leave out, and hands the program that "" (seen with
#: CLI v3.276.0: staging and production, which set no renderDir, got renderDir "").
_UNSET_WHEN_EMPTY = frozenset({"llmpod:renderDir"})


def stack_config() -> dict[str, Any]:
    """Every `llmpod:` key of the running stack, values decoded from JSON.

    Read from the runtime's whole config (not key by key) so that a misspelt
    key (`llmpod:sevices`) is reported by StackSpec instead of silently ignored.
    """
    # The SDK's own config map (pulumi 3.x: a ContextVar filled by the language
    # host or set_all_config) over the PULUMI_CONFIG environment fallback.
    from pulumi.runtime.config import CONFIG, get_config_env

    everything = {**get_config_env(), **CONFIG.get()}
    out: dict[str, Any] = {}
    for key in sorted(everything):
        if not key.startswith("llmpod:"):
            continue
        raw = everything[key]
        if key in _UNSET_WHEN_EMPTY and raw == "":
            continue
        try:
            out[key] = json.loads(raw)
        except (TypeError, ValueError):
            out[key] = raw  # plain strings (environment, renderDir)
    return out


def run_program(*, preflight: bool = True) -> list[ServicePlan]:
    """Plan, check, then register. ``preflight=False`` is for `llmpod render`,
    which runs offline under mocks; `pulumi preview`/`up` always run each backend's
    preflight (AWS: set LLMPOD_SKIP_AWS_PREFLIGHT=1 only where the credentials
    cannot describe instances)."""
    where = f"stack {pulumi.get_stack()!r} (llmpod: config)"
    spec = StackSpec.from_config(stack_config(), where=where)
    if os.environ.get("LLMPOD_SKIP_AWAIT") == "1":
        # CI against an API server with no nodes (scripts/local_cluster.sh); see
        # StackSpec.skip_await. Read here, at run time, never at import.
        spec = spec.model_copy(update={"skip_await": True})
    require_backends((s.name, s.backend) for s in spec.services)
    plans = plan_stack(spec)  # raises before anything is registered
    in_use = [b for b in BACKENDS.values() if any(p.spec.backend == b.name for p in plans)]
    if preflight:
        for backend in in_use:
            backend.preflight([p for p in plans if p.spec.backend == backend.name])
    shared = {b.name: b.shared_resources(spec) for b in in_use}
    total_cost = 0.0
    for sp in plans:
        backend = backend_for(sp.spec.backend)
        component = backend.component(sp, shared[backend.name])
        total_cost += cost_per_hour(sp)
        for output in backend.outputs:  # declared by the backend, not probed
            pulumi.export(f"{sp.name}.{output}", getattr(component, output))
    pulumi.export("costPerHour", round(total_cost, 2))
    return plans


def main() -> None:
    """What Pulumi runs: ``python -m llmpod`` through a project's ``Pulumi.yaml``, or an
    Automation API inline program. An llmpod error (bad spec, no fit) reaches the user
    as one paragraph through ``pulumi.RunError``, never as a traceback."""
    try:
        run_program()
    except LlmpodError as err:
        raise pulumi.RunError(err.render()) from None
