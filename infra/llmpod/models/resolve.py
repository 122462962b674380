"""Model reference → ModelFacts (the one path every caller uses)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmpod import contract
from llmpod.models.config import parse_model_config
from llmpod.models.facts import ModelFacts
from llmpod.models.sources import RawModelConfig, load_model_config

#: Where serving pods and instances mount the shared weights volume.
WEIGHTS_MOUNT = contract.WEIGHTS_MOUNT


@dataclass(frozen=True)
class ResolvedModel:
    facts: ModelFacts
    raw: RawModelConfig

    @property
    def served_name(self) -> str:
        if self.raw.origin == "file":
            return Path(self.raw.source).parent.name
        return self.raw.name

    @property
    def container_path(self) -> str:
        """The --model path inside the container: the local directory for a file
        reference (tests, local runs), else the model's folder on the weights volume."""
        if self.raw.origin == "file":
            return str(Path(self.raw.source).parent)
        return f"{WEIGHTS_MOUNT}/{self.raw.name}"


def resolve_model(ref: str) -> ResolvedModel:
    raw = load_model_config(ref)
    return ResolvedModel(parse_model_config(raw.config, name=raw.name, source=raw.source), raw)
