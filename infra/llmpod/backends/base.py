"""The interface every deployment backend implements.

Kept free of heavy imports: the registry (infra/llmpod/deploy/registry.py) imports
every implementation, so an implementation imports its Pulumi components and cloud
SDKs inside methods. The spec-level rules of a backend (its section, what it cannot
do yet) are data rules of the spec itself (``ServingSpec._backend_rules``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pulumi

    from llmpod.planning.service import ServicePlan
    from llmpod.spec.stack import StackSpec


class Backend(ABC):
    #: The spec's ``backend:`` value that selects it.
    name: ClassVar[str]
    #: The ServingSpec field holding its own settings (``kubernetes:``, ``aws:``).
    section: ClassVar[str]
    #: The component attributes the Pulumi program exports as ``<service>.<name>``
    #: stack outputs, in export order; ``component`` returns an object that has each.
    outputs: ClassVar[tuple[str, ...]]

    @abstractmethod
    def cost_per_hour(self, sp: ServicePlan) -> float:
        """What the service costs to run at its planned size, as this backend bills it."""

    def cost_text(self, sp: ServicePlan) -> str | None:
        """One line saying how ``cost_per_hour`` was priced (what was counted, at which
        price, from where), for the render summary; None when there is nothing to add."""
        return None

    @abstractmethod
    def preflight(self, plans: list[ServicePlan]) -> None:
        """Check the target account/cluster for ``plans`` (this backend's services)
        before any resource is registered; raise LlmpodError on the first failure.
        Called by `pulumi preview`/`up`, never by `llmpod render` (offline)."""

    def shared_resources(self, stack: StackSpec) -> Any:
        """Resources every service of this backend in the stack shares (a provider,
        say), created once before the first service; handed to ``component``."""
        return None

    @abstractmethod
    def component(self, sp: ServicePlan, shared: Any) -> pulumi.ComponentResource:
        """Register the service's Pulumi component (``shared`` from shared_resources)."""
