"""Object names and labels of one service: deterministic, derived from the spec only."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from llmpod.planning.service import ServicePlan

PART_OF = "llmpod"
APP_NAME = "vllm"


def short_hash(value: Any) -> str:
    """8 hex digits of sha256 over canonical JSON: stable across runs and machines."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:8]


@dataclass(frozen=True)
class Names:
    service_name: str

    @property
    def workload(self) -> str:
        return self.service_name

    @property
    def pvc(self) -> str:
        return f"{self.service_name}-weights"

    @property
    def compile_cache_pvc(self) -> str:
        return f"{self.service_name}-compile-cache"

    @property
    def plan_config(self) -> str:
        return f"{self.service_name}-plan"

    @property
    def scripts_config(self) -> str:
        return f"{self.service_name}-scripts"

    @property
    def service(self) -> str:
        return self.service_name

    @property
    def service_account(self) -> str:
        return self.service_name

    def loader_job(self, marker: str) -> str:
        # Job pod templates are immutable: a new source or revision gets a new
        # Job (and a new name) instead of an update Kubernetes would reject.
        return f"{self.service_name}-weights-{short_hash(marker)}"


def names_for(sp: ServicePlan) -> Names:
    return Names(sp.spec.name)


def selector_labels(sp: ServicePlan, component: str = "server") -> dict[str, str]:
    """Labels a selector matches on: never change them (selectors are immutable)."""
    return {
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/instance": sp.spec.name,
        "app.kubernetes.io/name": APP_NAME,
    }


def object_labels(sp: ServicePlan, component: str = "server") -> dict[str, str]:
    """The spec's labels, then llmpod's own (which win: selectors depend on them)."""
    labels = dict(sp.spec.labels)
    labels.update(selector_labels(sp, component))
    labels.update(
        {
            "app.kubernetes.io/managed-by": PART_OF,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/version": sp.spec.image.vllm_version,
            "llmpod.io/environment": sp.environment,
        }
    )
    return dict(sorted(labels.items()))


def metadata(
    sp: ServicePlan, name: str, component: str = "server", annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "labels": object_labels(sp, component),
        "name": name,
        "namespace": sp.spec.kubernetes.namespace,
    }
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def checkov_skips(skips: dict[str, str]) -> dict[str, str]:
    """checkov's per-object skip annotations (checkov.io/skipN: CHECK=reason):
    every accepted finding is explained on the object it concerns."""
    return {
        f"checkov.io/skip{i}": f"{check}={reason}"
        for i, (check, reason) in enumerate(sorted(skips.items()), 1)
    }


def image_skips(sp: ServicePlan) -> dict[str, str]:
    if sp.spec.image.digest:
        return {}
    return {
        "CKV_K8S_43": "image.digest is not set in the spec; the tag is pinned to the "
        "planned vLLM version (set image.digest to pin the bytes)"
    }


def pull_policy(sp: ServicePlan) -> str:
    """A tag can be re-pushed: re-check it on every start unless pinned by digest."""
    return "IfNotPresent" if sp.spec.image.digest else "Always"
