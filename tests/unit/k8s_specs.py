"""Plans for the Kubernetes backend tests, built from catalog models (no I/O)."""

from __future__ import annotations

from functools import cache
from typing import Any

from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.service import ServingSpec

#: One spec per plan shape the backend must handle (layout checked in the tests).
SHAPES: dict[str, dict[str, Any]] = {
    # 7B on one L4: TP 1, one GPU per pod, a partial node.
    "tp1": {"model": "Qwen/Qwen2.5-7B-Instruct", "max_model_len": 8192, "gpus": {"types": ["L4"]}},
    # 70B with a 40 ms TTFT target: TP 8, the whole H100 node.
    "tp8": {
        "model": "meta-llama/Llama-3.1-70B-Instruct",
        "max_model_len": 16384,
        "targets": {"concurrency": 16, "ttft_ms": 40},
        "gpus": {"types": ["H100"], "max_per_replica": 8, "max_nodes": 1},
    },
    # A pre-quantized AWQ checkpoint.
    "quantized": {
        "model": "Qwen/Qwen2.5-7B-Instruct-AWQ",
        "max_model_len": 8192,
        "gpus": {"types": ["L4"]},
    },
    # 405B in bf16 does not fit one 8×H100 node: two nodes per replica.
    "multinode": {
        "model": "meta-llama/Llama-3.1-405B-Instruct",
        "max_model_len": 8192,
        "gpus": {"types": ["H100"], "max_per_replica": 16, "max_nodes": 2},
    },
}


def spec(shape: str, **overrides: Any) -> ServingSpec:
    # Planned as staging, where a ReadWriteMany claim needs a storage class
    # (k8s/weights.py require_rwx_storage_class); EFS as on the shipped stacks.
    data: dict[str, Any] = {
        "name": f"svc-{shape}",
        "weights": {"storage_class": "efs-sc"},
        **SHAPES[shape],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return ServingSpec.model_validate(data)


@cache
def _cached(shape: str) -> ServicePlan:
    return plan_service(spec(shape), "staging")


def plan(shape: str, **overrides: Any) -> ServicePlan:
    if not overrides:
        return _cached(shape)
    return plan_service(spec(shape, **overrides), "staging")


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in pod_spec["containers"] if c["name"] == name)
