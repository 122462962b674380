"""Validate rendered objects: core kinds with kubernetes-validate (strict), the
custom resources llmpod emits with its own JSON Schemas (infra/llmpod/k8s/schemas), and
every object's names and labels with the API server's grammars, which neither
checks (kubernetes-validate validates types, not name formats).

kubernetes-validate and jsonschema are imported lazily: they come with the
`test` extra and are only needed when validating.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from llmpod.spec.grammars import (
    dns_label_problem,
    dns_subdomain_problem,
    label_key_problem,
    label_value_problem,
)

#: The Kubernetes API version manifests are checked against (kubernetes-validate
#: ships strict schemas per version; 1.33 is the oldest still supported upstream
#: as of 2026, so manifests that pass here apply to every supported cluster).
KUBERNETES_VERSION = "1.33.0"

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
CUSTOM_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.json",
    ("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"): "leaderworkerset.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
}


class ManifestInvalid(ValueError):
    """An object does not validate; the message names the object and the field."""


@cache
def _schema(file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS_DIR / file).read_text())
    return loaded


def _core(obj: dict[str, Any], version: str) -> None:
    import kubernetes_validate

    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as err:
        path = "/".join(str(p) for p in err.path)
        raise ManifestInvalid(f"{_ident(obj)}: {path}: {err.message}") from None


def _ident(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def _pod_templates(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Embedded core PodTemplateSpecs of a custom resource (LWS leader/worker)."""
    tmpl = obj.get("spec", {}).get("leaderWorkerTemplate", {})
    return [tmpl[k] for k in ("leaderTemplate", "workerTemplate") if k in tmpl]


#: Kinds whose names the API server checks as DNS-1035/1123 labels, not subdomains
#: (apimachinery ValidateServiceName; Job names become a pod label value).
_LABEL_NAMED = {"Service", "Job", "Namespace"}
#: Fields that hold the name of another object (all DNS-1123 subdomains).
_REFERENCES = {"claimName", "serviceAccountName", "storageClassName"}


def _walk(node: Any, path: str = "") -> list[tuple[str, str, Any]]:
    out: list[tuple[str, str, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((f"{path}/{k}", k, v))
            out += _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _walk(v, f"{path}/{i}")
    return out


def _label_map(where: str, labels: Any) -> str | None:
    for key, value in (labels or {}).items():
        if problem := label_key_problem(str(key)):
            return f"{where}: label key {key!r}: {problem}"
        if not isinstance(value, str):
            return f"{where}: label {key!r} has a non-string value"
        if problem := label_value_problem(value):
            return f"{where}: label {key!r} value {value!r}: {problem}"
    return None


def name_problem(obj: dict[str, Any]) -> str | None:
    """What the API server would refuse in names, label keys/values, node selectors
    and references to other objects (None when everything is well-formed)."""
    meta = obj.get("metadata", {})
    name = str(meta.get("name", ""))
    check = dns_label_problem if obj.get("kind") in _LABEL_NAMED else dns_subdomain_problem
    if problem := check(name):
        return f"metadata/name {name!r}: {problem}"
    if "namespace" in meta and (problem := dns_label_problem(str(meta["namespace"]))):
        return f"metadata/namespace {meta['namespace']!r}: {problem}"
    for path, key, value in _walk(obj):
        if key in ("labels", "matchLabels", "nodeSelector") and isinstance(value, dict):
            if problem := _label_map(path, value):
                return problem
        elif key == "annotations" and isinstance(value, dict):
            bad = next((k for k in value if label_key_problem(str(k))), None)
            if bad is not None:
                return f"{path}: annotation key {bad!r}: {label_key_problem(str(bad))}"
        elif key in _REFERENCES and isinstance(value, str):
            if problem := dns_subdomain_problem(value):
                return f"{path} {value!r}: {problem}"
        elif key in ("secretKeyRef", "configMap", "configMapKeyRef") and isinstance(value, dict):
            ref = str(value.get("name", ""))
            if problem := dns_subdomain_problem(ref):
                return f"{path}/name {ref!r}: {problem}"
        elif key == "matchExpressions" and isinstance(value, list):
            for expr in value:
                if problem := label_key_problem(str(expr.get("key", ""))):
                    return f"{path}: key {expr.get('key')!r}: {problem}"
                for v in expr.get("values", []):
                    if problem := label_value_problem(str(v)):
                        return f"{path}: value {v!r}: {problem}"
    return None


def validate_object(obj: dict[str, Any], version: str = KUBERNETES_VERSION) -> None:
    if problem := name_problem(obj):
        raise ManifestInvalid(f"{_ident(obj)}: {problem}")
    key = (obj.get("apiVersion"), obj.get("kind"))
    schema_file = CUSTOM_SCHEMAS.get(key)  # type: ignore[arg-type]  # keys are str pairs
    if schema_file is None:
        _core(obj, version)
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema(schema_file))
    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        path = "/".join(str(p) for p in err.absolute_path)
        raise ManifestInvalid(f"{_ident(obj)}: {path}: {err.message}")
    for tmpl in _pod_templates(obj):
        # The pod templates inside are core/v1: check them as a PodTemplate.
        meta = {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]}
        _core(
            {"apiVersion": "v1", "kind": "PodTemplate", "metadata": meta, "template": tmpl}, version
        )
