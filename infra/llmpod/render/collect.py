"""Turn recorded registrations into files: one YAML per Kubernetes object, other
providers' resources as JSON, grouped by the top-level component (service)."""

from __future__ import annotations

import base64
import binascii
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from llmpod.render.mock_engine import Registration
from llmpod.yamlio.writer import dump_yaml

K8S_PREFIX = "kubernetes:"
#: Provider resources configure how objects are applied, they are not objects.
PROVIDER_PREFIX = "pulumi:providers:"


def _owners(regs: list[Registration]) -> dict[str, str]:
    """URN → name of its top-level component (the service it belongs to).

    A top-level component is one whose parent is the stack, i.e. not a
    resource registered by this run.
    """
    by_urn = {r.urn: r for r in regs}
    owners: dict[str, str] = {}
    for reg in regs:
        current = reg
        while current.parent_urn in by_urn:
            current = by_urn[current.parent_urn]
        owners[reg.urn] = current.name
    return owners


@dataclass(frozen=True)
class RenderedObject:
    """A deployable resource as a policy sees it, with the service it belongs to."""

    service: str
    type: str
    name: str
    urn: str
    props: dict[str, Any]

    @property
    def label(self) -> str:
        """``Kind/name`` for reports: the Kubernetes object name, else Pulumi's."""
        kind = self.type.rsplit(":", 1)[-1]
        meta = self.props.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        return f"{self.service}/{kind}/{name or self.name}"


def rendered_objects(regs: list[Registration]) -> list[RenderedObject]:
    owners = _owners(regs)
    out = []
    for reg in regs:
        if reg.type.startswith(PROVIDER_PREFIX) or not reg.custom:
            continue
        props = k8s_object(reg) if reg.type.startswith(K8S_PREFIX) else dict(reg.inputs)
        out.append(RenderedObject(owners[reg.urn], reg.type, reg.name, reg.urn, props))
    return sorted(out, key=lambda o: (o.service, o.type, o.name))


def k8s_object(reg: Registration) -> dict[str, Any]:
    """The object as pulumi-kubernetes would apply it (its inputs are the manifest)."""
    obj = {k: v for k, v in reg.inputs.items() if not k.startswith("__")}
    if "apiVersion" not in obj or "kind" not in obj:  # typed resources always set both
        _, group_version, kind = reg.type.split(":", 2)
        obj.setdefault("apiVersion", group_version.removeprefix("core/"))
        obj.setdefault("kind", kind)
    return obj


def object_file_name(obj: dict[str, Any]) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def _decoded_user_data(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return value  # already plain text


def collect_files(regs: list[Registration]) -> dict[str, str]:
    """Relative path → file content, for every service's resources."""
    owners = _owners(regs)
    files: dict[str, str] = {}
    others: dict[str, list[dict[str, Any]]] = defaultdict(list)
    scripts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for reg in regs:
        if reg.type.startswith(PROVIDER_PREFIX) or not reg.custom:
            continue  # providers and components are not deployable objects
        service = owners[reg.urn]
        if reg.type.startswith(K8S_PREFIX):
            obj = k8s_object(reg)
            path = f"{service}/{object_file_name(obj)}"
            if path in files:
                raise ValueError(f"two objects render to {path}")
            files[path] = dump_yaml(obj)
            continue
        package = reg.type.split(":", 1)[0]
        others[f"{service}/{package}-resources.json"].append(
            {"inputs": dict(sorted(reg.inputs.items())), "name": reg.name, "type": reg.type}
        )
        user_data = _decoded_user_data(reg.inputs.get("userData"))
        if user_data is not None:
            scripts[service].append((reg.name, user_data))
    for service, found in scripts.items():
        # One launch template per service is the norm; more get their names.
        for name, text in sorted(found):
            suffix = "" if len(found) == 1 else f"-{name}"
            files[f"{service}/user-data{suffix}.yaml"] = text
    for path, resources in others.items():
        resources.sort(key=lambda r: (r["type"], r["name"]))
        files[path] = json.dumps(resources, indent=2, sort_keys=True) + "\n"
    return dict(sorted(files.items()))
