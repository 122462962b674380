"""The interface every deployment backend implements.

Kept free of heavy imports: spec validation reaches it through the registry, so
an implementation imports its Pulumi components and cloud SDKs inside methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import pulumi

    from llmpod.spec.planning import ServicePlan
    from llmpod.spec.service import ServingSpec
    from llmpod.spec.stack import StackSpec


class Backend(ABC):
    #: The spec's ``backend:`` value that selects it.
    name: ClassVar[str]
    #: The ServingSpec field holding its own settings (``kubernetes:``, ``aws:``).
    section: ClassVar[str]

    @abstractmethod
    def check_spec(self, spec: ServingSpec) -> None:
        """Cross-field rules for a service that uses this backend.

        Runs inside the spec's pydantic validator: raise ValueError with the
        field, the value and the fix; no I/O (validators never reach a cloud).
        """

    def section_given(self, spec: ServingSpec) -> bool:
        """Whether ``spec`` sets this backend's section, which only this backend reads
        (a service on another backend with it set is refused, not silently ignored)."""
        return False

    @abstractmethod
    def cost_per_hour(self, sp: ServicePlan) -> float:
        """What the service costs to run at its planned size, as this backend bills it."""

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
