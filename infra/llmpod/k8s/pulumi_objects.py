"""Register one Kubernetes object dict as the matching pulumi-kubernetes resource.

Core kinds use pulumi-kubernetes' typed resources (the provider knows their
schema, await logic and replace-on-change fields); custom resources (LWS, KEDA,
Prometheus Operator) use CustomResource with the same dict.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_TYPED: dict[tuple[str, str], Any] = {
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
}


def logical_name(obj: dict[str, Any]) -> str:
    """Pulumi's name for the object: kind + name. Object names start with the
    service name and service names are unique in a stack, so this is too."""
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def register(obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    fields = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    cls = _TYPED.get((obj["apiVersion"], obj["kind"]))
    if cls is not None:
        # Typed resources take top-level fields as Python keyword arguments
        # (automount_service_account_token); nested dicts keep Kubernetes'
        # camelCase keys, which the SDK passes through to the provider as-is.
        args = {_snake(k): v for k, v in fields.items()}
        resource: pulumi.CustomResource = cls(logical_name(obj), opts=opts, **args)
        return resource
    return k8s.apiextensions.CustomResource(
        logical_name(obj), api_version=obj["apiVersion"], kind=obj["kind"], opts=opts, **fields
    )
