"""The built-in model catalog: popular open checkpoints with their config.json.

Each family file under ``infra/llmpod/models/catalog/`` holds entries whose ``config``
is the checkpoint's own config.json (original key names and nesting), checked
against a public copy recorded in ``verified_from``; values that could not be
checked are listed in ``unverified``. The files are read once, on first use,
through ``importlib.resources`` so they work from a wheel as well as a checkout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from llmpod.errors import LlmpodError, hint, shorten

# The data directory shares this module's name, so it is reached through the
# parent package rather than imported.
_PACKAGE = "llmpod.models"
_DATA_DIR = "catalog"
LIST_COMMAND = "llmpod catalog models"


@dataclass(frozen=True)
class CatalogEntry:
    """One catalog model.

    ``config`` is shared between callers: treat it as read-only (``sources`` hands out copies).
    """

    name: str
    aliases: tuple[str, ...]
    revision: str
    source: str
    config: dict[str, Any] = field(repr=False, compare=False, hash=False)
    params_b: float | None = None
    unverified: tuple[str, ...] = ()
    verified_from: tuple[str, ...] = ()
    license: str | None = None
    family: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every string that selects this entry (full name first)."""
        return (self.name, *self.aliases)


def _entry(raw: dict[str, Any], family: str, origin: str) -> CatalogEntry:
    try:
        return CatalogEntry(
            name=str(raw["name"]),
            aliases=tuple(str(a).lower() for a in raw.get("aliases", [])),
            revision=str(raw.get("revision") or "main"),
            source=str(raw["source"]),
            config=dict(raw["config"]),
            params_b=float(raw["params_b"]) if raw.get("params_b") is not None else None,
            unverified=tuple(raw.get("unverified", [])),
            verified_from=tuple(raw.get("verified_from", [])),
            license=raw.get("license"),
            family=family,
        )
    except (KeyError, TypeError, ValueError) as exc:
        # A packaging bug, not user input; still worth a precise message.
        raise LlmpodError(
            code="catalog_corrupt",
            message=f"Built-in catalog file {origin} has a malformed entry ({exc!r}).",
            suggestions=["reinstall llmpod"],
        ) from exc


@lru_cache(maxsize=1)
def _load() -> tuple[CatalogEntry, ...]:
    entries: list[CatalogEntry] = []
    root = resources.files(_PACKAGE).joinpath(_DATA_DIR)
    for item in sorted(root.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".json"):
            continue
        doc = json.loads(item.read_text(encoding="utf-8"))
        family = str(doc.get("family", item.name.removesuffix(".json")))
        entries.extend(_entry(raw, family, item.name) for raw in doc["models"])
    _check_unique(entries)
    return tuple(sorted(entries, key=lambda e: e.name.lower()))


def _check_unique(entries: list[CatalogEntry]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        for key in {n.lower() for n in entry.names}:
            if key in seen and seen[key] != entry.name:
                raise LlmpodError(
                    code="catalog_corrupt",
                    message=f"Catalog name {key!r} selects both {seen[key]!r} and {entry.name!r}.",
                    suggestions=["reinstall llmpod"],
                )
            seen[key] = entry.name


@lru_cache(maxsize=1)
def _index() -> dict[str, CatalogEntry]:
    index: dict[str, CatalogEntry] = {}
    for entry in _load():
        for key in entry.names:
            index[key.lower()] = entry
    # The repo part alone ("Llama-3.1-8B-Instruct") is accepted when unambiguous:
    # users often drop the org when copying a name from a model card.
    repo_counts: dict[str, int] = {}
    for entry in _load():
        repo = entry.name.split("/")[-1].lower()
        repo_counts[repo] = repo_counts.get(repo, 0) + 1
    for entry in _load():
        repo = entry.name.split("/")[-1].lower()
        if repo_counts[repo] == 1:
            index.setdefault(repo, entry)
    return index


def all_entries() -> tuple[CatalogEntry, ...]:
    """Every catalog entry, sorted by name (case-insensitive)."""
    return _load()


def names() -> tuple[str, ...]:
    """Every accepted name and alias, sorted."""
    return tuple(sorted({n for e in _load() for n in e.names}))


def contains(name: str) -> bool:
    return name.strip().lower() in _index()


def find(name: str) -> CatalogEntry:
    """The entry selected by ``name`` (full name or alias, any case)."""
    key = name.strip().lower()
    entry = _index().get(key)
    if entry is not None:
        return entry
    raise LlmpodError(
        code="unknown_model",
        message=f"Model {shorten(name)} is not in the built-in catalog.{hint(key[:200], names())}",
        suggestions=[
            f"list the catalog with `{LIST_COMMAND}`",
            "or pass a path to the model's config.json, hf://org/name[@revision] "
            "or s3://bucket/prefix",
        ],
    )
