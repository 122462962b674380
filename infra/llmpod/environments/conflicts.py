"""The conflict rule: when would a promotion overwrite a hand edit?

For one service present in both stacks and one promotable leaf path, let

* ``S`` be the source's value (what the promotion writes),
* ``T`` be the target's current value,
* ``B`` be the value recorded by the last promotion into the target
  (``llmpod-promotion:lastPromoted``; schema default for leaves it omits).

The leaf **conflicts** when a record exists for the service and
``T != B and T != S``: someone changed the target after the last promotion,
to a value the source does not carry, so writing ``S`` would silently undo
their edit. ``T == S`` is never a conflict (the edit was made on both sides),
and ``T == B`` is an ordinary update. Without a record for the service
(its first promotion) every difference is an update: there is no baseline to
tell an edit from an older promoted value, and the diff shows each one.

Values are compared after validation, so spelling differences the spec
normalises (``h100`` vs ``H100``, ``v0.32.0`` vs ``0.32.0``) are not edits.
A second kind of conflict — the file changing between read and write — is
checked by ``stack_yaml.write_if_unchanged``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from llmpod.environments.promotable import Leaves


@dataclass(frozen=True)
class Conflict:
    service: str
    path: str
    target: Any
    source: Any
    recorded: Any

    def describe(self) -> str:
        return (
            f"{self.service}.{self.path} is {_show(self.target)} in the target, but the last "
            f"promotion wrote {_show(self.recorded)} and the source now has "
            f"{_show(self.source)}"
        )


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def find_conflicts(
    service: str, source: Leaves, target: Leaves, recorded: Leaves | None
) -> list[Conflict]:
    """Leaves of one service a promotion would overwrite although edited by hand."""
    if recorded is None:
        return []
    out = []
    for path in sorted(source):
        s, t, b = source[path], target.get(path), recorded.get(path)
        if t != s and t != b:
            out.append(Conflict(service, path, t, s, b))
    return out
