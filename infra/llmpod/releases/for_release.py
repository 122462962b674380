"""Flags and metric names chosen for a service's vLLM release, from the committed facts.

What llmpod emits must exist in the release a service runs: the planner's
argument list passes through ``argv_for_version`` and every rendered PromQL
query names its metric through ``metric_name``. Both read
llmpod.releases.facts (from each release's wheel), so moving a stack between
releases needs no hand edit.
"""

from __future__ import annotations

from llmpod.releases.facts import ReleaseFacts, facts_near

#: Before vLLM 0.10.1 the API server logged every request, prompt included,
#: unless told ``--disable-log-requests``; 0.10.1 added ``--enable-log-requests``
#: (off by default) and deprecated the old switch, which 0.17.0 removed (both read
#: from the releases' vllm/engine/arg_utils.py via the facts). llmpod keeps
#: prompts out of pod logs on every release.
QUIET_REQUEST_LOG = "--disable-log-requests"
REQUEST_LOG_OPT_IN = "--enable-log-requests"


def logs_requests_by_default(facts: ReleaseFacts) -> bool:
    return REQUEST_LOG_OPT_IN not in facts.flags and QUIET_REQUEST_LOG in facts.flags


def argv_for_version(argv: list[str], version: str) -> list[str]:
    """The planner's `vllm serve` arguments in this release's spelling, with what
    it needs added."""
    facts = facts_near(version)
    out = [_spelled(arg, facts) for arg in argv]
    if logs_requests_by_default(facts) and QUIET_REQUEST_LOG not in out:
        out.append(QUIET_REQUEST_LOG)
    return out


def _spelled(arg: str, facts: ReleaseFacts) -> str:
    """``--no-enable-x`` as ``--disable-x`` where the release pairs them (0.33+'s
    EnableDisableAction, vllm/utils/argparse_utils.py: the ``--no-`` form is kept
    only for backwards compatibility and hidden from --help)."""
    if not arg.startswith("--no-"):
        return arg
    hit = facts.flag_for(arg)
    if hit is None or hit[0] != "--" + arg.removeprefix("--no-"):
        return arg
    inverse: str = hit[1].get("inverse", arg)
    return inverse


def metric_name(names: tuple[str, ...], version: str) -> str:
    """The name this release exports a metric under, given its names newest first
    (llmpod.releases.metric_names): the newest the release shows, else one it only shows
    as hidden, else the newest."""
    facts = facts_near(version)
    for state in ("present", "hidden"):
        for name in names:
            if facts.metric_state(name) == state:
                return name
    return names[0]
