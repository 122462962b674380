"""What the real Pulumi engine and a real API server found, pinned without Go: each
test here failed before its fix (tests/realengine runs the real thing)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from k8s_specs import plan, spec
from ruamel.yaml import YAML

from llmpod.k8s.manifests import build_manifests
from llmpod.k8s.namespaces import namespace_objects
from llmpod.project import find_project
from llmpod.spec.stack import StackSpec

REPO = Path(__file__).resolve().parents[2]
SCAFFOLD_PULUMI_YAML = REPO / "infra" / "llmpod" / "scaffold" / "files" / "Pulumi.yaml"


def _pulumi_project_errors(doc: dict[str, Any]) -> list[str]:
    """The config rules Pulumi's CLI applies when it loads Pulumi.yaml (Project.Validate
    in sdk/go/common/workspace/project.go, v3.276.0), for the parts llmpod's files use."""
    errors = []
    name = str(doc["name"])
    for key, decl in (doc.get("config") or {}).items():
        own = ":" not in key or key.startswith(name + ":")
        typed = isinstance(decl, dict) and "type" in decl
        if own and typed and decl["type"] == "array" and "items" not in decl:
            errors.append(f"{key}: an array without items")
        if not own and typed:
            errors.append(f"{key}: not namespaced by the project and should not define a type")
    return errors


def test_the_repositorys_pulumi_yaml_is_one_the_cli_accepts() -> None:
    doc = YAML(typ="safe").load((REPO / "Pulumi.yaml").read_text())
    assert _pulumi_project_errors(doc) == []


@pytest.mark.parametrize("project_name", ["llmpod", "my-llm", "chat"])
def test_a_scaffolded_pulumi_yaml_is_one_the_cli_accepts_whatever_its_name(
    project_name: str,
) -> None:
    text = SCAFFOLD_PULUMI_YAML.read_text().replace("@PROJECT_NAME@", project_name)
    assert _pulumi_project_errors(YAML(typ="safe").load(text)) == []


def test_render_dir_is_given_to_the_provider_relative_to_the_program_directory(
    tmp_path: Path,
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nmain: infra/\nstackConfigDir: stacks\n")
    project = find_project(tmp_path)
    # Pulumi starts plugins in main: (infra/), so build/… would land in infra/build/….
    assert project.path_for_plugins("build/dev-rendered") == "../build/dev-rendered"
    assert project.path_for_plugins("/abs/out") == "/abs/out"
    (tmp_path / "Pulumi.yaml").write_text("name: p\nstackConfigDir: stacks\n")
    assert find_project(tmp_path).path_for_plugins("build/x") == "build/x"


def test_an_empty_render_dir_from_the_projects_default_means_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llmpod.program import stack_config

    config = {
        "llmpod:environment": "staging",
        "llmpod:renderDir": "",  # what the CLI hands over for Pulumi.yaml's default
        "llmpod:services": json.dumps([{"name": "a", "model": "Qwen/Qwen2.5-7B-Instruct"}]),
    }
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    stack = StackSpec.from_config(stack_config(), where="test")
    assert stack.render_dir is None


def _stack(*services: dict[str, Any]) -> StackSpec:
    return StackSpec.model_validate({"environment": "staging", "services": list(services)})


def test_a_namespace_is_created_once_however_many_services_share_it() -> None:
    shared = {"namespace": "llm", "create_namespace": True}
    stack = _stack(
        {"name": "b", "model": "Qwen/Qwen2.5-7B-Instruct", "kubernetes": shared},
        {"name": "a", "model": "Qwen/Qwen2.5-7B-Instruct", "kubernetes": shared},
        {"name": "c", "model": "Qwen/Qwen2.5-7B-Instruct", "kubernetes": {"namespace": "own"}},
    )
    [ns] = namespace_objects(stack)
    assert ns["kind"] == "Namespace" and ns["metadata"]["name"] == "llm"
    assert ns["metadata"]["labels"]["llmpod.io/environment"] == "staging"
    assert "annotations" not in ns["metadata"]
    skip = namespace_objects(stack.model_copy(update={"skip_await": True}))
    assert skip[0]["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}


def test_skip_await_marks_every_object_and_only_when_asked() -> None:
    sp = plan("tp1")
    assert spec("tp1").kubernetes.create_namespace is False  # the platform team's, by default
    plain = build_manifests(sp)
    marked = build_manifests(replace(sp, skip_await=True))
    assert len(plain) == len(marked)
    for obj in marked:
        annotations = obj["metadata"]["annotations"]
        assert annotations["pulumi.com/skipAwait"] == "true"
        assert list(annotations) == sorted(annotations)
    deployment = next(o for o in plain if o["kind"] == "Deployment")
    assert "pulumi.com/skipAwait" not in deployment["metadata"].get("annotations", {})
