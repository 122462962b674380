"""Kubernetes objects from YAML files, keyed so two renders can be compared."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

Key = tuple[str, str, str, str]  # apiVersion, kind, namespace, name


def key_of(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (obj["apiVersion"], obj["kind"], meta.get("namespace", ""), meta["name"])


def objects_from_texts(texts: Iterable[str]) -> dict[Key, dict[str, Any]]:
    out: dict[Key, dict[str, Any]] = {}
    for text in texts:
        for doc in YAML(typ="safe").load_all(text):
            if isinstance(doc, dict) and "kind" in doc:
                out[key_of(doc)] = doc
    return out


def objects_in_dir(root: Path) -> dict[Key, dict[str, Any]]:
    """Every object in every ``*.yaml`` under ``root`` (the provider's render mode
    writes ``0-crd/`` and ``1-manifest/`` subdirectories)."""
    files = sorted(root.rglob("*.yaml"))
    return objects_from_texts(p.read_text(encoding="utf-8") for p in files)


def _walk(real: Any, mock: Any, path: str) -> Iterable[tuple[str, str]]:
    if isinstance(real, dict) and isinstance(mock, dict):
        for k in sorted(set(real) | set(mock)):
            sub = f"{path}.{k}" if path else k
            if k not in real:
                yield sub, f"omitted: {mock[k]!r}"
            elif k not in mock:
                yield sub, f"added: {real[k]!r}"
            else:
                yield from _walk(real[k], mock[k], sub)
    elif isinstance(real, list) and isinstance(mock, list) and len(real) == len(mock):
        for i, (a, b) in enumerate(zip(real, mock, strict=True)):
            yield from _walk(a, b, f"{path}[{i}]")
    elif real != mock:
        yield path, f"changed: {mock!r} -> {real!r}"


def object_differences(
    real: dict[Key, dict[str, Any]], mock: dict[Key, dict[str, Any]]
) -> list[tuple[str, str, str]]:
    """(kind/name, dotted path, what) for every field that differs between two renders
    of the same objects; objects present on one side only are ("kind/name", "", ...)."""
    out: list[tuple[str, str, str]] = []
    for key in sorted(set(real) | set(mock)):
        label = f"{key[1]}/{key[3]}"
        if key not in real or key not in mock:
            out.append((label, "", "only in " + ("mock" if key not in real else "real")))
            continue
        out.extend((label, path, what) for path, what in _walk(real[key], mock[key], ""))
    return out
