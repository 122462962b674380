"""Every user string is typed by where it lands: the spec refuses what the
destination's grammar refuses (with field, truncated value and fix), and what it
accepts, even at the edges of each grammar, renders into objects the API server
accepts (names, labels, selectors, references)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from k8s_specs import plan as shape_plan
from k8s_specs import spec as shape_spec

from llmpod.errors import LlmpodError
from llmpod.k8s.manifests import build_manifests
from llmpod.k8s.validate import ManifestInvalid, validate_object
from llmpod.spec.grammars import shown
from llmpod.spec.stack import StackSpec


def load(**fields: Any) -> StackSpec:
    service = {"name": "chat", "model": "llama-3.1-8b", **fields}
    return StackSpec.from_config({"environment": "dev", "services": [service]}, where="s.yaml")


@pytest.mark.parametrize(
    ("fields", "pattern"),
    [
        # Kubernetes names (DNS-1123) and label grammar
        (
            {"kubernetes": {"namespace": "LLM_prod"}},
            r"kubernetes\.namespace: must be a DNS-1123 label.*'L' is not allowed.*got 'LLM_prod'",
        ),
        (
            {"kubernetes": {"namespace": "n" * 64}},
            r"kubernetes\.namespace: .*64 characters long \(at most 63\)",
        ),
        (
            {"kubernetes": {"allowed_namespaces": ["ingress", "-x"]}},
            r"allowed_namespaces\[1\]: .*start and end with a letter or digit",
        ),
        (
            {"weights": {"storage_class": "EFS sc"}},
            r"weights\.storage_class: must be a DNS-1123 subdomain.*'E' is not allowed",
        ),
        (
            {"weights": {"hf_token_secret": "hf_token"}},
            r"weights\.hf_token_secret: must be a DNS-1123 subdomain.*'_' is not allowed",
        ),
        (
            {"labels": {"team": "ml platform"}},
            r"labels\.team: must be a Kubernetes label value.*' ' is not allowed.*'ml platform'",
        ),
        ({"labels": {"team": "v" * 64}}, r"labels\.team: .*64 characters long"),
        (
            {"labels": {"Bad Key": "x"}},
            r"labels\['Bad Key'\] \(the key\): must be a Kubernetes label key",
        ),
        ({"labels": {"Example.com/team": "x"}}, r"its prefix 'Example\.com'"),
        (
            {"kubernetes": {"extra_node_selector": {"pool": "gpu;rm"}}},
            r"extra_node_selector\.pool: must be a Kubernetes label value.*';' is not allowed",
        ),
        ({"domain": "Llama.example.com"}, r"domain: must be a DNS-1123 subdomain"),
        (
            {"kubernetes": {"prometheus_url": 'http://p:9090/"} or vector(1) #'}},
            r"prometheus_url: must be an http\(s\) URL",
        ),
        (
            {"replicas": {"single_replica_reason": "ok\nllmpod.dev/x: y"}},
            r"single_replica_reason: must be one line.*control character '\\n'",
        ),
        # AWS
        (
            {"backend": "aws", "aws": {"region": "us-east-1;touch /tmp/pwned;"}},
            r"aws\.region: must be an AWS region.*us-east-1.*got 'us-east-1;touch /tmp/pwned;'",
        ),
        (
            {"backend": "aws", "aws": {"region": "us-east-1", "ami_id": "ami-xyz"}},
            r"aws\.ami_id: must be an AMI id",
        ),
        (
            {"weights": {"source": "s3://llmpod-models/*"}},
            r"weights\.source: .*its key prefix: it contains a wildcard",
        ),
        ({"weights": {"source": "s3://*/models"}}, r"weights\.source: .*its bucket"),
        (
            {"weights": {"source": "s3://llmpod-models/a/../../etc"}},
            r"weights\.source: .*'\.\.' path segment",
        ),
        (
            {"weights": {"source": "s3://llmpod-models/${aws:username}/m"}},
            r"weights\.source: .*policy variable",
        ),
        ({"weights": {"source": "s3://Bad_Bucket/m"}}, r"its bucket: 'B' is not allowed"),
        ({"weights": {"source": "s3://192.168.1.1/m"}}, r"its bucket: it is formatted as an IP"),
        ({"weights": {"source": "ftp://x/y"}}, r"weights\.source: .*neither hf://"),
        # images, revisions, model references
        (
            {"image": {"repository": "ghcr.io/llmpod/vllm\nExecStartPre=/bin/sh"}},
            r"image\.repository: must be an OCI repository.*control character '\\n'",
        ),
        (
            {"image": {"repository": "ghcr.io/llmpod/vllm --privileged -v /:/host"}},
            r"image\.repository: .*path component 'vllm --privileged -v '",
        ),
        ({"image": {"repository": "ghcr.io/llmpod/vllm:latest"}}, r"the tag comes from"),
        ({"image": {"repository": "GHCR.io/llmpod/VLLM"}}, r"path component 'VLLM'"),
        ({"image": {"vllm_version": "0.32.0;id"}}, r"image\.vllm_version: must be a vLLM release"),
        ({"revision": "main\x1b[31m"}, r"revision: must be a git revision.*'\\x1b'"),
        ({"revision": "a..b"}, r"revision: .*'\.\.'"),
        ({"revision": "feature/x.lock"}, r"revision: .*'\.lock'"),
        ({"revision": "$(id)"}, r"revision: .*'\$' is not allowed"),
        ({"model": "hf://org/name@ma in"}, r"model: .*its revision: ' ' is not allowed"),
        ({"model": "hf://org--x/name"}, r"model: .*its repo id: it contains '--'"),
        ({"model": "hf://org/-leading"}, r"model: .*its repo id: .*starting and ending with a"),
        ({"model": '/tmp/x"} or vector(1) #/config.json'}, r"model: .*'\"' is not allowed"),
        ({"model": "/tmp/" + "m" * 300 + "/config.json"}, r"model: .*longer than 255"),
    ],
)
def test_the_spec_refuses_what_the_destination_grammar_refuses(
    fields: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(LlmpodError, match=pattern) as info:
        load(**fields)
    assert info.value.exit_code == 1
    assert info.value.message.startswith("s.yaml is not a valid llmpod spec: llmpod:services[0].")


def test_offending_values_are_truncated_and_escaped() -> None:
    huge = "x" * 6_000_000
    with pytest.raises(LlmpodError) as info:
        load(kubernetes={"namespace": huge})
    message = info.value.render()
    assert len(message) < 1000
    assert "(6000000 characters)" in message
    with pytest.raises(LlmpodError) as info:
        load(labels={"k" * 300 + "\x1b": "v"})
    assert "\x1b" not in info.value.render()
    assert "(301 characters)" in info.value.render()
    assert shown("a\nb\x00") == "'a\\nb\\x00'"
    with pytest.raises(LlmpodError, match=r"Unknown GPU 'HHHH.*\(100000 characters\)") as info:
        load(gpus={"types": ["H" * 100_000]})
    assert len(info.value.render()) < 2000


@pytest.mark.parametrize(
    "fields",
    [
        {"revision": "0123abc"},
        {"revision": "refs/pr/12"},
        {"revision": "v1.0.2"},
        {"model": "hf://meta-llama/Llama-3.1-8B-Instruct@main"},
        {"model": "s3://llmpod-models"},  # a whole bucket is a model reference; AWS refuses it
        {"model": "./models/my-model/config.json"},
        {"image": {"repository": "localhost:5000/team/vllm"}},
        {"image": {"repository": "registry.example.com:443/a/b__c/d-e.f"}},
        {"image": {"repository": "vllm"}},
        {"labels": {"example.com/team": "", "app.kubernetes.io/owner": "A.b_c-9"}},
        {"backend": "aws", "aws": {"region": "us-gov-west-1"}},
        {"backend": "aws", "aws": {"region": "cn-northwest-1", "ami_id": "ami-0123456789abcdef0"}},
        {"gpus": {"price_per_gpu_hour": {"h100": 1.5}}},
    ],
)
def test_the_spec_keeps_accepting_valid_values(fields: dict[str, Any]) -> None:
    assert load(**fields).services[0].name == "chat"


def test_prices_for_unknown_gpus_are_refused_not_ignored() -> None:
    with pytest.raises(LlmpodError, match=r"price_per_gpu_hour: Unknown GPU 'H1OO'"):
        load(gpus={"price_per_gpu_hour": {"H1OO": 1.0}})
    assert load(gpus={"price_per_gpu_hour": {"h100": 1.5}}).services[0].gpus.price_per_gpu_hour == {
        "H100": 1.5
    }


#: Every Kubernetes-bound string at the longest or oddest form its grammar allows.
EDGES: dict[str, Any] = {
    "name": "a" + "b" * 38 + "9",  # 40: the longest service name
    "labels": {"a" * 253 + "/" + "n" * 63: "v" * 63, "x.io/empty": "", "Z_9.a-b": "A.b_c-9"},
    "weights": {"storage_class": ("s" * 63 + ".") * 3 + "s" * 61, "hf_token_secret": "tok.en-1"},
    "replicas": {"min": 1, "max": 3, "autoscale": True},
    "kubernetes": {
        "namespace": "n" * 62 + "9",
        "service_monitor": True,
        "extra_node_selector": {
            "node.kubernetes.io/instance-type": "p5.48xlarge",
            "pool": "gpu_a-1",
        },
        "allowed_namespaces": ["0ingress", "z" * 63],
    },
    "domain": "llama.example.com",
}


@pytest.mark.parametrize("shape", ["tp1", "multinode"])
def test_what_the_spec_accepts_renders_into_names_the_api_server_accepts(shape: str) -> None:
    sp = replace(shape_plan(shape), spec=shape_spec(shape, **EDGES))
    objects = build_manifests(sp)
    assert {o["kind"] for o in objects} >= {"ScaledObject", "ServiceMonitor", "Job"}
    for obj in objects:
        name = obj["metadata"]["name"]
        assert len(name) <= 63, name  # derived names (-weights-<hash>) stay labels
        validate_object(obj)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda o: o["metadata"].update(namespace="LLM"), r"metadata/namespace 'LLM'"),
        (lambda o: o["metadata"]["labels"].update({"team": "a;b"}), r"label 'team' value 'a;b'"),
        (lambda o: o["metadata"]["labels"].update({"bad key": "x"}), r"label key 'bad key'"),
        (
            lambda o: o["spec"]["template"]["spec"].update(nodeSelector={"pool": "x y"}),
            r"nodeSelector: label 'pool' value 'x y'",
        ),
        (
            lambda o: o["spec"]["template"]["spec"].update(serviceAccountName="Chat"),
            r"serviceAccountName 'Chat'",
        ),
        (lambda o: o["metadata"].update(name="x" * 254), r"metadata/name"),
    ],
)
def test_manifest_validation_checks_name_and_label_grammar(mutate: Any, message: str) -> None:
    obj = next(o for o in build_manifests(shape_plan("tp1")) if o["kind"] == "Deployment")
    validate_object(obj)
    mutate(obj)
    with pytest.raises(ManifestInvalid, match=message):
        validate_object(obj)


def test_a_service_name_is_a_label_not_a_subdomain() -> None:
    obj = next(o for o in build_manifests(shape_plan("tp1")) if o["kind"] == "Service")
    obj["metadata"]["name"] = "svc.tp1"
    with pytest.raises(ManifestInvalid, match=r"Service/svc.tp1: metadata/name.*'\.'"):
        validate_object(obj)


def test_a_repo_id_the_hub_client_refuses_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `llmpod plan --model hf://...` reaches the adaptor without the spec's grammar.
    from llmpod.models.sources import load_model_config

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        LlmpodError,
        match=r"'hf://org/-leading@main' is not a valid Hugging "
        r"Face repo id.*each part starting",
    ) as info:
        load_model_config("hf://org/-leading", cache_dir=tmp_path)
    assert info.value.code == "unknown_model"


#: One valid value per grammar; each must refuse the same value with a trailing "\n",
#: a trailing "\r\n" and a leading space (`$` with re.match accepted "chat\n", which
#: then reached file names and metadata.name).
_VALID_PER_GRAMMAR = {
    "dns_label_problem": "chat",
    "dns_subdomain_problem": "llama.example.com",
    "label_key_problem": "team",
    "label_value_problem": "ml",
    "region_problem": "us-east-1",
    "bucket_problem": "my-bucket",
    "key_prefix_problem": "models/llama",
    "cidr_problem": "10.0.0.0/8",
    "image_repository_problem": "ghcr.io/llmpod/vllm",
    "digest_problem": "sha256:" + "a" * 64,
    "version_problem": "0.32.0",
    "git_revision_problem": "main",
    "hub_repo_problem": "Qwen/Qwen2.5-7B-Instruct",
    "local_path_problem": "/models/qwen",
    "hf_ref_problem": "hf://Qwen/Qwen2.5-7B-Instruct@main",
    "s3_ref_problem": "s3://my-bucket/models/llama",
    "weights_source_problem": "s3://my-bucket/models/llama",
    "model_ref_problem": "Qwen/Qwen2.5-7B-Instruct",
    "dir_problem": "build/dev-rendered",
}


@pytest.mark.parametrize("name", sorted(_VALID_PER_GRAMMAR))
@pytest.mark.parametrize("wrap", ["{}\n", "{}\r\n", " {}"])
def test_every_grammar_means_the_whole_value(name: str, wrap: str) -> None:
    from llmpod.spec import grammars

    problem = getattr(grammars, name)
    valid = _VALID_PER_GRAMMAR[name]
    assert problem(valid) is None, (name, valid)
    assert problem(wrap.format(valid)) is not None, (name, wrap.format(valid))


@pytest.mark.parametrize("kind", ["vpc", "subnet", "ami"])
def test_aws_ids_mean_the_whole_value(kind: str) -> None:
    from llmpod.spec.grammars import aws_id_problem

    valid = f"{kind}-0123456789abcdef0"
    assert aws_id_problem(kind, valid) is None
    for bad in (valid + "\n", valid + "\r\n", " " + valid):
        assert aws_id_problem(kind, bad) is not None, bad


def test_a_service_name_with_a_trailing_newline_is_refused() -> None:
    from pydantic import ValidationError

    from llmpod.spec.service import ServingSpec

    with pytest.raises(ValidationError, match="name"):
        ServingSpec.model_validate({"name": "chat\n", "model": "Qwen/Qwen2.5-7B-Instruct"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_model_len", True),
        ("targets.concurrency", True),
        ("targets.ttft_ms", False),
        ("gpus.max_per_replica", True),
        ("replicas.min", False),
    ],
)
def test_numbers_refuse_booleans(field: str, value: bool) -> None:
    # pydantic's lax mode read `true` as 1, so `max_model_len: true` planned a 1-token
    # context and failed later as "a bug in llmpod's planner".
    from pydantic import ValidationError

    from llmpod.spec.service import ServingSpec

    data: dict[str, Any] = {"name": "chat", "model": "Qwen/Qwen2.5-7B-Instruct"}
    *parents, last = field.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    with pytest.raises(ValidationError, match="must be a number, not"):
        ServingSpec.model_validate(data)


def test_a_context_must_hold_a_prompt_and_the_warmups_tokens() -> None:
    from pydantic import ValidationError

    from llmpod.spec.service import ServingSpec

    base = {"name": "chat", "model": "Qwen/Qwen2.5-7B-Instruct"}
    with pytest.raises(ValidationError, match="use at least 32"):
        ServingSpec.model_validate({**base, "max_model_len": 1})
    with pytest.raises(ValidationError, match="use at least 80"):
        ServingSpec.model_validate({**base, "max_model_len": 64, "warmup": {"max_tokens": 64}})
    assert ServingSpec.model_validate({**base, "max_model_len": 32}).max_model_len == 32
