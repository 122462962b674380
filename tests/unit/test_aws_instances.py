"""Instance choice and replica packing (pure). Expected values come from the
instance facts (GPUs per instance, price) and the packing rule stated in
infra/llmpod/aws/instances.py, worked out by hand here."""

from __future__ import annotations

import pytest

from llmpod.aws.instances import choose_instance, layout_for
from llmpod.errors import LlmpodError
from llmpod.gpus.catalog import find_gpu


def test_four_tp2_replicas_pack_onto_two_8_gpu_h100_instances_not_one() -> None:
    # Issue 20 item 8: all replicas on one instance is a single point of failure;
    # 2+ replicas span 2+ instances, packed evenly (before: one p5.48xlarge, 4 slots).
    layout = layout_for(find_gpu("H100"), gpus_per_replica=2, replicas=4, max_replicas=4)
    assert layout.instance.name == "p5.48xlarge"  # p5.4xlarge has a single GPU
    assert layout.instance_count == 2
    assert [s.devices for s in layout.slots] == [(0, 1), (2, 3)]
    assert [s.vllm_port for s in layout.slots] == [8000, 8001]
    assert [s.status_port for s in layout.slots] == [8081, 8082]
    assert [s.docker_gpus for s in layout.slots][1] == '"device=2,3"'
    assert layout.serving_replicas == 4
    assert layout.cost_per_hour == 2 * 55.04  # two p5.48xlarge, not four


def test_two_replicas_never_share_one_instance() -> None:
    # Before: 2 × TP-2 L4 fit one 4-GPU g6.12xlarge, so the ASG ran min = max = 1.
    layout = layout_for(find_gpu("L4"), gpus_per_replica=2, replicas=2, max_replicas=2)
    assert (layout.instance.name, layout.instance_count, layout.replicas_per_instance) == (
        "g6.12xlarge",
        2,
        1,
    )
    assert layout.max_instance_count == 2
    single = layout_for(find_gpu("L4"), gpus_per_replica=2, replicas=1, max_replicas=4)
    assert (single.instance_count, single.replicas_per_instance) == (1, 1)
    assert single.max_instance_count == 4


def test_smallest_instance_holding_the_replica_and_cheapest_on_ties() -> None:
    # L40S: xlarge and 2xlarge both carry 1 GPU; 12xlarge and 24xlarge both carry 4.
    assert choose_instance(find_gpu("L40S"), 1)[0].name == "g6e.xlarge"
    assert choose_instance(find_gpu("L40S"), 3)[0].name == "g6e.12xlarge"
    assert choose_instance(find_gpu("L40S"), 8)[0].name == "g6e.48xlarge"
    assert choose_instance(find_gpu("L4"), 2)[0].name == "g6.12xlarge"


def test_packing_spreads_replicas_evenly_and_respects_the_alb_limit() -> None:
    # 8 single-GPU replicas on 8-GPU p4de: at most 5 target groups per listener
    # action, so 2 instances × 4 slots rather than 5 + 3 or one with 8.
    layout = layout_for(find_gpu("A100-80GB"), gpus_per_replica=1, replicas=8, max_replicas=8)
    assert (layout.instance.name, layout.instance_count, layout.replicas_per_instance) == (
        "p4de.24xlarge",
        2,
        4,
    )
    # 3 replicas of 2 L4 GPUs on 4-GPU instances: two instances, two slots each.
    odd = layout_for(find_gpu("L4"), gpus_per_replica=2, replicas=3, max_replicas=6)
    assert (odd.instance_count, odd.replicas_per_instance, odd.serving_replicas) == (2, 2, 4)
    assert odd.max_instance_count == 3  # 6 replicas / 2 per instance
    assert odd.cost_per_hour == round(2 * 4.602, 2)


def test_replica_larger_than_an_instance_spans_instances() -> None:
    layout = layout_for(find_gpu("H100"), gpus_per_replica=16, replicas=2, max_replicas=2)
    assert layout.multi_instance
    assert (layout.instance.name, layout.instances_per_replica) == ("p5.48xlarge", 2)
    assert layout.instance.efa
    assert layout.instance_count == 4  # 2 replicas × (head + worker)
    assert layout.slots[0].devices == tuple(range(8))
    assert layout.serving_replicas == 2


def test_one_replica_needing_a_whole_instance_gets_one_slot() -> None:
    layout = layout_for(find_gpu("H200"), gpus_per_replica=8, replicas=2, max_replicas=3)
    assert (layout.instance_count, layout.replicas_per_instance, layout.max_instance_count) == (
        2,
        1,
        3,
    )


def test_gpu_without_an_ec2_instance_names_it_and_the_alternatives() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"GPU RTX-4090 .* has no EC2 instance type.*"
        r"GPU types with EC2 instances: A100-40GB, A100-80GB, A10G, B200, "
        r"H100, H200, L4, L40S",
    ) as info:
        choose_instance(find_gpu("RTX-4090"), 1)
    assert info.value.code == "aws_no_instance"
    assert "backend: kubernetes" in info.value.render()


def test_replica_that_does_not_split_over_instances_is_refused() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"12 H100 GPUs does not split evenly over "
        r"p5.48xlarge instances of 8 GPUs.*max_per_replica to 8",
    ):
        choose_instance(find_gpu("H100"), 12)
