"""Kubernetes as a deployment backend (see infra/llmpod/backends/base.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from llmpod.backends.base import Backend

if TYPE_CHECKING:
    import pulumi

    from llmpod.planning.service import ServicePlan
    from llmpod.spec.stack import StackSpec


class KubernetesBackend(Backend):
    name: ClassVar[str] = "kubernetes"
    section: ClassVar[str] = "kubernetes"
    outputs: ClassVar[tuple[str, ...]] = ("endpoint", "cost_per_hour", "gpus", "plan")

    def cost_per_hour(self, sp: ServicePlan) -> float:
        # The nodes the pods occupy (one per node under the hard spread), priced as
        # nodes from the node catalogue: k8s/cost.py.
        from llmpod.k8s.cost import node_cost

        return node_cost(sp).per_hour

    def cost_text(self, sp: ServicePlan) -> str | None:
        from llmpod.k8s.cost import node_cost

        return node_cost(sp).how

    def preflight(self, plans: list[ServicePlan]) -> None:
        # Nothing to ask a cluster before registering: the manifests are checked
        # offline (infra/llmpod/k8s/validate.py) and the API server checks the rest.
        return None

    def shared_resources(self, stack: StackSpec) -> KubernetesShared:
        import pulumi_kubernetes as k8s

        from llmpod.k8s.namespaces import namespace_objects
        from llmpod.k8s.namespaces_component import Namespaces

        if stack.render_dir:
            # dev: write YAML instead of calling a cluster, so `pulumi up -s dev`
            # works anywhere (pulumi-kubernetes renderYamlToDirectory).
            render_dir = _render_dir_for_provider(stack.render_dir)
            # kubeconfig="" on purpose: the SDK otherwise fills it from $KUBECONFIG, and
            # the provider (4.25.0, Provider.CheckConfig) refuses any kubeconfig beside
            # renderYamlToDirectory, so `pulumi up -s dev` failed for every user whose
            # shell points at a cluster.
            provider = k8s.Provider("k8s", render_yaml_to_directory=render_dir, kubeconfig="")
        else:
            provider = k8s.Provider("k8s")
        namespaces = Namespaces(stack, provider).by_name if namespace_objects(stack) else {}
        return KubernetesShared(provider, namespaces)

    def component(self, sp: ServicePlan, shared: Any) -> pulumi.ComponentResource:
        import pulumi

        from llmpod.k8s.component import VllmService

        assert isinstance(shared, KubernetesShared)
        namespace = shared.namespaces.get(sp.spec.kubernetes.namespace)
        return VllmService(
            sp.name,
            sp,
            opts=pulumi.ResourceOptions(
                providers={"kubernetes": shared.provider},
                depends_on=[namespace] if namespace is not None else None,
            ),
        )


@dataclass(frozen=True)
class KubernetesShared:
    """What every Kubernetes service of a stack shares: the provider, and the
    Namespaces the stack creates (by name), which the services' objects wait for."""

    provider: pulumi.ProviderResource
    namespaces: dict[str, pulumi.CustomResource]


def _render_dir_for_provider(render_dir: str) -> str:
    """``renderDir`` is relative to the project root (where ``llmpod render`` and the
    README put it); the provider runs in the program directory. The root is Pulumi's
    (set by the language host), else the working directory's project (an Automation
    API inline program has no root directory); with no project at all (a bare mock
    run) the value passes through."""
    import os

    import pulumi

    from llmpod.errors import LlmpodError
    from llmpod.project import find_project

    root = pulumi.get_root_directory() or os.getcwd()
    try:
        project = find_project(Path(root))
    except LlmpodError:
        return render_dir
    return project.path_for_plugins(render_dir)
