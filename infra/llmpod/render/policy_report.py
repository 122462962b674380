"""Render's policy report (DESIGN.md "Render's policy report").

`llmpod render` runs the project's policy pack (the same rules `pulumi preview
--policy-pack infra/llmpod/policy` runs, infra/llmpod/policy/rules.py) over the resources it
rendered, so a stack that fails its own guardrails is seen at render time, not
first in a production preview. Policy config comes from the stack (its
environment and llmpod:costCapPerHour), overlaid by the project's policy
config file when it has one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmpod.errors import LlmpodError
from llmpod.policy.rules import RESOURCE_RULES, STACK_RULES, ResourceRule, StackRule
from llmpod.policy.scaling import Resource
from llmpod.render.collect import RenderedObject
from llmpod.spec.stack import StackSpec

REPORT_FILE = "policy-report.json"
#: Where a project keeps `--policy-pack-config` files, relative to Pulumi.yaml.
CONFIG_PATHS = ("infra/llmpod/policy/config/{stack}.json", "policy/config/{stack}.json")
DIGEST_POLICY = "llmpod-images-pinned"


@dataclass(frozen=True, order=True)
class Violation:
    policy: str
    resource: str
    message: str


def _config_file(project_root: Path | None, stack: str) -> Path | None:
    if project_root is None:
        return None
    for pattern in CONFIG_PATHS:
        path = project_root / pattern.format(stack=stack)
        if path.is_file():
            return path
    return None


def policy_config(
    spec: StackSpec, stack: str, project_root: Path | None
) -> dict[str, dict[str, Any]]:
    """Per-policy config: what the stack says, then the project's config file."""
    config: dict[str, dict[str, Any]] = {}
    rules: list[ResourceRule | StackRule] = [*RESOURCE_RULES, *STACK_RULES]
    for rule in rules:
        values: dict[str, Any] = {}
        if "environment" in rule.config_schema:
            values["environment"] = spec.environment
        if "maxCostPerHour" in rule.config_schema and spec.cost_cap_per_hour is not None:
            values["maxCostPerHour"] = spec.cost_cap_per_hour
        config[rule.name] = values
    path = _config_file(project_root, stack)
    if path is not None:
        try:
            overlay = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LlmpodError(
                code="policy_config_invalid",
                message=f"{path} is not readable JSON: {str(exc)[:200]}.",
                suggestions=[f"fix or remove {path}"],
            ) from None
        if not isinstance(overlay, dict):
            raise LlmpodError(
                code="policy_config_invalid",
                message=f"{path} must be a JSON object of policy name → config.",
                suggestions=[f"fix or remove {path}"],
            )
        for name, values in overlay.items():
            if name in config and isinstance(values, dict):
                config[name].update(values)
    return config


def digest_fix(
    spec: StackSpec, stack: str, service: str, origin_services: Sequence[str] | None = None
) -> str:
    """How to set image.digest for ``service``: the command, and which stack file.

    image.digest is promotable, so a production service that staging also runs
    receives it from staging (``origin_services``: the staging file's service
    names, in order); a production-only service sets it in production itself."""
    svc = next((s for s in spec.services if s.name == service), None)
    image = svc.image.reference if svc else "<image>"
    staging = list(origin_services or [])
    promoted = spec.environment == "production" and service in staging
    names = staging if promoted else [s.name for s in spec.services]
    origin = "staging" if promoted else stack
    where = f"llmpod:services[{names.index(service)}].image.digest"
    tail = f", then `llmpod promote staging {stack}`" if promoted else ""
    return (
        f" Build and push {image.split('@')[0]} first if nobody has: `llmpod image context "
        f"DIR {origin}` writes its build context and prints the docker commands."
        f" Set it: `crane digest {image}` (or `docker buildx imagetools inspect {image}`), "
        f"then `pulumi config set --path -s {origin} '{where}' sha256:<digest>`{tail}."
    )


def run_policies(
    objects: Sequence[RenderedObject],
    config: dict[str, dict[str, Any]],
    *,
    spec: StackSpec,
    stack: str,
    origin_services: Sequence[str] | None = None,
) -> list[Violation]:
    out: list[Violation] = []
    for obj in objects:
        for rule in RESOURCE_RULES:
            for message in rule.check(obj.type, obj.props, config.get(rule.name, {})):
                if rule.name == DIGEST_POLICY and "has no digest" in message:
                    message += digest_fix(spec, stack, obj.service, origin_services)
                out.append(Violation(rule.name, obj.label, message))
    resources = [Resource(o.type, o.props, o.urn) for o in objects]
    by_urn = {o.urn: o.label for o in objects}
    for stack_rule in STACK_RULES:
        for urn, message in stack_rule.check(resources, config.get(stack_rule.name, {})):
            label = by_urn.get(urn or "", f"stack/{stack}")
            out.append(Violation(stack_rule.name, label, message))
    return sorted(set(out))


def report_json(violations: Sequence[Violation]) -> str:
    return (
        json.dumps(
            {"violations": [asdict(v) for v in violations]},
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )


def summary(violations: Sequence[Violation], report: Path) -> list[str]:
    checked = len(RESOURCE_RULES) + len(STACK_RULES)
    if not violations:
        return [f"policy: {checked} policies, no violations ({report})"]
    policies = sorted({v.policy for v in violations})
    lines = [
        f"policy: {len(violations)} violation(s) of {len(policies)} of {checked} "
        f"policies (details: {report}):"
    ]
    for policy in policies:
        found = [v for v in violations if v.policy == policy]
        services = sorted({v.resource.split("/", 1)[0] for v in found})
        lines.append(f"  {policy}: {len(found)} in {', '.join(services)}")
        # Messages differ only by the resource they name: one example says what to do.
        lines.append(f"    e.g. {found[0].resource}: {found[0].message}")
    return lines
