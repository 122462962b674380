"""infra/llmpod/contract.py against the image: the stdlib-only entrypoint repeats the
contract's values as its defaults, and AWS relies on those defaults (it sets no
drain/stop variables), so a change on one side only must fail here."""

from __future__ import annotations

from pathlib import Path

from llmpod import contract
from llmpod.deploy.stack import plan_stack
from llmpod.environments.stack_files import load_stack
from llmpod.image.runtime.settings import settings_from_env

ROOT = Path(__file__).resolve().parents[2]


def test_image_defaults_are_the_contract() -> None:
    s = settings_from_env({})
    assert (s.vllm_port, s.status_port) == (contract.VLLM_PORT, contract.STATUS_PORT)
    assert str(s.plan_file) == contract.PLAN_FILE
    assert s.drain_timeout_s == contract.DRAIN_TIMEOUT_S
    assert s.drain_propagation_s == contract.DRAIN_PROPAGATION_S
    assert s.vllm_stop_timeout_s == contract.VLLM_STOP_TIMEOUT_S


def test_platform_waits_longer_than_the_container_needs_to_stop() -> None:
    assert contract.STOP_GRACE_S > contract.DRAIN_TIMEOUT_S + contract.VLLM_STOP_TIMEOUT_S
    assert contract.DRAIN_PROPAGATION_S < contract.DRAIN_TIMEOUT_S
    assert contract.PLAN_FILE.startswith(contract.PLAN_DIR + "/")


def test_committed_dockerfile_carries_the_contract() -> None:
    text = (ROOT / "images" / "vllm" / "Dockerfile").read_text(encoding="utf-8")
    uid = contract.RUN_AS_USER
    assert f"\nUSER {uid}:{uid}\n" in text
    assert f"\nWORKDIR {contract.HOME}\n" in text
    assert f"\nEXPOSE {contract.VLLM_PORT} {contract.STATUS_PORT}\n" in text
    assert f"LLMPOD_PLAN_FILE={contract.PLAN_FILE} " in text


def test_planned_model_paths_are_under_the_weights_mount() -> None:
    for sp in plan_stack(load_stack("staging")):
        assert sp.plan.vllm_args[0].startswith(contract.WEIGHTS_MOUNT + "/")
