"""Deployment settings of the entrypoint, read from its environment.

Stdlib only (copied into the image). These are what differ per deployment, not
per plan: where to listen, how long to wait, where the plan lives. Everything
has a default that suits a Kubernetes pod running the official vLLM image.

* ``LLMPOD_PLAN_FILE`` (/etc/llmpod/plan.json): the plan document (plan_file.py).
* ``LLMPOD_VLLM_BIN`` (vllm): the vLLM executable.
* ``LLMPOD_VLLM_HOST`` (0.0.0.0), ``LLMPOD_VLLM_PORT`` (8000): vLLM's --host/--port.
* ``LLMPOD_STATUS_HOST`` (0.0.0.0), ``LLMPOD_STATUS_PORT`` (8081): the probe server
  (/ready /live /health /status).
* ``LLMPOD_READY_FILE`` (/tmp/llmpod/ready): exists only while ready (exec probes).
* ``LLMPOD_STARTUP_TIMEOUT_S`` (1800): vLLM /health must be 200 within this.
* ``LLMPOD_DRAIN_PROPAGATION_S`` (5): keep serving new requests after SIGTERM
  while endpoints update.
* ``LLMPOD_DRAIN_TIMEOUT_S`` (120): the whole drain budget, propagation included.
* ``LLMPOD_VLLM_STOP_TIMEOUT_S`` (20): SIGTERM → SIGKILL for vLLM's process group.
* ``LLMPOD_COMPILE_CACHE_DIR`` (unset = off): the shared, keyed directory of
  vLLM's compile cache (compile_cache.py); ``LLMPOD_COMPILE_CACHE_LOCAL``
  (/tmp/llmpod/vllm-cache): the pod-local copy vLLM reads and writes.

Kubernetes' terminationGracePeriodSeconds must exceed
DRAIN_TIMEOUT_S + VLLM_STOP_TIMEOUT_S, or the kubelet's SIGKILL cuts the drain short.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """An environment variable has a value the entrypoint cannot use."""


@dataclass(frozen=True)
class Settings:
    plan_file: Path
    vllm_bin: str
    vllm_host: str
    vllm_port: int
    status_host: str
    status_port: int
    ready_file: Path
    startup_timeout_s: float
    drain_propagation_s: float
    drain_timeout_s: float
    vllm_stop_timeout_s: float
    compile_cache_dir: Path | None = None
    compile_cache_local: Path = Path("/tmp/llmpod/vllm-cache")

    @property
    def vllm_base_url(self) -> str:
        """Where the entrypoint itself talks to vLLM: always over loopback.

        A wildcard bind (0.0.0.0 / ::) is not an address to connect to, and a
        specific bind address is reachable from inside the pod anyway.
        """
        host = self.vllm_host
        if host in ("0.0.0.0", "", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.vllm_port}"


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name}={raw!r} is not a TCP port. Set it to an integer 1-65535.")
    return port


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:  # NaN check without math import
        raise SettingsError(
            f"{name}={raw!r} is not a duration. Set it to a number of seconds ≥ 0, e.g. 120."
        )
    return value


def _host(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        # Hostnames are fine for binding too; reject only obvious garbage such as
        # a URL, which is the usual mistake ("http://0.0.0.0").
        if "/" in raw or " " in raw:
            raise SettingsError(
                f"{name}={raw!r} is not a host. Set an address such as 0.0.0.0 or 127.0.0.1."
            ) from None
    return raw


def _abs_dir(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    path = Path(raw)
    if not path.is_absolute() or ".." in path.parts:
        raise SettingsError(
            f"{name}={raw[:120]!r} is not an absolute directory path. Set it to e.g."
            " /var/cache/llmpod/compile/<key>, or leave it unset."
        )
    return path


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Build the settings; raises ``SettingsError`` naming the variable and the fix."""
    settings = Settings(
        plan_file=Path(env.get("LLMPOD_PLAN_FILE") or "/etc/llmpod/plan.json"),
        vllm_bin=env.get("LLMPOD_VLLM_BIN") or "vllm",
        vllm_host=_host(env, "LLMPOD_VLLM_HOST", "0.0.0.0"),
        vllm_port=_port(env, "LLMPOD_VLLM_PORT", 8000),
        status_host=_host(env, "LLMPOD_STATUS_HOST", "0.0.0.0"),
        status_port=_port(env, "LLMPOD_STATUS_PORT", 8081),
        ready_file=Path(env.get("LLMPOD_READY_FILE") or "/tmp/llmpod/ready"),
        startup_timeout_s=_seconds(env, "LLMPOD_STARTUP_TIMEOUT_S", 1800.0),
        drain_propagation_s=_seconds(env, "LLMPOD_DRAIN_PROPAGATION_S", 5.0),
        drain_timeout_s=_seconds(env, "LLMPOD_DRAIN_TIMEOUT_S", 120.0),
        vllm_stop_timeout_s=_seconds(env, "LLMPOD_VLLM_STOP_TIMEOUT_S", 20.0),
        compile_cache_dir=_abs_dir(env, "LLMPOD_COMPILE_CACHE_DIR"),
        compile_cache_local=(
            _abs_dir(env, "LLMPOD_COMPILE_CACHE_LOCAL") or Path("/tmp/llmpod/vllm-cache")
        ),
    )
    if settings.vllm_port == settings.status_port:
        raise SettingsError(
            f"LLMPOD_VLLM_PORT and LLMPOD_STATUS_PORT are both {settings.vllm_port};"
            " the probe server and vLLM need different ports. Change one of them."
        )
    return settings
