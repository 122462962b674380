"""The k8s-side scripts (templates/*.j2) rendered with strict jinja2."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from infra.escaping import add_filters
from infra.package_data import template_loader


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=template_loader(),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        keep_trailing_newline=True,
        autoescape=False,  # shell and Python, not HTML
    )
    return add_filters(env)


def render(name: str, **values: Any) -> str:
    return _environment().get_template(name).render(**values)
