"""Resolve a model reference to its raw ``config.json``.

A reference is one of:

* a catalog name or alias (``llama-3.1-8b``, ``Qwen/Qwen3-8B``);
* a local path to a ``config.json`` or to a directory holding one;
* ``hf://org/name[@revision]`` (Hugging Face Hub, revision defaults to ``main``);
* ``s3://bucket/prefix`` (reads ``prefix/config.json``).

Parsing the reference and decoding the JSON are pure; the two remote forms go
through ``llmpod.adaptors`` (the only modules that import the cloud SDKs).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llmpod.errors import LlmpodError, shorten
from llmpod.models import catalog

Origin = Literal["catalog", "file", "hf", "s3"]
CONFIG_FILENAME = "config.json"
#: A config.json is a few KiB (the largest published ones, with long layer
#: lists, are tens of KiB); anything past this is not one, and is not read.
MAX_CONFIG_BYTES = 1 << 20
# Hub repo ids: one "/" between an org and a name of [A-Za-z0-9._-] (huggingface_hub
# validate_repo_id); the revision may be a branch, tag or commit and may contain "/".
_HF_REF = re.compile(r"^hf://(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<rev>[^@\s]+))?$")
_S3_REF = re.compile(r"^s3://(?P<bucket>[^/\s]+)(?:/(?P<prefix>.*))?$")
_FORMS = (
    "a catalog name (`llmpod catalog models`), a path to config.json, "
    "hf://org/name[@revision] or s3://bucket/prefix"
)


@dataclass(frozen=True)
class RawModelConfig:
    """A model's config.json as found, before any interpretation."""

    name: str
    config: dict[str, Any] = field(repr=False, compare=False, hash=False)
    source: str
    revision: str | None
    origin: Origin


def load_model_config(ref: str, *, cache_dir: Path | None = None) -> RawModelConfig:
    """Find and read the config.json that ``ref`` names. ``cache_dir`` is for hf:// only."""
    text = ref.strip()
    if not text:
        raise LlmpodError(
            code="unknown_model",
            message="The model reference is empty.",
            suggestions=[f"pass {_FORMS}"],
        )
    if text.lower().startswith("hf://"):
        return _from_hf(text, cache_dir)
    if text.lower().startswith("s3://"):
        return _from_s3(text)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise LlmpodError(
            code="unknown_model",
            message=(
                f"Model reference {text!r} uses the scheme {scheme!r}, which llmpod cannot read."
            ),
            suggestions=[f"pass {_FORMS}"],
        )
    if not catalog.contains(text) and _looks_like_path(text):
        return _from_file(Path(text).expanduser())
    entry = catalog.find(text)  # unknown names raise unknown_model with a "did you mean"
    return RawModelConfig(
        name=entry.name,
        config=copy.deepcopy(entry.config),
        source=entry.source,
        revision=entry.revision,
        origin="catalog",
    )


def _looks_like_path(text: str) -> bool:
    # Catalog names contain "/" too ("Qwen/Qwen3-8B"), so an existing path or an
    # explicit path shape decides; anything else is treated as a catalog name.
    return (
        _exists(text) or text.endswith(".json") or text.startswith((".", "~", "/")) or "\\" in text
    )


def _exists(text: str) -> bool:
    # A 300-character name or one with a NUL byte is not a path on this machine;
    # the OS says so with ENAMETOOLONG / ValueError, which must not reach the user.
    try:
        return Path(text).expanduser().exists()
    except (OSError, ValueError):
        return False


def _from_file(path: Path) -> RawModelConfig:
    try:
        is_dir = path.is_dir()
        target = path / CONFIG_FILENAME if is_dir else path
        found = target.is_file()
    except (OSError, ValueError) as exc:  # name too long, NUL byte, loop of links
        raise LlmpodError(
            code="model_config_missing",
            message=f"Cannot read the model config {shorten(str(path), keep_end=True)}: "
            f"{getattr(exc, 'strerror', None) or exc}.",
            suggestions=[
                "pass the path of the model's config.json (or of its directory)",
                "or use a catalog name from `llmpod catalog models`",
            ],
        ) from None
    if not found:
        shown_path = shorten(str(path), keep_end=True)
        where = (
            f"directory {shown_path} has no {CONFIG_FILENAME}"
            if is_dir
            else f"{shown_path} does not exist"
        )
        raise LlmpodError(
            code="model_config_missing",
            message=f"Cannot read the model config: {where}.",
            suggestions=[
                "pass the path of the model's config.json (or of its directory)",
                "or use a catalog name from `llmpod catalog models`",
            ],
        )
    try:
        with target.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise LlmpodError(
            code="model_config_missing",
            message=f"Cannot read {str(target)!r}: {exc.strerror or exc}.",
            suggestions=["check the file's permissions"],
        ) from exc
    resolved = target.resolve()
    return RawModelConfig(
        name=resolved.parent.name or str(resolved),
        config=parse_config_json(raw, where=str(resolved)),
        source=str(resolved),
        revision=None,
        origin="file",
    )


def _from_hf(text: str, cache_dir: Path | None) -> RawModelConfig:
    match = _HF_REF.fullmatch(text)
    if not match:
        raise LlmpodError(
            code="unknown_model",
            message=f"Model reference {text!r} is not of the form hf://org/name[@revision].",
            suggestions=[
                "for example hf://Qwen/Qwen3-8B or hf://meta-llama/Llama-3.1-8B-Instruct@main"
            ],
        )
    repo, revision = match["repo"], match["rev"] or "main"
    from llmpod.adaptors import hf  # lazy: keeps huggingface_hub out of import time

    path = hf.download_config(repo, revision, cache_dir=cache_dir)
    source = f"hf://{repo}@{revision}"
    return RawModelConfig(
        name=repo,
        config=parse_config_json(path.read_bytes(), where=source),
        source=source,
        revision=revision,
        origin="hf",
    )


def _from_s3(text: str) -> RawModelConfig:
    match = _S3_REF.fullmatch(text)
    if not match:
        raise LlmpodError(
            code="unknown_model",
            message=f"Model reference {text!r} is not of the form s3://bucket/prefix.",
            suggestions=["for example s3://my-models/llama-3.1-8b-instruct"],
        )
    bucket, key = match["bucket"], s3_config_key(match["prefix"] or "")
    from llmpod.adaptors import aws  # lazy: keeps boto3 out of import time

    source = f"s3://{bucket}/{key}"
    body = aws.read_object(bucket, key)
    name = f"{bucket}/{key.removesuffix(CONFIG_FILENAME).rstrip('/')}".rstrip("/")
    return RawModelConfig(
        name=name,
        config=parse_config_json(body, where=source),
        source=source,
        revision=None,
        origin="s3",
    )


def s3_config_key(prefix: str) -> str:
    """The object key of config.json under ``prefix`` (which may already name it)."""
    prefix = prefix.strip("/")
    if prefix.endswith(".json"):
        return prefix
    return f"{prefix}/{CONFIG_FILENAME}" if prefix else CONFIG_FILENAME


def parse_config_json(raw: bytes, *, where: str) -> dict[str, Any]:
    """Decode config.json bytes; every defect becomes a ``model_config_invalid`` error."""
    if len(raw) > MAX_CONFIG_BYTES:
        raise LlmpodError(
            code="model_config_invalid",
            message=f"{where} is larger than {MAX_CONFIG_BYTES >> 20} MiB: it cannot be a "
            "config.json (those are a few KiB).",
            suggestions=["pass the model's config.json, not a weights or archive file"],
        )
    try:
        text = raw.decode("utf-8-sig")  # tolerate a BOM written by some Windows editors
    except UnicodeDecodeError as exc:
        raise LlmpodError(
            code="model_config_invalid",
            message=f"{where} is not UTF-8 text (byte {exc.start}): it cannot be a config.json.",
            suggestions=["pass the model's config.json, not a weights or archive file"],
        ) from exc
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LlmpodError(
            code="model_config_invalid",
            message=(
                f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
            ),
            suggestions=[
                "fix the JSON syntax at that position",
                "or download a fresh copy of the model's config.json",
            ],
        ) from exc
    if not isinstance(value, dict):
        raise LlmpodError(
            code="model_config_invalid",
            message=(
                f"{where} holds a JSON {type(value).__name__}, but a config.json must be "
                "a JSON object ({...})."
            ),
            suggestions=["pass the model's config.json"],
        )
    return value
