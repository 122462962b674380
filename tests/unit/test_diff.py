"""`llmpod diff`: plan rows, cost per hour and per 1M tokens with price source and date."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from promote_fixtures import write_stacks

from llmpod.cli.main import main
from llmpod.environments.markdown import render_markdown
from llmpod.environments.plan_diff import diff_stacks, parse_flags
from llmpod.environments.summary import PlanSummary
from llmpod.gpus.catalog import find_gpu

ONE = """\
config:
  llmpod:environment: {env}
  llmpod:services:
    - name: tiny
      model: meta-llama/Llama-3.2-1B-Instruct
      max_model_len: 4096
      gpus:
        types: [L4]
      replicas:
        min: {replicas}
        max: 4
"""


def _pair(tmp_path: Path, a: int, b: int) -> Path:
    (tmp_path / "Pulumi.staging.yaml").write_text(ONE.format(env="staging", replicas=a))
    (tmp_path / "Pulumi.production.yaml").write_text(ONE.format(env="production", replicas=b))
    return tmp_path


def _money(pattern: str, text: str) -> list[float]:
    match = re.search(pattern, text)
    assert match, pattern
    return [float(x.replace(",", "")) for x in match.groups()]


def test_doubling_replicas_doubles_cost_but_not_cost_per_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _pair(tmp_path, 1, 2)
    assert main(["diff", "staging", "production", "--markdown", "--stacks-dir", str(tmp_path)]) == 0
    md = capsys.readouterr().out
    per_hour = _money(r"\| \*\*Cost per hour\*\* \| \$([\d.,]+) \| \$([\d.,]+) \|", md)
    per_token = _money(r"\| Cost per 1M output tokens \(est\.\) \| \$([\d.]+) \| \$([\d.]+) \|", md)
    # Same layout, twice the replicas: twice the hourly cost, the same cost per token.
    assert per_hour[1] == pytest.approx(2 * per_hour[0], abs=0.011)
    assert per_token[0] == per_token[1]
    # One L4 per replica (the model is 1B: one GPU holds it), priced as the node it
    # occupies: the pod asks 4 CPUs and 16 GiB, more than a g6.xlarge (4 vCPU, 16 GiB)
    # leaves beside the kubelet, so a g6.2xlarge (EC2 on-demand us-east-1, $0.978/h).
    l4 = find_gpu("L4")
    assert per_hour[0] == pytest.approx(0.978, abs=0.006)
    assert f"L4: ${l4.price_per_gpu_hour:.3f} — {l4.price_source} (as of {l4.price_as_of})" in md
    assert "| **Replicas** | 1 | 2 |" in md


def test_table_output_names_cost_source_and_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _pair(tmp_path, 1, 1)
    assert main(["diff", "staging", "production", "--stacks-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Cost per 1M output tokens" in out and "Cost per hour" in out
    assert find_gpu("L4").price_as_of in out


def test_price_override_is_labelled_as_the_stacks_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _pair(tmp_path, 1, 1)
    prod = tmp_path / "Pulumi.production.yaml"
    prod.write_text(
        prod.read_text().replace(
            "types: [L4]", "types: [L4]\n        price_per_gpu_hour: {L4: 0.5}"
        )
    )
    assert main(["diff", "staging", "production", "--markdown", "--stacks-dir", str(tmp_path)]) == 0
    md = capsys.readouterr().out
    assert "L4: $0.500 — gpus.price_per_gpu_hour in the stack spec" in md
    # The override prices the node's one GPU: g6.2xlarge at $0.978 (staging), $0.50.
    assert "| **Cost per hour** | $0.98 | $0.50 |" in md


def test_services_matched_by_name_with_one_sided_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_stacks(tmp_path)
    assert main(["diff", "staging", "production", "--markdown", "--stacks-dir", str(tmp_path)]) == 0
    md = capsys.readouterr().out
    assert "#### `small` — only in staging" in md
    assert "#### `legacy` — only in production" in md


def test_stack_file_path_against_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _pair(tmp_path, 1, 1)
    base = tmp_path / "base"
    base.mkdir()
    (base / "Pulumi.staging.yaml").write_text(ONE.format(env="staging", replicas=1))
    assert (
        main(
            [
                "diff",
                str(base / "Pulumi.staging.yaml"),
                "staging",
                "--markdown",
                "--stacks-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "no plan changes" in capsys.readouterr().out


def test_unknown_stack_and_yaml_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _pair(tmp_path, 1, 1)
    assert main(["diff", "staging", "prod", "--stacks-dir", str(tmp_path)]) == 1
    assert "Did you mean 'production'" in capsys.readouterr().err
    (tmp_path / "Pulumi.production.yaml").write_text("config: {llmpod:services: [}\n")
    assert main(["diff", "staging", "production", "--stacks-dir", str(tmp_path)]) == 1
    assert re.search(
        r"Pulumi\.production\.yaml is not valid YAML at line 1", capsys.readouterr().err
    )


def test_parse_flags_pairs_values_and_switches() -> None:
    args = ("--model", "/m", "--enforce-eager", "--tensor-parallel-size", "2", "--x=y")
    assert parse_flags(args) == {
        "--model": "/m",
        "--enforce-eager": "(on)",
        "--tensor-parallel-size": "2",
        "--x": "y",
    }


def test_arg_changes_and_unplannable_service_are_shown() -> None:
    a = PlanSummary(
        gpu="L4",
        gpus_per_replica=1,
        tensor_parallel=1,
        pipeline_parallel=1,
        replicas=1,
        nodes_per_replica=1,
        cost_per_hour=1.0,
        vllm_args=("--tensor-parallel-size", "1"),
    )
    b = PlanSummary(
        gpu="L4",
        gpus_per_replica=2,
        tensor_parallel=2,
        pipeline_parallel=1,
        replicas=1,
        nodes_per_replica=1,
        cost_per_hour=2.0,
        vllm_args=("--tensor-parallel-size", "2", "--enforce-eager"),
    )
    diff = diff_stacks("a", {"s": a, "bad": PlanSummary(error="does | not fit")}, "b", {"s": b})
    assert diff.services[0].arg_changes == (
        ("--enforce-eager", "(unset)", "(on)"),
        ("--tensor-parallel-size", "1", "2"),
    )
    md = render_markdown(diff)
    assert (
        "| **vLLM args** | `(no --enforce-eager) --tensor-parallel-size 1` | "
        "`--enforce-eager (on) --tensor-parallel-size 2` |"
    ) in md
    assert "| **Tensor parallel** | 1 | 2 |" in md
    assert "> **a: does not plan.** does | not fit" in md
    assert "**Cost per hour:** $1.00 (a) → $2.00 (b), +$1.00/h" in md


def test_layout_drift_between_environments_is_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    # The finding: staging TP4×1 vs production TP2×3 for the same promotable spec.
    assert main(["diff", "staging", "production"]) == 0
    out = capsys.readouterr().out
    [line] = [ln for ln in out.splitlines() if "layout drift: qwen3-moe" in ln]
    assert "TP 4 × PP 1 × 1 replica(s) on L40S vs TP 2 × PP 1 × 3 replica(s) on L40S" in line
    assert "replicas.min 1 → 2" in line
    assert "layout drift: llama-8b-aws" not in out or "same promotable spec" in out


def test_no_drift_when_promotable_specs_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmpod.environments.drift import layout_drift
    from llmpod.environments.summary import PlanSummary
    from llmpod.spec.service import ServingSpec

    a = ServingSpec.model_validate({"name": "s", "model": "llama-3.1-8b"})
    b = ServingSpec.model_validate({"name": "s", "model": "llama-3.1-8b", "max_model_len": 4096})
    one = PlanSummary(gpu="H100", tensor_parallel=1, pipeline_parallel=1, replicas=1)
    two = PlanSummary(gpu="H100", tensor_parallel=2, pipeline_parallel=1, replicas=1)
    assert layout_drift({"s": a}, {"s": one}, {"s": b}, {"s": two}) == []
    [drift] = layout_drift({"s": a}, {"s": one}, {"s": a}, {"s": two})
    assert drift.service == "s" and drift.local_differences == ()
    assert layout_drift({"s": a}, {"s": one}, {"s": a}, {"s": one}) == []
