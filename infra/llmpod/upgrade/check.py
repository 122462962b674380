"""The upgrade gate: what moving a service to another vLLM release changes or breaks.

For each service of a stack, against the target release's facts
(llmpod.releases.facts):

* flags: every option llmpod renders for the target (``fine``, ``deprecated``
  with its replacement, ``default_changed`` from the current release,
  ``removed``: the target's parser rejects it and every pod would crash at
  start, or ``value_rejected``: its value is not one of the target's choices),
  and every option rendered for the current release that the target rejects
  (``dropped``: llmpod's render for the target leaves it out; a pod started
  with the current argument list on the new image would crash);
* metrics: every name llmpod queries or reads (llmpod.upgrade.metric_uses):
  ``present``, ``hidden`` (only with ``--show-hidden-metrics-for-version``) or
  ``gone``; a rename between the two releases is named, since queries of your
  own on the old name go blind;
* the plan under the target's memory rules: KV-cache tokens and throughput.

A finding ``breaks`` when what llmpod would run on the target fails there: a
rendered flag or value the target rejects, a required metric it does not export, a
plan that no longer fits or a release llmpod does not model. Exit 3 then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmpod.errors import LlmpodError
from llmpod.image.plan_file import DEPLOYMENT_FLAGS
from llmpod.planning.service import ServicePlan, plan_service
from llmpod.releases.facts import ReleaseFacts, facts_for, facts_near, known_versions, version_key
from llmpod.releases.for_release import metric_name
from llmpod.spec.service import ServingSpec
from llmpod.spec.stack import StackSpec
from llmpod.upgrade.metric_uses import USES

#: Options whose replacement the deprecation text does not name, with the fix
#: (vLLM release notes / the releases' arg_utils.py help).
KNOWN_REPLACEMENTS = {
    "--disable-log-requests": "drop it: request logging is off by default since 0.10.1 "
    "(--enable-log-requests turns it on)",
}


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


@dataclass
class ServiceCheck:
    service: str
    from_version: str
    to_version: str
    findings: list[Finding] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)

    @property
    def breaks(self) -> bool:
        return any(f.breaks for f in self.findings)

    @property
    def needs_rerender(self) -> bool:
        """Something rendered for the current release fails on the target (llmpod's
        render for the target follows; an argument list or query kept by hand breaks)."""
        return any(f.status in ("dropped", "renamed") for f in self.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "from": self.from_version,
            "to": self.to_version,
            "breaks": self.breaks,
            "needs_rerender": self.needs_rerender,
            "findings": [f.as_json() for f in self.findings],
            "plan": self.plan,
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


def metric_findings(sp: ServingSpec, from_version: str, new: ReleaseFacts) -> list[Finding]:
    """One finding per metric name llmpod would use on the target, naming every user."""
    grouped: dict[tuple[str, str], list[tuple[str, bool, tuple[str, ...]]]] = {}
    for use in USES:
        if not use.applies_to(sp):
            continue
        before = metric_name(use.metric.names, from_version)
        after = metric_name(use.metric.names, new.version)
        grouped.setdefault((after, before), []).append((use.where, use.required, use.metric.names))
    out: list[Finding] = []
    for (after, before), uses in sorted(grouped.items()):
        state = new.metric_state(after)
        required = any(r for _, r, _ in uses)
        detail = f"{after} is {state} in {new.version}; used by " + ", ".join(
            sorted({w for w, _, _ in uses})
        )
        fix = ""
        if state == "hidden":
            fix = f"only exported with --show-hidden-metrics-for-version={new.version}"
        elif state == "gone":
            fix = f"{new.version} exports none of {', '.join(uses[0][2])}"
        status = state
        if before != after:
            detail += f"; renamed from {before}: queries of your own on {before} go blind"
            if state == "present":
                status = "renamed"
                fix = f"llmpod renders {after} for {new.version}; move your own queries to it"
        out.append(Finding("metric", after, status, required and state != "present", detail, fix))
    covered = {f.subject for f in out} | {before for (_after, before) in grouped}
    out += _vanished_names(sp, from_version, new, covered)
    return out


def _vanished_names(
    sp: ServingSpec, from_version: str, new: ReleaseFacts, used: set[str]
) -> list[Finding]:
    """Older names of the metrics llmpod uses that the current release exports and the
    target does not: llmpod follows the rename, but queries, alerts and dashboards of
    your own (or rendered by an older llmpod) on the old name go blind."""
    old = facts_near(from_version)
    out: dict[str, Finding] = {}
    for use in USES:
        if not use.applies_to(sp):
            continue
        current = metric_name(use.metric.names, new.version)
        for name in use.metric.names:
            if name in used or name in out or old.metric_state(name) != "present":
                continue
            state = new.metric_state(name)
            if state == "present":
                continue
            out[name] = Finding(
                "metric",
                name,
                "renamed",
                False,
                f"exported by {old.version}, {state} in {new.version}: renamed to {current}",
                f"llmpod queries {current} for {new.version}; move your own queries to it",
            )
    return sorted(out.values(), key=lambda f: f.subject)


def _plan_figures(sp: ServicePlan) -> dict[str, Any]:
    data = sp.plan.to_json()
    rates = data["estimates"].get("decode_tokens_per_s", {})
    return {
        "gpu": data["gpu"],
        "gpus_per_replica": data["gpus_per_replica"],
        "replicas": data["replicas"],
        "kv_cache_tokens": data["kv_cache_tokens"],
        "max_concurrency": data["max_concurrency"],
        "decode_tokens_per_s_peak": max(rates.values()) if rates else None,
    }


def check_service(spec: ServingSpec, environment: str, to_version: str) -> ServiceCheck:
    new = facts_for(to_version)  # an unknown release is bad input (exit 1)
    from_version = spec.image.vllm_version
    result = ServiceCheck(spec.name, from_version, to_version)
    old = facts_near(from_version)
    current = plan_service(spec, environment)
    moved = spec.model_copy(
        update={"image": spec.image.model_copy(update={"vllm_version": to_version})}
    )
    try:
        target = plan_service(moved, environment)
    except LlmpodError as err:
        fix = "; ".join(err.suggestions) or f"keep image.vllm_version {from_version}"
        if err.code == "bad_vllm_version":  # the planner's own tip names a CLI flag
            fix = f"keep image.vllm_version {from_version}, or move to 0.10.0 or newer"
        result.findings.append(
            Finding(
                "plan",
                "plan",
                "does_not_fit" if err.exit_code == 2 else "unsupported",
                True,
                err.message,
                fix,
            )
        )
        # No plan for the target: hold the current argument list to it instead.
        argv = [*current.plan.vllm_args, *DEPLOYMENT_FLAGS]
        result.findings += flag_findings(argv, argv, old, new)
        result.findings += metric_findings(spec, from_version, new)
        result.plan = {"from": _plan_figures(current), "to": None}
        return result
    # The entrypoint appends --host/--port (image/plan_file.py) to the planned list.
    result.findings += flag_findings(
        [*current.plan.vllm_args, *DEPLOYMENT_FLAGS],
        [*target.plan.vllm_args, *DEPLOYMENT_FLAGS],
        old,
        new,
    )
    result.findings += metric_findings(spec, from_version, new)
    before, after = _plan_figures(current), _plan_figures(target)
    result.plan = {"from": before, "to": after}
    return result


def check_stack(stack: StackSpec, to_version: str) -> list[ServiceCheck]:
    facts_for(to_version)
    return [check_service(s, stack.environment, to_version) for s in stack.services]


def _first_release_with(option: str, after: str) -> str:
    """A fix for an option the target lacks: the first later release that has it."""
    for version in known_versions():
        if version_key(version) > version_key(after) and facts_for(version).flag_for(option):
            return f"{option} first appears in vLLM {version}: move to {version} or newer"
    return ""


def _shown(default: object) -> str:
    """A flag's default as text; None is a value vLLM picks at start-up."""
    return "chosen at start-up" if default is None else repr(default)
