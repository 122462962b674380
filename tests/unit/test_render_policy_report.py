"""`llmpod render` runs the policy pack over what it rendered (DESIGN.md contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmpod.cli.main import main
from llmpod.policy.rules import RESOURCE_RULES, STACK_RULES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("render") / "production"
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["render", "production", "--out", str(out)])
    return rc, json.loads((out / "policy-report.json").read_text()), buf.getvalue()


def test_report_has_the_contract_shape_and_is_sorted(
    production: tuple[int, dict[str, Any], str],
) -> None:
    _, report, _ = production
    assert list(report) == ["violations"]
    rows = report["violations"]
    assert rows and all(list(r) == ["message", "policy", "resource"] for r in rows)
    keys = [(r["policy"], r["resource"], r["message"]) for r in rows]
    assert keys == sorted(keys)


def test_production_fails_only_the_image_digest_gate(
    production: tuple[int, dict[str, Any], str],
) -> None:
    # The findings: the waiver never reached the PDB annotation (replicas policy
    # failed) and render never ran the pack; now only the digest gate remains.
    rc, report, _ = production
    assert rc == 0  # not --strict
    assert {r["policy"] for r in report["violations"]} == {"llmpod-images-pinned"}
    assert all("has no digest" in r["message"] for r in report["violations"])


def _names(stack: str) -> list[str]:
    text = (REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    return [
        line.split("- name: ", 1)[1].strip()
        for line in text.splitlines()
        if line.strip().startswith("- name: ")
    ]


def test_digest_violation_carries_the_command_that_sets_it(
    production: tuple[int, dict[str, Any], str],
) -> None:
    _, report, _ = production
    by_service = {r["resource"].split("/", 1)[0]: r["message"] for r in report["violations"]}
    # llama-8b-aws too since issue 20 item 8: the rule reads the AWS launch template.
    assert set(by_service) == {"llama-70b", "deepseek-v3", "qwen3-moe", "llama-8b-aws"}
    for service, message in by_service.items():
        assert "crane digest ghcr.io/llmpod/vllm:v0.32.0" in message
        index = int(message.split("llmpod:services[", 1)[1].split("]", 1)[0])
        if service in _names("staging"):
            # Promotable: set where promotions start, at the staging file's index.
            assert "pulumi config set --path -s staging 'llmpod:services[" in message
            assert "llmpod promote staging production" in message
            assert _names("staging")[index] == service
        else:  # production-only (deepseek-v3): nothing would promote it
            assert "pulumi config set --path -s production 'llmpod:services[" in message
            assert "llmpod promote" not in message
            assert _names("production")[index] == service


def test_summary_is_printed(production: tuple[int, dict[str, Any], str]) -> None:
    _, report, stdout = production
    n = len(report["violations"])
    checked = len(RESOURCE_RULES) + len(STACK_RULES)
    assert f"policy: {n} violation(s) of 1 of {checked} policies" in stdout
    assert "llmpod-images-pinned: " in stdout


def test_strict_exits_3_on_violations_and_0_when_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "production", "--strict", "--out", str(tmp_path / "p")]) == 3
    assert main(["render", "dev", "--strict", "--out", str(tmp_path / "d")]) == 0
    clean = json.loads((tmp_path / "d" / "policy-report.json").read_text())
    assert clean == {"violations": []}
    assert "no violations" in capsys.readouterr().out


def test_replicas_policy_fires_without_the_waiver(tmp_path: Path) -> None:
    text = (REPO / "stacks" / "Pulumi.production.yaml").read_text()
    marker = (
        "        single_replica_reason: batch-only workload; 16 GPUs per replica, "
        "retries acceptable\n"
    )
    assert marker in text
    (tmp_path / "Pulumi.production.yaml").write_text(text.replace(marker, ""))
    out = tmp_path / "out"
    assert main(["render", "production", "--stacks-dir", str(tmp_path), "--out", str(out)]) == 0
    rows = json.loads((out / "policy-report.json").read_text())["violations"]
    replicas = [r for r in rows if r["policy"] == "llmpod-production-replicas"]
    assert [r["resource"] for r in replicas] == ["deepseek-v3/LeaderWorkerSet/deepseek-v3"]
    assert "llmpod.dev/pdb-waiver" in replicas[0]["message"]


def test_project_policy_config_overrides_the_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmpod.environments.stack_files import load_stack
    from llmpod.render.policy_report import policy_config

    spec = load_stack("production")
    (tmp_path / "policy" / "config").mkdir(parents=True)
    (tmp_path / "policy" / "config" / "production.json").write_text(
        json.dumps({"llmpod-stack-cost-cap": {"maxGpus": 8}})
    )
    config = policy_config(spec, "production", tmp_path)
    assert config["llmpod-stack-cost-cap"] == {"maxCostPerHour": 400, "maxGpus": 8}
    assert config["llmpod-images-pinned"] == {"environment": "production"}
    (tmp_path / "policy" / "config" / "production.json").write_text("{nope")
    from llmpod.errors import LlmpodError

    with pytest.raises(LlmpodError, match=r"production\.json is not readable JSON"):
        policy_config(spec, "production", tmp_path)


def test_the_writable_compile_cache_is_not_a_weights_mount() -> None:
    # Found by render's report: serving pods write the compile cache (its own PVC),
    # and the weights policy flagged that mount as writable weights.
    from llmpod.backends.compile_cache import COMPILE_CACHE_MOUNT
    from llmpod.policy.weights_readonly import COMPILE_CACHE_PATH, check_weights_read_only

    assert COMPILE_CACHE_PATH == COMPILE_CACHE_MOUNT
    pod: dict[str, Any] = {
        "containers": [
            {
                "name": "vllm",
                "volumeMounts": [
                    {"mountPath": COMPILE_CACHE_MOUNT, "name": "cc"},
                    {"mountPath": "/models", "name": "w", "readOnly": True},
                ],
            }
        ],
        "volumes": [
            {"name": "cc", "persistentVolumeClaim": {"claimName": "x-compile-cache"}},
            {"name": "w", "persistentVolumeClaim": {"claimName": "x-weights"}},
        ],
    }
    deployment = {"metadata": {"name": "x"}, "spec": {"template": {"spec": pod}}}
    assert check_weights_read_only("kubernetes:apps/v1:Deployment", deployment) == []
    pod["volumes"][0]["persistentVolumeClaim"]["claimName"] = "x-weights"
    pod["containers"][0]["volumeMounts"][0]["mountPath"] = "/models/cache"
    assert check_weights_read_only("kubernetes:apps/v1:Deployment", deployment)
