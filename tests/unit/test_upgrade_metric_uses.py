"""Every vLLM metric name in llmpod's code is one the upgrade gate checks.

A new query or reader of a ``vllm:`` metric must be listed in
llmpod.upgrade.metric_uses, or upgrade-check would not see it go missing.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from llmpod.upgrade.metric_uses import UNLISTED_IN_FACTS, USES

PACKAGE = Path(__file__).resolve().parents[2] / "infra" / "llmpod"
NAME = re.compile(r"^vllm:[a-z][a-z0-9_]*$")


def _literal_names() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "upgrade" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and NAME.match(node.value)
            ):
                found.setdefault(node.value, str(path.relative_to(PACKAGE)))
    return found


def test_every_metric_literal_is_checked_by_the_gate() -> None:
    checked = {name for use in USES for name in use.metric.names}
    # The documented exceptions: families the facts extractor cannot see yet.
    checked |= {name for m in UNLISTED_IN_FACTS for name in m.names}
    literals = _literal_names()
    assert len(literals) >= 10  # diagnose's families, the entrypoint's, verify's
    assert {n: p for n, p in literals.items() if n not in checked} == {}
