"""A way out of an error as data: which setting, which value, what it achieves.

The same suggestion reads differently by where the user sets things: as a flag
for `llmpod plan` (``--max-model-len 30256``) and as a spec key in a stack file
(``max_model_len: 30256``). Errors carry the data; each front end renders it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Planner setting → (plan flag, spec key). None: no single flag/key says it.
SETTINGS: dict[str, tuple[str | None, str | None]] = {
    "max_model_len": ("--max-model-len", "max_model_len"),
    "kv_cache_dtype": ("--kv-cache-dtype", "kv_cache_dtype"),
    "quantization": ("--quantization", "quantization"),
    "gpu": ("--gpu", "gpus.types"),
    "max_gpus": ("--max-gpus", "gpus.max_per_replica"),
    "max_nodes": ("--max-nodes", "gpus.max_nodes"),
    "tp": ("--tp", None),
    "concurrency": ("--full-context-concurrency", "targets.concurrency"),
    "enforce_eager": ("--enforce-eager", "vllm.enforce_eager"),
    "gpu_memory_utilization": ("--gpu-memory-utilization", "vllm.gpu_memory_utilization"),
    "max_replicas": ("--max-replicas", "replicas.max"),
    "targets": (None, "targets"),
}


@dataclass(frozen=True)
class Suggestion:
    field: str
    """A key of SETTINGS."""
    value: Any
    """The value to set (JSON-able); None when the field has no single value."""
    text: str
    """What it achieves, checked by planning again, e.g. 'fits on 2 L4 (TP 2, PP 1)'."""
    label: str = ""
    """Short name of the way out ('a shorter context'), put first when rendered."""

    def __post_init__(self) -> None:
        if self.field not in SETTINGS:
            raise ValueError(f"unknown suggestion field {self.field!r}")

    def as_json(self) -> dict[str, Any]:
        plain = self.text.removeprefix("→ ")
        text = f"{self.label}: {plain}" if self.label else plain
        return {"field": self.field, "value": self.value, "text": text}

    def _join(self, setting: str | None) -> str:
        head = f"{self.label}: " if self.label else ""
        return f"{head}{setting} {self.text}" if setting else f"{head}{self.text}"

    def as_flag(self) -> str:
        """For the command line: '--max-model-len 30256 fits on …'."""
        flag = SETTINGS[self.field][0]
        if flag is None or self.value is None:
            return self._join(None)
        if self.value is True:
            return self._join(flag)
        if isinstance(self.value, list | tuple):
            return self._join(" ".join(f"{flag} {v}" for v in self.value))
        return self._join(f"{flag} {self.value}")

    def as_spec(self) -> str:
        """For a stack file: 'max_model_len: 30256 fits on …'."""
        key = SETTINGS[self.field][1]
        if key is None or self.value is None:
            return self._join(None)
        return self._join(f"{key}: {spec_value(self.field, self.value)}")


def spec_value(field: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if field == "gpu":
        return f"[{value}]"
    return str(value)
