"""What the pods and the llmpod image agree on: ports, paths, users, time budgets.

The values both backends share come from infra/llmpod/contract.py (pinned against the
image's defaults by tests/unit/test_runtime_contract.py); the rest are the
Kubernetes side's own.
"""

from __future__ import annotations

from llmpod.contract import (
    DRAIN_PROPAGATION_S,
    DRAIN_TIMEOUT_S,
    HOME,
    PLAN_DIR,
    PLAN_FILE,
    RAY_PORT,
    RUN_AS_USER,
    STATUS_PORT,
    STOP_GRACE_S,
    VLLM_PORT,
    VLLM_STOP_TIMEOUT_S,
    WEIGHTS_MOUNT,
)

#: The shared values are re-exported: Kubernetes builders read everything as ``c.NAME``.
__all__ = [
    "ASSUMED_DOWNLOAD_MB_S",
    "AWS_CLI_IMAGE",
    "DRAIN_PROPAGATION_S",
    "DRAIN_TIMEOUT_S",
    "GRACE_PERIOD_S",
    "HOME",
    "MARKER_NAME",
    "PLAN_DIR",
    "PLAN_FILE",
    "RAY_PORT",
    "RUN_AS_USER",
    "SCRIPTS_DIR",
    "SERVICE_PORT",
    "STATUS_PORT",
    "STOP_GRACE_S",
    "VLLM_PORT",
    "VLLM_STOP_TIMEOUT_S",
    "WEIGHTS_MOUNT",
]

#: Port the ClusterIP Service exposes to clients.
SERVICE_PORT = 80

SCRIPTS_DIR = "/etc/llmpod-scripts"
#: Written by the loader once every file of the checkpoint is on the volume.
MARKER_NAME = ".llmpod-weights-complete"

#: terminationGracePeriodSeconds: the drain plus vLLM's stop, with slack.
GRACE_PERIOD_S = STOP_GRACE_S

#: Pinned image that runs `aws s3 sync` for s3:// weights (AWS CLI v2).
AWS_CLI_IMAGE = "amazon/aws-cli:2.17.0"

#: When a Deployment or LWS is given no time to become ready Pulumi's default
#: await (10 min) fails `pulumi up` while a 70B model is still downloading; the
#: loader's download is estimated at this rate on top of the startup budget.
ASSUMED_DOWNLOAD_MB_S = 100
