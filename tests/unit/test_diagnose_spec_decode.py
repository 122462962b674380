"""diagnose reports the speculative-decoding acceptance rate (issue 24, item 3)."""

from __future__ import annotations

import io

from llmpod.diagnose.analyze import analyze, snapshots
from llmpod.diagnose.render import write_text
from llmpod.diagnose.scrape import RawScrape
from llmpod.diagnose.window import window_stats

PAGE = """# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{{engine="0"}} 4
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{{engine="0"}} 0
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{{engine="0"}} 0.1
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{{engine="0"}} 0
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{{engine="0"}} 100
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{{engine="0"}} {gen}
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{{engine="0",le="0.1"}} 1
vllm:time_to_first_token_seconds_bucket{{engine="0",le="+Inf"}} 1
vllm:time_to_first_token_seconds_count{{engine="0"}} 1
vllm:time_to_first_token_seconds_sum{{engine="0"}} 0.05
{spec}"""

SPEC = """# TYPE vllm:spec_decode_num_draft_tokens_total counter
vllm:spec_decode_num_draft_tokens_total{{engine="0"}} {drafted}
# TYPE vllm:spec_decode_num_accepted_tokens_total counter
vllm:spec_decode_num_accepted_tokens_total{{engine="0"}} {accepted}
"""


def _scrape(t: float, gen: int, spec: str) -> RawScrape:
    return RawScrape(timestamp=t, text=PAGE.format(gen=gen, spec=spec), origin="http://x/metrics")


def test_acceptance_is_accepted_over_proposed_in_the_window() -> None:
    first = _scrape(0, 10, SPEC.format(drafted=400, accepted=100))
    last = _scrape(10, 500, SPEC.format(drafted=1400, accepted=800))
    assert window_stats(snapshots([first, last])).spec_acceptance == 0.7


def test_no_spec_decode_counters_no_acceptance() -> None:
    stats = window_stats(snapshots([_scrape(0, 10, ""), _scrape(10, 20, "")]))
    assert stats.spec_acceptance is None


def test_the_report_names_the_spec_key_that_plans_with_the_measured_rate() -> None:
    first = _scrape(0, 10, SPEC.format(drafted=400, accepted=100))
    last = _scrape(10, 500, SPEC.format(drafted=1400, accepted=800))
    out = io.StringIO()
    write_text(analyze([first, last], source="x"), out)
    assert "70% of proposed draft tokens accepted" in out.getvalue()
    assert "vllm.speculative_acceptance_rate: 0.70" in out.getvalue()
