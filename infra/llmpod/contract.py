"""The runtime contract: what every backend and the llmpod image agree on.

Ports, paths, the user, and the drain/stop time budgets, defined once for the
deploy side (Kubernetes manifests, AWS cloud-init and load balancer, templates,
the policy pack, the Dockerfile). The image cannot import this module (its
entrypoint is standard-library only and copied on its own), so it repeats the
defaults in infra/llmpod/image/runtime/settings.py; tests/unit/test_runtime_contract.py pins
the two together.
"""

from __future__ import annotations

#: vLLM's OpenAI server (LLMPOD_VLLM_PORT): /v1/*, /health, /metrics.
VLLM_PORT = 8000
#: The entrypoint's probe server (LLMPOD_STATUS_PORT): /ready /live /health /status.
STATUS_PORT = 8081
#: Ray GCS port a multi-node replica's head listens on (Ray's default).
RAY_PORT = 6379

#: The numeric non-root user the Dockerfile creates (runAsNonRoot needs a number).
RUN_AS_USER = 10001
HOME = "/home/llmpod"

#: Where the container reads the plan (LLMPOD_PLAN_FILE): vllm_args + warmup.
PLAN_DIR = "/etc/llmpod"
PLAN_FILE = f"{PLAN_DIR}/plan.json"
#: Where the checkpoints are mounted, read-only; the planner's --model paths
#: point below it.
WEIGHTS_MOUNT = "/models"
#: LoRA adapters the loader fetches, one directory per adapter name, beside the
#: checkpoints. A leading '.' cannot collide with a checkpoint's directory: Hub
#: org names and S3 bucket names start with a letter or digit.
ADAPTERS_DIR = f"{WEIGHTS_MOUNT}/.llmpod-lora"

#: The entrypoint's drain budget after SIGTERM (LLMPOD_DRAIN_TIMEOUT_S), of which
#: the first LLMPOD_DRAIN_PROPAGATION_S keep serving while load balancers notice.
DRAIN_TIMEOUT_S = 120
DRAIN_PROPAGATION_S = 5
#: SIGTERM → SIGKILL wait for vLLM's process group (LLMPOD_VLLM_STOP_TIMEOUT_S).
VLLM_STOP_TIMEOUT_S = 20
#: What the platform must wait after SIGTERM before it kills the container (the
#: kubelet's grace period, `docker stop -t`): the drain plus vLLM's stop plus
#: 10 s slack, or its SIGKILL cuts in-flight requests.
STOP_GRACE_S = DRAIN_TIMEOUT_S + VLLM_STOP_TIMEOUT_S + 10
