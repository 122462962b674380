"""Entry point Pulumi runs for `--policy-pack infra/llmpod/policy` (starts the analyzer)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from llmpod.policy.pack import PACK_NAME, build_policies

PolicyPack(name=PACK_NAME, policies=build_policies(), enforcement_level=EnforcementLevel.MANDATORY)
