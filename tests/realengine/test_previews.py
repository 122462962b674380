"""What a pull request shows, with the real CLI and provider: staging and production
previews with no cluster reachable, and the field-level diff of a changed service."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmpod.render.api import render_stack

from .engine import Engine, step
from .manifests import objects_from_texts
from .stacks import edit_stack, kubernetes_only, service


@pytest.mark.parametrize("stack", ["staging", "production"])
def test_previews_without_a_cluster_list_every_resource(
    engine: Engine, project: Path, stack: str
) -> None:
    assert kubernetes_only(project, stack) == ["llama-8b-aws"]
    rendered = render_stack(stack, project / "stacks")
    objects = objects_from_texts(rendered.files.values())
    report = engine.drive(project, stack, "select", "preview")
    preview = step(report, "preview")
    # The stack, the provider, one component per service and one for the stack's
    # Namespaces, then every object llmpod renders.
    components = len(rendered.services) + 1
    assert preview["changes"] == {"create": len(objects) + components + 2}
    for _, kind, _, name in objects:
        assert f" {kind.lower()}-{name} " in preview["stdout"], (kind, name)


def test_a_pull_request_preview_names_the_changed_fields(engine: Engine, project: Path) -> None:
    step(engine.drive(project, "dev", "select", "up"), "up")
    edit_stack(project, "dev", lambda c: service(c, "qwen-7b").__setitem__("max_model_len", 8192))
    diff = step(engine.drive(project, "dev", "preview-diff"), "preview-diff")
    # What a reviewer reads in the PR comment: the plan ConfigMap the entrypoint starts
    # vLLM from is replaced (the provider treats ConfigMap data as immutable), showing the
    # argument that changed; the Deployment is updated in place (its plan hash and its
    # compile-cache directory, which is keyed on the layout, change, so pods roll).
    assert diff["changes"] == {"replace": 1, "update": 1, "same": 14}
    text = diff["stdout"]
    assert "+-kubernetes:core/v1:ConfigMap: (replace)" in text
    assert "configmap-qwen-7b-plan" in text
    assert '~ [6]: "16384" => "8192"' in text  # --max-model-len
    assert "~ kubernetes:apps/v1:Deployment: (update)" in text
    assert "~ llmpod.io/plan-sha256:" in text
