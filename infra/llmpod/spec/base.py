"""Shared pydantic base and the marker for environment-local fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

#: Fields with this marker differ per environment and are never carried over by
#: `llmpod promote` (namespace, domain, replica bounds, network, storage class...).
LOCAL: dict[str, Any] = {"scope": "local"}


def _not_a_bool(value: Any) -> Any:
    # pydantic's lax mode reads true as 1: `max_model_len: true` planned a 1-token
    # context. YAML's yes/no/on/off are booleans too, so a number field refuses them.
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


#: Put in every numeric field's Annotated[...]: refuses true/false before coercion.
NOT_BOOL = BeforeValidator(_not_a_bool)


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
