"""Apply a promotion to the target's round-trip YAML document (pure, no I/O).

Only promotable leaves whose validated values differ are touched, so every
other line — local values, comments, key order, quoting — stays as written.
A changed leaf takes the source's text when the source sets it explicitly and
is removed from the target when the source relies on the schema default (the
default then applies on both sides).

Services are matched by name:

* in both stacks: promotable leaves updated, local values kept;
* only in the source: appended with the source's promotable keys only, so the
  target's local values (namespace, storage class, replica bounds, domain,
  labels, aws network) take their schema defaults; a comment above the entry
  asks for a review, and production's policy pack flags a single replica;
* only in the target: left alone and reported.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from llmpod.environments.conflicts import Conflict, find_conflicts
from llmpod.environments.promotable import (
    Leaves,
    explicit_leaves,
    get_path,
    leaves_from_record,
    leaves_of,
)
from llmpod.environments.record import (
    keep_record_comment_above_its_key,
    recorded_services,
    update_record,
)
from llmpod.spec.base import is_local, section_model
from llmpod.spec.service import ServingSpec
from llmpod.spec.stack import StackSpec

SERVICES_KEY = "llmpod:services"


@dataclass(frozen=True)
class FieldChange:
    service: str
    path: str
    before: Any
    after: Any


@dataclass
class MergeResult:
    changes: list[FieldChange] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    target_only: list[str] = field(default_factory=list)
    unrecorded: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _set_path(node: Any, path: str, value: Any) -> None:
    from ruamel.yaml.comments import CommentedMap

    *parents, leaf = path.split(".")
    for part in parents:
        if not isinstance(node.get(part), dict):
            node[part] = CommentedMap()
        node = node[part]
    current = node.get(leaf)
    if isinstance(current, list) and isinstance(value, list):
        current[:] = copy.deepcopy(list(value))  # keeps the target's flow/block style
    else:
        node[leaf] = copy.deepcopy(value)


def _delete_path(node: Any, path: str) -> None:
    parts = path.split(".")
    chain = [node]
    for part in parts[:-1]:
        nxt = chain[-1].get(part)
        if not isinstance(nxt, dict):
            return
        chain.append(nxt)
    chain[-1].pop(parts[-1], None)
    # Drop sections the deletion left empty ("image: {}" says nothing).
    for depth in range(len(chain) - 1, 0, -1):
        if not chain[depth]:
            chain[depth - 1].pop(parts[depth - 1], None)


def strip_local(raw: Any, model: type[BaseModel] = ServingSpec) -> Any:
    """A copy of a raw service entry with every environment-local key removed."""
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for key, value in raw.items():
        if key not in model.model_fields or is_local(model, key):
            continue
        section = section_model(model.model_fields[key].annotation)
        if section is not None and isinstance(value, dict):
            inner = strip_local(value, section)
            if inner:
                out[key] = inner
        else:
            out[key] = copy.deepcopy(value)
    return out


def _by_name(config: Any) -> dict[str, Any]:
    return {str(s["name"]): s for s in config.get(SERVICES_KEY) or []}


def merge_promotion(
    source_name: str, source_config: Any, source: StackSpec, target_config: Any, target: StackSpec
) -> MergeResult:
    """Mutate ``target_config`` (a round-trip mapping) into the promoted config."""
    result = MergeResult()
    records = recorded_services(target_config)
    src_raw, tgt_raw = _by_name(source_config), _by_name(target_config)
    tgt_specs = {s.name: s for s in target.services}
    promoted: dict[str, Leaves] = {}
    for spec in source.services:
        s_leaves = leaves_of(spec)
        promoted[spec.name] = explicit_leaves(spec)
        if spec.name not in tgt_specs:
            result.added.append(spec.name)
            _append_service(target_config, strip_local(src_raw[spec.name]), source_name)
            continue
        t_leaves = leaves_of(tgt_specs[spec.name])
        rec = records.get(spec.name)
        if rec is None:
            result.unrecorded.append(spec.name)
        result.conflicts += find_conflicts(
            spec.name, s_leaves, t_leaves, leaves_from_record(rec) if rec is not None else None
        )
        for path in sorted(s_leaves):
            if s_leaves[path] == t_leaves[path]:
                continue
            result.changes.append(FieldChange(spec.name, path, t_leaves[path], s_leaves[path]))
            found, raw_value = get_path(src_raw[spec.name], path)
            if found:
                _set_path(tgt_raw[spec.name], path, raw_value)
            else:
                _delete_path(tgt_raw[spec.name], path)
    result.target_only = sorted(set(tgt_specs) - set(promoted))
    update_record(target_config, source_name, promoted)
    return result


def _append_service(config: Any, entry: Any, source_name: str) -> None:
    services = config[SERVICES_KEY]
    services.append(entry)
    keep_record_comment_above_its_key(config, services)
    services.yaml_set_comment_before_after_key(
        len(services) - 1,
        indent=4,
        before=(
            f"Added by `llmpod promote` from {source_name}: local values (namespace, "
            f"storage class,\nreplica bounds, domain, labels) are schema defaults; "
            f"review them."
        ),
    )
