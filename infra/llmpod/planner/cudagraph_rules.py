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

Which runner a model gets by default changed nearly every release: opt-in only
(0.21), listed dense unquantised architectures (0.22, 0.23: the only releases
where the checkpoint's quantisation matters), listed architectures (0.24), every
dense model plus listed MoE architectures (0.25-0.28), every model (0.29+).
Every entry below was read in that release's sdist from PyPI (file:line in that
release). No runner choice read depends on the GPU generation, TP or PP (other
than PP with ``external_launcher``, which llmpod never launches); the only GPU
input is the vendor (ROCm keeps a few architectures on V1 in 0.27 and 0.28).
vLLM's ``ModelConfig.is_hybrid`` (Mamba-style layers) and non-generate runners
also pick V1 in 0.25-0.28; the planner's catalog holds neither, so they are not
inputs here.

Releases not read follow the read release of their own minor series (0.25.0,
0.27.0 were read and equal 0.25.1, 0.27.1; 0.22.0 follows 0.22.1); anything
newer than 0.32.0 follows 0.32.0. Before 0.21 nothing is subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Oldest release whose KV budget subtracts the estimate at all (PR #38284,
#: VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS default 1).
FIRST_SUBTRACTING = (0, 21, 0)

Vendor = Literal["nvidia", "amd", "cpu"]
#: How a release picks Model Runner V2 by default (``VllmConfig.use_v2_model_runner``):
#: "opt_in" never (VLLM_USE_V2_MODEL_RUNNER defaults to 0); "listed_plain" listed
#: architectures that are neither MoE nor quantised checkpoints; "listed" listed
#: architectures; "dense_or_listed" non-MoE models plus listed architectures;
#: "all" every model.
V2Default = Literal["opt_in", "listed_plain", "listed", "dense_or_listed", "all"]


@dataclass(frozen=True)
class RunnerRule:
    """What one read release does; see the module docstring for the inputs."""

    release: tuple[int, int, int]
    #: Model Runner V2's ``profile_cudagraph_memory`` measures graph memory.
    v2_profiles_cudagraphs: bool
    v2_default: V2Default
    #: ``DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES`` of this release (vllm/config/vllm.py).
    v2_architectures: frozenset[str]
    #: Architectures that default to V1 on ROCm (AMD) although V2 would take them.
    rocm_v1_architectures: frozenset[str]
    #: Where each fact was read, file:line in this release.
    citations: tuple[str, ...]
    #: The planner keeps the estimate although V2's profiler returns 0 here: real
    #: startup logs of this release (vLLM 0.28.0, issue 27: Qwen2.5-14B bf16 and
    #: AWQ, one GPU and TP/PP, L40S and L4) had less KV cache than "no graphs"
    #: predicts, by about the estimate (+9.2% over for bf16 on an L40S without it,
    #: within 3% with it). The source does not show where that memory goes (0.27
    #: changed non-KV accounting to the free-memory drop, mem_utils.py:317-326),
    #: so the plan stays on the safe side instead of fitting a new term.
    reserve_unexplained: bool = False
    #: Speculative methods Model Runner V2 runs; any other sends the model to V1
    #: (``VllmConfig._get_v2_model_runner_unsupported_features``: 0.25.1–0.28.0 list
    #: eagle, eagle3, mtp, dflash, dspark; ngram and draft models fall back to V1,
    #: config/vllm.py:2154-2165 in 0.26.0). None: not read for this release.
    v2_speculative_methods: frozenset[str] | None = None

    def runner(
        self,
        architecture: str,
        *,
        is_moe: bool,
        is_quantized: bool,
        vendor: Vendor,
        speculative: str | None = None,
    ) -> Literal["v1", "v2"]:
        if vendor == "amd" and architecture in self.rocm_v1_architectures:
            return "v1"
        supported = self.v2_speculative_methods
        if speculative is not None and supported is not None and speculative not in supported:
            return "v1"
        listed = architecture in self.v2_architectures
        if self.v2_default == "opt_in":
            on_v2 = False
        elif self.v2_default == "listed_plain":
            on_v2 = listed and not is_moe and not is_quantized
        elif self.v2_default == "listed":
            on_v2 = listed
        elif self.v2_default == "dense_or_listed":
            on_v2 = listed or not is_moe
        else:
            on_v2 = True
        return "v2" if on_v2 else "v1"

    def subtracts(
        self,
        architecture: str,
        *,
        is_moe: bool,
        is_quantized: bool,
        vendor: Vendor,
        speculative: str | None = None,
    ) -> bool:
        """Whether the KV budget loses a CUDA-graph estimate (graphs enabled)."""
        runner = self.runner(
            architecture,
            is_moe=is_moe,
            is_quantized=is_quantized,
            vendor=vendor,
            speculative=speculative,
        )
        return runner == "v1" or self.v2_profiles_cudagraphs or self.reserve_unexplained


_V2_SPEC_025 = frozenset({"eagle", "eagle3", "mtp", "dflash", "dspark"})
_V2_025 = frozenset({"DeepseekV2ForCausalLM", "GraniteMoeForCausalLM", "Qwen2MoeForCausalLM"})
_V2_026 = _V2_025 | {
    "InklingForCausalLM",
    "InklingForConditionalGeneration",
    "LongcatFlashNgramForCausalLM",
}
_V2_027 = _V2_026 | {"KimiK3ForConditionalGeneration"}
_V2_028 = _V2_027 | {"DeepseekV4ForCausalLM"}
_ROCM_V1_030 = frozenset(
    {"DeepseekV32ForCausalLM", "DeepseekV4ForCausalLM", "GlmMoeDsaForCausalLM"}
)

#: One entry per release read. Line numbers: config = vllm/config/vllm.py,
#: V2 = vllm/v1/worker/gpu/model_runner.py, V1 = vllm/v1/worker/gpu_model_runner.py,
#: worker = vllm/v1/worker/gpu_worker.py (the ``!= CUDAGraphMode.NONE`` gate and the
#: subtraction), envs = vllm/envs.py (the env default).
RULES: tuple[RunnerRule, ...] = (
    RunnerRule(
        release=(0, 21, 0),
        v2_profiles_cudagraphs=False,
        v2_default="opt_in",
        v2_architectures=frozenset(),
        rocm_v1_architectures=frozenset(),
        citations=(
            "envs:251,1711-1712 VLLM_USE_V2_MODEL_RUNNER defaults to 0",
            "V2:598-600 profile_cudagraph_memory returns 0 (opt-in only)",
            "V1:6049 profile_cudagraph_memory captures and measures",
            "worker:405-407 gate, worker:446 subtraction; envs:1769 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 22, 1),
        v2_profiles_cudagraphs=False,
        v2_default="listed_plain",
        v2_architectures=frozenset({"Qwen3ForCausalLM"}),
        rocm_v1_architectures=frozenset(),
        citations=(
            "config:69 DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES = {Qwen3ForCausalLM}",
            "config:493 use_v2_model_runner; config:532 not is_moe and not is_quantized",
            "config/model.py:1883 is_quantized = checkpoint has quantization_config",
            "V2:620-622 profile_cudagraph_memory returns 0",
            "V1:6265 profile_cudagraph_memory captures and measures",
            "worker:409-411 gate, worker:450 subtraction; envs:1955 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 23, 0),
        v2_profiles_cudagraphs=False,
        v2_default="listed_plain",
        v2_architectures=frozenset({"LlamaForCausalLM", "MistralForCausalLM", "Qwen3ForCausalLM"}),
        rocm_v1_architectures=frozenset(),
        citations=(
            "config:69 DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES = {Llama, Mistral, Qwen3}",
            "config:519 use_v2_model_runner; config:558 not is_moe and not is_quantized",
            "config/model.py:1876 is_quantized = checkpoint has quantization_config",
            "V2:660-662 profile_cudagraph_memory returns 0",
            "V1:6376 profile_cudagraph_memory captures and measures",
            "worker:423-425 gate, worker:464 subtraction; envs:1979 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 24, 0),
        v2_profiles_cudagraphs=False,
        v2_default="listed",
        v2_architectures=_V2_025 | {"LlamaForCausalLM", "MistralForCausalLM", "Qwen3ForCausalLM"},
        rocm_v1_architectures=frozenset(),
        citations=(
            "config:68 DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (6 incl. 3 MoE)",
            "config:522 use_v2_model_runner; config:560 any listed arch (quant ignored)",
            "V2:684-686 profile_cudagraph_memory returns 0",
            "V1:6447 profile_cudagraph_memory captures and measures",
            "worker:451-453 gate, worker:492 subtraction; envs:1895 default 1",
        ),
    ),
    RunnerRule(
        release=(0, 25, 1),
        v2_speculative_methods=_V2_SPEC_025,
        v2_profiles_cudagraphs=False,
        v2_default="dense_or_listed",
        v2_architectures=_V2_025,
        rocm_v1_architectures=frozenset(),
        citations=(
            "config:68 DEFAULT_V2_MODEL_RUNNER_ARCHITECTURES (3 MoE)",
            "config:519 use_v2_model_runner; config:573 listed arch or not is_moe",
            "V2:680-682 profile_cudagraph_memory returns 0",
            "V1:6498 profile_cudagraph_memory captures and measures",
            "worker:481-483 gate, worker:522 subtraction; envs:1932 default 1",
            "0.25.0 read too: same lines and values",
        ),
    ),
    RunnerRule(
        release=(0, 26, 0),
        v2_speculative_methods=_V2_SPEC_025,
        v2_profiles_cudagraphs=False,
        v2_default="dense_or_listed",
        v2_architectures=_V2_026,
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
        v2_speculative_methods=_V2_SPEC_025,
        v2_profiles_cudagraphs=False,
        reserve_unexplained=True,
        v2_default="dense_or_listed",
        v2_architectures=_V2_027,
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
        v2_speculative_methods=_V2_SPEC_025,
        v2_profiles_cudagraphs=False,
        reserve_unexplained=True,
        v2_default="dense_or_listed",
        v2_architectures=_V2_028,
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
        v2_architectures=frozenset(),
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
        v2_architectures=frozenset(),
        rocm_v1_architectures=_ROCM_V1_030,
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
        v2_architectures=frozenset(),
        rocm_v1_architectures=_ROCM_V1_030,
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
        v2_architectures=frozenset(),
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
    """The read release ``version`` follows; None before 0.21 (V1 only, nothing subtracted)."""
    if version < _FIRST_READ:
        return None
    same_minor = [r for r in RULES if r.release[:2] == version[:2]]
    if same_minor:
        return same_minor[-1]
    return [r for r in RULES if r.release <= version][-1]


def model_runner(
    version: tuple[int, int, int],
    architecture: str,
    *,
    is_moe: bool,
    is_quantized: bool,
    vendor: Vendor,
    speculative: str | None = None,
) -> Literal["v1", "v2"]:
    """The GPU model runner vLLM ``version`` picks for this model by default."""
    rule = rule_for(version)
    if rule is None:
        return "v1"
    return rule.runner(
        architecture,
        is_moe=is_moe,
        is_quantized=is_quantized,
        vendor=vendor,
        speculative=speculative,
    )


def subtracts_cudagraph(
    version: tuple[int, int, int],
    architecture: str,
    *,
    is_moe: bool,
    is_quantized: bool,
    vendor: Vendor,
    enforce_eager: bool,
    speculative: str | None = None,
) -> bool:
    """Whether vLLM ``version`` takes a CUDA-graph estimate off this model's KV budget.

    ``is_quantized``: the checkpoint declares a quantization_config (vLLM's
    ``ModelConfig.is_quantized``); online ``--quantization`` does not count.
    """
    if version < FIRST_SUBTRACTING or enforce_eager or vendor == "cpu":
        # enforce_eager -> cudagraph_mode NONE -> the worker never calls the
        # profiler (the gate cited in every rule); CPU workers have no graphs.
        return False
    rule = rule_for(version)
    if rule is None:
        return True
    return rule.subtracts(
        architecture,
        is_moe=is_moe,
        is_quantized=is_quantized,
        vendor=vendor,
        speculative=speculative,
    )
