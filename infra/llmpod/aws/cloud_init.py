"""Render an instance's cloud-init user-data from templates/cloud-init*.j2 (pure).

The instance runs the same image and entrypoint as a Kubernetes pod: the plan
file is the same JSON (``plan_file_payload``), the probes are the same, only the
supervisor differs (systemd units instead of a kubelet). Every string that goes
into a shell command is built here from validated values, never from free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmpod import contract
from llmpod.aws.instances import InstanceLayout, Slot
from llmpod.backends.compile_cache import COMPILE_CACHE_LOCAL, COMPILE_CACHE_MOUNT
from llmpod.backends.runtime import plan_file_text
from llmpod.escaping import Expand, UnsafeValue
from llmpod.templating import render_template
from llmpod.yamlio.writer import dump_yaml

#: Host path of the shared weights; containers see it read-only at /models.
HOST_WEIGHTS_DIR = "/mnt/llmpod-weights"
CONTAINER_WEIGHTS_DIR = contract.WEIGHTS_MOUNT
#: vLLM's compile cache on the same shared file system, beside the checkpoints:
#: containers get it read-write, the weights stay read-only (two bind mounts).
HOST_COMPILE_CACHE_DIR = f"{HOST_WEIGHTS_DIR}/.llmpod-compile-cache"
#: The image's USER (images/vllm/Dockerfile): it must be able to publish a cache.
IMAGE_UID = contract.RUN_AS_USER
PLAN_FILE = contract.PLAN_FILE
RAY_HEAD_SCRIPT = "/etc/llmpod/ray-head.sh"
RAY_PORT = contract.RAY_PORT
#: 60 × 10 s for the workers of a multi-instance replica to join the Ray head.
RAY_WAIT_TRIES = 60
#: `docker stop -t`: the entrypoint's drain plus its vLLM stop timeout, with slack.
STOP_TIMEOUT_S = contract.STOP_GRACE_S
#: NCCL needs /dev/shm for TP > 1; Docker's default is 64 MiB.
SHM_SIZE = "16g"
REPLICA_TAG = "llmpod-replica"
ROLE_TAG = "llmpod-role"

Role = Literal["serve", "head", "worker"]


@dataclass(frozen=True)
class WeightsMount:
    kind: Literal["efs", "fsx-lustre"]
    fstype: str
    source: str
    options: str


def efs_mount(file_system_id: str, region: str) -> WeightsMount:
    # Options from the EFS user guide's NFS client recommendations (NFSv4.1, 1 MiB
    # rsize/wsize, hard mounts, noresvport so reconnects survive a new source port).
    return WeightsMount(
        kind="efs",
        fstype="nfs4",
        source=f"{file_system_id}.efs.{region}.amazonaws.com:/",
        options="nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport",
    )


def lustre_mount(dns_name: str, mount_name: str) -> WeightsMount:
    # flock: the loader serializes on a lock file; Lustre refuses flock() without it.
    return WeightsMount(
        kind="fsx-lustre",
        fstype="lustre",
        source=f"{dns_name}@tcp:/{mount_name}",
        options="relatime,flock",
    )


@dataclass(frozen=True)
class ExtraFetch:
    """One more S3 prefix the loader copies, into its own directory, with its marker."""

    #: Marker name under the state directory: unique per service.
    key: str
    s3_url: str
    #: Directory relative to the weights root.
    target_dir: str


@dataclass(frozen=True)
class UserDataInputs:
    service: str
    environment: str
    region: str
    image: str
    plan_payload: dict[str, object]
    layout: InstanceLayout
    s3_url: str
    revision: str
    #: Directory of the checkpoint relative to the weights root (``org/name``).
    model_dir: str
    startup_timeout_s: int
    #: Directory name of this layout's compile cache (infra/llmpod/backends/compile_cache.py).
    compile_cache_key: str
    #: Environment vLLM reads besides its flags (backends/runtime.py ``vllm_env``).
    vllm_env: tuple[tuple[str, str], ...] = ()
    #: The draft and LoRA adapters to copy beside the checkpoint (backends/fetches.py).
    extra_fetches: tuple[ExtraFetch, ...] = ()


def _docker_base(inputs: UserDataInputs, slot: Slot) -> list[str]:
    """`docker run` arguments as words (quoted for systemd when the unit is written)."""
    env = {
        "LLMPOD_COMPILE_CACHE_DIR": f"{COMPILE_CACHE_MOUNT}/{inputs.compile_cache_key}",
        "LLMPOD_COMPILE_CACHE_LOCAL": COMPILE_CACHE_LOCAL,
        "LLMPOD_PLAN_FILE": PLAN_FILE,
        "LLMPOD_STARTUP_TIMEOUT_S": str(inputs.startup_timeout_s),
        "LLMPOD_STATUS_PORT": str(slot.status_port),
        "LLMPOD_VLLM_PORT": str(slot.vllm_port),
        **dict(inputs.vllm_env),
    }
    args = [
        "--gpus",
        slot.docker_gpus,
        "--network",
        "host",
        "--shm-size",
        SHM_SIZE,
        "-v",
        f"{HOST_WEIGHTS_DIR}:{CONTAINER_WEIGHTS_DIR}:ro",
        "-v",
        f"{HOST_COMPILE_CACHE_DIR}:{COMPILE_CACHE_MOUNT}:rw",
        "-v",
        f"{PLAN_FILE}:{PLAN_FILE}:ro",
    ]
    for k, v in sorted(env.items()):
        args += ["-e", f"{k}={v}"]
    return args


def _serve_unit(inputs: UserDataInputs, slot: Slot, role: Role) -> dict[str, str]:
    docker = _docker_base(inputs, slot)
    pre: list[list[str]] = []
    env_file = ""
    if role == "serve":
        what = f"vLLM replica slot {slot.index} on GPUs {','.join(map(str, slot.devices))}"
        docker.append(inputs.image)
    elif role == "head":
        what = "Ray head and vLLM entrypoint of a multi-instance replica"
        docker += [
            "-v",
            f"{RAY_HEAD_SCRIPT}:{RAY_HEAD_SCRIPT}:ro",
            "--entrypoint",
            "bash",
            inputs.image,
            RAY_HEAD_SCRIPT,
        ]
    else:
        what = "Ray worker of a multi-instance replica"
        pre = [["/usr/local/sbin/llmpod-find-ray-head"]]
        env_file = "/run/llmpod/ray-head.env"
        # The one word systemd must expand: the head's address from env_file.
        docker += [
            "--entrypoint",
            "ray",
            inputs.image,
            "start",
            Expand("--address=${LLMPOD_RAY_HEAD}:" + str(RAY_PORT)),
            f"--num-gpus={len(slot.devices)}",
            "--block",
        ]
    content = render_template(
        "cloud-init-serve.service.j2",
        service=inputs.service,
        description=what,
        stop_timeout_s=STOP_TIMEOUT_S,
        pre=pre,
        environment_file=env_file,
        container=f"llmpod-slot-{slot.index}",
        docker_args=docker,
    )
    return {"name": f"llmpod-serve-{slot.index}.service", "content": content}


def _file(path: str, mode: str, content: str) -> dict[str, str]:
    return {"content": content, "path": path, "permissions": mode}


def render_user_data(inputs: UserDataInputs, role: Role, mount: WeightsMount) -> str:
    """The cloud-config document for instances of ``role``.

    Dumped as YAML (never assembled from text), so no value can add keys,
    files or commands to the document; every script value is shell-quoted
    by its template and every unit word quoted for systemd."""
    layout = inputs.layout
    s3_url = inputs.s3_url.rstrip("/") + "/"
    marker = f"{s3_url.rstrip('/')}@{inputs.revision}"
    common = {"service": inputs.service, "environment": inputs.environment, "region": inputs.region}
    files = [
        _file(PLAN_FILE, "0644", plan_file_text(inputs.plan_payload)),
        _file(
            "/usr/local/sbin/llmpod-mount-weights",
            "0755",
            render_template(
                "cloud-init-mount-weights.sh.j2",
                mount=mount,
                host_dir=HOST_WEIGHTS_DIR,
                cache_dir=HOST_COMPILE_CACHE_DIR,
                uid=IMAGE_UID,
            ),
        ),
        _file(
            "/usr/local/sbin/llmpod-load-weights",
            "0755",
            render_template(
                "cloud-init-load-weights.sh.j2",
                host_dir=HOST_WEIGHTS_DIR,
                marker_name=inputs.service,
                marker_value=marker,
                region=inputs.region,
                s3_url=s3_url,
                model_dir=inputs.model_dir,
                extras=inputs.extra_fetches,
            ),
        ),
        _file(
            "/etc/systemd/system/llmpod-weights.service",
            "0644",
            render_template("cloud-init-weights.service.j2"),
        ),
    ]
    if role == "head":
        files.append(
            _file(
                RAY_HEAD_SCRIPT,
                "0755",
                render_template(
                    "cloud-init-ray-head.sh.j2",
                    ray_port=RAY_PORT,
                    nodes=layout.instances_per_replica,
                    gpus_per_instance=layout.instance.gpus,
                    ray_wait_tries=RAY_WAIT_TRIES,
                ),
            )
        )
    if role == "worker":
        files.append(
            _file(
                "/usr/local/sbin/llmpod-find-ray-head",
                "0755",
                render_template(
                    "cloud-init-find-ray-head.sh.j2",
                    replica_tag=REPLICA_TAG,
                    role_tag=ROLE_TAG,
                    **common,
                ),
            )
        )
    units = [_serve_unit(inputs, slot, role) for slot in layout.slots]
    files += [_file(f"/etc/systemd/system/{u['name']}", "0644", u["content"]) for u in units]
    started = ["llmpod-weights.service", *(u["name"] for u in units)]
    doc = {
        "runcmd": [
            ["systemctl", "daemon-reload"],
            ["systemctl", "enable", *started],
            # --no-block: cloud-init must finish even while the first instance fills
            # the volume.
            ["systemctl", "start", "--no-block", *started],
        ],
        "write_files": files,
    }
    header = (
        f"#cloud-config\n"
        f"# llmpod {inputs.service} ({inputs.environment}), role {role}: rendered by "
        f"infra/llmpod/aws/cloud_init.py\n"
        "# from templates/cloud-init*.j2. Do not edit; change the spec and re-render.\n"
        "#\n"
        "# Assumes the AWS Deep Learning Base AMI (NVIDIA driver, Docker, NVIDIA "
        "container\n"
        "# toolkit, AWS CLI v2, NFS and Lustre clients): nothing is installed here.\n"
    )
    if not (inputs.service + inputs.environment + role).isprintable():
        # The header is a YAML comment: a line break (\n, \r, \x85, \u2028...) would end it.
        raise UnsafeValue(
            f"a non-printable character in a cloud-init header value: "
            f"{(inputs.service + ' ' + inputs.environment)[:80]!r}"
        )
    return header + dump_yaml(doc)
