"""Reading in-flight requests from vLLM's Prometheus text (used by the drain)."""

from __future__ import annotations

from llmpod.image.runtime.vllm_http import inflight_requests

# Shape of vLLM 0.32's /metrics (V1 engine), trimmed: gauges carry model_name and
# engine labels; HELP/TYPE lines precede them.
SAMPLE = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="/models/tiny"} 2.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="/models/tiny"} 3.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="/models/tiny"} 0.25
vllm:num_requests_running_total 99
"""


def test_running_plus_waiting() -> None:
    assert inflight_requests(SAMPLE) == 5


def test_sums_over_engines() -> None:
    text = SAMPLE + 'vllm:num_requests_running{engine="1",model_name="/models/tiny"} 4.0\n'
    assert inflight_requests(text) == 9


def test_idle_server_is_zero_not_unknown() -> None:
    idle = SAMPLE.replace("} 2.0", "} 0.0").replace("} 3.0", "} 0.0")
    assert inflight_requests(idle) == 0


def test_missing_gauges_are_unknown() -> None:
    assert inflight_requests("# nothing here\nprocess_cpu_seconds_total 3.0\n") is None
