"""Thin wrappers around cloud SDKs, imported lazily.

Only this package imports ``boto3`` (``aws.py``) and ``huggingface_hub``
(``hf.py``), and only inside functions: importing llmpod must stay fast (the
CLI's cold start budget) and must work without credentials or network. Each
adaptor turns the SDK's exceptions into ``LlmpodError`` with the fix spelled
out, so nothing above this layer needs to know the SDK's exception types.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from llmpod.errors import LlmpodError


def import_sdk(module: str, *, purpose: str, package: str) -> ModuleType:
    """Import an SDK on first use, or explain how to install it.

    Both SDKs are core dependencies in pyproject.toml, so this only fires in a
    broken environment (a partial install, a vendored copy of llmpod); the
    message still names the exact package to install rather than a traceback.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise LlmpodError(
            code="missing_dependency",
            message=(
                f"{purpose} needs the Python package {package!r}, which is not importable ({exc})."
            ),
            suggestions=[f"pip install '{package}'", "or reinstall llmpod: pip install -e ."],
        ) from exc
