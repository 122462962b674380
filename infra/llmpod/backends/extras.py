"""Cloud backends are extras: `pip install 'llmpod[aws]'` brings pulumi-aws.

Checked once per stack, before planning, so a stack with a `backend: aws`
service says which extra to install instead of failing with an ImportError
deep inside the Pulumi program (or in the middle of `llmpod render`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from llmpod.errors import LlmpodError

#: backend → (Python module it needs, the extra that installs it)
EXTRAS = {"aws": ("pulumi_aws", "aws")}


def require_backends(services: Iterable[tuple[str, str]]) -> None:
    """``services``: (service name, backend) pairs of one stack."""
    missing: dict[str, list[str]] = {}
    for name, backend in services:
        if backend not in EXTRAS:
            continue
        module, extra = EXTRAS[backend]
        try:
            importlib.import_module(module)
        except ImportError:
            missing.setdefault(extra, []).append(name)
    for extra, names in sorted(missing.items()):
        module = EXTRAS[extra][0].replace("_", "-")
        raise LlmpodError(
            code="backend_not_installed",
            message=f"service(s) {', '.join(sorted(names))} use backend: {extra}, which needs "
            f"{module}; it is not installed in this Python environment.",
            suggestions=[
                f"pip install 'llmpod[{extra}]'",
                f"or set backend: kubernetes for {', '.join(sorted(names))}",
            ],
        )
