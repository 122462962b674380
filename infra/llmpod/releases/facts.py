"""The committed per-release vLLM facts: `vllm serve` flags and Prometheus metric names.

Written by scripts/gen_vllm_facts.py from each release's PyPI wheel (read with
``ast``, see llmpod.releases.extract) into ``facts/vllm-X.json``; ``facts/index.json``
lists the releases, the command and the date. Read-only here: the runtime never
downloads anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from llmpod.errors import LlmpodError

FACTS_DIR = Path(__file__).resolve().parent / "facts"
FACTS_SCHEMA = 1


def version_key(text: str) -> tuple[int, ...]:
    """Sort key for a release: 0.8.5 < 0.8.5.post1 < 0.9.0 < 0.10.0."""
    core, _, post = text.partition(".post")
    nums = [int(p) for p in core.split(".")]
    nums += [0] * (4 - len(nums))
    return (*nums, int(post) if post else -1)


@dataclass(frozen=True)
class ReleaseFacts:
    version: str
    #: "--long-name" -> {"kind", "aliases"?, "default"?, "negatable"? (--no-x too),
    #: "inverse"? (--disable-x for --enable-x, 0.34+), "deprecated"?, "see"?, "hidden"?,
    #: "choices"?}
    flags: dict[str, dict[str, Any]]
    #: "vllm:family" -> {"kind", "hidden"?, "deprecated"?, "see"?, "v0_only"?}
    metrics: dict[str, dict[str, Any]]

    def option_strings(self) -> frozenset[str]:
        """Every string the parser accepts: names, aliases and ``--no-x`` forms."""
        out: set[str] = set()
        for name, info in self.flags.items():
            out.add(name)
            out.update(info.get("aliases", ()))
            if info.get("negatable"):
                out.add("--no-" + name[2:])
            if info.get("inverse"):
                out.add(info["inverse"])
        return frozenset(out)

    def flag_for(self, option: str) -> tuple[str, dict[str, Any]] | None:
        """The flag an option string (a name, an alias or a ``--no-x``) belongs to."""
        if option in self.flags:
            return option, self.flags[option]
        for name, info in self.flags.items():
            if option in info.get("aliases", ()):
                return name, info
            if info.get("negatable") and option == "--no-" + name[2:]:
                return name, info
            if option == info.get("inverse"):
                return name, info
        return None

    def metric_state(self, name: str) -> str:
        """'present', 'hidden' (only with --show-hidden-metrics-for-version) or 'gone'."""
        info = self.metrics.get(name)
        if info is None or info.get("v0_only"):
            return "gone"
        return "hidden" if info.get("hidden") else "present"


@cache
def index() -> dict[str, Any]:
    path = FACTS_DIR / "index.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LlmpodError(
            code="broken_install",
            message=f"llmpod's vLLM release facts are missing or unreadable ({path}: {exc}).",
            suggestions=["reinstall llmpod; in a checkout, run scripts/gen_vllm_facts.py"],
        ) from None
    return data


def known_versions() -> tuple[str, ...]:
    return tuple(sorted(index()["versions"], key=version_key))


@cache
def facts_for(version: str) -> ReleaseFacts:
    """The facts of exactly this release; an unknown one is bad input (exit 1)."""
    versions = known_versions()
    if version not in versions:
        raise LlmpodError(
            code="unknown_vllm_release",
            message=(
                f"vLLM {version!r} is not a release llmpod has facts for "
                f"({versions[0]} … {versions[-1]}, {len(versions)} releases)."
            ),
            suggestions=[f"one of: {', '.join(versions[-6:])}"],
        )
    data = json.loads((FACTS_DIR / f"vllm-{version}.json").read_text(encoding="utf-8"))
    return ReleaseFacts(version=version, flags=data["flags"], metrics=data["metrics"])


def facts_near(version: str) -> ReleaseFacts:
    """The facts for a service's version: the release itself, else the newest known
    release not newer than it (a patch llmpod has no facts for behaves like its
    predecessor), else the oldest known one."""
    versions = known_versions()
    if version in versions:
        return facts_for(version)
    try:
        key = version_key(version)
    except ValueError:
        return facts_for(versions[-1])
    older = [v for v in versions if version_key(v) <= key]
    return facts_for(older[-1] if older else versions[0])
