"""A built wheel, installed into a fresh venv, starts and renders a project of
its own from a directory outside this repository (the finding: a wheel had no
templates, read the first clone's stacks and had no `--version` or `init`).

Bounded: one wheel build (no dependencies, no build isolation, ~15 s) and a
venv that borrows the test environment's dependencies (--system-site-packages)
while llmpod itself comes only from the wheel.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The wheel and its venv: the session fixture `installed_wheel` (tests/conftest.py),
# shared with the real-engine test of a project made by that wheel's `llmpod init`.
pytestmark = [pytest.mark.packaging, pytest.mark.timeout(600)]


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        argv, cwd=cwd, env=env, text=True, capture_output=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_carries_templates_and_project_files(
    installed_wheel: tuple[Path, dict[str, str]],
) -> None:
    venv, env = installed_wheel
    probe = (
        "import llmpod, llmpod.package_data as d; print(llmpod.__file__); print(d.templates_dir())"
    )
    out = _run([str(venv / "bin" / "python"), "-c", probe], venv, env).stdout.split()
    assert out[0].startswith(str(venv)), out  # the wheel's copy, not the checkout's
    assert out[1] == str(Path(out[0]).parent / "templates")
    assert (Path(out[1]) / "weights-wait.sh.j2").is_file()


def test_installed_llmpod_scaffolds_and_renders_a_project_elsewhere(
    installed_wheel: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed_wheel
    llmpod = str(venv / "bin" / "llmpod")
    version = _run([llmpod, "--version"], tmp_path, env).stdout
    assert version.strip() == "llmpod 0.1.0"
    _run([llmpod, "init", "myproj"], tmp_path, env)
    project = tmp_path / "myproj"
    assert (project / "stacks" / "Pulumi.production.yaml").is_file()
    assert (project / ".github" / "workflows" / "llmpod-pr.yml").is_file()
    rendered = _run([llmpod, "render", "dev"], project, env)
    assert f"stack: {project.resolve() / 'stacks' / 'Pulumi.dev.yaml'}" in rendered.stderr
    deployment = project / "build" / "dev" / "chat" / "deployment-chat.yaml"
    assert deployment.is_file()
    scripts = (project / "build" / "dev" / "chat" / "configmap-chat-scripts.yaml").read_text()
    assert "weights-wait.sh" in scripts  # rendered from the packaged templates
    report = json.loads((project / "build" / "dev" / "policy-report.json").read_text())
    assert report == {"violations": []}
    # Production renders too; its only finding is the image digest it cannot know.
    _run([llmpod, "render", "production"], project, env)
    prod = json.loads((project / "build" / "production" / "policy-report.json").read_text())
    assert {v["policy"] for v in prod["violations"]} == {"llmpod-images-pinned"}


def test_promote_edits_the_projects_files_never_the_checkouts(
    installed_wheel: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = installed_wheel
    llmpod = str(venv / "bin" / "llmpod")
    _run([llmpod, "init", "p"], tmp_path, env)
    project = tmp_path / "p"
    checkout_prod = (REPO / "stacks" / "Pulumi.production.yaml").read_bytes()
    staging = project / "stacks" / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("max_model_len: 16384", "max_model_len: 8192"))
    sub = project / "stacks"  # from a subdirectory: the nearest Pulumi.yaml above
    result = _run([llmpod, "promote", "staging", "production", "--yes"], sub, env)
    assert f"wrote {project.resolve() / 'stacks' / 'Pulumi.production.yaml'}" in result.stderr
    assert "max_model_len: 8192" in (project / "stacks" / "Pulumi.production.yaml").read_text()
    assert (REPO / "stacks" / "Pulumi.production.yaml").read_bytes() == checkout_prod


#: A user's own config.json (Llama 3.2 1B's published architecture fields), planned
#: by path: no catalog entry and no Hub involved.
OWN_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_attention_heads": 32,
    "num_hidden_layers": 16,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "vocab_size": 128256,
    "max_position_embeddings": 131072,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "rms_norm_eps": 1e-05,
    "rope_theta": 500000.0,
}


def test_the_documented_flow_from_the_wheel_in_an_empty_directory(
    installed_wheel: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Issue 20's "done when": init → plan of one's own config.json → render → image
    context → promote, from the wheel, in an empty directory; and CI's install step
    (`pip install -r .llmpod/requirements.txt`) run for real into a second venv."""
    venv, env = installed_wheel
    llmpod = str(venv / "bin" / "llmpod")
    work = tmp_path / "empty"
    work.mkdir()
    init = _run([llmpod, "init", "my-llm"], work, env)
    project = work / "my-llm"
    assert "cd my-llm && llmpod render dev" in init.stdout
    # Installed from a wheel file: init copied it, and CI installs that copy.
    [wheel] = sorted((project / ".llmpod").glob("llmpod-*.whl"))
    requirement = (project / ".llmpod" / "requirements.txt").read_text().splitlines()[-1]
    assert requirement == f"./.llmpod/{wheel.name}"
    ci_venv = tmp_path / "ci-venv"
    _run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "venv",
            "--system-site-packages",
            "--without-pip",
            str(ci_venv),
        ],
        tmp_path,
        env,
    )
    _run(
        [
            str(ci_venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            "-r",
            ".llmpod/requirements.txt",
        ],
        project,
        env,
    )
    assert _run([str(ci_venv / "bin" / "llmpod"), "--version"], project, env).stdout.strip() == (
        "llmpod 0.1.0"
    )

    (work / "config.json").write_text(json.dumps(OWN_CONFIG))
    planned = _run(
        [
            llmpod,
            "plan",
            "--model",
            "../config.json",
            "--gpu",
            "L4",
            "--max-model-len",
            "8192",
            "--json",
        ],
        project,
        env,
    )
    plan = json.loads(planned.stdout)
    assert plan["feasible"] and plan["gpu"] == "L4" and plan["tensor_parallel_size"] == 1

    _run([llmpod, "render", "dev"], project, env)
    deployment = (project / "build" / "dev" / "chat" / "deployment-chat.yaml").read_text()
    [rendered_image] = re.findall(r"^\s+image: (\S+)$", deployment, re.M)[:1]

    context = _run([llmpod, "image", "context", "build/image", "dev"], project, env)
    build = next(ln for ln in context.stdout.splitlines() if ln.startswith("  docker build"))
    assert build.split() == ["docker", "build", "-t", rendered_image, "build/image"]
    image_dir = project / "build" / "image"
    assert (image_dir / "Dockerfile").is_file()
    assert len(list((image_dir / "llmpod_image").glob("*.py"))) == 16
    # The Dockerfile module from the wheel prints; it writes nothing beside site-packages.
    before = sorted(p.name for p in project.iterdir())
    printed = _run([str(venv / "bin" / "python"), "-m", "llmpod.image.dockerfile"], project, env)
    assert printed.stdout == (image_dir / "Dockerfile").read_text()
    assert sorted(p.name for p in project.iterdir()) == before

    staging = project / "stacks" / "Pulumi.staging.yaml"
    staging.write_text(staging.read_text().replace("max_model_len: 16384", "max_model_len: 8192"))
    _run([llmpod, "promote", "staging", "production", "--yes"], project, env)
    assert "max_model_len: 8192" in (project / "stacks" / "Pulumi.production.yaml").read_text()
    _run([llmpod, "promote", "staging", "production", "--check"], project, env)


def test_installed_llmpod_plans_a_users_own_config_files(
    installed_wheel: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Issue 20: a Gemma-3 config.json as published (transformers' defaults fill
    head_dim, layer pattern and context) and an embedding model (pooling runner)."""
    venv, env = installed_wheel
    llmpod = str(venv / "bin" / "llmpod")
    fixtures = REPO / "tests" / "fixtures" / "configs"
    gemma = json.loads(
        _run(
            [
                llmpod,
                "plan",
                "--model",
                str(fixtures / "gemma-3-12b-it"),
                "--gpu",
                "H100",
                "--json",
            ],
            tmp_path,
            env,
        ).stdout
    )
    assert gemma["max_model_len"] == 131072
    assert gemma["kv_bytes_per_token_per_gpu"] == 48 * 2 * 8 * 256 * 2  # head_dim 256
    assert any("head_dim" in w for w in gemma["warnings"])
    embed = json.loads(
        _run(
            [llmpod, "plan", "--model", str(fixtures / "bge-m3"), "--gpu", "L4", "--json"],
            tmp_path,
            env,
        ).stdout
    )
    assert embed["task"] == "embed" and "--runner" in embed["vllm_args"]
    assert embed["cost"]["per_million_input_tokens"] > 0
