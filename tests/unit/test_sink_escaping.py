"""Escaping at every sink: a value that slipped past the spec's grammars stays inert.

Each test calls a renderer or builder directly (bypassing spec validation) with
hostile values and proves them inert where they land: shell scripts are
*executed* in a scratch directory with fake `aws`/`mount`/... on PATH (no canary
file appears, and the fake receives the payload as one argument), systemd
command lines keep their words, cloud-init and manifests parse back to the same
values, Dockerfile values stay JSON strings, the IAM builder refuses wildcards,
and PromQL label values decode back to exactly the payload.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from ruamel.yaml import YAML

import llmpod.aws.cloud_init as cloud_init
from llmpod.aws import policies
from llmpod.aws.cloud_init import UserDataInputs, WeightsMount, efs_mount, render_user_data
from llmpod.aws.description import describe_service
from llmpod.errors import LlmpodError
from llmpod.escaping import UnsafeValue, systemd_command
from llmpod.image import dockerfile
from llmpod.k8s.scaling import queue_query
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.service import ServingSpec
from llmpod.templating import environment
from llmpod.templating import render_template as render_k8s
from llmpod.yamlio.writer import dump_yaml

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")

CANARY = "pwned"
#: Command injection in every shell form the issue reproduced, each creating CANARY.
SHELL_PAYLOADS = [
    f"us-east-1;touch {CANARY};",
    f"$(touch {CANARY})",
    f"`touch {CANARY}`",
    f"x\ntouch {CANARY}\n",
    f"x;touch${{IFS}}{CANARY}",
    f"'; touch {CANARY}; '",
    f'"; touch {CANARY}; "',
    f"x|touch {CANARY}",
    f"$'\\n'; touch {CANARY} #",
]

AWS = {
    "region": "eu-west-1",
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
}


def aws_plan() -> ServicePlan:
    return plan_service(
        ServingSpec.model_validate(
            {
                "name": "chat",
                "model": "llama-3.1-8b",
                "max_model_len": 8192,
                "revision": "abc123",
                "targets": {"concurrency": 64},
                "gpus": {"types": ["L4"], "max_per_replica": 2},
                "replicas": {"min": 4, "max": 4},
                "backend": "aws",
                "weights": {"source": "s3://models/llama-8b"},
                "aws": AWS,
            }
        ),
        "staging",
    )


@pytest.fixture(scope="module")
def inputs() -> UserDataInputs:
    return describe_service(aws_plan()).user_data


# ------------------------------------------------------------------ shell


def _fake_bin(tmp: Path) -> Path:
    """Fakes that log their arguments, one per line, NUL-terminated."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    log_args = 'for a in "$@"; do printf "%s\\0" "$a"; done >> "$FAKE_LOG.$(basename "$0")"'
    for name, tail in {
        "aws": "",
        "mount": "",
        "flock": "",
        "mountpoint": "exit 1",
        "install": "",
        "curl": "echo token",
        "seq": "echo 1",
        "sleep": "",
    }.items():
        path = bin_dir / name
        path.write_text(f"#!/bin/bash\n{log_args}\n{tail}\n")
        path.chmod(0o755)
    return bin_dir


def run_script(text: str, tmp: Path, shell: str = "bash") -> dict[str, list[str]]:
    """Run ``text`` in ``tmp``; fail if the canary appears; return each fake's args."""
    bin_dir = _fake_bin(tmp)
    (tmp / "script").write_text(text)
    subprocess.run(
        [shell, str(tmp / "script")],
        cwd=tmp,
        check=False,
        timeout=60,
        capture_output=True,
        text=True,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "FAKE_LOG": str(tmp / "log"), "HOME": str(tmp)},
    )
    created = [p for p in tmp.rglob(f"*{CANARY}*") if p.name == CANARY]
    assert not created, f"the payload ran: {created}"
    logs = {}
    for log in tmp.glob("log.*"):
        logs[log.suffix[1:]] = log.read_text().split("\0")[:-1]
    return logs


def _after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


@pytest.mark.parametrize("payload", SHELL_PAYLOADS)
def test_cloud_init_load_script_passes_hostile_values_as_single_words(
    payload: str, inputs: UserDataInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloud_init, "HOST_WEIGHTS_DIR", str(tmp_path / "weights"))
    hostile = replace(
        inputs,
        region=payload,
        revision=payload,
        s3_url=f"s3://models/{payload}/",
        model_dir=payload,
    )
    doc = YAML(typ="safe").load(
        render_user_data(hostile, "serve", efs_mount("fs-0abc", "eu-west-1"))
    )
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    logs = run_script(files["/usr/local/sbin/llmpod-load-weights"], tmp_path)
    aws = logs["aws"]
    assert aws[:2] == ["s3", "sync"]
    assert _after(aws, "--region") == payload
    assert f"s3://models/{payload}/" in aws
    assert str(tmp_path / "weights" / payload) + "/" in aws
    marker = next((tmp_path / "weights" / ".llmpod").glob("*.revision"))
    assert marker.read_text() == f"s3://models/{payload}@{payload}\n"


@pytest.mark.parametrize("payload", SHELL_PAYLOADS)
def test_cloud_init_mount_script_passes_hostile_values_as_single_words(
    payload: str, inputs: UserDataInputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cloud_init, "HOST_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setattr(cloud_init, "HOST_COMPILE_CACHE_DIR", str(tmp_path / "cache"))
    mount = WeightsMount(
        kind="efs", fstype=payload, source=efs_mount("fs-0", payload).source, options=payload
    )
    doc = YAML(typ="safe").load(render_user_data(inputs, "serve", mount))
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    logs = run_script(files["/usr/local/sbin/llmpod-mount-weights"], tmp_path)
    assert logs["mount"] == [
        "-t",
        payload,
        "-o",
        payload,
        f"fs-0.efs.{payload}.amazonaws.com:/",
        str(tmp_path / "weights"),
    ]
    assert logs["install"][-1] == str(tmp_path / "cache")


@pytest.mark.parametrize("payload", [p for p in SHELL_PAYLOADS if "\n" not in p])
def test_find_ray_head_script_passes_hostile_values_as_single_words(
    payload: str, inputs: UserDataInputs, tmp_path: Path
) -> None:
    hostile = replace(inputs, region=payload, environment=payload.replace("\n", " "))
    doc = YAML(typ="safe").load(
        render_user_data(hostile, "worker", efs_mount("fs-0abc", "eu-west-1"))
    )
    files = {f["path"]: f["content"] for f in doc["write_files"]}
    aws = run_script(files["/usr/local/sbin/llmpod-find-ray-head"], tmp_path)["aws"]
    assert _after(aws, "--region") == payload
    assert f"Name=tag:environment,Values={hostile.environment}" in aws


@pytest.mark.parametrize("payload", SHELL_PAYLOADS)
@pytest.mark.parametrize("shell", ["bash", "sh"])
def test_kubernetes_scripts_pass_hostile_values_as_single_words(
    payload: str, shell: str, tmp_path: Path
) -> None:
    expected = tmp_path / "expected"
    expected.write_text("marker\n")
    loader = render_k8s(
        "weights-loader-s3.sh.j2",
        source=f"s3://b/{payload}",
        target_dir=str(tmp_path / payload),
        marker_path=str(tmp_path / "m"),
        expected_marker_path=str(expected),
    )
    aws = run_script(loader, tmp_path, shell)["aws"]
    assert aws[:2] == ["s3", "ls"] or "sync" in aws
    assert f"s3://b/{payload}/" in aws
    assert (tmp_path / "m").read_text() == "marker\n"  # the loader ran to the end
    wait = render_k8s(
        "weights-wait.sh.j2",
        loader_job=payload,
        max_wait_rounds=1,
        marker_path=str(tmp_path / "absent"),
        expected_marker_path=str(expected),
    )
    (tmp_path / "bin").rename(tmp_path / "bin-1")
    run_script(wait, tmp_path, shell)


# ------------------------------------------------------------------ systemd


def _unit(inputs: UserDataInputs) -> str:
    doc = YAML(typ="safe").load(
        render_user_data(inputs, "serve", efs_mount("fs-0abc", "eu-west-1"))
    )
    unit: str = next(
        f["content"]
        for f in doc["write_files"]
        if f["path"] == "/etc/systemd/system/llmpod-serve-0.service"
    )
    return unit


def _exec_start(unit: str) -> list[str]:
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.removeprefix("ExecStart="))


def test_an_image_with_a_newline_cannot_add_a_unit_setting(inputs: UserDataInputs) -> None:
    with pytest.raises(UnsafeValue, match=r"control character"):
        _unit(replace(inputs, image="ghcr.io/x/y\nExecStartPre=/bin/touch /tmp/pwned"))
    with pytest.raises(UnsafeValue, match=r"control character"):
        _unit(replace(inputs, service="chat\nExecStartPre=/bin/sh"))


@pytest.mark.parametrize(
    "image",
    [
        "ghcr.io/x/vllm --privileged -v /:/host",
        "x' --privileged '",
        'x" --privileged "',
        "a\\ b",
        "img;--privileged",
        "${HOME}",
        "50%n",
    ],
)
def test_an_image_with_spaces_or_quotes_stays_one_docker_argument(
    image: str, inputs: UserDataInputs
) -> None:
    unit = _unit(replace(inputs, image=image))
    words = _exec_start(unit)
    # shlex splits like systemd; systemd then turns %% into % and $$ into $.
    assert words[-1].replace("%%", "%").replace("$$", "$") == image
    assert "--privileged" not in words
    benign = _exec_start(_unit(inputs))
    assert len(words) == len(benign)
    assert [k.split("=", 1)[0] for k in unit.splitlines() if "=" in k] == [
        k.split("=", 1)[0] for k in _unit(inputs).splitlines() if "=" in k
    ]


def test_systemd_words_escape_specifiers_and_variables() -> None:
    assert (
        systemd_command(["/usr/bin/echo", "100%", "$HOME", "a b"])
        == "/usr/bin/echo '100%%' '$$HOME' 'a b'"
    )
    with pytest.raises(UnsafeValue):
        systemd_command(["x\ry"])


# ------------------------------------------------------------------ cloud-init YAML


def test_cloud_init_is_yaml_that_parses_back_to_the_values(inputs: UserDataInputs) -> None:
    payload = "x\nruncmd: [[touch, /tmp/pwned]]\n- path: /etc/cron.d/x\n  content: '*'"
    hostile = replace(
        inputs,
        revision=payload,
        model_dir=payload,
        plan_payload={"vllm_args": [payload, "\x1b[31m", "'\"{}[]&*!|>%@`"]},
    )
    text = render_user_data(hostile, "serve", efs_mount("fs-0abc", "eu-west-1"))
    doc = YAML(typ="safe").load(text)
    assert sorted(doc) == ["runcmd", "write_files"]
    assert [c[:2] for c in doc["runcmd"]] == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable"],
        ["systemctl", "start"],
    ]
    paths = sorted(f["path"] for f in doc["write_files"])
    assert paths == sorted(
        f["path"]
        for f in YAML(typ="safe").load(
            render_user_data(inputs, "serve", efs_mount("fs-0abc", "eu-west-1"))
        )["write_files"]
    )
    plan = next(f["content"] for f in doc["write_files"] if f["path"] == "/etc/llmpod/plan.json")
    assert json.loads(plan) == hostile.plan_payload


@pytest.mark.parametrize(
    "value",
    [
        "rev\x01",
        "a\x1b[31m\nb",
        "x\u2028y\nz",
        " lead\nx",
        "\x85x\ny",
        "tab\tok\nx",
        "trailing \nx",
        "\x00",
    ],
)
def test_manifest_yaml_parses_back_whatever_the_string_holds(value: str) -> None:
    obj = {"data": {"k": value, value: [value]}}
    assert YAML(typ="safe").load(dump_yaml(obj)) == obj


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_values_are_json_strings() -> None:
    template = environment().get_template("Dockerfile.j2")
    hostile = '0.1" \\\n RUN touch /tmp/pwned #'
    text = template.render(
        base_image="vllm/vllm-openai",
        vllm_version=hostile,
        digest=hostile,
        uid=10001,
        vllm_port=8000,
        status_port=8081,
        python='py"thon',
        package="pkg",
        modules=["a.py"],
        source_dir="src",
    )
    assert "\nRUN touch" not in text
    labels = re.findall(r'org\.opencontainers\.image\.([a-z.]+)=(".*?(?<!\\)")', text)
    decoded = {k: json.loads(v) for k, v in labels}
    assert decoded["base.digest"] == hostile
    assert decoded["base.name"] == f"vllm/vllm-openai:v{hostile}"
    entry = next(x for x in text.splitlines() if x.startswith("ENTRYPOINT "))
    assert json.loads(entry.removeprefix("ENTRYPOINT ")) == ['py"thon', "-m", "pkg.entrypoint"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"base_image": "vllm/vllm-openai AS x\nRUN id"}, "bad_base_image"),
        ({"digest": "sha256:" + "0" * 63 + "\nRUN id"}, "bad_image_digest"),
        ({"vllm_version": "0.32.0\nRUN id"}, "bad_vllm_version"),
    ],
)
def test_dockerfile_refuses_what_from_cannot_quote(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(LlmpodError) as info:
        dockerfile.render_dockerfile(**kwargs)
    assert info.value.code == code


# ------------------------------------------------------------------ IAM


@pytest.mark.parametrize(
    ("bucket", "prefix", "message"),
    [
        ("llmpod-models", "*", r"key prefix '\*' is not literal .*wildcard"),
        ("llmpod-models", "models/*/x", r"wildcard"),
        ("*", "models", r"bucket '\*' is not literal"),
        ("llmpod-models", "a/../../b", r"'\.\.' path segment"),
        ("llmpod-models", "${aws:username}", r"policy variable"),
        ("llmpod-models", "", r"it is empty"),
        ("llm?pod", "m", r"bucket 'llm\?pod'"),
    ],
)
def test_iam_builder_refuses_non_literal_parts(bucket: str, prefix: str, message: str) -> None:
    with pytest.raises(LlmpodError, match=message) as info:
        policies.weights_read_policy(bucket, prefix, find_ray_head=False)
    assert info.value.code == "unsafe_iam_policy"


def test_iam_policy_from_literal_parts_grants_only_the_prefix() -> None:
    doc = json.loads(
        policies.weights_read_policy("llmpod-models", "meta-llama/L-8B", find_ray_head=False)
    )
    assert [s["Resource"] for s in doc["Statement"]] == [
        "arn:aws:s3:::llmpod-models",
        "arn:aws:s3:::llmpod-models/meta-llama/L-8B/*",
    ]
    assert doc["Statement"][0]["Condition"]["StringLike"]["s3:prefix"] == [
        "meta-llama/L-8B",
        "meta-llama/L-8B/*",
    ]


def test_spec_refuses_the_wildcard_sources_the_issue_found() -> None:
    for source in ("s3://llmpod-models/*", "s3://*/models"):
        with pytest.raises(ValueError, match=r"weights\.source"):
            ServingSpec.model_validate(
                {"name": "x", "model": "llama-3.1-8b", "weights": {"source": source}}
            )


# ------------------------------------------------------------------ PromQL

_GO_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}


def _matchers(query: str) -> dict[str, str]:
    """Parse ``sum(metric{k="v",...})`` with PromQL string rules (the test's own
    decoder: it only reads the query, it does not share the encoder)."""
    m = re.fullmatch(r"sum\(vllm:num_requests_waiting\{(.*)\}\)", query, re.S)
    assert m, query
    body, out, i = m.group(1), {}, 0
    while i < len(body):
        key = re.match(r"([a-z_]+)=\"", body[i:])
        assert key, body[i:]
        i += key.end()
        value = ""
        while body[i] != '"':
            if body[i] == "\\":
                nxt = body[i + 1]
                if nxt == "x":
                    value += chr(int(body[i + 2 : i + 4], 16))
                    i += 4
                    continue
                value += _GO_ESCAPES[nxt]
                i += 2
            else:
                value += body[i]
                i += 1
        out[key.group(1)] = value
        i += 1
        if i < len(body):
            assert body[i] == ",", body[i:]
            i += 1
    return out


@pytest.mark.parametrize(
    "payload",
    [
        '"} or vector(1) #',
        'x",model_name=~".*',
        "a\\",
        "l\nx",
        "\x07",
        'm"} + on() group_left sum(up) # "',
    ],
)
def test_promql_label_values_stay_one_literal(payload: str) -> None:
    sp = SimpleNamespace(
        spec=SimpleNamespace(
            kubernetes=SimpleNamespace(namespace=payload),
            image=SimpleNamespace(vllm_version="0.32.0"),
        ),
        model=SimpleNamespace(served_name=payload),
    )
    query = queue_query(cast(Any, sp))
    assert _matchers(query) == {"namespace": payload, "model_name": payload}
    assert "\n" not in query
