"""A stack (one environment): its services, loaded once from stack config.

The same data arrives two ways: from ``pulumi.Config("llmpod")`` inside a
Pulumi program, or from ``stacks/Pulumi.<stack>.yaml`` for offline commands
(render, plan, promote; read by infra/llmpod/environments/stack_files.py). Both
go through ``StackSpec.from_config``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from llmpod.errors import LlmpodError, did_you_mean
from llmpod.spec.base import NOT_BOOL, SpecModel
from llmpod.spec.errors import spec_error
from llmpod.spec.grammars import OutputDir
from llmpod.spec.service import ServingSpec

#: Stack config keys llmpod reads (namespace "llmpod:"), camelCase as Pulumi config is.
CONFIG_KEYS = {
    "environment": "environment",
    "services": "services",
    "renderDir": "render_dir",
    "costCapPerHour": "cost_cap_per_hour",
    "skipAwait": "skip_await",
}

Environment = Literal["dev", "staging", "production"]


class StackSpec(SpecModel):
    environment: Environment
    services: Annotated[list[ServingSpec], Field(min_length=1)]
    render_dir: OutputDir | None = None
    """dev: the Kubernetes provider writes YAML here instead of calling a cluster."""
    cost_cap_per_hour: Annotated[float, NOT_BOOL, Field(gt=0)] | None = None
    """Refuse plans whose total GPU cost per hour exceeds this (policy)."""
    skip_await: bool = False
    """Mark every Kubernetes object ``pulumi.com/skipAwait: "true"``, so ``pulumi up``
    does not wait for readiness. Only for control planes without nodes (CI against a
    bare API server, dry environments), where no pod is ever scheduled and the
    provider would wait 10 minutes per object; a real cluster wants the waits (they
    are what holds traffic until the model is loaded). Also set by
    ``LLMPOD_SKIP_AWAIT=1`` in the environment of ``pulumi up``/``preview``."""

    @model_validator(mode="after")
    def _rules(self) -> StackSpec:
        names = [s.name for s in self.services]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"service names must be unique; repeated: {', '.join(dupes)}")
        if self.environment == "production":
            for s in self.services:
                if s.aws and not s.aws.allow_public and "0.0.0.0/0" in s.aws.allowed_cidrs:
                    raise ValueError(
                        f"service {s.name!r}: aws.allowed_cidrs contains 0.0.0.0/0 in "
                        f"production; list the client CIDRs, or set aws.allow_public: true "
                        f"if the endpoint really is public"
                    )
        return self

    @classmethod
    def from_config(cls, config: dict[str, Any], *, where: str) -> StackSpec:
        """Build from ``{"llmpod:services": [...], ...}`` (stack file) or bare keys."""
        data: dict[str, Any] = {}
        for key, value in config.items():
            ns, _, name = key.partition(":") if ":" in key else ("llmpod", "", key)
            if ns != "llmpod":
                continue  # provider settings (kubernetes:, aws:) are not ours
            if name not in CONFIG_KEYS:
                raise LlmpodError(
                    code="invalid_spec",
                    message=f"{where}: unknown config key 'llmpod:{name}'."
                    f"{_did_you_mean_key(name)}",
                    suggestions=[f"use one of {', '.join('llmpod:' + k for k in CONFIG_KEYS)}"],
                )
            data[CONFIG_KEYS[name]] = value
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            # Named as stack files and `pulumi config set` spell them.
            users_keys = {field: f"llmpod:{key}" for key, field in CONFIG_KEYS.items()}
            raise spec_error(exc, cls, where=where, top_level_keys=users_keys) from None


def _did_you_mean_key(name: str) -> str:
    """' Did you mean 'llmpod:renderDir'?': matched without the shared prefix, which
    would make every key look close, and shown with it, as stack files write it."""
    close = did_you_mean(name, CONFIG_KEYS)
    return (" Did you mean " + " or ".join(f"'llmpod:{c}'" for c in close) + "?") if close else ""
