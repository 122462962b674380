"""The stack's own Namespaces (``kubernetes.create_namespace``), one component.

Registered before any service, so every service's objects can depend on the
namespace they land in; the objects come from ``llmpod.k8s.namespaces`` (pure).
"""

from __future__ import annotations

import pulumi

from llmpod.k8s.namespaces import namespace_objects
from llmpod.k8s.pulumi_objects import register
from llmpod.spec.stack import StackSpec


class Namespaces(pulumi.ComponentResource):
    def __init__(
        self, stack: StackSpec, provider: pulumi.ProviderResource, name: str = "namespaces"
    ) -> None:
        super().__init__("llmpod:kubernetes:Namespaces", name, None, None)
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        self.by_name: dict[str, pulumi.CustomResource] = {
            obj["metadata"]["name"]: register(obj, child) for obj in namespace_objects(stack)
        }
        self.register_outputs({"namespaces": sorted(self.by_name)})
