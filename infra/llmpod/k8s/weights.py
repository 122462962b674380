"""The shared weights volume: PVC, the one-time loader Job, and the serving pods' wait.

Why a loader Job instead of each pod downloading: every replica (and every
restart) re-downloading 140 GB is the 15-20 minute cold start users reported,
and a multi-node replica needs the whole checkpoint on a ReadWriteMany volume
before any of its pods starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from llmpod.backends.fetches import Fetch, extra_fetches
from llmpod.backends.runtime import volume_size_gib
from llmpod.errors import LlmpodError
from llmpod.k8s import contract as c
from llmpod.k8s.names import (
    Names,
    checkov_skips,
    image_skips,
    metadata,
    names_for,
    pull_policy,
    selector_labels,
)
from llmpod.k8s.pod_security import container_security, pod_security
from llmpod.planning.service import ServicePlan
from llmpod.templating import render_template as render

#: The init container gives up (and restarts, re-checking) after this long.
MAX_WAIT_S = 6 * 3600
WAIT_INTERVAL_S = 15


@dataclass(frozen=True)
class WeightsSource:
    scheme: str  # "hf" | "s3"
    location: str  # org/name, or bucket/prefix
    revision: str  # hf revision ("main" when unpinned); "" for s3

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.location}"


def weights_source(sp: ServicePlan) -> WeightsSource:
    uri = sp.spec.weights_source
    scheme, _, rest = uri.partition("://")
    if scheme == "s3":
        return WeightsSource("s3", rest.rstrip("/"), "")
    repo, _, rev = rest.partition("@")
    return WeightsSource("hf", repo, rev or sp.spec.revision or "main")


def marker_text(sp: ServicePlan) -> str:
    """What the loader writes when done; the wait compares byte for byte, so a
    volume filled for another revision does not count as ready."""
    src = weights_source(sp)
    return (
        f"llmpod-weights v1\nsource={src.uri}\nrevision={src.revision}\n"
        f"path={sp.model.container_path}\n"
    )


def marker_path(sp: ServicePlan) -> str:
    return f"{sp.model.container_path}/{c.MARKER_NAME}"


def loader_job_name(sp: ServicePlan) -> str:
    """Named by what it fetches (a Job's pod template cannot change): another revision
    of the checkpoint, the draft or an adapter is a new Job."""
    extras = "".join(f.marker_text for f in extra_fetches(sp))
    return names_for(sp).loader_job(marker_text(sp) + extras)


def _expected_marker(fetch: Fetch) -> str:
    return f"{c.SCRIPTS_DIR}/weights-marker-{fetch.key}"


def _script_name(fetch: Fetch) -> str:
    return f"weights-loader-{fetch.key}.{'py' if fetch.scheme == 'hf' else 'sh'}"


def _what(fetch: Fetch) -> str:
    return "the speculative draft" if fetch.kind == "draft" else f"LoRA adapter {fetch.key[5:]}"


#: ReadWriteMany classes of the managed clusters users deploy to, for the refusal's fix:
#: EKS's EFS CSI driver (its docs name the class efs-sc), GKE's Filestore CSI
#: driver (standard-rwx, created with the add-on), AKS's built-in Azure Files class.
RWX_CLASS_EXAMPLES = "efs-sc (EKS, EFS CSI), standard-rwx (GKE Filestore), azurefile-csi (AKS)"


def require_rwx_storage_class(sp: ServicePlan) -> None:
    """Refuse a ReadWriteMany claim left to the cluster's default class outside dev.

    Managed clusters default to a block-storage class (EKS gp2/gp3, GKE
    standard-rwo/pd-balanced, AKS managed-csi) whose provisioner cannot serve
    ReadWriteMany: the claim stays Pending, no pod starts, and `pulumi up` waits
    out its timeout. dev renders YAML (or runs a local cluster) and keeps the default.
    """
    if sp.environment == "dev" or sp.spec.weights.storage_class:
        return
    raise LlmpodError(
        code="rwx_storage_class_missing",
        message=(
            f"service {sp.name!r} ({sp.environment}): weights.storage_class is not set, so "
            f"its weights and compile-cache claims (ReadWriteMany) would go to the "
            f"cluster's default storage class; a default block-storage class (gp3, "
            f"pd-balanced, managed-csi) cannot serve ReadWriteMany, the claims stay "
            f"Pending and `pulumi up` waits out its timeout."
        ),
        suggestions=[
            "set weights.storage_class under this service in the stack file to the "
            f"cluster's ReadWriteMany class, e.g. {RWX_CLASS_EXAMPLES}",
            "list the cluster's classes with `kubectl get storageclass`",
        ],
    )


def pvc(sp: ServicePlan) -> dict[str, Any]:
    """ReadWriteMany: a ReadWriteOnce volume attaches to one node, so a second
    replica, a surge pod or the workers of a multi-node replica stay Pending
    (Multi-Attach error) and rollouts block."""
    n = names_for(sp)
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": f"{volume_size_gib(sp)}Gi"}},
    }
    if sp.spec.weights.storage_class:
        spec["storageClassName"] = sp.spec.weights.storage_class
    # WaitForFirstConsumer classes bind only once the loader pod is scheduled:
    # Pulumi must not wait for "Bound" before creating that pod.
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": metadata(sp, n.pvc, "weights", annotations={"pulumi.com/skipAwait": "true"}),
        "spec": spec,
    }


def scripts(sp: ServicePlan) -> dict[str, str]:
    """Files of the scripts ConfigMap that concern weights."""
    src = weights_source(sp)
    common = {
        "marker_path": marker_path(sp),
        "target_dir": sp.model.container_path,
        "expected_marker_path": f"{c.SCRIPTS_DIR}/weights-marker",
    }
    extras = extra_fetches(sp)
    files = {
        "weights-marker": marker_text(sp),
        "weights-wait.sh": render(
            "weights-wait.sh.j2",
            loader_job=loader_job_name(sp),
            max_wait_rounds=MAX_WAIT_S // WAIT_INTERVAL_S,
            extra_markers=[
                {
                    "what": _what(f),
                    "marker_path": f.marker_path,
                    "expected_marker_path": _expected_marker(f),
                }
                for f in extras
            ],
            **common,
        ),
    }
    if src.scheme == "hf":
        files["weights-loader.py"] = render(
            "weights-loader-hf.py.j2",
            repo_id=src.location,
            revision=src.revision,
            marker_text=marker_text(sp),
            **common,
        )
    else:
        files["weights-loader.sh"] = render("weights-loader-s3.sh.j2", source=src.uri, **common)
    for f in extras:
        files[f"weights-marker-{f.key}"] = f.marker_text
        where = {
            "marker_path": f.marker_path,
            "target_dir": f.target_dir,
            "expected_marker_path": _expected_marker(f),
        }
        if f.scheme == "hf":
            files[_script_name(f)] = render(
                "weights-loader-hf.py.j2",
                repo_id=f.location,
                revision=f.revision,
                marker_text=f.marker_text,
                **where,
            )
        else:
            files[_script_name(f)] = render("weights-loader-s3.sh.j2", source=f.uri, **where)
    return files


def scripts_mount() -> dict[str, Any]:
    return {"mountPath": c.SCRIPTS_DIR, "name": "scripts", "readOnly": True}


def weights_mount(read_only: bool) -> dict[str, Any]:
    return {"mountPath": c.WEIGHTS_MOUNT, "name": "weights", "readOnly": read_only}


def weights_volume(names: Names, read_only: bool) -> dict[str, Any]:
    return {
        "name": "weights",
        "persistentVolumeClaim": {"claimName": names.pvc, "readOnly": read_only},
    }


def scripts_volume(names: Names) -> dict[str, Any]:
    return {"configMap": {"defaultMode": 0o444, "name": names.scripts_config}, "name": "scripts"}


def tmp_volume(name: str = "tmp", size_gib: int = 4) -> dict[str, Any]:
    return {"emptyDir": {"sizeLimit": f"{size_gib}Gi"}, "name": name}


def wait_init_container(sp: ServicePlan) -> dict[str, Any]:
    return {
        "command": ["/bin/sh", f"{c.SCRIPTS_DIR}/weights-wait.sh"],
        "image": sp.spec.image.reference,
        "imagePullPolicy": pull_policy(sp),
        "name": "wait-for-weights",
        "resources": {
            "limits": {"cpu": "100m", "memory": "64Mi"},
            "requests": {"cpu": "10m", "memory": "16Mi"},
        },
        "securityContext": container_security(),
        "volumeMounts": [scripts_mount(), weights_mount(read_only=True)],
    }


def _loader_container(sp: ServicePlan) -> dict[str, Any]:
    src = weights_source(sp)
    script = "weights-loader.py" if src.scheme == "hf" else "weights-loader.sh"
    return _fetch_container(sp, "loader", src.scheme, script)


def _fetch_container(sp: ServicePlan, name: str, scheme: str, script: str) -> dict[str, Any]:
    """A container that runs one loader script (the checkpoint's or an extra fetch's)."""
    env: list[dict[str, Any]] = [{"name": "HOME", "value": "/tmp"}]
    if scheme == "hf":
        env += [
            {"name": "HF_HOME", "value": "/tmp/hf"},
            {"name": "HF_HUB_DISABLE_PROGRESS_BARS", "value": "1"},
            {"name": "PYTHONUNBUFFERED", "value": "1"},
        ]
        if sp.spec.weights.hf_token_secret:
            # optional: public models load without the Secret existing at all.
            env.append(
                {
                    "name": "HF_TOKEN",
                    "valueFrom": {
                        "secretKeyRef": {
                            "key": "token",
                            "name": sp.spec.weights.hf_token_secret,
                            "optional": True,
                        }
                    },
                }
            )
        image, command = sp.spec.image.reference, ["python3", f"{c.SCRIPTS_DIR}/{script}"]
    else:
        image, command = c.AWS_CLI_IMAGE, ["/bin/sh", f"{c.SCRIPTS_DIR}/{script}"]
    return {
        "command": command,
        "env": sorted(env, key=lambda v: v["name"]),
        "image": image,
        "imagePullPolicy": pull_policy(sp) if scheme == "hf" else "IfNotPresent",
        "name": name,
        "resources": {
            "limits": {"cpu": "4", "memory": "8Gi"},
            "requests": {"cpu": "1", "memory": "2Gi"},
        },
        "securityContext": container_security(),
        "volumeMounts": [
            scripts_mount(),
            {"mountPath": "/tmp", "name": "tmp"},
            weights_mount(read_only=False),
        ],
    }


def _loader_skips(sp: ServicePlan) -> dict[str, str]:
    skips = dict(image_skips(sp))
    schemes = {weights_source(sp).scheme, *(f.scheme for f in extra_fetches(sp))}
    if "s3" in schemes:
        skips["CKV_K8S_43"] = f"{c.AWS_CLI_IMAGE} is pinned by its release tag"
        skips["CKV_K8S_15"] = (
            f"{c.AWS_CLI_IMAGE} is a release tag AWS never re-pushes; IfNotPresent "
            "spares a registry round trip on every Job retry"
        )
    if "hf" in schemes and sp.spec.weights.hf_token_secret:
        skips["CKV_K8S_35"] = (
            "huggingface_hub reads the token only from HF_TOKEN; it lives "
            "in the short-lived loader pod, never in serving pods"
        )
    return skips


def loader_network_policy(sp: ServicePlan) -> dict[str, Any]:
    """The loader only downloads: no ingress at all."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(sp, f"{names_for(sp).service}-weights-loader", "weights-loader"),
        "spec": {
            "ingress": [],
            "podSelector": {"matchLabels": selector_labels(sp, "weights-loader")},
            "policyTypes": ["Ingress"],
        },
    }


def _fetch_init_containers(sp: ServicePlan) -> dict[str, Any]:
    """The draft's and adapters' loaders, one after the other before the checkpoint's
    (init containers run in order, so the pod asks for one loader's resources); a
    failed one fails the pod, and the Job's retry skips what its markers say is done."""
    fetches = extra_fetches(sp)
    if not fetches:
        return {}
    return {
        "initContainers": [
            _fetch_container(sp, f"fetch-{i}", f.scheme, _script_name(f))
            for i, f in enumerate(fetches, 1)
        ]
    }


def loader_job(sp: ServicePlan) -> dict[str, Any]:
    n = names_for(sp)
    labels = selector_labels(sp, "weights-loader")
    download_s = volume_size_gib(sp) * 1024 / 20  # a floor of 20 MiB/s before giving up
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        # `pulumi up` must not block on a multi-hour download: serving pods wait
        # for the marker themselves (wait-for-weights).
        "metadata": metadata(
            sp,
            loader_job_name(sp),
            "weights-loader",
            annotations={"pulumi.com/skipAwait": "true", **checkov_skips(_loader_skips(sp))},
        ),
        "spec": {
            "activeDeadlineSeconds": int(math.ceil(max(3600, download_s) / 60) * 60),
            # Each retry resumes where the last stopped, so retries are cheap.
            "backoffLimit": 10,
            "completions": 1,
            "parallelism": 1,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [_loader_container(sp)],
                    **_fetch_init_containers(sp),
                    "restartPolicy": "Never",
                    "securityContext": pod_security(),
                    "serviceAccountName": n.service_account,
                    "volumes": [
                        scripts_volume(n),
                        tmp_volume(),
                        weights_volume(n, read_only=False),
                    ],
                },
            },
        },
    }
