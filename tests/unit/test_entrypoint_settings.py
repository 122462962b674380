"""The entrypoint's environment: defaults for a pod, clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmpod.image.runtime.settings import SettingsError, settings_from_env


def test_defaults_suit_a_kubernetes_pod() -> None:
    s = settings_from_env({})
    assert s.plan_file == Path("/etc/llmpod/plan.json")
    assert (s.vllm_bin, s.vllm_host, s.vllm_port) == ("vllm", "0.0.0.0", 8000)
    assert (s.status_host, s.status_port) == ("0.0.0.0", 8081)
    assert s.ready_file == Path("/tmp/llmpod/ready")
    # A wildcard bind is not connectable; the entrypoint talks to vLLM over loopback.
    assert s.vllm_base_url == "http://127.0.0.1:8000"


def test_specific_and_ipv6_hosts_are_reachable_as_given() -> None:
    assert settings_from_env({"LLMPOD_VLLM_HOST": "10.0.0.5"}).vllm_base_url == (
        "http://10.0.0.5:8000"
    )
    assert settings_from_env({"LLMPOD_VLLM_HOST": "::1"}).vllm_base_url == "http://[::1]:8000"


def test_durations_are_read() -> None:
    s = settings_from_env({"LLMPOD_DRAIN_TIMEOUT_S": "30", "LLMPOD_DRAIN_PROPAGATION_S": "0"})
    assert (s.drain_timeout_s, s.drain_propagation_s) == (30.0, 0.0)


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"LLMPOD_VLLM_PORT": "http"}, r"LLMPOD_VLLM_PORT='http' is not a TCP port"),
        ({"LLMPOD_STATUS_PORT": "70000"}, r"LLMPOD_STATUS_PORT='70000' is not a TCP port"),
        ({"LLMPOD_DRAIN_TIMEOUT_S": "2m"}, r"LLMPOD_DRAIN_TIMEOUT_S='2m' is not a duration"),
        ({"LLMPOD_STARTUP_TIMEOUT_S": "-5"}, r"LLMPOD_STARTUP_TIMEOUT_S='-5' is not a duration"),
        ({"LLMPOD_STARTUP_TIMEOUT_S": "nan"}, r"'nan' is not a duration"),
        (
            {"LLMPOD_VLLM_HOST": "http://0.0.0.0"},
            r"LLMPOD_VLLM_HOST='http://0.0.0.0' is not a host",
        ),
        (
            {"LLMPOD_VLLM_PORT": "9000", "LLMPOD_STATUS_PORT": "9000"},
            r"both 9000; the probe server and vLLM need different ports",
        ),
    ],
)
def test_bad_environment_is_explained(env: dict[str, str], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        settings_from_env(env)
