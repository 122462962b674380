"""The node catalogue: the machines each GPU is sold in, with their prices.

Both backends price from it: the AWS backend launches these instance types, and
Kubernetes prices the nodes its pods occupy as these shapes (k8s/cost.py; the
node groups of EKS run them). The GPU catalog (gpus/catalog.py) stays per GPU.
Prices: EC2 on-demand, Linux, us-east-1, as published after the June 2025 P4/P5
price reduction (aws.amazon.com/ec2/pricing/on-demand).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceType:
    """An EC2 instance type that carries one GPU model."""

    name: str
    gpus: int
    vcpus: int
    memory_gib: int
    price_per_hour: float
    #: EFA / high-speed network between instances (needed for multi-node TP/PP).
    efa: bool = False


#: GPU catalog key → the instance types that carry it, smallest first.
INSTANCES: dict[str, tuple[InstanceType, ...]] = {
    "H100": (
        InstanceType("p5.4xlarge", 1, 16, 256, 6.88),
        InstanceType("p5.48xlarge", 8, 192, 2048, 55.04, efa=True),
    ),
    "H200": (
        InstanceType("p5e.48xlarge", 8, 192, 2048, 63.30, efa=True),
        InstanceType("p5en.48xlarge", 8, 192, 2048, 63.30, efa=True),
    ),
    "B200": (InstanceType("p6-b200.48xlarge", 8, 192, 2048, 113.93, efa=True),),
    "A100-80GB": (InstanceType("p4de.24xlarge", 8, 96, 1152, 27.45, efa=True),),
    "A100-40GB": (InstanceType("p4d.24xlarge", 8, 96, 1152, 21.96, efa=True),),
    "L40S": (
        InstanceType("g6e.xlarge", 1, 4, 32, 1.861),
        InstanceType("g6e.2xlarge", 1, 8, 64, 2.242),
        InstanceType("g6e.12xlarge", 4, 48, 384, 10.493),
        InstanceType("g6e.24xlarge", 4, 96, 768, 15.066),
        InstanceType("g6e.48xlarge", 8, 192, 1536, 30.131, efa=True),
    ),
    "L4": (
        InstanceType("g6.xlarge", 1, 4, 16, 0.805),
        InstanceType("g6.2xlarge", 1, 8, 32, 0.978),
        InstanceType("g6.12xlarge", 4, 48, 192, 4.602),
        InstanceType("g6.48xlarge", 8, 192, 768, 13.350),
    ),
    "A10G": (
        InstanceType("g5.xlarge", 1, 4, 16, 1.006),
        InstanceType("g5.2xlarge", 1, 8, 32, 1.212),
        InstanceType("g5.12xlarge", 4, 48, 192, 5.672),
        InstanceType("g5.48xlarge", 8, 192, 768, 16.288),
    ),
}


def instances_for(gpu_key: str) -> tuple[InstanceType, ...]:
    """The instance types carrying ``gpu_key``; empty when AWS sells none."""
    return INSTANCES.get(gpu_key, ())
