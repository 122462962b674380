"""Which parts of a ServingSpec travel between environments, as flat leaf paths.

A *leaf path* is a dotted path to a promotable field that is not itself a spec
section (``model``, ``targets.concurrency``, ``image.vllm_version``,
``gpus.types``). Sections are walked; fields marked ``local(...)`` in
``infra/llmpod/spec`` are skipped, so ``weights.storage_class`` or
``kubernetes.namespace`` never appear. Values are compared after validation
(``h100`` and ``H100`` are the same GPU), in their JSON form.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from llmpod.spec.base import is_local, section_model
from llmpod.spec.service import ServingSpec

Leaves = dict[str, Any]


@cache
def promotable_paths(model: type[BaseModel] = ServingSpec) -> tuple[str, ...]:
    """Every promotable leaf path of ``model``, sorted."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        if is_local(model, name):
            continue
        section = section_model(info.annotation)
        if section is None:
            out.append(name)
        else:
            out.extend(f"{name}.{sub}" for sub in promotable_paths(section))
    return tuple(sorted(out))


def _default_of(path: str) -> Any:
    model: type[BaseModel] = ServingSpec
    *parents, leaf = path.split(".")
    for part in parents:
        section = section_model(model.model_fields[part].annotation)
        assert section is not None, path  # promotable_paths only walks sections
        model = section
    info = model.model_fields[leaf]
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]  # no-arg factories only
    elif info.default is PydanticUndefined:
        return None
    else:
        value = info.default
    return json.loads(json.dumps(value))


def get_path(data: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of a dotted path in nested mappings."""
    current = data
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return False, None
        current = current[part]
    return True, current


def leaves_of(spec: ServingSpec) -> Leaves:
    """The effective (validated, defaults filled) value of every promotable leaf."""
    dumped = spec.model_dump(mode="json")
    out: Leaves = {}
    for path in promotable_paths():
        found, value = get_path(dumped, path)
        out[path] = value if found else _default_of(path)
    return out


def explicit_leaves(spec: ServingSpec) -> Leaves:
    """Promotable leaves that differ from the schema default (what a record stores)."""
    return {p: v for p, v in leaves_of(spec).items() if v != _default_of(p)}


def leaves_from_record(record: dict[str, Any]) -> Leaves:
    """Effective leaves of a promotion record: recorded values over schema defaults."""
    return {p: record[p] if p in record else _default_of(p) for p in promotable_paths()}
