"""Shared pydantic base and the marker for environment-local fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: Fields with this marker differ per environment and are never carried over by
#: `llmpod promote` (namespace, domain, replica bounds, network, storage class...).
LOCAL: dict[str, Any] = {"scope": "local"}


class SpecModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True
    )


_UNSET: Any = object()


def local(default: Any = _UNSET, **kwargs: Any) -> Any:
    """A field that stays with its environment when a spec is promoted."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra.update(LOCAL)
    if default is _UNSET:
        return Field(json_schema_extra=extra, **kwargs)
    return Field(default, json_schema_extra=extra, **kwargs)


def section_model(annotation: Any) -> type[SpecModel] | None:
    """The spec section a field holds (``Aws | None`` → ``Aws``), or None for a value."""
    if isinstance(annotation, type) and issubclass(annotation, SpecModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = section_model(arg)
        if found is not None:
            return found
    return None


def is_local(model: type[BaseModel], field: str) -> bool:
    info = model.model_fields[field]
    extra = info.json_schema_extra
    return isinstance(extra, dict) and extra.get("scope") == "local"
