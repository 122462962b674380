"""The pulumi-policy wrappers and the per-stack policy config files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
)
from test_policy import DEPLOYMENT, deployment

from llmpod.environments.stack_files import load_stack
from llmpod.policy.pack import build_policies

ROOT = Path(__file__).resolve().parents[2]
POLICIES = {p.name: p for p in build_policies()}


def _opts() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def _resource_args(
    props: dict[str, Any], config: dict[str, Any] | None = None
) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        DEPLOYMENT,
        props,
        "urn:pulumi:production::llmpod::d",
        "llama-70b",
        _opts(),
        None,
        config or {},
    )


# policy is Any: build_policies returns both pulumi_policy policy kinds, whose validate
# methods take different argument types.
def _violations(
    policy: Any, args: ResourceValidationArgs | StackValidationArgs
) -> list[tuple[str, str | None]]:
    seen: list[tuple[str, str | None]] = []
    policy.validate(args, lambda message, urn=None: seen.append((message, urn)))
    return seen


def _documented_policy_names() -> list[str]:
    """The policy names the user guide's table lists (docs/environments.md)."""
    text = (ROOT / "docs" / "environments.md").read_text()
    return re.findall(r"^\| `(llmpod-[a-z-]+)` \|", text, flags=re.MULTILINE)


def test_pack_holds_exactly_the_documented_policies() -> None:
    # What users read in the guide and what `pulumi preview --policy-pack`
    # enforces must be the same list: a rule added or dropped on one side only fails here.
    documented = _documented_policy_names()
    assert len(documented) >= 7
    assert sorted(POLICIES) == sorted(documented)
    assert len(build_policies()) == len(POLICIES)


def test_resource_policy_reports_through_pulumi_policy() -> None:
    bad = deployment()
    bad["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/llmpod/vllm:v0.32.0"
    policy = POLICIES["llmpod-images-pinned"]
    assert _violations(policy, _resource_args(deployment(), {"environment": "production"})) == []
    [(msg, _)] = _violations(policy, _resource_args(bad, {"environment": "production"}))
    assert "has no digest" in msg


def test_stack_policy_reports_the_resource_urn() -> None:
    resource = PolicyResource(
        DEPLOYMENT, deployment(1), "urn:d", "llama-70b", _opts(), None, None, [], {}
    )
    policy = POLICIES["llmpod-production-replicas"]
    assert isinstance(policy, StackValidationPolicy)
    args = StackValidationArgs([resource], {"environment": "production"})
    [(msg, urn)] = _violations(policy, args)
    assert urn == "urn:d" and "production" in msg


@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_policy_config_matches_schemas_and_the_stack_cost_cap(stack: str) -> None:
    config = json.loads((ROOT / "infra/llmpod/policy/config" / f"{stack}.json").read_text())
    assert config.pop("all") == "mandatory"
    for name, values in config.items():
        schema = POLICIES[name].config_schema
        assert schema is not None, name
        jsonschema.validate(
            values,
            {"type": "object", "properties": schema.properties, "additionalProperties": False},
        )
    # One cap, two enforcers: the planner's llmpod:costCapPerHour and the policy's.
    assert config["llmpod-stack-cost-cap"]["maxCostPerHour"] == load_stack(stack).cost_cap_per_hour
    assert config["llmpod-images-pinned"]["environment"] == load_stack(stack).environment


def test_policy_project_file_is_python() -> None:
    from ruamel.yaml import YAML

    doc = YAML(typ="safe").load((ROOT / "infra/llmpod/policy/PulumiPolicy.yaml").read_text())
    assert doc["runtime"]["name"] == "python" and doc["version"]
    assert (ROOT / "infra/llmpod/policy/__main__.py").is_file()
