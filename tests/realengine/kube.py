"""A small, bounded client for the local API server (scripts/local_cluster.sh): read
back what `pulumi up` applied, edit an object out of band, list what is left."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

#: Every kind llmpod can create, with its REST plural (namespaced unless noted).
PLURALS: dict[tuple[str, str], str] = {
    ("apps/v1", "Deployment"): "deployments",
    ("batch/v1", "Job"): "jobs",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobjects",
    ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"): "leaderworkersets",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitors",
    ("networking.k8s.io/v1", "NetworkPolicy"): "networkpolicies",
    ("policy/v1", "PodDisruptionBudget"): "poddisruptionbudgets",
    ("v1", "ConfigMap"): "configmaps",
    ("v1", "Namespace"): "namespaces",  # cluster-scoped
    ("v1", "PersistentVolumeClaim"): "persistentvolumeclaims",
    ("v1", "Service"): "services",
    ("v1", "ServiceAccount"): "serviceaccounts",
}


def _collection(api_version: str, kind: str, namespace: str = "") -> str:
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    plural = PLURALS[(api_version, kind)]
    if kind == "Namespace" or not namespace:
        return f"{prefix}/{plural}"
    return f"{prefix}/namespaces/{namespace}/{plural}"


class Kube:
    def __init__(self, kubeconfig: Path) -> None:
        config = YAML(typ="safe").load(kubeconfig.read_text(encoding="utf-8"))
        cluster = config["clusters"][0]["cluster"]
        self.server = str(cluster["server"]).rstrip("/")
        self.token = str(config["users"][0]["user"]["token"])
        self.tls = ssl.create_default_context(cafile=cluster["certificate-authority"])

    def _call(self, method: str, path: str, body: Any = None, content_type: str = "") -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.tls) as response:
                return json.loads(response.read(64 << 20))
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            detail = err.read(1 << 16).decode("utf-8", "replace")
            raise AssertionError(f"{method} {path}: {err.code} {detail}") from None

    def get(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        meta = obj["metadata"]
        path = _collection(obj["apiVersion"], obj["kind"], meta.get("namespace", ""))
        found: dict[str, Any] | None = self._call("GET", f"{path}/{meta['name']}")
        return found

    def merge_patch(self, obj: dict[str, Any], patch: dict[str, Any]) -> None:
        meta = obj["metadata"]
        path = _collection(obj["apiVersion"], obj["kind"], meta.get("namespace", ""))
        self._call("PATCH", f"{path}/{meta['name']}", patch, "application/merge-patch+json")

    def names(self, api_version: str, kind: str, namespace: str = "") -> list[str]:
        listed = self._call("GET", _collection(api_version, kind, namespace))
        items = listed["items"] if listed else []
        return sorted(str(i["metadata"]["name"]) for i in items)

    def leftovers(self, namespaces: list[str]) -> dict[str, list[str]]:
        """Every object of every kind llmpod creates, in ``namespaces``, and those
        namespaces themselves if they still exist."""
        out: dict[str, list[str]] = {}
        for (api_version, kind), _ in sorted(PLURALS.items()):
            if kind == "Namespace":
                left = [n for n in self.names(api_version, kind) if n in namespaces]
                if left:
                    out[kind] = left
                continue
            for ns in namespaces:
                left = self.names(api_version, kind, ns)
                if left:
                    out[f"{kind} in {ns}"] = left
        return out


def missing_from(live: Any, planned: Any, path: str = "") -> list[str]:
    """Where ``planned`` is not contained in ``live`` (the API server adds defaults and
    status; everything llmpod set must be there, unchanged)."""
    if isinstance(planned, dict):
        if not isinstance(live, dict):
            return [f"{path}: expected a mapping, got {live!r}"[:200]]
        out: list[str] = []
        for key, value in planned.items():
            sub = f"{path}.{key}" if path else key
            if key not in live:
                # The API server writes Go structs with omitempty: a zero value llmpod
                # sets explicitly (readOnly: false, ingress: []) comes back absent.
                if value not in (False, [], {}, None, 0, ""):
                    out.append(f"{sub}: missing")
            else:
                out.extend(missing_from(live[key], value, sub))
        return out
    if isinstance(planned, list):
        if not isinstance(live, list) or len(live) != len(planned):
            return [f"{path}: expected {len(planned)} items, got {live!r}"[:200]]
        return [m for i, v in enumerate(planned) for m in missing_from(live[i], v, f"{path}[{i}]")]
    if live != planned and str(live) != str(planned):
        return [f"{path}: planned {planned!r}, server has {live!r}"[:200]]
    return []
