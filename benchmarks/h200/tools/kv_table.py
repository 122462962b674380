"""Markdown table of the memory figures of the runs that add flags to a baseline.

CPU side, stdlib only, from the repository root:
    python benchmarks/h200/tools/kv_table.py
Every run whose summary.json names a ``baseline`` (scenarios5.json) is set against
the run of the same session launched with the baseline's arguments alone (its
``added_flags`` empty), or, when that run is missing, the recorded baseline itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RUNS = Path("benchmarks/h200/runs")
COLUMNS = (
    "run",
    "flags added",
    "runner",
    "weights GiB",
    "activation GiB",
    "non-torch GiB",
    "graph GiB (estimate subtracted)",
    "KV GiB",
    "KV tokens",
    "compared with",
    "ΔKV GiB",
    "ΔKV tokens",
)


def summaries() -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(RUNS.glob("*/summary.json"))}


def reference(name: str, s: dict, all_runs: dict[str, dict]) -> str:
    for other, o in all_runs.items():
        if other != name and o.get("baseline") == s["baseline"] and o.get("added_flags") == []:
            return other
    return str(s["baseline"])


def fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, list):
        return " + ".join(fmt(x) for x in v)
    if isinstance(v, float) and v.is_integer() and v > 1000:
        return f"{int(v):,}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def flag_text(flags: list[str]) -> str:
    return " ".join(flags).replace("|", "\\|") or "(none: baseline again)"


def rows() -> list[list[str]]:
    runs = summaries()
    out = []
    for name, s in runs.items():
        if "baseline" not in s:
            continue
        st = s.get("startup", {})
        ref_name = reference(name, s, runs)
        ref = runs.get(ref_name, {}).get("startup", {})
        kv, kv_ref = st.get("available_kv_gib"), ref.get("available_kv_gib")
        tok, tok_ref = st.get("kv_cache_tokens"), ref.get("kv_cache_tokens")
        graph = fmt(st.get("cudagraph_usage_gib"))
        if "estimated_cudagraph_gib" in st:
            graph += f" ({fmt(st['estimated_cudagraph_gib'])})"
        same = ref_name == name
        out.append(
            [
                name,
                flag_text(s.get("added_flags", [])),
                st.get("model_runner", "-"),
                fmt(st.get("weights_usage_gib", st.get("model_loading_gib"))),
                fmt(st.get("peak_activation_gib")),
                fmt(st.get("non_torch_gib")),
                graph,
                fmt(kv),
                fmt(tok),
                ref_name,
                f"{kv - kv_ref:+.2f}"
                if kv is not None and kv_ref is not None and not same
                else "-",
                f"{(tok - tok_ref) / tok_ref:+.2%}"
                if tok is not None and tok_ref and not same
                else "-",
            ]
        )
    return out


def main() -> int:
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for r in rows():
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
