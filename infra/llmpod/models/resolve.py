"""Model reference → ModelFacts (the one path every caller uses)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from llmpod import contract
from llmpod.models.config import parse_model_config
from llmpod.models.facts import ModelFacts
from llmpod.models.hf_defaults import fill_defaults
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
    # Catalog configs are stored with their defaults filled and checked against
    # vLLM's logs (each entry's ``defaults_filled``); a user's own file is not.
    config = raw.config
    notes: tuple[str, ...] = ()
    if raw.origin != "catalog":
        config, notes = fill_defaults(raw.config, name=raw.name)
    facts = parse_model_config(config, name=raw.name, source=raw.source)
    return ResolvedModel(replace(facts, notes=facts.notes + notes), raw)
