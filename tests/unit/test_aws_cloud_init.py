"""cloud-init user-data: valid cloud-config, the same plan file and probes as a pod,
GPUs and ports per slot, read-only weights, a loader that runs once per revision,
and shell scripts that bash accepts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmpod.aws.cloud_init import efs_mount, lustre_mount, render_user_data
from llmpod.aws.description import describe_service
from llmpod.backends.runtime import plan_file_payload
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.spec.service import ServingSpec

AWS = {
    "region": "eu-west-1",
    "vpc_id": "vpc-0a1b2c3d4e5f60718",
    "subnet_ids": ["subnet-0a1b2c3d4e5f60711", "subnet-0a1b2c3d4e5f60722"],
}


def plan(**overrides: Any) -> ServicePlan:
    doc: dict[str, Any] = {
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
    doc.update(overrides)
    return plan_service(ServingSpec.model_validate(doc), "staging")


def cloud_config(text: str) -> dict[str, Any]:
    assert text.startswith("#cloud-config\n")  # cloud-init ignores user-data without it
    doc: dict[str, Any] = YAML(typ="safe").load(text)
    return doc


def files(doc: dict[str, Any]) -> dict[str, str]:
    return {f["path"]: f["content"] for f in doc["write_files"]}


def test_packed_slots_pin_gpus_and_ports_and_mount_weights_read_only() -> None:
    sp = plan()
    desc = describe_service(sp)
    slots = desc.layout.slots
    doc = cloud_config(render_user_data(desc.user_data, "serve", efs_mount("fs-0abc", "eu-west-1")))
    out = files(doc)
    units = {p: c for p, c in out.items() if p.startswith("/etc/systemd/system/llmpod-serve-")}
    assert len(units) == len(slots) >= 2
    for slot in slots:
        unit = units[f"/etc/systemd/system/llmpod-serve-{slot.index}.service"]
        run = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
        devices = ",".join(str(d) for d in slot.devices)
        assert f"--gpus '\"device={devices}\"'" in run
        assert f"-e LLMPOD_VLLM_PORT={8000 + slot.index}" in run
        assert f"-e LLMPOD_STATUS_PORT={8081 + slot.index}" in run
        assert "-v /mnt/llmpod-weights:/models:ro" in run
        assert "-v /etc/llmpod/plan.json:/etc/llmpod/plan.json:ro" in run
        assert run.endswith(sp.spec.image.reference)
        assert "ExecStop=/usr/bin/docker stop --time 150 " in unit
    # The plan file is the one the Kubernetes backend mounts from its ConfigMap.
    import json

    assert json.loads(out["/etc/llmpod/plan.json"]) == plan_file_payload(sp)
    mount = out["/usr/local/sbin/llmpod-mount-weights"]
    assert "\nfstype=nfs4\noptions=nfsvers=4.1," in mount
    assert "\nsource=fs-0abc.efs.eu-west-1.amazonaws.com:/\n" in mount
    assert 'mount -t "$fstype" -o "$options" "$source" "$host_dir"' in mount
    # Both units start without blocking cloud-init.
    assert doc["runcmd"][-1][:6] == [
        "systemctl",
        "start",
        "--no-block",
        "llmpod-weights.service",
        "llmpod-serve-0.service",
        "llmpod-serve-1.service",
    ]


def test_loader_copies_once_per_revision_under_a_lock() -> None:
    desc = describe_service(plan())
    out = files(
        cloud_config(render_user_data(desc.user_data, "serve", efs_mount("fs-0abc", "eu-west-1")))
    )
    loader = out["/usr/local/sbin/llmpod-load-weights"]
    assert "flock 9" in loader
    assert "want=s3://models/llama-8b@abc123" in loader
    assert "\nregion=eu-west-1\nsource=s3://models/llama-8b/\n" in loader
    assert '\ntarget="$host_dir/"meta-llama/Llama-3.1-8B-Instruct/\n' in loader
    assert (
        'aws s3 sync --region "$region" --only-show-errors --no-progress '
        '"$source" "$target"' in loader
    )
    # The marker is written only after the copy, atomically.
    assert loader.index("aws s3 sync") < loader.index('mv "$marker.tmp" "$marker"')


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_every_script_parses_with_bash(tmp_path: Path) -> None:
    desc = describe_service(
        plan(
            gpus={"types": ["H100"], "max_per_replica": 16, "max_nodes": 2},
            model="llama-3.1-405b",
            max_model_len=32768,
            targets={},
            replicas={"min": 1, "max": 1},
        )
    )
    assert desc.layout.multi_instance, "this plan must span instances to cover Ray scripts"
    for role in ("head", "worker"):
        out = files(
            cloud_config(render_user_data(desc.user_data, role, lustre_mount("fs.example", "abcd")))
        )
        for path, content in out.items():
            if content.startswith("#!/bin/bash"):
                script = tmp_path / Path(path).name
                script.write_text(content)
                result = subprocess.run(
                    ["bash", "-n", str(script)], capture_output=True, text=True, check=False
                )
                assert result.returncode == 0, (path, result.stderr)


def test_multi_instance_head_and_worker_roles() -> None:
    desc = describe_service(
        plan(
            gpus={"types": ["H100"], "max_per_replica": 16, "max_nodes": 2},
            model="llama-3.1-405b",
            max_model_len=32768,
            targets={},
            replicas={"min": 1, "max": 1},
        )
    )
    mount = lustre_mount("fs-1.fsx.eu-west-1.amazonaws.com", "abcd")
    head = files(cloud_config(render_user_data(desc.user_data, "head", mount)))
    ray_head = head["/etc/llmpod/ray-head.sh"]
    assert "ray start --head --port=6379 --num-gpus=8" in ray_head
    assert '[ "$have" -ge 2 ]' in ray_head  # head + 1 worker
    assert "exec python3 -m llmpod_image.entrypoint" in ray_head
    head_unit = head["/etc/systemd/system/llmpod-serve-0.service"]
    assert "--entrypoint bash" in head_unit and "--gpus '\"device=0,1,2,3,4,5,6,7\"'" in head_unit
    worker = files(cloud_config(render_user_data(desc.user_data, "worker", mount)))
    unit = worker["/etc/systemd/system/llmpod-serve-0.service"]
    assert "ExecStartPre=/usr/local/sbin/llmpod-find-ray-head" in unit
    assert "EnvironmentFile=/run/llmpod/ray-head.env" in unit
    assert "start --address=${LLMPOD_RAY_HEAD}:6379 --num-gpus=8 --block" in unit
    find_head = worker["/usr/local/sbin/llmpod-find-ray-head"]
    assert "\nrole_tag=llmpod-role\n" in find_head
    assert '"Name=tag:$role_tag,Values=head"' in find_head
    mount_script = worker["/usr/local/sbin/llmpod-mount-weights"]
    assert (
        "\nfstype=lustre\noptions=relatime,flock\n"
        "source=fs-1.fsx.eu-west-1.amazonaws.com@tcp:/abcd\n"
    ) in mount_script


def test_compile_cache_is_shared_writable_and_keyed_while_weights_stay_read_only() -> None:
    import re

    sp = plan()
    desc = describe_service(sp)
    out = files(
        cloud_config(render_user_data(desc.user_data, "serve", efs_mount("fs-0abc", "eu-west-1")))
    )
    unit = out["/etc/systemd/system/llmpod-serve-0.service"]
    run = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert "-v /mnt/llmpod-weights/.llmpod-compile-cache:/var/cache/llmpod/compile:rw" in run
    assert "-v /mnt/llmpod-weights:/models:ro" in run
    key = re.search(r"-e LLMPOD_COMPILE_CACHE_DIR=/var/cache/llmpod/compile/(\S+)", run)
    assert key is not None
    # Only characters that need no quoting in a systemd ExecStart or a shell.
    assert re.fullmatch(r"[a-z0-9._-]+", key.group(1))
    assert key.group(1).startswith(f"vllm-{sp.spec.image.vllm_version}_meta-llama-llama-3.1-8b")
    assert "_rev-abc123_tp" in key.group(1)
    # The image's user (10001) owns the directory, created once the volume is mounted.
    mount = out["/usr/local/sbin/llmpod-mount-weights"]
    assert "\ncache_dir=/mnt/llmpod-weights/.llmpod-compile-cache\nuid=10001\n" in mount
    assert 'install -d -m 0775 -o "$uid" -g "$uid" "$cache_dir"' in mount
    assert mount.index('mount -t "$fstype"') < mount.index("install -d")
