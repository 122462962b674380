"""What speculative decoding does to a decode step: more tokens verified, more kept.

vLLM's V1 scheduler (``vllm/v1/core/sched/scheduler.py``, 0.26.0 – 0.32.0)
schedules a decoding request with speculation as 1 + k tokens: the token it
sampled last step plus the k proposed ones, all verified in one forward pass of
the target (they count against ``max_num_batched_tokens`` and get KV slots). The
rejection sampler keeps the proposals up to the first it rejects, then samples
one token of its own, so a step yields 1 + (accepted proposals) tokens.

vLLM's metrics count acceptance the same way (``vllm:spec_decode_num_accepted_tokens``
÷ ``vllm:spec_decode_num_draft_tokens``, what ``llmpod diagnose`` reports), so a
rate r over k proposals means 1 + r·k tokens per step, exactly, with no
assumption about how acceptance falls with position.

How much of the traffic a proposer guesses right is a property of the traffic,
not of the hardware: the planner cannot derive it. It takes the rate from the
spec (``vllm.speculative_acceptance_rate``) or, failing that, a stated default
per method below, chosen low on purpose (a plan that expects too little
speed-up over-provisions; one that expects too much misses its SLO):

- ``ngram``: 0.15. Prompt lookup only helps where the output repeats the
  prompt (code edits, extraction); chat rarely does.
- ``draft_model``: 0.35; ``eagle``: 0.35; ``eagle3``: 0.45. Published vLLM runs
  of chain drafting at k = 3 report mean acceptance lengths around 1.9 – 2.6
  tokens per step on chat sets (AngelSlim's EAGLE-3 Qwen3 table: 1.74 – 2.2;
  SpecDecode-Bench, arXiv 2601.11580: EAGLE-3 best overall on vLLM), i.e. r of
  0.3 – 0.5.
- ``mtp``: 0.6. DeepSeek-V3's report gives 85 – 90% for the first MTP token;
  vLLM reuses the one MTP layer for each further position, where it is weaker.

The proposer's own passes cost time too: k sequential steps of the draft (or
head) over the batch, each reading its weights and its KV (counted in
``perf.proposer_s``); n-gram matching runs on the CPU between steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmpod.planner.speculative import DEFAULT_NUM_SPECULATIVE_TOKENS, ProposerMemory

#: Accepted ÷ proposed tokens assumed when the spec does not say (see above).
DEFAULT_ACCEPTANCE_RATE: dict[str, float] = {
    "draft_model": 0.35,
    "eagle": 0.35,
    "eagle3": 0.45,
    "mtp": 0.6,
    "ngram": 0.15,
}


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding as the step cost model needs it."""

    method: str
    #: Proposals per decoding request per step (vLLM's num_speculative_tokens).
    proposals: int
    #: Accepted ÷ proposed, as vLLM's spec-decode metrics count it.
    acceptance_rate: float
    #: True when the rate is the spec's; False when it is the default above.
    rate_from_spec: bool
    #: The proposer on one GPU of the last stage: weights it streams per pass,
    #: KV bytes per cached token and its layers (launch gaps per pass).
    proposer: ProposerMemory

    @property
    def tokens_per_step(self) -> float:
        """Expected tokens one decoding request gains per step: 1 + r·k."""
        return 1.0 + self.acceptance_rate * self.proposals

    @property
    def verified_per_step(self) -> int:
        """Tokens the target computes per decoding request per step: 1 + k."""
        return 1 + self.proposals

    def describe(self) -> str:
        source = (
            "the spec's vllm.speculative_acceptance_rate"
            if self.rate_from_spec
            else f"llmpod's stated default for {self.method}; set "
            "vllm.speculative_acceptance_rate to what `llmpod diagnose` measures"
        )
        return (
            f"speculative decoding ({self.method}, {self.proposals} proposals a step) "
            f"assumed to keep {self.acceptance_rate:.0%} of proposals "
            f"({self.tokens_per_step:.2f} tokens a step; {source})"
        )


def speculation_for(
    method: str | None,
    num_speculative_tokens: int | None,
    acceptance_rate: float | None,
    proposer: ProposerMemory,
) -> Speculation | None:
    """The step model's view of the spec's speculative settings; None without them."""
    if method is None:
        return None
    rate = DEFAULT_ACCEPTANCE_RATE[method] if acceptance_rate is None else acceptance_rate
    return Speculation(
        method=method,
        proposals=num_speculative_tokens or DEFAULT_NUM_SPECULATIVE_TOKENS,
        acceptance_rate=rate,
        rate_from_spec=acceptance_rate is not None,
        proposer=proposer,
    )
