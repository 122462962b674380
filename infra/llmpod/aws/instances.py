"""Which EC2 instance type serves a plan, and how replicas are laid out on it (pure).

Three shapes come out of a plan:

* **packed**: a replica needs fewer GPUs than the chosen instance has, so several
  replicas share one instance, each container pinned to its own GPUs and port
  (8 × TP-2 replicas on two 8-GPU p5.48xlarge instead of 6 idle GPUs per replica),
  but never all of them on one instance: 2+ replicas span 2+ instances;
* **single**: one replica per instance (it needs all of the instance's GPUs);
* **multi-instance**: the replica spans instances (TP within an instance, PP
  across), one Ray head plus workers — the layout the Kubernetes multi-node path
  (LeaderWorkerSet) uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llmpod import contract
from llmpod.errors import LlmpodError
from llmpod.gpus.nodes import INSTANCES, InstanceType, instances_for
from llmpod.gpus.spec import GpuSpec

if TYPE_CHECKING:
    from llmpod.planning.service import ServicePlan

#: An ALB forward action accepts at most 5 weighted target groups (Elastic Load
#: Balancing quota "target groups per action"); every packed slot is its own
#: target group (ASGs register instances on the target group's port only), so
#: an instance carries at most this many replicas.
MAX_SLOTS_PER_INSTANCE = 5
#: Instances that 2+ replicas are spread over at least (see layout_for).
MIN_INSTANCES_SPREAD = 2
#: vLLM listens on VLLM_BASE_PORT + slot and the entrypoint's probe server on
#: STATUS_BASE_PORT + slot; slot 0 keeps the image defaults (8000 / 8081).
VLLM_BASE_PORT = contract.VLLM_PORT
STATUS_BASE_PORT = contract.STATUS_PORT


@dataclass(frozen=True)
class Slot:
    """One serving container on an instance: its GPUs and its two ports."""

    index: int
    devices: tuple[int, ...]
    vllm_port: int
    status_port: int

    @property
    def docker_gpus(self) -> str:
        # Docker parses --gpus as CSV: the inner quotes keep "0,1" one value.
        return '"device=' + ",".join(str(d) for d in self.devices) + '"'


@dataclass(frozen=True)
class InstanceLayout:
    instance: InstanceType
    gpus_per_replica: int
    #: > 1 only for multi-instance replicas (Ray head + workers).
    instances_per_replica: int
    slots: tuple[Slot, ...]
    #: Instances running at the planned replica count, and at replicas.max.
    instance_count: int
    max_instance_count: int

    @property
    def replicas_per_instance(self) -> int:
        return len(self.slots)

    @property
    def multi_instance(self) -> bool:
        return self.instances_per_replica > 1

    @property
    def serving_replicas(self) -> int:
        """Replicas actually running: whole instances, so at least the planned count."""
        if self.multi_instance:
            return self.instance_count // self.instances_per_replica
        return self.instance_count * len(self.slots)

    @property
    def cost_per_hour(self) -> float:
        """What EC2 bills: whole instances, idle GPUs included."""
        return round(self.instance_count * self.instance.price_per_hour, 2)


def _no_instance_error(gpu: GpuSpec, needed: int) -> LlmpodError:
    offered = sorted(key for key, types in INSTANCES.items() if types)
    return LlmpodError(
        code="aws_no_instance",
        message=(
            f"backend aws: GPU {gpu.key} ({gpu.display}) has no EC2 instance type in "
            f"llmpod's GPU catalog, so a replica needing {needed} of them cannot be "
            f"placed on AWS. GPU types with EC2 instances: {', '.join(offered)}."
        ),
        suggestions=[
            f"list one of {', '.join(offered)} first in gpus.types",
            f"or serve this service with backend: kubernetes on a cluster that has {gpu.key} nodes",
        ],
    )


def choose_instance(gpu: GpuSpec, gpus_per_replica: int) -> tuple[InstanceType, int]:
    """(instance type, instances per replica) for one replica of ``gpus_per_replica`` GPUs.

    Smallest instance holding the whole replica (cheapest on ties, e.g. g6e.12xlarge
    over g6e.24xlarge); a replica larger than any instance spans the biggest one,
    preferring EFA for the cross-instance pipeline traffic.
    """
    offered = instances_for(gpu.key)
    if not offered:
        raise _no_instance_error(gpu, gpus_per_replica)
    holding = [i for i in offered if i.gpus >= gpus_per_replica]
    if holding:
        best = min(holding, key=lambda i: (i.gpus, i.price_per_hour, i.name))
        return best, 1
    biggest = max(offered, key=lambda i: (i.gpus, i.efa, -i.price_per_hour))
    if gpus_per_replica % biggest.gpus:
        raise LlmpodError(
            code="aws_uneven_replica",
            message=(
                f"backend aws: a replica of {gpus_per_replica} {gpu.key} GPUs does not "
                f"split evenly over {biggest.name} instances of {biggest.gpus} GPUs."
            ),
            suggestions=[f"limit gpus.max_per_replica to {biggest.gpus} or a multiple of it"],
        )
    return biggest, gpus_per_replica // biggest.gpus


def _slots(count: int, gpus_per_slot: int) -> tuple[Slot, ...]:
    return tuple(
        Slot(
            index=i,
            devices=tuple(range(i * gpus_per_slot, (i + 1) * gpus_per_slot)),
            vllm_port=VLLM_BASE_PORT + i,
            status_port=STATUS_BASE_PORT + i,
        )
        for i in range(count)
    )


def service_layout(sp: ServicePlan) -> InstanceLayout:
    """The one layout of a planned AWS service: what its backend bills
    (AwsBackend.cost_per_hour), describes (description.describe_service) and creates."""
    e = sp.evaluation
    return layout_for(e.gpu, e.gpus_per_replica, sp.plan.replicas, sp.spec.replicas.max)


def layout_for(
    gpu: GpuSpec, gpus_per_replica: int, replicas: int, max_replicas: int
) -> InstanceLayout:
    """Instance type, per-instance slots and instance counts for ``replicas`` replicas."""
    instance, per_replica = choose_instance(gpu, gpus_per_replica)
    ceiling = max(replicas, max_replicas)
    if per_replica > 1:
        return InstanceLayout(
            instance=instance,
            gpus_per_replica=gpus_per_replica,
            instances_per_replica=per_replica,
            slots=_slots(1, instance.gpus),
            instance_count=replicas * per_replica,
            max_instance_count=ceiling * per_replica,
        )
    capacity = min(instance.gpus // gpus_per_replica, MAX_SLOTS_PER_INSTANCE)
    # Two or more replicas never share a single instance: one instance failure,
    # reboot or refresh would take every replica down at once (a single point of
    # failure that replicas.min: 2 exists to avoid). The Auto Scaling group spreads
    # those instances over the subnets' zones.
    instances = max(math.ceil(replicas / capacity), min(replicas, MIN_INSTANCES_SPREAD))
    # Spread the planned replicas evenly: 8 replicas at capacity 5 become 2 × 4, not 5 + 5.
    per_instance = math.ceil(replicas / instances)
    return InstanceLayout(
        instance=instance,
        gpus_per_replica=gpus_per_replica,
        instances_per_replica=1,
        slots=_slots(per_instance, gpus_per_replica),
        instance_count=instances,
        max_instance_count=max(instances, math.ceil(ceiling / per_instance)),
    )
