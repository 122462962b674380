"""LoRA adapters and the speculative draft (issue 24): typed in the spec, planned into
--lora-modules / --speculative-config, fetched by the weights loader (Kubernetes
Job, AWS cloud-init) into their own directories, and checked by verify.

Expected values are written out from vLLM's rules (cited where used) and from the
stack's own inputs, never read back from the code under test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from llmpod.aws.cloud_init import efs_mount, render_user_data
from llmpod.aws.description import describe_service
from llmpod.cli.main import main
from llmpod.environments.stack_yaml import read_stack_text
from llmpod.environments.stacks import load_spec
from llmpod.errors import LlmpodError
from llmpod.image.runtime.plan_check import (
    Expectation,
    compare,
    lora_modules,
    parse_vllm_args,
)
from llmpod.k8s.manifests import build_manifests
from llmpod.k8s.names import names_for
from llmpod.k8s.weights import loader_job_name, marker_text
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.service import ServingSpec
from llmpod.spec.vllm_options import VllmOptions

SQL = {"name": "sql", "source": "hf://acme/sql-lora@0123abc", "rank": 16}
CHAT = {"name": "Chat.v2", "source": "s3://acme-loras/chat/v2", "rank": 64}
DRAFT = {"speculative_method": "draft_model", "speculative_model": "llama-3.2-1b"}


def _spec(vllm: dict[str, Any], **over: Any) -> ServingSpec:
    doc: dict[str, Any] = {
        "name": "chat",
        "model": "llama-3.1-8b",
        "max_model_len": 8192,
        "gpus": {"types": ["H100"]},
        "weights": {"storage_class": "efs-sc"},
        "vllm": vllm,
        **over,
    }
    return ServingSpec.model_validate(doc)


def _plan(vllm: dict[str, Any], **over: Any) -> ServicePlan:
    return plan_service(_spec(vllm, **over), "staging")


def _args(sp: ServicePlan) -> list[str]:
    return list(sp.plan.vllm_args)


# --- spec ---------------------------------------------------------------------------


def test_slots_and_rank_default_from_the_adapter_list() -> None:
    two = VllmOptions.model_validate({"adapters": [SQL, CHAT]})
    assert (two.lora_slots, two.lora_rank, two.cpu_lora_slots) == (2, 64, None)
    six = VllmOptions.model_validate(
        {"adapters": [{"name": f"a{i}", "source": "s3://b-b/x", "rank": 8} for i in range(6)]}
    )
    # One slot per adapter up to four; all six kept in host memory instead of
    # vLLM's max_cpu_loras default (= max_loras), which would re-read two from disk.
    assert (six.lora_slots, six.lora_rank, six.cpu_lora_slots) == (4, 8, 6)
    given = VllmOptions.model_validate({"adapters": [SQL], "max_loras": 3, "max_lora_rank": 32})
    assert (given.lora_slots, given.lora_rank) == (3, 32)
    assert VllmOptions().lora_enabled is False


def test_a_max_lora_rank_below_an_adapter_names_field_value_and_fix() -> None:
    with pytest.raises(ValidationError) as err:
        VllmOptions.model_validate({"adapters": [SQL, CHAT], "max_lora_rank": 16})
    text = str(err.value)
    assert "max_lora_rank (16)" in text and "'Chat.v2' (64)" in text
    assert "at least 64" in text


def test_adapter_names_are_unique() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        VllmOptions.model_validate({"adapters": [SQL, {**CHAT, "name": "sql"}]})


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a/b",
        "../x",
        ".hidden",
        "-rf",
        "$(id)",
        "a b",
        "a;rm -rf /",
        "x'y",
        'x"y',
        "a\nb",
        "a\u202eb",
        "ä",
        "x" * 64,
        "{a}",
        "a=b",
        "a,b",
    ],
)
def test_hostile_adapter_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="LoRA adapter name"):
        VllmOptions.model_validate({"adapters": [{**SQL, "name": name}]})


@pytest.mark.parametrize(
    "source",
    [
        "",
        "relative/dir",  # a Hub id without hf:// or a path without ./: say which
        "file:///etc/passwd",
        "http://evil.example/x",
        "hf://acme/sql@$(id)",
        "hf://acme/sql@main;id",
        "hf://acme/../x",
        "s3://Bad_Bucket/x",
        "s3://bucket/a/../b",
        "s3://bucket/a*",
        "./a b",
        "/tmp/x\n",
        "./$(id)",
        "llama-3.1-8b",  # a catalog name is a base model, not an adapter
    ],
)
def test_hostile_adapter_sources_are_refused(source: str) -> None:
    with pytest.raises(ValidationError):
        VllmOptions.model_validate({"adapters": [{**SQL, "source": source}]})


def test_runtime_updating_needs_lora_and_sets_the_env_only_when_on() -> None:
    with pytest.raises(ValidationError, match="needs LoRA on"):
        VllmOptions.model_validate({"allow_runtime_lora_updating": True})
    off = _plan({"adapters": [SQL]})
    on = _plan({"adapters": [SQL], "allow_runtime_lora_updating": True})

    def env(sp: ServicePlan) -> dict[str, str]:
        deployment = next(o for o in build_manifests(sp) if o["kind"] == "Deployment")
        (serving,) = [
            c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "vllm"
        ]
        return {e["name"]: e.get("value") for e in serving["env"]}

    assert "VLLM_ALLOW_RUNTIME_LORA_UPDATING" not in env(off)
    assert env(on)["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"


def test_an_adapter_may_not_take_the_base_models_name() -> None:
    model_dir = Path(__file__).resolve().parents[1] / "fixtures" / "configs" / "gemma-3-12b-it"
    spec = _spec({"adapters": [{**SQL, "name": "gemma-3-12b-it"}]}, model=str(model_dir))
    with pytest.raises(LlmpodError, match="base model's served name"):
        plan_service(spec, "dev")


# --- the vLLM command line -----------------------------------------------------------


def test_adapters_and_draft_reach_vllm_as_one_lora_modules_flag_and_the_fetched_draft() -> None:
    sp = _plan({"adapters": [SQL, CHAT], **DRAFT})
    args = _args(sp)
    i = args.index("--lora-modules")
    # Sorted by name ("Chat.v2" < "sql" in code-point order), every item a JSON object
    # (vLLM reads items with ',' as JSON), all after one flag: a second --lora-modules
    # would replace the first list (LoRAParserAction assigns).
    assert args[i + 1 : i + 3] == [
        '{"name":"Chat.v2","path":"/models/.llmpod-lora/Chat.v2"}',
        '{"name":"sql","path":"/models/.llmpod-lora/sql"}',
    ]
    assert args.count("--lora-modules") == 1 and args[i + 3].startswith("--")
    assert args[args.index("--max-loras") + 1] == "2"
    assert args[args.index("--max-lora-rank") + 1] == "64"
    assert "--enable-lora" in args
    config = json.loads(args[args.index("--speculative-config") + 1])
    assert config == {
        "method": "draft_model",
        "model": "/models/meta-llama/Llama-3.2-1B-Instruct",
        "num_speculative_tokens": 3,
    }


def test_llmpod_plan_adapter_flag_matches_the_spec(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "--model", "llama-3.1-8b", "--gpu", "H100", "--max-model-len", "8192"]
    argv += ["--adapter", "sql=hf://acme/sql-lora@0123abc:16"]
    argv += ["--adapter", "Chat.v2=s3://acme-loras/chat/v2:64", "--json"]
    assert main(argv) == 0
    from_flags = json.loads(capsys.readouterr().out)["vllm_args"]
    spec = _spec({"adapters": [SQL, CHAT]}, weights={})
    assert from_flags == list(plan_service(spec, "dev").plan.vllm_args)


def test_a_bad_adapter_flag_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["plan", "--model", "llama-3.1-8b", "--gpu", "H100", "--adapter", "a=hf://o/m:17"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "--adapter '17'" in err and "round 17 up" in err and "Traceback" not in err


def test_a_local_adapter_serves_from_its_own_directory(tmp_path: Path) -> None:
    adapter = tmp_path / "my,odd=dir"
    adapter.mkdir()
    sp = plan_service(_spec({"adapters": [{**SQL, "source": str(adapter)}]}), "dev")
    args = _args(sp)
    item = json.loads(args[args.index("--lora-modules") + 1])
    # ',' and '=' in the path: the short name=path form would split it wrongly.
    assert item == {"name": "sql", "path": str(adapter)}


# --- the Kubernetes loader -----------------------------------------------------------


def _job(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == "Job")


def _scripts(objects: list[dict[str, Any]]) -> dict[str, str]:
    maps = [o for o in objects if o["kind"] == "ConfigMap"]
    return next(m["data"] for m in maps if "weights-wait.sh" in m["data"])


def test_the_loader_job_fetches_draft_and_adapters_into_their_own_directories() -> None:
    sp = _plan({"adapters": [SQL, CHAT], **DRAFT})
    objects = build_manifests(sp)
    pod = _job(objects)["spec"]["template"]["spec"]
    inits = pod["initContainers"]
    # Draft first, then adapters by name; hf in the serving image, s3 in the AWS CLI.
    assert [c["name"] for c in inits] == ["fetch-1", "fetch-2", "fetch-3"]
    assert [c["command"][-1] for c in inits] == [
        "/etc/llmpod-scripts/weights-loader-draft.py",
        "/etc/llmpod-scripts/weights-loader-lora-Chat.v2.sh",
        "/etc/llmpod-scripts/weights-loader-lora-sql.py",
    ]
    assert inits[1]["image"].startswith("amazon/aws-cli:")
    assert inits[2]["image"] == sp.spec.image.reference
    assert all(m["readOnly"] is False for c in inits for m in c["volumeMounts"][2:])
    scripts = _scripts(objects)
    sql = scripts["weights-loader-lora-sql.py"]
    assert 'REPO_ID = "acme/sql-lora"' in sql and 'REVISION = "0123abc"' in sql
    assert 'TARGET = "/models/.llmpod-lora/sql"' in sql
    draft = scripts["weights-loader-draft.py"]
    assert 'REPO_ID = "meta-llama/Llama-3.2-1B-Instruct"' in draft
    assert 'TARGET = "/models/meta-llama/Llama-3.2-1B-Instruct"' in draft
    chat = scripts["weights-loader-lora-Chat.v2.sh"]
    # shell_quote leaves words without special characters bare (as shlex.quote does).
    assert "\nSOURCE=s3://acme-loras/chat/v2\n" in chat
    assert "\nTARGET=/models/.llmpod-lora/Chat.v2\n" in chat
    assert scripts["weights-marker-lora-sql"] == (
        "llmpod-weights v1\nsource=hf://acme/sql-lora\nrevision=0123abc\n"
        "path=/models/.llmpod-lora/sql\n"
    )
    # Serving pods keep the volume read-only.
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    mounts = [m for c in spec["containers"] for m in c["volumeMounts"] if m["name"] == "weights"]
    assert mounts and all(m["readOnly"] for m in mounts)


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stacks" / "Pulumi.lora.yaml"


def test_the_fixture_stack_renders_loader_and_argv_for_adapters_and_draft() -> None:
    stack = load_spec(read_stack_text(FIXTURE), role="stack")
    sp = plan_service(stack.services[0], stack.environment)
    objects = build_manifests(sp)
    inits = _job(objects)["spec"]["template"]["spec"]["initContainers"]
    assert [c["command"][-1].rsplit("/", 1)[1] for c in inits] == [
        "weights-loader-draft.py",
        "weights-loader-lora-sql.py",
        "weights-loader-lora-support.sh",
    ]
    args = _args(sp)
    i = args.index("--lora-modules")
    assert [json.loads(a)["path"] for a in args[i + 1 : i + 3]] == [
        "/models/.llmpod-lora/sql",
        "/models/.llmpod-lora/support",
    ]
    assert args[args.index("--max-loras") + 1] == "2"
    assert args[args.index("--max-lora-rank") + 1] == "32"
    spec_config = json.loads(args[args.index("--speculative-config") + 1])
    assert spec_config["num_speculative_tokens"] == 4
    # The plan file the pods mount carries the same arguments.
    plan_map = next(o for o in objects if o["kind"] == "ConfigMap" and "plan.json" in o["data"])
    assert json.loads(plan_map["data"]["plan.json"])["vllm_args"] == args


def test_the_job_name_follows_every_fetched_revision() -> None:
    plain = _plan({})
    # Without extras the name is what it always was (rendered stacks stay identical).
    assert loader_job_name(plain) == names_for(plain).loader_job(marker_text(plain))
    a = _plan({"adapters": [SQL]})
    b = _plan({"adapters": [{**SQL, "source": "hf://acme/sql-lora@4567def"}]})
    assert len({loader_job_name(plain), loader_job_name(a), loader_job_name(b)}) == 3


def test_a_local_adapter_or_draft_cannot_go_to_a_cluster(tmp_path: Path) -> None:
    sp = _plan({"adapters": [{**SQL, "source": str(tmp_path)}]})
    with pytest.raises(LlmpodError, match=r"vllm\.adapters\[sql\]\.source .* this machine"):
        build_manifests(sp)


def test_the_volume_grows_by_the_draft_checkpoint() -> None:
    def size(sp: ServicePlan) -> int:
        pvc = next(o for o in build_manifests(sp) if o["kind"] == "PersistentVolumeClaim")
        return int(pvc["spec"]["resources"]["requests"]["storage"].removesuffix("Gi"))

    # Llama-3.2-1B in bf16: 1.24 B parameters ≈ 2.3 GiB, plus the 20% headroom.
    assert size(_plan(DRAFT)) - size(_plan({})) in (2, 3, 4)


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_serving_waits_for_every_fetched_marker(tmp_path: Path) -> None:
    sp = _plan({"adapters": [SQL], **DRAFT})
    script = _scripts(build_manifests(sp))["weights-wait.sh"]
    # Re-root the script's absolute paths under tmp_path and give it no waiting rounds.
    text = script.replace("/models/", f"{tmp_path}/models/").replace(
        "/etc/llmpod-scripts/", f"{tmp_path}/scripts/"
    )
    text = text.replace("ROUNDS=1440", "ROUNDS=0")
    assert "ROUNDS=0" in text
    (tmp_path / "scripts").mkdir()
    base = tmp_path / "models/meta-llama/Llama-3.1-8B-Instruct"
    draft = tmp_path / "models/meta-llama/Llama-3.2-1B-Instruct"
    lora = tmp_path / "models/.llmpod-lora/sql"
    for d in (base, draft, lora):
        d.mkdir(parents=True)
    data = _scripts(build_manifests(sp))
    for name in ("weights-marker", "weights-marker-draft", "weights-marker-lora-sql"):
        (tmp_path / "scripts" / name).write_text(data[name])

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", text], capture_output=True, text=True, timeout=30, check=False
        )

    (base / ".llmpod-weights-complete").write_text(data["weights-marker"])
    (draft / ".llmpod-fetched").write_text(data["weights-marker-draft"])
    missing = run()
    assert missing.returncode == 1 and "/.llmpod-lora/sql/.llmpod-fetched" in missing.stderr
    (lora / ".llmpod-fetched").write_text(data["weights-marker-lora-sql"])
    assert run().returncode == 0


# --- AWS --------------------------------------------------------------------------------

AWS = {
    "region": "eu-west-1",
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
}


def _aws_plan(vllm: dict[str, Any]) -> ServicePlan:
    spec = _spec(
        vllm,
        backend="aws",
        weights={"source": "s3://models/llama-8b"},
        aws=AWS,
        gpus={"types": ["L4"], "max_per_replica": 2},
    )
    return plan_service(spec, "staging")


def test_aws_copies_s3_adapters_beside_the_checkpoint_with_least_privilege() -> None:
    desc = describe_service(_aws_plan({"adapters": [CHAT]}))
    doc = YAML(typ="safe").load(
        render_user_data(desc.user_data, "serve", efs_mount("fs-0abc", "eu-west-1"))
    )
    loader = next(
        f["content"]
        for f in doc["write_files"]
        if f["path"] == "/usr/local/sbin/llmpod-load-weights"
    )
    assert "\nextra_want=s3://acme-loras/chat/v2/\n" in loader
    assert '"$host_dir/".llmpod-lora/Chat.v2/\n' in loader
    assert 'extra_marker="$state/$name."lora-Chat.v2".revision"' in loader
    # Before the checkpoint's early "already filled" exit, so a new adapter is copied
    # onto a volume whose checkpoint is already there.
    assert loader.index("extra_want=") < loader.index("exit 0")
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", "-c", loader], check=False).returncode == 0
    policy = json.loads(desc.role_policy)
    resources = [s["Resource"] for s in policy["Statement"]]
    assert "arn:aws:s3:::acme-loras/chat/v2/*" in resources
    assert "arn:aws:s3:::acme-loras" in resources and "arn:aws:s3:::acme-loras/*" not in resources


def test_aws_refuses_an_hf_adapter_with_the_fix() -> None:
    with pytest.raises(LlmpodError, match=r"vllm\.adapters source 'hf://acme/sql-lora'.*S3"):
        describe_service(_aws_plan({"adapters": [SQL]}))


# --- verify -----------------------------------------------------------------------------

METRICS = 'vllm:cache_config_info{block_size="16",cache_dtype="auto"} 1.0\n'
BASE = "meta-llama/Llama-3.1-8B-Instruct"
PLANNED = (
    "/models/" + BASE,
    "--served-model-name",
    BASE,
    "--enable-lora",
    "--max-loras",
    "2",
    "--max-lora-rank",
    "64",
    "--lora-modules",
    '{"name":"Chat.v2","path":"/models/.llmpod-lora/Chat.v2"}',
    '{"name":"sql","path":"/models/.llmpod-lora/sql"}',
    "--max-model-len",
    "8192",
)


def _models(*cards: dict[str, Any]) -> dict[str, Any]:
    return {"data": [{"id": BASE, "parent": None, "max_model_len": 8192}, *cards]}


def test_lora_modules_are_read_as_vllm_reads_them() -> None:
    _, flags = parse_vllm_args(PLANNED)
    assert flags["--max-model-len"] == "8192"  # the list ended at the next flag
    assert lora_modules(PLANNED) == {
        "Chat.v2": "/models/.llmpod-lora/Chat.v2",
        "sql": "/models/.llmpod-lora/sql",
    }
    assert lora_modules(["m", "--lora-modules", "a=/x=y", "--lora-modules", "b=/z"]) == {"b": "/z"}


def test_verify_finds_a_missing_adapter_and_names_it() -> None:
    checks = compare(
        Expectation(vllm_args=PLANNED),
        METRICS,
        _models({"id": "sql", "parent": BASE}),
    )
    by_name = {c.name: c for c in checks}
    assert by_name["adapter:sql"].ok is True
    missing = by_name["adapter:Chat.v2"]
    assert missing.ok is False and missing.note and "'Chat.v2'" in missing.note
    assert "--lora-modules" in missing.note


def test_verify_finds_an_adapter_on_another_base() -> None:
    checks = compare(
        Expectation(vllm_args=PLANNED),
        METRICS,
        _models({"id": "sql", "parent": BASE}, {"id": "Chat.v2", "parent": "other"}),
    )
    assert {c.name: c.ok for c in checks}["adapter:Chat.v2"] is False


def test_verify_finds_launched_lora_flags_that_differ_from_the_plan() -> None:
    launched = list(PLANNED)
    launched[launched.index("--max-loras") + 1] = "1"
    checks = compare(Expectation(vllm_args=PLANNED), METRICS, None, launched)
    bad = {c.name: c for c in checks if c.ok is False}
    assert set(bad) == {"launched:--max-loras"}
    assert bad["launched:--max-loras"].note and "re-plan" in bad["launched:--max-loras"].note
    same = compare(Expectation(vllm_args=PLANNED), METRICS, None, ["vllm", "serve", *PLANNED])
    assert not [c for c in same if c.ok is False]


def test_the_fixture_stacks_objects_validate_against_kubernetes_schemas() -> None:
    from llmpod.k8s.validate import validate_object

    stack = load_spec(read_stack_text(FIXTURE), role="stack")
    for obj in build_manifests(plan_service(stack.services[0], stack.environment)):
        validate_object(obj)  # raises ManifestInvalid naming the object and path
