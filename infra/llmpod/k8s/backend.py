"""Kubernetes as a deployment backend (see infra/llmpod/backends/base.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from llmpod.backends.base import Backend

if TYPE_CHECKING:
    import pulumi

    from llmpod.spec.planning import ServicePlan
    from llmpod.spec.service import ServingSpec
    from llmpod.spec.stack import StackSpec


class KubernetesBackend(Backend):
    name: ClassVar[str] = "kubernetes"
    section: ClassVar[str] = "kubernetes"

    def check_spec(self, spec: ServingSpec) -> None:
        # Every kubernetes: key has a working default; its values are checked
        # by the section's own model.
        return None

    def cost_per_hour(self, sp: ServicePlan) -> float:
        # GPUs × price per GPU: nodes can be shared with other pods.
        return sp.plan.cost_per_hour

    def preflight(self, plans: list[ServicePlan]) -> None:
        # Nothing to ask a cluster before registering: the manifests are checked
        # offline (infra/llmpod/k8s/validate.py) and the API server checks the rest.
        return None

    def shared_resources(self, stack: StackSpec) -> pulumi.ProviderResource:
        import pulumi_kubernetes as k8s

        if stack.render_dir:
            # dev: write YAML instead of calling a cluster, so `pulumi up -s dev`
            # works anywhere (pulumi-kubernetes renderYamlToDirectory).
            return k8s.Provider("k8s", render_yaml_to_directory=stack.render_dir)
        return k8s.Provider("k8s")

    def component(self, sp: ServicePlan, shared: Any) -> pulumi.ComponentResource:
        import pulumi

        from llmpod.components.vllm_service import VllmService

        return VllmService(
            sp.name, sp, opts=pulumi.ResourceOptions(providers={"kubernetes": shared})
        )
