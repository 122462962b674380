"""The one jinja2 environment every template (``templates/*.j2``) renders through.

Strict on purpose: a missing variable is a bug, not an empty string; nothing is
HTML-escaped (the outputs are shell, Python, systemd units and a Dockerfile, each
escaped at its own sink by the filters of ``llmpod.escaping``); block tags take
their line with them, so templates can be indented for reading without leaking
blank lines into scripts. The runtime contract's paths are globals, so no
template spells ``/etc/llmpod`` itself.
"""

from __future__ import annotations

from functools import cache

import jinja2

from llmpod import contract
from llmpod.escaping import add_filters
from llmpod.package_data import template_loader


@cache
def environment() -> jinja2.Environment:
    env = add_filters(
        jinja2.Environment(
            loader=template_loader(),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
    )
    env.globals.update(home=contract.HOME, plan_dir=contract.PLAN_DIR, plan_file=contract.PLAN_FILE)
    return env


def render_template(name: str, **values: object) -> str:
    return environment().get_template(name).render(**values)
