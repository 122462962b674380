"""Namespaces the stack creates (``kubernetes.create_namespace``), as plain dicts.

An API server refuses every object in a namespace that does not exist
(NamespaceLifecycle admission), so on a fresh cluster `pulumi up` failed until
someone ran `kubectl create namespace` by hand. Services that set
``create_namespace: true`` get their namespace from the stack, once per namespace
however many services share it; services that leave it false expect the platform
team's namespace, with its quotas and labels, to be there already.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmpod.k8s.names import PART_OF

if TYPE_CHECKING:
    from llmpod.spec.stack import StackSpec


def namespace_objects(stack: StackSpec) -> list[dict[str, Any]]:
    """One Namespace per namespace a Kubernetes service asks to be created, sorted so
    previews never churn on the order services are listed in."""
    names = {
        s.kubernetes.namespace
        for s in stack.services
        if s.backend == "kubernetes" and s.kubernetes.create_namespace
    }
    return [_namespace(name, stack) for name in sorted(names)]


def _namespace(name: str, stack: StackSpec) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "labels": {
            "app.kubernetes.io/managed-by": PART_OF,
            "app.kubernetes.io/part-of": PART_OF,
            "llmpod.io/environment": stack.environment,
        },
        "name": name,
    }
    if stack.skip_await:
        meta["annotations"] = {"pulumi.com/skipAwait": "true"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
