"""Stack files of a project copy, edited the way a user would edit them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML


def _yaml() -> YAML:
    yaml = YAML()  # round trip: comments and order survive, as in a reviewed diff
    yaml.width = 4096
    return yaml


def edit_stack(project: Path, stack: str, change: Callable[[Any], None]) -> None:
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    yaml = _yaml()
    doc = yaml.load(path.read_text(encoding="utf-8"))
    change(doc["config"])
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(doc, out)


def service(config: Any, name: str) -> Any:
    for svc in config["llmpod:services"]:
        if svc["name"] == name:
            return svc
    raise KeyError(name)


def kubernetes_only(project: Path, stack: str) -> list[str]:
    """Drop the ``backend: aws`` services (and their promotion record) from a copy's
    stack file; the names dropped. Their resources need the pulumi-aws provider, which
    is not built here (the AWS backend is tested against moto instead)."""
    dropped: list[str] = []

    def drop(config: Any) -> None:
        services = config["llmpod:services"]
        for svc in list(services):
            if svc.get("backend") == "aws":
                dropped.append(str(svc["name"]))
                services.remove(svc)
        record = config.get("llmpod-promotion:lastPromoted")
        if record is not None:
            for name in dropped:
                record["services"].pop(name, None)

    edit_stack(project, stack, drop)
    return dropped
