"""Human view of a plan: a summary table and a per-GPU memory bar (rich)."""

from __future__ import annotations

from typing import Any, TextIO

from infra.planner.plan import Plan

_SEGMENTS = (("weights_gib", "weights", "magenta"), ("activation_gib", "activation", "yellow"),
             ("non_torch_gib", "non-torch", "red"), ("cuda_graph_gib", "cuda graphs", "blue"),
             ("kv_cache_gib", "KV cache", "green"))


def memory_bar(per_gpu: dict[str, float], width: int = 60) -> list[tuple[str, str, int]]:
    """(label, colour, characters) per segment of the total, rounded to ``width`` chars."""
    total = per_gpu["total_gib"] or 1.0
    parts = []
    for key, label, colour in _SEGMENTS:
        value = max(0.0, per_gpu.get(key, 0.0))
        parts.append((f"{label} {value:.2f}", colour, round(value / total * width)))
    free = max(0, width - sum(p[2] for p in parts))
    used = sum(max(0.0, per_gpu.get(k, 0.0)) for k, _, _ in _SEGMENTS)
    parts.append((f"headroom {max(0.0, total - used):.2f}", "bright_black", free))
    return parts


def show(plan: Plan, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=True)
    data = plan.to_json()
    title = f"llmpod plan — {plan.model}"
    if not plan.feasible:
        console.print(Text(f"{title}: does not fit", style="bold red"))
        for err in plan.errors:
            console.print(err.render())
        if data["per_gpu"]:
            console.print(Text("Closest layout per GPU (GiB):", style="bold"))
            _bar(console, data["per_gpu"])
        return
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    rows = [
        ("GPU", f"{data['gpu']} × {data['gpus_per_replica']} per replica, "
                f"{data['replicas']} replica(s), {data['nodes_per_replica']} node(s) each"),
        ("Layout", f"TP {data['tensor_parallel_size']} × PP {data['pipeline_parallel_size']}"
                   + (" + expert parallel" if data["expert_parallel"] else "")),
        ("Context", f"{data['max_model_len']:,} tokens"),
        ("KV cache", f"{data['kv_cache_tokens']:,} tokens, {data['max_concurrency']}× "
                     "full-context concurrency per replica"),
        ("Weights", f"{data['weights_gib_total']} GiB total"),
        ("Decode (est.)", ", ".join(f"{k}: {v:,.0f} tok/s" for k, v in
                                    data["estimates"]["decode_tokens_per_s"].items())),
        ("TTFT 512 (est.)", f"{data['estimates']['ttft_s_512'] * 1000:.0f} ms"),
        ("Startup (est.)", _startup(data["estimates"]["startup_s"])),
        ("Cost", f"${data['cost']['per_hour']:.2f}/h"
                 + (f", ${data['cost']['per_million_output_tokens']:.3f} per 1M output tokens"
                    if data["cost"]["per_million_output_tokens"] else "")),
        ("vLLM " + data["vllm_version"], " ".join(data["vllm_args"])),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    console.print(Text("Per GPU (GiB):", style="bold"))
    _bar(console, data["per_gpu"])
    for reason in plan.reasons:
        console.print(f"• {reason}")


def _bar(console: object, per_gpu: dict[str, float]) -> None:
    from rich.text import Text

    bar = Text()
    legend = Text()
    for label, colour, chars in memory_bar(per_gpu):
        bar.append("█" * chars, style=colour)
        legend.append(f"■ {label}  ", style=colour)
    console.print(bar)  # type: ignore[attr-defined]
    console.print(legend)  # type: ignore[attr-defined]


def _startup(s: dict[str, Any]) -> str:
    init = s["engine_init"]
    return (f"{s['total']:.0f} s first replica, {s['total_warm_cache']:.0f} s with the compile "
            f"cache (read weights {s['weights_read']:.0f} s, engine init {init['cold']:.0f} s "
            f"cold / {init['warm_cache']:.0f} s warm)")
