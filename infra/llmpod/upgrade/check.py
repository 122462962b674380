"""The upgrade gate: what moving a service to another vLLM release changes or breaks.

For each service of a stack, against the target release's facts
(llmpod.releases.facts):

* flags: every option llmpod renders for the target (``fine``, ``deprecated``
  with its replacement, ``default_changed`` from the current release,
  ``removed``: the target's parser rejects it and every pod would crash at
  start, or ``value_rejected``: its value is not one of the target's choices),
  and every option rendered for the current release that the target rejects
  (``dropped``: llmpod's render for the target leaves it out; a pod started
  with the current argument list on the new image would crash);
* metrics: every name llmpod queries or reads (llmpod.upgrade.metric_uses):
  ``present``, ``hidden`` (only with ``--show-hidden-metrics-for-version``) or
  ``gone``; a rename between the two releases is named, since queries of your
  own on the old name go blind;
* the plan under the target's memory rules: KV-cache tokens and throughput.

A finding ``breaks`` when what llmpod would run on the target fails there: a
rendered flag or value the target rejects, a required metric it does not export, a
plan that no longer fits or a release llmpod does not model. Exit 3 then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmpod.errors import LlmpodError
from llmpod.image.runtime.plan_file import DEPLOYMENT_FLAGS
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.releases.facts import facts_for, facts_near
from llmpod.spec.service import ServingSpec
from llmpod.spec.stack import StackSpec
from llmpod.upgrade.findings import Finding
from llmpod.upgrade.flag_check import flag_findings
from llmpod.upgrade.metric_check import metric_findings


@dataclass
class ServiceCheck:
    service: str
    from_version: str
    to_version: str
    findings: list[Finding] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def breaks(self) -> bool:
        return any(f.breaks for f in self.findings)

    @property
    def needs_rerender(self) -> bool:
        """Something rendered for the current release fails on the target (llmpod's
        render for the target follows; an argument list or query kept by hand breaks)."""
        return any(f.status in ("dropped", "renamed") for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "from": self.from_version,
            "to": self.to_version,
            "breaks": self.breaks,
            "needs_rerender": self.needs_rerender,
            "findings": [f.as_json() for f in self.findings],
            "plan": self.plan,
        }


def _plan_figures(sp: ServicePlan) -> dict[str, Any]:
    data = sp.plan.to_json()
    rates = data["estimates"].get("decode_tokens_per_s", {})
    return {
        "gpu": data["gpu"],
        "gpus_per_replica": data["gpus_per_replica"],
        "replicas": data["replicas"],
        "kv_cache_tokens": data["kv_cache_tokens"],
        "max_concurrency": data["max_concurrency"],
        "decode_tokens_per_s_peak": max(rates.values()) if rates else None,
    }


def check_service(spec: ServingSpec, environment: str, to_version: str) -> ServiceCheck:
    new = facts_for(to_version)  # an unknown release is bad input (exit 1)
    from_version = spec.image.vllm_version
    result = ServiceCheck(spec.name, from_version, to_version)
    old = facts_near(from_version)
    current = plan_service(spec, environment)
    moved = spec.model_copy(
        update={"image": spec.image.model_copy(update={"vllm_version": to_version})}
    )
    try:
        target = plan_service(moved, environment)
    except LlmpodError as err:
        fix = "; ".join(err.suggestions) or f"keep image.vllm_version {from_version}"
        if err.code == "bad_vllm_version":  # the planner's own tip names a CLI flag
            fix = f"keep image.vllm_version {from_version}, or move to 0.10.0 or newer"
        result.findings.append(
            Finding(
                "plan",
                "plan",
                "does_not_fit" if err.exit_code == 2 else "unsupported",
                True,
                err.message,
                fix,
            )
        )
        # No plan for the target: hold the current argument list to it instead.
        argv = [*current.plan.vllm_args, *DEPLOYMENT_FLAGS]
        result.findings += flag_findings(argv, argv, old, new)
        result.findings += metric_findings(spec, from_version, new)
        result.plan = {"from": _plan_figures(current), "to": None}
        return result
    # The entrypoint appends --host/--port (image/plan_file.py) to the planned list.
    result.findings += flag_findings(
        [*current.plan.vllm_args, *DEPLOYMENT_FLAGS],
        [*target.plan.vllm_args, *DEPLOYMENT_FLAGS],
        old,
        new,
    )
    result.findings += metric_findings(spec, from_version, new)
    before, after = _plan_figures(current), _plan_figures(target)
    result.plan = {"from": before, "to": after}
    return result


def check_stack(stack: StackSpec, to_version: str) -> list[ServiceCheck]:
    facts_for(to_version)
    return [check_service(s, stack.environment, to_version) for s in stack.services]
