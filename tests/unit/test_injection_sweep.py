"""The injection sweep (benchmarks/injection_sweep.py) in CI, on a sample: hostile
payloads in every string field are refused by the spec or rendered inert, and
nothing raises a traceback. The sweep's own detectors are checked against known
injections first, so a zero cannot come from a detector that sees nothing."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

SWEEP = Path(__file__).resolve().parents[2] / "benchmarks" / "injection_sweep.py"


@pytest.fixture(scope="module")
def sweep() -> ModuleType:
    spec = importlib.util.spec_from_file_location("injection_sweep", SWEEP)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["injection_sweep"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_the_detectors_see_known_injections(sweep: ModuleType, tmp_path: Path) -> None:
    assert sweep.promql_injected(
        'sum(vllm:num_requests_waiting{namespace="a",model_name="x"} or vector(1) #"})'
    )
    assert not sweep.promql_injected(
        'sum(vllm:num_requests_waiting{namespace="a",model_name="x\\"} or vector(1) #"})'
    )
    widened = {"Statement": [{"Resource": "arn:aws:s3:::b/*/*", "Condition": {}}]}
    assert sweep.iam_widened(json.dumps(widened))
    assert sweep.api_rejects({"kind": "Service", "metadata": {"name": "x", "namespace": "A_b"}})
    if shutil.which("bash"):
        stubs = sweep._stub_dir(tmp_path)
        assert sweep.shell_injected("x=$(touch pwned)\n", tmp_path, stubs)
        assert not sweep.shell_injected("x='$(touch pwned)'\n", tmp_path, stubs)


def test_a_sample_of_payloads_is_refused_or_inert_in_every_field(sweep: ModuleType) -> None:
    sample = sweep.payloads()[::12]
    report = sweep.sweep(sample)
    assert report["cases"] == len(sample) * len(sweep.FIELDS)
    assert report["accepted"] > 0 and report["rendered"] > 0  # the sinks were reached
    assert report["tracebacks"] == 0, report["examples"]
    assert report["injected"] == 0, report["sinks"]
