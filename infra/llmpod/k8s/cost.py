"""What a Kubernetes service costs: the nodes its pods occupy, priced as nodes.

Per-GPU pricing undercounts twice. The pods are spread one per node (the hard
hostname spread in k8s/scheduling.py: with as many GPU nodes as pods, maxSkew 1
leaves no node with two), so two TP-4 H100 pods hold two 8-GPU nodes, not one;
and the catalog's per-GPU price comes from single-GPU machines, while a 4-GPU pod
needs a 4-GPU machine, which costs more than four single ones (g6.12xlarge
$4.602/h against 4 × g6.xlarge $3.22/h).

So: every pod of every planned replica occupies one node, of the smallest shape in
the node catalogue that holds its GPUs, CPU and memory; the service costs that
many nodes at the catalogue's price. The catalogue is the EC2 instance catalogue
(infra/llmpod/gpus/nodes.py, on-demand us-east-1), the shapes EKS node
groups run; a GPU it does not list (RTX 4090, MI300X, H100 PCIe, CPU) is priced
per GPU from the GPU catalog, and the pricing text says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmpod.gpus.nodes import InstanceType, instances_for
from llmpod.k8s.scheduling import max_replicas
from llmpod.k8s.sizing import PodSize, pod_size
from llmpod.planning.service import ServicePlan

#: Left on a node for the kubelet, the OS and the GPU node's daemonsets (CNI,
#: kube-proxy, NVIDIA device plugin, DCGM exporter): EKS reserves about 0.1 vCPU
#: and 0.6-1 GiB for the kubelet alone on these sizes (its AMI's formula), and the
#: daemonsets request a few hundred millicores and MiB more.
SYSTEM_RESERVED_VCPUS = 1
SYSTEM_RESERVED_GIB = 2


@dataclass(frozen=True)
class NodeCost:
    nodes: int
    """Nodes the planned replicas occupy (one pod per node)."""
    node: InstanceType | None
    """The node shape; None when the catalogue has none for the GPU (priced per GPU)."""
    price_per_node: float
    per_hour: float
    how: str
    """One line saying how it was priced, for the render summary."""


def _fits(node: InstanceType, pod: PodSize) -> bool:
    return (
        node.vcpus >= pod.cpu_request + SYSTEM_RESERVED_VCPUS
        and node.memory_gib >= pod.memory_gib + SYSTEM_RESERVED_GIB
    )


def node_shape(gpu_key: str, pod: PodSize) -> InstanceType | None:
    """The smallest catalogued node holding one pod: fewest GPUs, then cheapest; a
    shape whose CPU or memory is too small for the pod is passed over while a bigger
    one exists."""
    holding = [n for n in instances_for(gpu_key) if n.gpus >= pod.gpus]
    if not holding:
        return None
    fitting = [n for n in holding if _fits(n, pod)] or holding
    return min(fitting, key=lambda n: (n.gpus, n.price_per_hour, n.name))


def node_cost(sp: ServicePlan) -> NodeCost:
    e = sp.evaluation
    pod = pod_size(sp)
    nodes = sp.plan.replicas * pod.nodes
    override = sp.spec.gpus.price_per_gpu_hour.get(e.gpu.key)
    node = node_shape(e.gpu.key, pod)
    pods = f"{nodes} pod(s) of {pod.gpus} {e.gpu.key}"
    if node is None:
        price = pod.gpus * (override if override is not None else e.gpu.price_per_gpu_hour)
        how = (
            f"cost: {pods}, priced per GPU at ${price / max(1, pod.gpus):.3f}/h "
            f"(no {e.gpu.key} node shape in the node catalogue)"
        )
        return NodeCost(nodes, None, price, round(nodes * price, 2), how)
    # A price override is per GPU (committed-use discounts); the node bills all its GPUs.
    price = node.gpus * override if override is not None else node.price_per_hour
    source = (
        f"gpus.price_per_gpu_hour × {node.gpus} GPUs"
        if override is not None
        else "node catalogue, EC2 on-demand us-east-1"
    )
    # Pods of one replica never share a node (the layout splits a replica per node);
    # replicas do not either once the hard hostname spread is rendered (2+ replicas).
    why = "one per node (hard spread)" if max_replicas(sp) >= 2 else "one per node"
    how = (
        f"cost: {pods}, {why} → {nodes} × {node.name}-shaped node "
        f"({node.gpus} GPUs, {node.vcpus} vCPU, {node.memory_gib} GiB) at ${price:.3f}/h "
        f"({source})"
    )
    return NodeCost(nodes, node, price, round(nodes * price, 2), how)
