"""Plan diff between two stacks, service by service (pure data, no rendering).

Both `llmpod diff A B` and `llmpod promote` build a ``StackDiff``; the rich
table and the GitHub markdown are two views of the same rows, so a PR comment
and a terminal always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llmpod.environments.summary import PlanSummary

ABSENT = "—"


@dataclass(frozen=True)
class Row:
    label: str
    a: str
    b: str

    @property
    def changed(self) -> bool:
        return self.a != self.b


@dataclass(frozen=True)
class ServiceDiff:
    name: str
    a: PlanSummary | None
    b: PlanSummary | None
    rows: tuple[Row, ...]
    #: (flag, value in A, value in B) for every vLLM flag that differs.
    arg_changes: tuple[tuple[str, str, str], ...]

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.rows)


@dataclass(frozen=True)
class Price:
    gpu: str
    per_gpu_hour: float
    source: str
    as_of: str


@dataclass(frozen=True)
class StackDiff:
    a_label: str
    b_label: str
    services: tuple[ServiceDiff, ...]
    prices: tuple[Price, ...] = field(default_factory=tuple)

    def total_cost(self, side: str) -> float:
        total = 0.0
        for s in self.services:
            summary = s.a if side == "a" else s.b
            if summary is not None and summary.error is None:
                total += summary.cost_per_hour
        return round(total, 2)

    @property
    def changed(self) -> bool:
        return any(s.changed for s in self.services)


def money(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"${value:,.{digits}f}"


def parse_flags(args: tuple[str, ...]) -> dict[str, str]:
    """``--flag value`` pairs; a flag followed by another flag (or nothing) is a switch."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if token.startswith("--"):
            flag, eq, inline = token.partition("=")
            if eq:
                out[flag] = inline
            elif i + 1 < len(args) and not args[i + 1].startswith("--"):
                out[flag] = args[i + 1]
                i += 1
            else:
                out[flag] = "(on)"
        i += 1
    return out


def _arg_changes(a: PlanSummary | None, b: PlanSummary | None) -> tuple[tuple[str, str, str], ...]:
    fa = parse_flags(a.vllm_args) if a and not a.error else {}
    fb = parse_flags(b.vllm_args) if b and not b.error else {}
    return tuple(
        (f, fa.get(f, "(unset)"), fb.get(f, "(unset)"))
        for f in sorted(set(fa) | set(fb))
        if fa.get(f) != fb.get(f)
    )


def _cells(
    s: PlanSummary | None,
    other: PlanSummary | None,
    changes: tuple[tuple[str, str, str], ...],
    side: int,
) -> list[str]:
    if s is None:
        return [ABSENT] * len(LABELS)
    if s.error is not None:
        return ["does not plan"] + [ABSENT] * (len(LABELS) - 1)
    if other is None or other.error is not None:
        args_cell = f"{len(s.vllm_args)} args (see command line)"
    elif changes:
        args_cell = " ".join(
            f"{c[0]} {c[side]}" if c[side] != "(unset)" else f"(no {c[0]})" for c in changes
        )
    else:
        args_cell = f"same ({len(s.vllm_args)} args)"
    return [
        str(s.gpu),
        str(s.gpus_per_replica),
        str(s.tensor_parallel),
        str(s.pipeline_parallel),
        str(s.replicas),
        str(s.nodes_per_replica),
        str(s.gpus_total),
        money(s.cost_per_hour),
        money(s.cost_per_million_output_tokens, 3),
        money(s.workload_cost_per_million_output, 3),
        money(s.workload_cost_per_million_input, 3),
        args_cell,
    ]


LABELS = (
    "GPU type",
    "GPUs per replica",
    "Tensor parallel",
    "Pipeline parallel",
    "Replicas",
    "Nodes per replica",
    "GPUs total",
    "Cost per hour",
    "Cost per 1M output tokens (est.)",
    "At the workload: per 1M output tokens",
    "At the workload: per 1M input tokens",
    "vLLM args",
)


def diff_service(name: str, a: PlanSummary | None, b: PlanSummary | None) -> ServiceDiff:
    changes = _arg_changes(a, b)
    rows = tuple(
        Row(label, ca, cb)
        for label, ca, cb in zip(
            LABELS, _cells(a, b, changes, 1), _cells(b, a, changes, 2), strict=True
        )
    )
    return ServiceDiff(name, a, b, rows, changes)


def diff_stacks(
    a_label: str, a: dict[str, PlanSummary], b_label: str, b: dict[str, PlanSummary]
) -> StackDiff:
    """Services in A's order, then those only in B; prices of every GPU shown."""
    names = list(a) + [n for n in b if n not in a]
    services = tuple(diff_service(n, a.get(n), b.get(n)) for n in names)
    # Keyed by price too: a stack may override the catalog price of a GPU type.
    prices = {
        (s.gpu, s.price_per_gpu_hour): Price(
            s.gpu, s.price_per_gpu_hour, s.price_source or "unknown", s.price_as_of or "unknown"
        )
        for s in [*a.values(), *b.values()]
        if s.error is None and s.gpu
    }
    return StackDiff(a_label, b_label, services, tuple(prices[k] for k in sorted(prices)))
