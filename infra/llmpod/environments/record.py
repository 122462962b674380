"""The promotion record kept in the target stack file.

To tell a hand edit in the target from a value that simply has not been
promoted yet, a promotion needs the value the target received last time. The
record keeps it, per service, as the promotable leaves that differ from the
schema defaults, under a config key outside the ``llmpod:`` namespace:

    llmpod-promotion:lastPromoted:
      from: staging
      services:
        llama-70b:
          max_model_len: 16384
          gpus.types: [H100, H200]

Pulumi passes config in foreign namespaces through untouched and
``StackSpec.from_config`` reads only ``llmpod:`` keys, so neither the Pulumi
program nor the policy pack sees it. It lives in the stack file (not a side
file) so the record and the values it describes change in one atomic write
and one reviewed diff.
"""

from __future__ import annotations

from typing import Any

from llmpod.environments.promotable import Leaves

RECORD_KEY = "llmpod-promotion:lastPromoted"
_RECORD_COMMENT = (
    "Written by `llmpod promote`: the promotable values this stack last received,\n"
    "used to detect hand edits a promotion would overwrite. Do not edit by hand."
)


def recorded_services(config: Any) -> dict[str, dict[str, Any]]:
    """service name → recorded leaves; {} when the file has no (readable) record."""
    record = config.get(RECORD_KEY)
    if not isinstance(record, dict) or not isinstance(record.get("services"), dict):
        return {}
    return {
        str(name): dict(leaves)
        for name, leaves in record["services"].items()
        if isinstance(leaves, dict)
    }


def _flow(value: Any) -> Any:
    """Lists and maps in flow style, so each recorded leaf stays on one line."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, list):
        seq = CommentedSeq(_flow(v) for v in value)
        seq.fa.set_flow_style()
        return seq
    if isinstance(value, dict):
        mapping = CommentedMap((k, _flow(value[k])) for k in sorted(value))
        mapping.fa.set_flow_style()
        return mapping
    return value


def _drop_record_comment(node: Any) -> bool:
    """Remove the record's comment lines wherever the YAML reader attached them.

    Read back from a file, a comment above a key whose previous sibling is a list is
    stored on the deepest last node of that list (the last service's last field), so a
    service appended to the list landed below it, between the comment and the key it
    explains. True when the comment was found (and removed)."""
    found = False
    ca = getattr(node, "ca", None)
    if ca is not None:
        for slot in [*ca.items.values(), [ca.comment], [ca.end]]:
            for tokens in slot or []:
                for token in tokens if isinstance(tokens, list) else [tokens]:
                    value = getattr(token, "value", None)
                    if isinstance(value, str) and "Written by `llmpod promote`" in value:
                        keep = [
                            line
                            for line in value.split("\n")
                            if not any(part in line for part in _RECORD_LINES)
                        ]
                        token.value = "\n".join(keep)
                        found = True
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found = _drop_record_comment(child) or found
    return found


_RECORD_LINES = tuple(line.strip() for line in _RECORD_COMMENT.split("\n"))


def keep_record_comment_above_its_key(config: Any, services: Any) -> None:
    """After a service was appended to ``services``: put the record's comment back
    above the record (it was read back attached to the previous last service)."""
    if RECORD_KEY in config and _drop_record_comment(services):
        config.yaml_set_comment_before_after_key(RECORD_KEY, before=_RECORD_COMMENT, indent=2)


def update_record(config: Any, source: str, promoted: dict[str, Leaves]) -> None:
    """Record ``promoted`` (service → explicit leaves); keep other services' entries."""
    from ruamel.yaml.comments import CommentedMap

    record = config.get(RECORD_KEY)
    if not isinstance(record, dict):
        record = CommentedMap()
        config[RECORD_KEY] = record
        config.yaml_set_comment_before_after_key(RECORD_KEY, before=_RECORD_COMMENT, indent=2)

    record["from"] = source
    services = record.get("services")
    if not isinstance(services, dict):
        services = CommentedMap()
        record["services"] = services
    for name in sorted(promoted):
        leaves = promoted[name]
        services[name] = CommentedMap((p, _flow(leaves[p])) for p in sorted(leaves))
