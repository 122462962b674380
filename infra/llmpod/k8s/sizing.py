"""Per-pod sizing derived from the plan: GPUs, CPU, memory, /dev/shm, update rule.

Each rule here prevents a failure users reported (DESIGN.md "Failure modes").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from llmpod.backends.runtime import startup_budget_s
from llmpod.errors import LlmpodError
from llmpod.k8s.contract import ASSUMED_DOWNLOAD_MB_S
from llmpod.planning.service import ServicePlan

#: CPU per GPU: tokenization, detokenization and the API server run on CPU;
#: four cores per GPU keeps them off the decode critical path. The limit is
#: twice that so bursts (prefix hashing, JSON) are not throttled.
CPU_PER_GPU = 4
#: Host memory: vLLM mmaps safetensors (page cache, reclaimable) and keeps a few
#: GiB per worker process for CUDA context, NCCL buffers and the API server.
BASE_MEMORY_GIB = 8
MEMORY_PER_GPU_GIB = 4
#: Never less than this for vLLM itself: the API server, tokenizer, one engine
#: core and a worker with its CUDA context already take ~10 GiB at startup, and
#: loading a checkpoint shard briefly holds it in host memory too.
MIN_VLLM_MEMORY_GIB = 16


@dataclass(frozen=True)
class PodSize:
    gpus: int
    """Accelerators one pod requests (= GPUs per replica / nodes per replica)."""
    nodes: int
    """Pods per replica: 1 → Deployment, >1 → LeaderWorkerSet group size."""
    shm_gib: int
    """In-memory /dev/shm; 0 = not mounted (one GPU per pod needs none)."""
    cpu_request: int
    cpu_limit: int
    memory_gib: int
    """Request = limit (memory is not compressible; a limit above the request
    invites OOM kills under node pressure). Includes /dev/shm, which the kernel
    charges to the container's memory cgroup."""
    gpus_per_node: int

    @property
    def whole_node(self) -> bool:
        return self.gpus >= self.gpus_per_node


def pod_size(sp: ServicePlan) -> PodSize:
    e = sp.evaluation
    nodes = e.nodes_per_replica
    if e.gpus_per_replica % nodes:
        raise LlmpodError(
            code="uneven_multinode_layout",
            message=(
                f"service {sp.name!r}: {e.gpus_per_replica} GPUs per replica (TP {e.tp} × "
                f"PP {e.pp}) do not split evenly over {nodes} nodes of "
                f"{e.gpu.max_gpus_per_node} {e.gpu.key}; a LeaderWorkerSet gives every "
                f"pod the same GPU count."
            ),
            suggestions=[
                "set gpus.max_per_replica to a multiple of the node's GPU count",
                "set gpus.max_nodes: 1",
            ],
        )
    gpus = e.gpus_per_replica // nodes
    # NCCL (and vLLM's custom all-reduce) exchange tensors through /dev/shm
    # between the worker processes of one pod; Docker's 64 MiB default fails
    # with "NCCL error: unhandled system error" once TP or PP > 1 in a pod.
    shm = 0 if gpus <= 1 else max(8, 2 * gpus)
    return PodSize(
        gpus=gpus,
        nodes=nodes,
        shm_gib=shm,
        cpu_request=CPU_PER_GPU * max(1, gpus),
        cpu_limit=2 * CPU_PER_GPU * max(1, gpus),
        memory_gib=vllm_memory_gib(sp, gpus) + shm,
        gpus_per_node=e.gpu.max_gpus_per_node,
    )


def vllm_memory_gib(sp: ServicePlan, gpus: int) -> int:
    """Memory for vLLM's processes in one pod (not counting /dev/shm, which the
    kernel charges to the same cgroup and is added on top by pod_size)."""
    override = sp.spec.kubernetes.memory_gib
    if override is not None:
        return override
    return max(MIN_VLLM_MEMORY_GIB, BASE_MEMORY_GIB + MEMORY_PER_GPU_GIB * max(1, gpus))


def uses_recreate(sp: ServicePlan) -> bool:
    """True when a rolling update could never schedule its surge pod.

    Without knowledge of the cluster's free GPUs, llmpod assumes the nodes of
    this GPU type are sized for the plan: a pod that needs a whole node cannot
    get a second node for a surge, so RollingUpdate (maxSurge 1,
    maxUnavailable 0) would leave the new pod Pending forever and the rollout
    stuck. Those plans use Recreate (brief downtime per rollout; run 2+
    replicas behind the PodDisruptionBudget if that matters); partial-node pods
    surge onto the spare GPUs of a node.
    """
    return pod_size(sp).whole_node


def await_timeout_s(sp: ServicePlan) -> int:
    """How long `pulumi up` waits for the workload: a first download plus the startup budget."""
    download_s = sp.plan.weights_gib_total * 1024 / ASSUMED_DOWNLOAD_MB_S
    return int(math.ceil((startup_budget_s(sp) + 1.5 * download_s) / 60) * 60)
