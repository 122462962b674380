"""Every rendered object validates: core kinds strictly against Kubernetes'
schemas (kubernetes-validate), custom resources against llmpod's own schemas."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmpod.k8s.validate import KUBERNETES_VERSION, ManifestInvalid, validate_object
from llmpod.render.api import render_stack


@cache
def _objects(stack: str) -> tuple[tuple[str, Any], ...]:
    files = render_stack(stack).files
    y = YAML(typ="safe", pure=True)
    return tuple(
        (p, y.load(t))
        for p, t in files.items()
        if p.endswith(".yaml") and not p.endswith("/user-data.yaml")
    )


@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_every_rendered_object_validates(stack: str) -> None:
    objects = _objects(stack)
    assert objects
    for path, obj in objects:
        try:
            validate_object(obj)
        except ManifestInvalid as err:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{path}: {err}")


def test_production_covers_every_kind_llmpod_emits() -> None:
    kinds = {obj["kind"] for _, obj in _objects("production")}
    assert {"LeaderWorkerSet", "ScaledObject", "ServiceMonitor", "Deployment", "Job"} <= kinds
    assert KUBERNETES_VERSION.startswith("1.3")


def _find(stack: str, kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(o for _, o in _objects(stack) if o["kind"] == kind))


@pytest.mark.parametrize(
    ("kind", "mutate", "message"),
    [
        (
            "Deployment",
            lambda o: o["spec"]["template"]["spec"]["containers"][0].update({"startupProbes": {}}),
            "startupProbes",
        ),
        (
            "LeaderWorkerSet",
            lambda o: o["spec"]["leaderWorkerTemplate"].update({"restartPolicy": "Always"}),
            "'Always' is not one of",
        ),
        (
            "LeaderWorkerSet",
            lambda o: o["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][
                0
            ].update({"gpus": 8}),
            "gpus",
        ),
        (
            "ScaledObject",
            lambda o: o["spec"]["triggers"][0]["metadata"].pop("query"),
            "'query' is a required property",
        ),
        (
            "ServiceMonitor",
            lambda o: o["spec"]["endpoints"][0].update({"interval": "15 sec"}),
            "does not match",
        ),
    ],
)
def test_validation_rejects_what_the_api_server_would(kind: str, mutate: Any, message: str) -> None:
    obj = _find("production", kind)
    mutate(obj)
    with pytest.raises(ManifestInvalid, match=message):
        validate_object(obj)
