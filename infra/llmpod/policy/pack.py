"""The pure rules (rules.py) wrapped as pulumi-policy objects (no server started here).

``__main__.py`` hands ``build_policies()`` to ``PolicyPack``, which starts the
gRPC analyzer; importing this module does not, so tests can build the
policies and drive their ``validate`` callbacks with hand-made args.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llmpod.policy.rules import PACK_NAME, RESOURCE_RULES, STACK_RULES, ResourceRule, StackRule
from llmpod.policy.scaling import Resource

__all__ = ["PACK_NAME", "build_policies"]


def _schema(properties: dict[str, Any]) -> Any:
    from pulumi_policy import PolicyConfigSchema

    return PolicyConfigSchema(properties=properties) if properties else None


def _resource_policy(rule: ResourceRule) -> Any:
    from pulumi_policy import ResourceValidationPolicy

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        for message in rule.check(args.resource_type, args.props, args.get_config()):
            report_violation(message)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        config_schema=_schema(rule.config_schema),
    )


def _resources(args: Any) -> Sequence[Resource]:
    return [Resource(r.resource_type, r.props, r.urn) for r in args.resources]


def _stack_policy(rule: StackRule) -> Any:
    from pulumi_policy import StackValidationPolicy

    def validate(args: Any, report_violation: Callable[..., None]) -> None:
        for urn, message in rule.check(_resources(args), args.get_config()):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        config_schema=_schema(rule.config_schema),
    )


def build_policies() -> list[Any]:
    return [
        *(_resource_policy(r) for r in RESOURCE_RULES),
        *(_stack_policy(r) for r in STACK_RULES),
    ]
