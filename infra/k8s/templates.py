"""The k8s-side scripts (templates/*.j2) rendered with strict jinja2."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from infra.escaping import add_filters

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        keep_trailing_newline=True,
        autoescape=False,  # shell and Python, not HTML
    )
    return add_filters(env)


def render(name: str, **values: Any) -> str:
    return _environment().get_template(name).render(**values)
