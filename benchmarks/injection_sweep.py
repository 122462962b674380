"""Injection sweep: every string field of a Kubernetes and an AWS service, fed
hundreds of hostile payloads, through the spec and the pure renderers.

    python benchmarks/injection_sweep.py [--json] [--limit N]

For each (field, payload) it reports whether the spec accepted it, whether it
rendered, and whether the payload reached a sink in a live position:

* shell: the rendered scripts (loader, wait, cloud-init mount/load/find-head) are
  *executed* with bash in a scratch directory, with stub ``aws``/``mount``/...
  on PATH and host paths moved into the scratch directory; payloads carry a
  ``touch`` of a canary file, and an existing canary is an injection;
* systemd: the serving units must keep the keys and the ExecStart word count of
  a benign render;
* cloud-init: the user-data must parse and keep the same files and runcmd;
* IAM: no ``*``/``?``/``${`` in the bucket ARN, and none in the object ARN or
  ``s3:prefix`` condition beyond the builder's own trailing ``/*``;
* PromQL: the KEDA query must still be ``sum(metric{namespace="…",model_name="…"})``
  with well-formed string literals;
* YAML: every manifest must parse back to the objects it was dumped from;
* API server: names, namespaces, label keys/values, node selectors, storage
  class and Secret names must match Kubernetes' grammars (the checks here are
  the sweep's own copy, so it runs unchanged on older checkouts).

It only uses functions present since 8ad285c, so the same file measures a
checkout before and after a change (run it with PYTHONPATH pointing at it).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

CANARY = "pwned"
_TOUCH = f"touch {CANARY}"

# ---------------------------------------------------------------- payloads


def payloads() -> list[str]:
    """Several hundred hostile strings: each shell form carries the canary."""
    shell_forms = [
        ";{c};",
        "; {c}",
        "$({c})",
        "`{c}`",
        "\n{c}\n",
        "|{c}",
        "&&{c}",
        "||{c}",
        "&{c}&",
        "'; {c}; '",
        '"; {c}; "',
        "$(echo;{c})",
        "\r\n{c}\r\n",
        ";{ci};",
        "$({ci})",
        "`{ci}`",
        "x\n{c}",
        "x';{c};'",
        'x";{c};"',
        "${{IFS}};{ci};",
        "a b;{c}",
        ">/dev/null;{c}",
        "$'\\n';{c}",
        "\\';{c};#",
        '\\";{c};#',
        "'$({c})'",
        '"$({c})"',
        "x`{c}`x",
        "x$({c})x",
    ]
    bases = ["", "us-east-1", "llm", "abc", "main", "models/llama", "ghcr.io/x/y"]
    out: list[str] = []
    for base in bases:
        for form in shell_forms:
            out.append(base + form.format(c=_TOUCH, ci=f"touch${{IFS}}{CANARY}"))
    # systemd / docker argument smuggling, YAML, PromQL, IAM wildcards, traversal
    out += [
        "x\nExecStartPre=/bin/touch /tmp/pwned",
        "x --privileged -v /:/host",
        "img:latest --privileged",
        "a%nb",
        "a$HOME",
        "${HOME}",
        "x\\ny",
        '"} or vector(1) #',
        'x"} or vector(1) #',
        'llm",model_name=~".*',
        "x\\",
        'a"b',
        "*",
        "?",
        "*/*",
        "models/*",
        "*/models",
        "a/../../b",
        "..",
        "../..",
        "/etc/passwd",
        "./x",
        "a//b",
        "${aws:username}",
        "a?b",
        "[abc]",
        "a*",
        "x: y",
        "- x",
        "{a: b}",
        "[1, 2]",
        "&anchor x",
        "*alias",
        "!!python/object:os.system",
        "|\n  x",
        "#comment",
        "'",
        '"',
        "key: value\nother: 1",
        "---",
        "...",
        "\x00",
        "a\x00b",
        "\x07bell",
        "\x1b[31mred",
        "\x7f",
        "\u2028x",
        "\u202eevil",
        "\ufeffbom",
        "x\ty",
        "\u00e9t\u00e9",
        "\u0435xample",
        "日本語",
        "😀",
        "A" * 64,
        "a" * 64,
        "a" * 254,
        "a" * 1000,
        "a" * 5000,
        "-" * 10,
        "-leading",
        "trailing-",
        "UPPER",
        "has space",
        "has.dot",
        "has_underscore",
        "a..b",
        "xn--abc",
        "192.168.1.1",
        "0.0.0.0/0",
        "::/0",
        "10.0.0.0/33",
        "not-a-cidr",
        "us-east-1 ",
        " us-east-1",
        "US-EAST-1",
        "us_east_1",
        "us-east-1a",
        "",
        " ",
        "\n",
        "true",
        "null",
        "~",
        "0x1F",
        "1e308",
        ".inf",
        "sha256:" + "0" * 63,
        "sha256:" + "g" * 64,
        "latest",
        "v1.0;rm",
        "@{-1}",
        "refs/heads/../x",
        "a.lock",
        "HEAD^",
        "a~1",
        "a:b",
        "%s%s%s",
        "{{ 7*7 }}",
        "{% raw %}",
        "<script>",
        "$((1+1))",
        "!!",
        "!$",
        "\\x41",
        "%00",
        "%2e%2e/",
    ]
    for i in range(40):  # long mixed strings
        out.append(("ab-" * (i + 1))[: 20 + i * 7] + ";" + _TOUCH)
    seen: set[str] = set()
    unique = []
    for p in out:
        if p not in seen:
            seen.add(p)
            unique.append(p)
    return unique


# ---------------------------------------------------------------- fields

K8S_SERVICE: dict[str, Any] = {
    "name": "qwen-7b",
    "model": "Qwen/Qwen2.5-7B-Instruct",
    "max_model_len": 16384,
    "targets": {"concurrency": 4},
    "gpus": {"types": ["L4", "A10G", "L40S"]},
    "weights": {"storage_class": "standard-rwx"},
    "replicas": {"min": 1, "max": 2, "autoscale": True},
    "kubernetes": {"namespace": "llm-dev", "service_monitor": True},
}
AWS_SERVICE: dict[str, Any] = {
    "name": "llama-8b-aws",
    "model": "llama-3.1-8b",
    "max_model_len": 8192,
    "targets": {"concurrency": 64},
    "gpus": {"types": ["L4"], "max_per_replica": 2},
    "weights": {"source": "s3://llmpod-models/meta-llama/Llama-3.1-8B-Instruct"},
    "replicas": {"min": 4, "max": 6},
    "backend": "aws",
    "aws": {
        "region": "us-east-1",
        "vpc_id": "vpc-0a1b2c3d4e5f60718",
        "subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
        "allowed_cidrs": ["10.0.0.0/8"],
    },
}


@dataclass(frozen=True)
class Field:
    base: str  # "k8s" | "aws"
    path: str  # dotted; "labels{}" sets a key, "labels[]" a value
    wrap: str = "{}"  # how the payload is embedded in the field's value
    replan: bool = False  # the field changes what is planned


FIELDS = [
    Field("k8s", "name"),
    Field("k8s", "revision", replan=True),
    Field("k8s", "model", "{}", replan=True),
    Field("k8s", "model", "hf://org/{}", replan=True),
    Field("k8s", "weights.source", "hf://org/{}"),
    Field("k8s", "weights.source", "hf://o/m@{}"),
    Field("k8s", "weights.source", "s3://llmpod-models/{}"),
    Field("k8s", "weights.storage_class"),
    Field("k8s", "weights.hf_token_secret"),
    Field("k8s", "image.repository"),
    Field("k8s", "image.digest"),
    Field("k8s", "image.vllm_version", replan=True),
    Field("k8s", "replicas.single_replica_reason"),
    Field("k8s", "domain"),
    Field("k8s", "labels{}"),
    Field("k8s", "labels[]"),
    Field("k8s", "kubernetes.namespace"),
    Field("k8s", "kubernetes.extra_node_selector{}"),
    Field("k8s", "kubernetes.extra_node_selector[]"),
    Field("k8s", "kubernetes.prometheus_url"),
    Field("k8s", "kubernetes.allowed_namespaces.0"),
    Field("aws", "name"),
    Field("aws", "revision"),
    Field("aws", "aws.region"),
    Field("aws", "aws.vpc_id"),
    Field("aws", "aws.subnet_ids.0"),
    Field("aws", "aws.allowed_cidrs.0"),
    Field("aws", "aws.ami_id"),
    Field("aws", "image.repository"),
    Field("aws", "weights.source", "s3://llmpod-models/{}"),
    Field("aws", "weights.source", "s3://{}/models"),
    Field("aws", "weights.source", "s3://llmpod-models/meta-llama/{}"),
    # LoRA adapters (issue 24): the name reaches --lora-modules, /v1/models, a
    # directory and marker names; the source the loader scripts and the IAM policy.
    Field("k8s", "vllm.adapters.0.name", replan=True),
    Field("k8s", "vllm.adapters.0.source", "hf://org/{}", replan=True),
    Field("k8s", "vllm.adapters.0.source", "hf://o/m@{}", replan=True),
    Field("k8s", "vllm.adapters.0.source", "s3://llmpod-models/{}", replan=True),
    Field("k8s", "vllm.adapters.0.source", "./{}", replan=True),
    Field("aws", "vllm.adapters.0.name", replan=True),
    Field("aws", "vllm.adapters.0.source", "s3://llmpod-models/{}", replan=True),
    Field("aws", "vllm.adapters.0.source", "s3://{}/loras"),
]


def _set(doc: dict[str, Any], path: str, value: str) -> None:
    parts = path.split(".")
    cur: Any = doc
    for part in parts[:-1]:
        cur = cur[int(part)] if isinstance(cur, list) else cur.setdefault(part, {})
    last = parts[-1]
    if last.endswith("{}"):
        cur.setdefault(last[:-2], {})[value] = "x"
    elif last.endswith("[]"):
        cur.setdefault(last[:-2], {})["team"] = value
    elif isinstance(cur, list):
        cur[int(last)] = value
    elif last == "allowed_namespaces":
        cur[last] = [value]
    else:
        cur[last] = value


def _case_doc(f: Field, payload: str, model_dir: Path) -> dict[str, Any]:
    doc = copy.deepcopy(K8S_SERVICE if f.base == "k8s" else AWS_SERVICE)
    if f.path.startswith("kubernetes.allowed_namespaces"):
        doc.setdefault("kubernetes", {})["allowed_namespaces"] = ["ingress"]
    if f.path.startswith("vllm.adapters"):
        source = "hf://org/sql-lora@abc123" if f.base == "k8s" else "s3://llmpod-models/loras/sql"
        doc["vllm"] = {"adapters": [{"name": "sql", "source": source, "rank": 16}]}
    if f.path.startswith("aws.") and f.path.split(".")[1] in ("subnet_ids", "allowed_cidrs"):
        pass
    value = f.wrap.format(payload)
    if f.path == "model" and f.wrap == "{}":
        # A local model directory named by the payload (its name is the served name).
        value = str(model_dir / payload / "config.json") if _dir_ok(payload) else payload
    _set(doc, f.path, value)
    return doc


def _dir_ok(name: str) -> bool:
    return (
        bool(name)
        and "/" not in name
        and "\x00" not in name
        and name not in (".", "..")
        and len(name.encode()) < 200
    )


# ---------------------------------------------------------------- sinks

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def _k8s_label_ok(v: str) -> bool:
    return len(v) <= 63 and bool(_LABEL.match(v))


def _subdomain_ok(v: str) -> bool:
    return len(v) <= 253 and bool(_SUBDOMAIN.match(v))


def _label_key_ok(k: str) -> bool:
    prefix, _, name = k.rpartition("/")
    if prefix and not _subdomain_ok(prefix):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.match(name))


def _label_value_ok(v: str) -> bool:
    return v == "" or (len(v) <= 63 and bool(_LABEL_NAME.match(v)))


def _labels_ok(labels: dict[str, Any]) -> bool:
    return all(
        isinstance(v, str) and _label_key_ok(k) and _label_value_ok(v) for k, v in labels.items()
    )


def api_rejects(obj: dict[str, Any]) -> str | None:
    """What a real API server would refuse in names and labels (None: nothing)."""
    meta = obj.get("metadata", {})
    if not _subdomain_ok(meta.get("name", "")):
        return "metadata.name"
    if obj.get("kind") == "Service" and not _k8s_label_ok(meta["name"]):
        return "Service name"
    if "namespace" in meta and not _k8s_label_ok(meta["namespace"]):
        return "metadata.namespace"
    for where in _walk_labels(obj):
        if not _labels_ok(where):
            return "labels"
    for key, value in _walk(obj):
        if key in ("storageClassName", "serviceAccountName", "claimName") and not _subdomain_ok(
            value
        ):
            return key
        if key == "secretKeyRef" and not _subdomain_ok(value.get("name", "")):
            return "secretKeyRef.name"
        if key == "nodeSelector" and not _labels_ok(value):
            return "nodeSelector"
    return None


def _walk(node: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((k, v))
            out += _walk(v)
    elif isinstance(node, list):
        for v in node:
            out += _walk(v)
    return out


def _walk_labels(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for k, v in _walk(obj) if k in ("labels", "matchLabels") and isinstance(v, dict)]


_PROMQL = re.compile(
    r'^sum\(vllm:num_requests_waiting\{namespace="(?:[^"\\\n]|\\.)*",'
    r'model_name="(?:[^"\\\n]|\\.)*"\}\)$'
)


def promql_injected(query: str) -> bool:
    return not _PROMQL.match(query)


def iam_widened(policy_json: str) -> bool:
    doc = json.loads(policy_json)
    for st in doc["Statement"]:
        res = st["Resource"]
        if not res.startswith("arn:aws:s3:::"):
            continue
        bucket, _, rest = res.removeprefix("arn:aws:s3:::").partition("/")
        if re.search(r"[*?]|\$\{", bucket):
            return True
        if rest and re.search(r"[*?]|\$\{", rest.removesuffix("/*")):
            return True
        for pfx in st.get("Condition", {}).get("StringLike", {}).get("s3:prefix", []):
            if re.search(r"[*?]|\$\{", pfx.removesuffix("/*")) or pfx in ("", "/*"):
                return True
    return False


_STUBS = {
    "aws": 'echo "aws $*" >> "$SANDBOX/aws.log"; exit 0',
    "mount": "exit 0",
    "flock": "exit 0",
    "mountpoint": "exit 1",
    "curl": "echo stub; exit 0",
    "cmp": "exit ${CMP_RC:-1}",
    "sleep": "exit 0",
    "ray": "exit 0",
    "python3": "exit 0",
    "seq": "echo 1",
}


def _stub_dir(root: Path) -> Path:
    stubs = root / "stubs"
    stubs.mkdir()
    for name, body in _STUBS.items():
        path = stubs / name
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)
    return stubs


def shell_injected(script: str, sandbox_root: Path, stubs: Path, *, cmp_rc: int = 1) -> bool:
    """Run ``script`` with stubs in a fresh scratch dir; True if the canary appeared."""
    if CANARY not in script:
        return False  # no payload carrying the canary reached this script at all
    with tempfile.TemporaryDirectory(dir=sandbox_root) as tmp:
        box = Path(tmp)
        text = script
        for host in (
            "/mnt/llmpod-weights",
            "/run/llmpod",
            "/models",
            "/etc/llmpod",
            "/usr/local/sbin",
        ):
            text = text.replace(host, str(box) + host)
        (box / "script.sh").write_text(text)
        env = {
            "PATH": f"{stubs}:/usr/bin:/bin",
            "SANDBOX": str(box),
            "CMP_RC": str(cmp_rc),
            "HOME": str(box),
            "LWS_GROUP_SIZE": "1",
            "LWS_LEADER_ADDRESS": "127.0.0.1",
        }
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                ["bash", str(box / "script.sh"), "worker"],
                cwd=box,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )
        return any(p.name == CANARY for p in box.rglob("*"))


def _unit_shape(unit: str) -> tuple[list[str], int]:
    keys = [line.split("=", 1)[0] for line in unit.splitlines() if "=" in line]
    run = next((line for line in unit.splitlines() if line.startswith("ExecStart=")), "")
    try:
        words = len(shlex.split(run))
    except ValueError:
        words = -1
    return keys, words


# ---------------------------------------------------------------- one case


@dataclass
class Outcome:
    accepted: bool = False
    rendered: bool = False
    sinks: list[str] = field(default_factory=list)
    traceback: str = ""


@dataclass
class Baselines:
    k8s: Any
    aws: Any
    unit_shape: tuple[list[str], int]
    cloud_files: list[str]
    runcmd: Any


def render_case(sp: Any) -> dict[str, Any]:
    """Everything the pure renderers produce for one service."""
    out: dict[str, Any] = {}
    if sp.spec.backend == "kubernetes":
        from llmpod.k8s.manifests import build_manifests
        from llmpod.k8s.scaling import queue_query

        out["objects"] = build_manifests(sp)
        out["promql"] = queue_query(sp)
        out["scripts"] = {
            k: v
            for o in out["objects"]
            if o["kind"] == "ConfigMap"
            for k, v in o["data"].items()
            if k.endswith((".sh", ".py"))
        }
    else:
        from llmpod.aws.cloud_init import efs_mount, render_user_data
        from llmpod.aws.description import describe_service

        desc = describe_service(sp)
        out["policy"] = desc.role_policy
        out["user_data"] = render_user_data(
            desc.user_data, "serve", efs_mount("fs-0123456789abcdef0", desc.target.region)
        )
        out["worker_data"] = render_user_data(
            desc.user_data, "worker", efs_mount("fs-0123456789abcdef0", desc.target.region)
        )
    return out


def _contains(node: Any, needle: str) -> bool:
    if isinstance(node, str):
        return needle in node
    if isinstance(node, dict):
        return any(_contains(k, needle) or _contains(v, needle) for k, v in node.items())
    if isinstance(node, list):
        return any(_contains(v, needle) for v in node)
    return False


def check_sinks(
    r: dict[str, Any], base: Baselines, root: Path, stubs: Path, payload: str | None = None
) -> list[str]:
    from ruamel.yaml import YAML

    from llmpod.yamlio.writer import dump_yaml

    hits: list[str] = []
    y = YAML(typ="safe")  # the C loader where ruamel.yaml.clib is present: same verdicts
    if "objects" in r:
        for obj in r["objects"]:
            if payload is not None and not _contains(obj, payload):
                continue  # an object the payload never reached dumps as in the benign case
            try:
                back = y.load(dump_yaml(obj))
            except Exception:
                hits.append("yaml-unparseable")
                break
            if back != json.loads(json.dumps(obj)):
                hits.append("yaml-changed")
                break
        for obj in r["objects"]:
            if api_rejects(obj):
                hits.append("api-rejects:" + str(api_rejects(obj)))
                break
        if promql_injected(r["promql"]):
            hits.append("promql")
        for name, text in r["scripts"].items():
            if name.endswith(".sh"):
                if shell_injected(text, root, stubs, cmp_rc=0 if "wait" in name else 1):
                    hits.append("shell:" + name)
            else:
                import ast

                try:
                    tree = ast.parse(text)
                except SyntaxError:
                    hits.append("python-syntax")
                    continue
                if len(tree.body) != base.k8s:
                    hits.append("python:" + name)
    if "policy" in r:
        if iam_widened(r["policy"]):
            hits.append("iam")
        for key in ("user_data", "worker_data"):
            try:
                doc = y.load(r[key])
            except Exception:
                hits.append("cloud-init-unparseable")
                continue
            if not isinstance(doc, dict) or (
                key == "user_data" and doc.get("runcmd") != base.runcmd
            ):
                hits.append("cloud-init-runcmd")
                continue
            files = {f["path"]: f["content"] for f in doc.get("write_files", [])}
            if key == "user_data" and sorted(files) != base.cloud_files:
                hits.append("cloud-init-files")
            for path, content in files.items():
                if path.endswith(".service") and "serve-" in path and key == "user_data":
                    if _unit_shape(content) != base.unit_shape:
                        hits.append("systemd")
                elif (
                    path.startswith("/usr/local/sbin/") or path.endswith(".sh")
                ) and shell_injected(content, root, stubs):
                    hits.append("shell:" + path.rsplit("/", 1)[-1])
    return sorted(set(hits))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--limit", type=int, default=0, help="payloads per field (0: all)")
    ns = parser.parse_args()
    plist = payloads()
    if ns.limit:
        plist = plist[: ns.limit]
    report = sweep(plist)
    counts, sinks, examples = report, report["sinks"], report["examples"]
    if ns.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(
            f"{len(plist)} payloads x {len(FIELDS)} fields = {counts['cases']} cases: "
            f"{counts['accepted']} accepted by the spec, {counts['rendered']} rendered, "
            f"{counts['injected']} reached a sink live, {counts['tracebacks']} tracebacks"
        )
        for sink, n in sorted(sinks.items()):
            print(f"  {sink}: {n}   e.g. {examples.get(sink, '')}")
    return 0


def sweep(plist: list[str]) -> dict[str, Any]:
    """Counts for ``plist`` over every field (see the module docstring)."""
    # Never reach the network: hf:// payloads must fail offline, not retry DNS for
    # minutes (llmpod's hf adaptor reads HF_HUB_OFFLINE per call).
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "AWS_EC2_METADATA_DISABLED")}
    os.environ.update({"HF_HUB_OFFLINE": "1", "AWS_EC2_METADATA_DISABLED": "true"})
    try:
        return _sweep(plist)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _sweep(plist: list[str]) -> dict[str, Any]:
    import traceback

    from pydantic import ValidationError

    from llmpod.errors import LlmpodError
    from llmpod.planning.service import plan_service
    from llmpod.spec.service import ServingSpec
    from llmpod.spec.stack import StackSpec

    root = Path(tempfile.mkdtemp(prefix="llmpod-sweep-"))
    stubs = _stub_dir(root)
    model_dir = root / "models"
    from llmpod.models import catalog

    qwen = catalog.find("Qwen/Qwen2.5-7B-Instruct").config

    base_plans = {
        k: plan_service(ServingSpec.model_validate(d), "staging")
        for k, d in (("k8s", K8S_SERVICE), ("aws", AWS_SERVICE))
    }
    import ast

    k8s_r = render_case(base_plans["k8s"])
    aws_r = render_case(base_plans["aws"])
    py_len = len(ast.parse(next(v for k, v in k8s_r["scripts"].items() if k.endswith(".py"))).body)
    from ruamel.yaml import YAML

    udoc = YAML(typ="safe", pure=True).load(aws_r["user_data"])
    ufiles = {f["path"]: f["content"] for f in udoc["write_files"]}
    unit = next(c for p, c in ufiles.items() if "serve-" in p)
    base = Baselines(
        k8s=py_len,
        aws=None,
        unit_shape=_unit_shape(unit),
        cloud_files=sorted(ufiles),
        runcmd=udoc["runcmd"],
    )
    assert not check_sinks(k8s_r, base, root, stubs), "benign k8s render flagged"
    assert not check_sinks(aws_r, base, root, stubs), "benign aws render flagged"

    counts: Counter[str] = Counter()
    sinks: Counter[str] = Counter()
    by_field: dict[str, Counter[str]] = {}
    examples: dict[str, str] = {}
    for f in FIELDS:
        label = f"{f.base}:{f.path}" + (f" ({f.wrap})" if f.wrap != "{}" else "")
        fc = by_field.setdefault(label, Counter())
        for payload in plist:
            if f.path == "model" and f.wrap == "{}" and _dir_ok(payload):
                d = model_dir / payload
                try:
                    d.mkdir(parents=True, exist_ok=True)
                    (d / "config.json").write_text(json.dumps(qwen))
                except OSError:
                    pass
            doc = _case_doc(f, payload, model_dir)
            counts["cases"] += 1
            fc["cases"] += 1
            try:
                StackSpec.from_config({"environment": "staging", "services": [doc]}, where="sweep")
                spec = ServingSpec.model_validate(doc)
            except LlmpodError:
                continue
            except (ValidationError, ValueError):
                continue
            except Exception:
                counts["tracebacks"] += 1
                continue
            counts["accepted"] += 1
            fc["accepted"] += 1
            try:
                if f.replan:
                    sp = plan_service(spec, "staging")
                else:
                    sp = replace(base_plans[f.base], spec=spec)
                r = render_case(sp)
            except LlmpodError:
                continue
            except Exception:
                counts["tracebacks"] += 1
                examples.setdefault(
                    "traceback:" + label,
                    repr(payload)[:60]
                    + " "
                    + traceback.format_exc(limit=1).strip().splitlines()[-1][:200],
                )
                continue
            counts["rendered"] += 1
            fc["rendered"] += 1
            hits = check_sinks(r, base, root, stubs, payload)
            if hits:
                counts["injected"] += 1
                fc["injected"] += 1
                for h in hits:
                    sinks[h] += 1
                    examples.setdefault(h, f"{label} = {payload!r}"[:120])
    counts.update(
        {k: 0 for k in ("accepted", "rendered", "injected", "tracebacks") if k not in counts}
    )
    report = {
        "payloads": len(plist),
        "fields": len(FIELDS),
        **counts,
        "sinks": dict(sorted(sinks.items())),
        "examples": examples,
        "by_field": {k: dict(v) for k, v in by_field.items()},
    }
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    return report


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    sys.exit(main())
