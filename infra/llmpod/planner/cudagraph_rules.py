"""Whether vLLM subtracts a CUDA-graph estimate from the KV budget, per release and case.

vLLM (from 0.21) computes ``KV = requested − non-KV − cudagraph_memory_estimate``
in ``Worker.determine_available_memory`` (``vllm/v1/worker/gpu_worker.py``),
where the estimate is ``model_runner.profile_cudagraph_memory()`` when
``cudagraph_mode != NONE`` (``--enforce-eager`` sets NONE) and
``VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS`` is on (default ``"1"`` in
``vllm/envs.py`` of every release below). So the answer depends on which model
runner the model gets and whether that runner's profiler measures anything:

- the V1 runner (``vllm/v1/worker/gpu_model_runner.py``) captures throwaway
  graphs and returns their size in every release read;
- Model Runner V2 (``vllm/v1/worker/gpu/model_runner.py``) returned a constant
  0 up to 0.28.0 and measures graphs (``vllm/v1/worker/gpu/cudagraph_utils.py``
  ``profile_cudagraph_memory``) from 0.29.0.

Every entry below was read in that release's sdist from PyPI (file:line in
that release). None of the runner choices read depends on the GPU generation,
the quantisation method, TP or PP (other than PP with ``external_launcher``,
which llmpod never launches): the only GPU input is the vendor (ROCm excludes a
few architectures from V2 in 0.27 and 0.28). vLLM's ``ModelConfig.is_hybrid``
(Mamba-style layers) and non-generate runners also pick V1 in 0.26–0.28; the
planner's catalog holds neither, so they are not inputs here.

Releases not read follow the read release of their own minor series (0.27.0
was read and equals 0.27.1); a minor series with none read follows the newest
read release below it; anything newer than 0.32.0 follows 0.32.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Oldest release whose KV budget subtracts the estimate at all (PR #38284,
#: VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS default 1); before 0.26 every
#: generate model ran on the V1 runner (vllm_rules.md).
FIRST_SUBTRACTING = (0, 21, 0)

Vendor = Literal["nvidia", "amd", "cpu"]


@dataclass(frozen=True)
class RunnerRule:
    """What one read release does; see the module docstring for the inputs."""

    release: tuple[int, int, int]
    #: Model Runner V2's ``profile_cudagraph_memory`` measures graph memory.
    v2_profiles_cudagraphs: bool
    #: Which models V2 is the default for: "dense_or_listed" = non-MoE models
    #: plus the MoE architectures in ``v2_moe_architectures``; "all" = every one.
    v2_default: Literal["dense_or_listed", "all"]
    v2_moe_architectures: frozenset[str]
    #: Architectures that default to V1 on ROCm (AMD) although listed above.
    rocm_v1_architectures: frozenset[str]
    #: Where each fact was read, file:line in this release.
    citations: tuple[str, ...]

    def runner(self, architecture: str, *, is_moe: bool, vendor: Vendor) -> Literal["v1", "v2"]:
        if self.v2_default == "all":
            # 0.29+ ROCm-only V1 architectures: both runners profile, so the
            # distinction never changes the answer; kept for the runner name.
            if vendor == "amd" and architecture in self.rocm_v1_architectures:
                return "v1"
            return "v2"
        listed = architecture in self.v2_moe_architectures
        if vendor == "amd" and architecture in self.rocm_v1_architectures:
            listed = False
        return "v2" if (not is_moe or listed) else "v1"

    def subtracts(self, architecture: str, *, is_moe: bool, vendor: Vendor) -> bool:
        """Whether the KV budget loses a CUDA-graph estimate (graphs enabled)."""
        if self.runner(architecture, is_moe=is_moe, vendor=vendor) == "v1":
            return True
        return self.v2_profiles_cudagraphs


_MOE_V2_026 = frozenset(
    {
        "DeepseekV2ForCausalLM",
        "GraniteMoeForCausalLM",
        "InklingForCausalLM",
        "InklingForConditionalGeneration",
        "LongcatFlashNgramForCausalLM",
        "Qwen2MoeForCausalLM",
    }
)
_MOE_V2_027 = _MOE_V2_026 | {"KimiK3ForConditionalGeneration"}
_MOE_V2_028 = _MOE_V2_027 | {"DeepseekV4ForCausalLM"}

#: One entry per release read. Line numbers: config = vllm/config/vllm.py,
#: V2 = vllm/v1/worker/gpu/model_runner.py, V1 = vllm/v1/worker/gpu_model_runner.py,
#: worker = vllm/v1/worker/gpu_worker.py (the ``!= CUDAGraphMode.NONE`` gate and the
#: subtraction), envs = vllm/envs.py (the env default).
RULES: tuple[RunnerRule, ...] = (
    RunnerRule(
        release=(0, 26, 0),
        v2_profiles_cudagraphs=False,
        v2_default="dense_or_listed",
        v2_moe_architectures=_MOE_V2_026,
        rocm_v1_architectures=frozenset(),
        citations=(
            "config:68 DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES",
            "config:550 use_v2_model_runner; config:621 listed arch or not is_moe",
            "V2:705-707 profile_cudagraph_memory returns 0",
            "V1:6576 profile_cudagraph_memory captures and measures",
            "worker:504-506 gate, worker:544 subtraction; envs:1987 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 27, 1),
        v2_profiles_cudagraphs=False,
        v2_default="dense_or_listed",
        v2_moe_architectures=_MOE_V2_027,
        rocm_v1_architectures=frozenset({"KimiK3ForConditionalGeneration"}),
        citations=(
            "config:69 DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (+KimiK3)",
            "config:84 ROCM_EXCLUDED_V2_MODEL_RUNNER_ARCHITECTURES",
            "config:578 use_v2_model_runner; config:658 listed arch or not is_moe",
            "V2:749-751 profile_cudagraph_memory returns 0",
            "V1:6645 profile_cudagraph_memory captures and measures",
            "worker:515-517 gate, worker:547 subtraction; envs:2019 default 1",
            "0.27.0 read too: same lines and values",
        ),
    ),
    RunnerRule(
        release=(0, 28, 0),
        v2_profiles_cudagraphs=False,
        v2_default="dense_or_listed",
        v2_moe_architectures=_MOE_V2_028,
        rocm_v1_architectures=frozenset({"DeepseekV4ForCausalLM"}),
        citations=(
            "config:69 DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (+DeepseekV4)",
            "config:92 ROCm drops DeepseekV4ForCausalLM",
            "config:615 use_v2_model_runner; config:712 listed arch or not is_moe",
            "V2:843-845 profile_cudagraph_memory returns 0",
            "V1:6780 profile_cudagraph_memory captures and measures",
            "worker:530-532 gate, worker:562 subtraction; envs:2094 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 29, 0),
        v2_profiles_cudagraphs=True,
        v2_default="all",
        v2_moe_architectures=frozenset(),
        rocm_v1_architectures=frozenset({"DeepseekV32ForCausalLM", "DeepseekV4ForCausalLM"}),
        citations=(
            "config:645 use_v2_model_runner: V2 unless ROCm-listed or unsupported",
            "config:71 ROCM_DEFAULT_MRV1_ARCHITECTURES",
            "V2:896 profile_cudagraph_memory -> cudagraph_utils.py:718 measures",
            "V1:6733 profile_cudagraph_memory captures and measures",
            "worker:568-570 gate, worker:609 subtraction; envs:2106 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 30, 0),
        v2_profiles_cudagraphs=True,
        v2_default="all",
        v2_moe_architectures=frozenset(),
        rocm_v1_architectures=frozenset(
            {"DeepseekV32ForCausalLM", "DeepseekV4ForCausalLM", "GlmMoeDsaForCausalLM"}
        ),
        citations=(
            "config:675 use_v2_model_runner: V2 unless ROCm-listed or unsupported",
            "config:73 ROCM_DEFAULT_MRV1_ARCHITECTURES",
            "V2:983 profile_cudagraph_memory -> cudagraph_utils.py:847 measures",
            "V1:6661 profile_cudagraph_memory captures and measures",
            "worker:583-585 gate, worker:624 subtraction; envs:2110 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 31, 0),
        v2_profiles_cudagraphs=True,
        v2_default="all",
        v2_moe_architectures=frozenset(),
        rocm_v1_architectures=frozenset(
            {"DeepseekV32ForCausalLM", "DeepseekV4ForCausalLM", "GlmMoeDsaForCausalLM"}
        ),
        citations=(
            "config:701 use_v2_model_runner: V2 unless ROCm-listed or unsupported",
            "config:75 ROCM_DEFAULT_MRV1_ARCHITECTURES",
            "V2:1004 profile_cudagraph_memory -> cudagraph_utils.py:854 measures",
            "V1:6606 profile_cudagraph_memory captures and measures",
            "worker:636-637 gate, worker:676 subtraction; envs:2163 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 32, 0),
        v2_profiles_cudagraphs=True,
        v2_default="all",
        v2_moe_architectures=frozenset(),
        rocm_v1_architectures=frozenset(),
        citations=(
            "config:703 use_v2_model_runner: V2 unless unsupported (no ROCm list)",
            "V2:1038 profile_cudagraph_memory -> cudagraph_utils.py:873 measures",
            "V1:6333 profile_cudagraph_memory captures and measures",
            "worker:703-704 gate, worker:743 subtraction; envs:2222 default 1",
        ),
    ),
)

_FIRST_READ = RULES[0].release


def rule_for(version: tuple[int, int, int]) -> RunnerRule | None:
    """The read release ``version`` follows; None before 0.26 (V1 only)."""
    if version < _FIRST_READ:
        return None
    same_minor = [r for r in RULES if r.release[:2] == version[:2]]
    if same_minor:
        return same_minor[-1]
    return [r for r in RULES if r.release <= version][-1]


def model_runner(
    version: tuple[int, int, int], architecture: str, *, is_moe: bool, vendor: Vendor
) -> Literal["v1", "v2"]:
    """The GPU model runner vLLM ``version`` picks for this model by default."""
    rule = rule_for(version)
    if rule is None:
        return "v1"
    return rule.runner(architecture, is_moe=is_moe, vendor=vendor)


def subtracts_cudagraph(
    version: tuple[int, int, int],
    architecture: str,
    *,
    is_moe: bool,
    vendor: Vendor,
    enforce_eager: bool,
) -> bool:
    """Whether vLLM ``version`` takes a CUDA-graph estimate off this model's KV budget."""
    if version < FIRST_SUBTRACTING or enforce_eager or vendor == "cpu":
        # enforce_eager -> cudagraph_mode NONE -> the worker never calls the
        # profiler (the gate cited in every rule); CPU workers have no graphs.
        return False
    rule = rule_for(version)
    if rule is None:
        return True
    return rule.subtracts(architecture, is_moe=is_moe, vendor=vendor)
