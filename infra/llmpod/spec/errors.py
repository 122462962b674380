"""Turn pydantic validation errors into one readable LlmpodError.

Each problem is stated as ``path: problem (got value)``; unknown keys get a
"did you mean" drawn from the fields valid at that place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from llmpod.errors import LlmpodError, hint, shorten
from llmpod.spec.base import section_model
from llmpod.spec.grammars import shown

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _path(loc: tuple[Any, ...], prefix: str, top: Mapping[str, str]) -> str:
    out = prefix
    for i, part in enumerate(loc):
        if i == 0 and not prefix and part in top:
            out = top[part]  # the key as the user wrote it, e.g. llmpod:costCapPerHour
        elif isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (the key)"
        elif (i + 1 < len(loc) and loc[i + 1] == "[key]") or not _PLAIN_KEY.fullmatch(str(part)):
            # A user-written mapping key: shown like a value (truncated, escaped).
            out += f"[{shown(part, 40)}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return []
        annotation = fields[part].annotation
        current = section_model(annotation)
        if current is None:
            return []
    return sorted(getattr(current, "model_fields", {}))


def spec_error(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    where: str,
    prefix: str = "",
    top_level_keys: Mapping[str, str] | None = None,
) -> LlmpodError:
    """``top_level_keys`` maps the model's top-level field names to the keys users write
    (a stack file's ``llmpod:costCapPerHour`` for ``cost_cap_per_hour``)."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _path(loc, prefix, top_level_keys or {})
        if err["type"] == "extra_forbidden":
            key = str(loc[-1])
            valid = _fields_at(model, loc[:-1])
            lines.append(
                f"{path}: unknown key {shown(key, 40)}.{hint(key[:80], valid)}"
                + (f" Valid keys here: {', '.join(valid)}." if valid else "")
            )
            continue
        # Validators quote the value in their message too: cut it like the echo below.
        msg = shorten(str(err["msg"]).removeprefix("Value error, ").rstrip("."), 300, quote=False)
        value = err.get("input")
        got = "" if isinstance(value, dict | list) or value is None else f" (got {shown(value)})"
        if err["type"] == "missing":
            lines.append(f"{path}: required but missing.")
        else:
            lines.append(f"{path}: {msg}{got}.")
    return LlmpodError(
        code="invalid_spec",
        message=f"{where} is not a valid llmpod spec: " + " ".join(lines),
        suggestions=[
            "fix the keys named above; `llmpod schema` prints every field with its meaning"
        ],
    )
