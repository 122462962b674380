"""The shipped stacks rendered for several vLLM releases use only what each release has.

Every option of every planned `vllm serve` argument list (plus the --host/--port
the entrypoint adds) must be one the release's parser accepts, with a value among
its choices where the release lists them, and every metric
a rendered PromQL query names (KEDA trigger, Grafana dashboard) one the release
exports without --show-hidden-metrics-for-version. The releases straddle the
changes that broke the field: 0.10.1 (--enable-log-requests), 0.11/0.12
(vllm:gpu_cache_usage_perc hidden, then gone; vllm:time_per_output_token_seconds
renamed), 0.17 (--disable-log-requests removed), 0.21 (CUDA-graph memory).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from llmpod.image.runtime.plan_file import DEPLOYMENT_FLAGS
from llmpod.releases.facts import ReleaseFacts, facts_for
from llmpod.render.api import render_stack

STACKS = Path(__file__).resolve().parents[2] / "stacks"
RELEASES = ("0.10.0", "0.10.1", "0.11.0", "0.12.0", "0.17.0", "0.21.0", "0.26.0", "0.34.0")
_QUERIED = re.compile(r"(vllm:[a-z_]+)\{")


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _argvs(text: str) -> Iterator[list[str]]:
    """Every planned argument list in a rendered file (plan ConfigMaps, cloud-init)."""
    for doc in YAML(typ="safe").load_all(text):
        for s in _strings(doc):
            if '"vllm_args"' in s:
                yield json.loads(s)["vllm_args"]


def _family(series: str, facts: ReleaseFacts) -> str:
    for suffix, kind in (("_total", "counter"), ("_bucket", "histogram")):
        base = series.removesuffix(suffix)
        if series.endswith(suffix) and facts.metrics.get(base, {}).get("kind") == kind:
            return base
    return series


def _stacks_on(release: str, tmp: Path) -> Path:
    for path in STACKS.glob("Pulumi.*.yaml"):
        doc = YAML(typ="safe").load(path.read_text())
        for service in doc["config"]["llmpod:services"]:
            service.setdefault("image", {})["vllm_version"] = release
        with (tmp / path.name).open("w") as out:
            YAML(typ="safe").dump(doc, out)
    shutil.copy(STACKS.parent / "Pulumi.yaml", tmp.parent / "Pulumi.yaml")
    return tmp


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("stack", ["dev", "staging", "production"])
def test_render_uses_only_what_the_release_has(tmp_path: Path, stack: str, release: str) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    files = render_stack(stack, _stacks_on(release, stacks)).files
    facts = facts_for(release)
    accepted = facts.option_strings()
    argvs = [argv for text in files.values() for argv in _argvs(text)]
    assert argvs, "no planned argument list found in the render"
    for argv in argvs:
        options = [a for a in argv if a.startswith("-")] + list(DEPLOYMENT_FLAGS)
        assert [o for o in options if o not in accepted] == [], argv
        for option, value in pairwise(argv):
            hit = facts.flag_for(option) if option.startswith("--") else None
            choices = hit[1].get("choices") if hit else None
            if choices and not value.startswith("-"):
                assert value in choices, (option, value, release)
    queried = {m for text in files.values() for m in _QUERIED.findall(text)}
    # production turns on autoscale (KEDA) and service_monitor (+ the dashboard).
    assert queried or stack != "production", "no PromQL query found in the render"
    for series in sorted(queried):
        family = _family(series, facts)
        assert facts.metric_state(family) == "present", (series, release)
