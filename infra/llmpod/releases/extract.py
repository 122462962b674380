"""Read a vLLM release's `vllm serve` flags and Prometheus metric names from its source.

Used only by scripts/gen_vllm_facts.py (run by hand); the runtime reads the JSON
it wrote. vLLM is never imported: its modules are parsed with ``ast``.

Flags. `vllm serve` builds its parser from ``make_arg_parser`` (in
``vllm/entrypoints/openai/cli_args.py`` up to 0.2x, later
``entrypoints/launchers/`` or ``entrypoints/common/cli_args.py``), which adds
a few literal options and calls ``FrontendArgs.add_cli_args`` and
``AsyncEngineArgs.add_cli_args`` (``vllm/engine/arg_utils.py``). Those add
options three ways, all read here:

* ``add_argument("--name", "-alias", type=…, default=…, help=…)`` — literal;
* ``add_argument("--name", **kwargs["field"])`` with ``kwargs = get_kwargs(SomeConfig)``
  — the type, default and help come from the config dataclass's field
  (annotation, default, the docstring under it);
* ``for key, value in get_kwargs(cls).items(): add_argument(f"--{key…}", **value)``
  — one option per dataclass field (FrontendArgs, 0.11+).

A bool field becomes ``--x/--no-x`` when the release's ``get_kwargs`` uses
``argparse.BooleanOptionalAction`` (0.9+), else a ``store_true`` switch.
Deprecated: ``deprecated=True`` (FlexibleArgumentParser backports it), an
action class named ``Deprecated…``, or help/docstring text that says so.

Metrics. Every ``"vllm:…"`` name given to a Gauge/Counter/Histogram (or the
``self._gauge_cls``-style indirections) in the metrics modules of either engine
(``vllm/engine/metrics.py`` (V0), ``vllm/v1/metrics/*.py``, spec-decode). A
counter's family name drops ``_total`` (prometheus_client exposes
``x_total`` for a counter named ``x`` or ``x_total``). A metric is *hidden*
when it is created only under ``if …show_hidden_metrics…`` (shown with
``--show-hidden-metrics-for-version``), *deprecated* when its documentation
says so.
"""

import ast
import re
from typing import Any

from llmpod.releases.flag_extract import FlagCollector
from llmpod.releases.metric_extract import metrics_of
from llmpod.releases.source_index import build_index

_WANTED = re.compile(
    r"^vllm/("
    r"config\.py|config/.*\.py|engine/[^/]+\.py|entrypoints/.*\.py|utils\.py|utils/.*\.py"
    r"|v1/metrics/.*\.py|spec_decode/metrics\.py|v1/spec_decode/metrics\.py"
    r")$"
)
#: Modules whose add_argument calls make up `vllm serve`'s options.
_ARG_MODULES = re.compile(
    r"^vllm/(engine/arg_utils\.py|entrypoints/(openai|common|launchers)/cli_args\.py"
    r"|entrypoints/cli/serve\.py)$"
)


def wanted_source(path: str) -> bool:
    """Whether the extractor reads this wheel member."""
    return bool(_WANTED.match(path))


def extract_facts(version: str, sources: dict[str, str]) -> dict[str, Any]:
    """The JSON-ready facts of one release from its wheel's Python sources."""
    trees = {p: ast.parse(src, filename=p) for p, src in sources.items() if wanted_source(p)}
    idx = build_index(trees)
    collector = FlagCollector(idx)
    for path in sorted(trees):
        if _ARG_MODULES.match(path):
            collector.module(trees[path])
    flags = {name: f.as_json() for name, f in sorted(collector.flags.items())}
    for name, info in flags.items():
        # "--disable-x" deprecated in favour of an opt-in "--enable-x" (vLLM's pattern,
        # e.g. --disable-log-requests in 0.10.1): its replacement is the negative form.
        twin = "--enable-" + name.removeprefix("--disable-")
        if (
            info.get("deprecated")
            and "see" not in info
            and name.startswith("--disable-")
            and twin in flags
        ):
            info["see"] = ["--no-" + twin[2:]] if flags[twin].get("negatable") else [twin]
    if idx.enable_disable:
        for name, info in flags.items():
            for prefix, inverse in (("--enable-", "--disable-"), ("--disable-", "--enable-")):
                if info.get("negatable") and name.startswith(prefix):
                    info["inverse"] = inverse + name.removeprefix(prefix)
    metrics = {}
    for name, m in sorted(metrics_of(trees, idx).items()):
        entry = {"kind": m["kind"]}
        if m["hidden"]:
            entry["hidden"] = True
        if m["deprecated"]:
            entry["deprecated"] = True
        if m.get("see"):
            entry["see"] = m["see"]
        if m.get("v0_only"):
            entry["v0_only"] = True
        metrics[name] = entry
    return {"version": version, "flags": flags, "metrics": metrics}
