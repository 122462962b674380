"""Layout drift: one promotable spec, two environments, two different layouts.

Staging exists to exercise what production will run. When a service carries
the same promotable spec in both but plans to another GPU, TP/PP or replica
count (usually because a local value such as replicas.min differs), staging
tests a layout production never runs; `llmpod diff` says so and names the
local values behind it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from llmpod.environments.promotable import leaves_of
from llmpod.environments.summary import PlanSummary
from llmpod.spec.service import ServingSpec


@dataclass(frozen=True)
class Drift:
    service: str
    a: str
    """Layout in A, e.g. 'TP 4 × PP 1 × 1 replica(s) on H100'."""
    b: str
    #: (local path, value in A, value in B) of the environment's own values that differ.
    local_differences: tuple[tuple[str, object, object], ...]

    def message(self, a_label: str, b_label: str) -> str:
        why = (
            "; local values that differ: "
            + ", ".join(f"{p} {va} → {vb}" for p, va, vb in self.local_differences)
            if self.local_differences
            else ""
        )
        return (
            f"layout drift: {self.service} has the same promotable spec in {a_label} and "
            f"{b_label} but plans {self.a} vs {self.b}, so {a_label} does not exercise "
            f"{b_label}'s layout{why}."
        )


def _layout(s: PlanSummary) -> str:
    return f"TP {s.tensor_parallel} × PP {s.pipeline_parallel} × {s.replicas} replica(s) on {s.gpu}"


def _local_differences(a: ServingSpec, b: ServingSpec) -> tuple[tuple[str, object, object], ...]:
    promotable = set(leaves_of(a))
    da, db = _flat(a.model_dump(mode="json")), _flat(b.model_dump(mode="json"))
    return tuple(
        (p, da.get(p), db.get(p))
        for p in sorted(set(da) | set(db))
        if p not in promotable
        and da.get(p) != db.get(p)
        and p.startswith(("replicas.", "gpus.", "vllm."))
    )


def _flat(data: dict[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, path + "."))
        else:
            out[path] = value
    return out


def layout_drift(
    a_specs: Mapping[str, ServingSpec],
    a: Mapping[str, PlanSummary],
    b_specs: Mapping[str, ServingSpec],
    b: Mapping[str, PlanSummary],
) -> list[Drift]:
    out = []
    for name in a_specs:
        if name not in b_specs or name not in a or name not in b:
            continue
        sa, sb = a[name], b[name]
        if sa.error or sb.error or leaves_of(a_specs[name]) != leaves_of(b_specs[name]):
            continue
        if (sa.gpu, sa.tensor_parallel, sa.pipeline_parallel, sa.replicas) != (
            sb.gpu,
            sb.tensor_parallel,
            sb.pipeline_parallel,
            sb.replicas,
        ):
            out.append(
                Drift(
                    name, _layout(sa), _layout(sb), _local_differences(a_specs[name], b_specs[name])
                )
            )
    return out
