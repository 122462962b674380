"""Prometheus metric names from a release's source: every ``vllm:`` name given to a
Gauge/Counter/Histogram, hidden behind ``show_hidden_metrics`` or not.

Part of the ast extractor (llmpod.releases.extract).
"""

from __future__ import annotations

import ast
import re
from typing import Any

from llmpod.releases.source_index import DEPRECATION, Index, name_of

_METRIC_MODULES = re.compile(
    r"^vllm/(engine/metrics\.py|v1/metrics/[^/]+\.py|spec_decode/metrics\.py"
    r"|v1/spec_decode/metrics\.py)$"
)
_METRIC_NAME = re.compile(r"^vllm:[a-z][a-z0-9_]*$")


def metrics_of(trees: dict[str, ast.Module], idx: Index) -> dict[str, dict[str, Any]]:
    """V1 engine's metrics, plus those only the V0 engine (gone in 0.11) creates, marked so."""
    v0: dict[str, dict[str, Any]] = {}
    v1: dict[str, dict[str, Any]] = {}
    for path in sorted(trees):
        if _METRIC_MODULES.match(path):
            _walk_metrics(trees[path], idx, v1 if path.startswith("vllm/v1/") else v0, False)
    for entry in v0.values():
        entry["v0_only"] = True
    return {**v0, **v1}


def _walk_metrics(node: ast.AST, idx: Index, out: dict[str, dict[str, Any]], hidden: bool) -> None:
    if isinstance(node, ast.If) and "show_hidden_metrics" in ast.unparse(node.test):
        negated = isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        for child in node.body:
            _walk_metrics(child, idx, out, hidden or not negated)
        for child in node.orelse:
            _walk_metrics(child, idx, out, hidden or negated)
        return
    if isinstance(node, ast.Call):
        _metric_call(node, idx, out, hidden)
    if (  # name = "vllm:cache_config_info" in log_metrics_info: an info gauge (value 1)
        isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and _METRIC_NAME.match(node.value.value)
        and node.value.value.endswith("_info")
    ):
        out.setdefault(node.value.value, {"kind": "gauge", "hidden": hidden, "deprecated": False})
    for sub in ast.iter_child_nodes(node):
        _walk_metrics(sub, idx, out, hidden)


def _metric_call(call: ast.Call, idx: Index, out: dict[str, dict[str, Any]], hidden: bool) -> None:
    name_node: ast.expr | None = None
    doc = ""
    for kw in call.keywords:
        if kw.arg == "name":
            name_node = kw.value
        elif kw.arg == "documentation":
            doc = idx.text(kw.value)
    if name_node is None and call.args:
        name_node = call.args[0]
        if len(call.args) > 1:
            doc = idx.text(call.args[1])
    if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
        return
    name = name_node.value
    if not _METRIC_NAME.match(name):
        return
    func = name_of(call.func).lower()
    kind = next((k for k in ("gauge", "counter", "histogram") if k in func), None)
    if kind is None:
        return
    if kind == "counter" and name.endswith("_total"):
        name = name[: -len("_total")]
    entry = out.get(name)
    deprecated = bool(DEPRECATION.search(doc))
    if entry is None:
        entry = out[name] = {"kind": kind, "hidden": hidden, "deprecated": deprecated}
    else:  # created twice (two loggers): visible if either shows it
        entry["hidden"] = entry["hidden"] and hidden
        entry["deprecated"] = entry["deprecated"] and deprecated
    if entry["deprecated"]:
        see = sorted(set(re.findall(r"vllm:[a-z][a-z0-9_]*", doc)) - {name})
        if see:
            entry["see"] = see
