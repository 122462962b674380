"""The upgrade gate's flag checks: each option of the planned `vllm serve` argument
lists against the target release's parser facts (llmpod.upgrade.check has the
statuses)."""

from __future__ import annotations

from typing import Any

from llmpod.releases.facts import ReleaseFacts, facts_for, known_versions, version_key
from llmpod.upgrade.findings import Finding

#: Options whose replacement the deprecation text does not name, with the fix
#: (vLLM release notes / the releases' arg_utils.py help).
KNOWN_REPLACEMENTS = {
    "--disable-log-requests": "drop it: request logging is off by default since 0.10.1 "
    "(--enable-log-requests turns it on)",
}


def _options(argv: tuple[str, ...] | list[str]) -> list[str]:
    return [a.split("=", 1)[0] for a in argv if a.startswith("-")]


def _values(argv: list[str]) -> dict[str, str]:
    """The value each option is given (``--x v`` or ``--x=v``); switches have none."""
    out: dict[str, str] = {}
    for i, arg in enumerate(argv):
        if not arg.startswith("-"):
            continue
        if "=" in arg:
            name, value = arg.split("=", 1)
            out[name] = value
        elif i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            out[arg] = argv[i + 1]
    return out


def _replacement(name: str, info: dict[str, Any] | None) -> str:
    if name in KNOWN_REPLACEMENTS:
        return KNOWN_REPLACEMENTS[name]
    if info and info.get("see"):
        return "use " + " / ".join(info["see"])
    return ""


def flag_findings(
    from_argv: list[str], to_argv: list[str], old: ReleaseFacts, new: ReleaseFacts
) -> list[Finding]:
    out: list[Finding] = []
    values = _values(to_argv)
    for option in _options(to_argv):
        hit = new.flag_for(option)
        if hit is None:
            prior = old.flag_for(option)
            fix = _replacement(prior[0], prior[1]) if prior else ""
            if not fix:
                fix = _first_release_with(option, new.version)
            out.append(
                Finding(
                    "flag",
                    option,
                    "removed",
                    True,
                    f"vLLM {new.version}'s parser rejects it: every pod would exit at start",
                    fix or f"remove the spec setting that renders {option}",
                )
            )
            continue
        name, info = hit
        value = values.get(option)
        choices = info.get("choices")
        if value is not None and choices and value not in choices:
            out.append(
                Finding(
                    "flag",
                    option,
                    "value_rejected",
                    True,
                    f"{option} {value}: vLLM {new.version} accepts only {', '.join(choices)}",
                    f"a value {new.version} accepts, or stay on {old.version}",
                )
            )
            continue
        if info.get("deprecated"):
            out.append(
                Finding(
                    "flag",
                    option,
                    "deprecated",
                    False,
                    f"accepted by {new.version} but deprecated (a later release removes it)",
                    _replacement(name, info),
                )
            )
            continue
        prior = old.flag_for(option)
        if (
            prior is not None
            and "default" in prior[1]
            and "default" in info
            and prior[1]["default"] != info["default"]
        ):
            out.append(
                Finding(
                    "flag",
                    option,
                    "default_changed",
                    False,
                    f"vLLM's default {_shown(prior[1]['default'])} → {_shown(info['default'])} "
                    "(llmpod sets it explicitly)",
                )
            )
            continue
        out.append(Finding("flag", option, "fine", False))
    rendered = set(_options(to_argv))
    for option in _options(from_argv):
        if option in rendered or new.flag_for(option) is not None:
            continue
        prior = old.flag_for(option)
        out.append(
            Finding(
                "flag",
                option,
                "dropped",
                False,
                f"rendered for {old.version}, rejected by {new.version}: llmpod's "
                f"{new.version} render leaves it out (a pod started with the "
                f"{old.version} argument list on the new image would exit at start)",
                _replacement(prior[0], prior[1]) if prior else "",
            )
        )
    return out


def _first_release_with(option: str, after: str) -> str:
    """A fix for an option the target lacks: the first later release that has it."""
    for version in known_versions():
        if version_key(version) > version_key(after) and facts_for(version).flag_for(option):
            return f"{option} first appears in vLLM {version}: move to {version} or newer"
    return ""


def _shown(default: object) -> str:
    """A flag's default as text; None is a value vLLM picks at start-up."""
    return "chosen at start-up" if default is None else repr(default)
