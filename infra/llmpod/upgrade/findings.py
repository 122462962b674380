"""One finding of the upgrade gate: a flag, a metric or the plan, its status and fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Finding:
    kind: str  # "flag" | "metric" | "plan"
    subject: str
    status: str
    breaks: bool
    detail: str = ""
    fix: str = ""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "subject": self.subject,
            "status": self.status,
            "breaks": self.breaks,
        }
        if self.detail:
            out["detail"] = self.detail
        if self.fix:
            out["fix"] = self.fix
        return out
