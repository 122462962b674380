"""Human view of a plan: a summary table and a per-GPU memory bar (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TextIO

from llmpod.planner.plan import Plan

if TYPE_CHECKING:  # this module imports rich inside the functions that print
    from rich.console import Console

_SEGMENTS = (
    ("weights_gib", "weights", "magenta"),
    ("lora_gib", "LoRA", "bright_magenta"),
    ("draft_gib", "draft", "cyan"),
    ("activation_gib", "activation", "yellow"),
    ("non_torch_gib", "non-torch", "red"),
    ("cuda_graph_gib", "cuda graphs", "blue"),
    ("kv_cache_gib", "KV cache", "green"),
)


def memory_bar(per_gpu: dict[str, float], width: int = 60) -> list[tuple[str, str, int]]:
    """(label, colour, characters) per segment; the characters add up to exactly ``width``.

    The scale is the GPU's memory, or what the parts add up to when they exceed it (an
    infeasible plan), and characters are shared out by largest remainder: rounding each
    part on its own could add up to more than ``width`` and wrap the bar in the terminal.
    """
    # Optional segments (LoRA, draft model) appear only when planned.
    segments = [seg for seg in _SEGMENTS if seg[0] in per_gpu]
    values = [max(0.0, per_gpu[key]) for key, _, _ in segments]
    total = max(0.0, per_gpu.get("total_gib", 0.0))
    headroom = max(0.0, total - sum(values))
    values.append(headroom)
    labels = [
        (f"{label} {v:.2f}", colour)
        for (_, label, colour), v in zip(segments, values[:-1], strict=True)
    ]
    labels.append((f"headroom {headroom:.2f}", "bright_black"))
    scale = sum(values) or 1.0
    exact = [v / scale * width for v in values]
    chars = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: chars[i] - exact[i])
    for i in by_remainder[: width - sum(chars)]:
        chars[i] += 1
    return [(label, colour, n) for (label, colour), n in zip(labels, chars, strict=True)]


def serve_command(plan: Plan) -> str:
    """One line a user can paste into a shell: every argument shell-quoted."""
    import shlex

    return shlex.join(["vllm", "serve", *plan.vllm_args])


def show(plan: Plan, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # Wraps prose at the terminal's width (COLUMNS); the serve line is printed
    # unwrapped (soft_wrap) so that copying it yields one working command.
    console = Console(file=out, highlight=False)
    data = plan.to_json()
    title = f"llmpod plan — {plan.model}"
    for warning in plan.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))
    if not plan.feasible:
        console.print(Text(f"{title}: does not fit", style="bold red"))
        for err in plan.errors:
            console.print(err.render())
        if data["per_gpu"]:
            console.print(Text("Closest layout per GPU (GiB):", style="bold"))
            _bar(console, data["per_gpu"])
        return
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", overflow="fold")
    per_gpu = data["per_gpu"]
    rows = [
        (
            "GPU",
            f"{data['gpu']} × {data['gpus_per_replica']} per replica, "
            f"{data['replicas']} replica(s), {data['nodes_per_replica']} node(s) each",
        ),
        (
            "Layout",
            f"TP {data['tensor_parallel_size']} × PP {data['pipeline_parallel_size']}"
            + (" + expert parallel" if data["expert_parallel"] else ""),
        ),
        ("Context", f"{data['max_model_len']:,} tokens"),
        (
            "KV cache",
            f"{data['kv_cache_tokens']:,} tokens, {data['max_concurrency']}× "
            "full-context concurrency per replica",
        ),
        ("Checkpoint", f"{data['checkpoint_gib']:.2f} GiB on disk (read from the volume)"),
        ("Weights/GPU", f"{per_gpu['weights_gib']:.2f} GiB in each GPU's memory"),
        (
            "Decode (est.)",
            ", ".join(
                f"{k}: {v:,.0f} tok/s" for k, v in data["estimates"]["decode_tokens_per_s"].items()
            ),
        ),
        ("TTFT 512 (est.)", f"{data['estimates']['ttft_s_512'] * 1000:.0f} ms"),
        ("Startup (est.)", _startup(data["estimates"]["startup_s"])),
        (
            "Cost",
            f"${data['cost']['per_hour']:.2f}/h"
            + (
                f", ${data['cost']['per_million_output_tokens']:.3f} per 1M output tokens"
                if data["cost"]["per_million_output_tokens"]
                else ""
            ),
        ),
    ]
    traffic = data["estimates"].get("workload")
    if traffic:
        rows.insert(-1, ("Traffic (sim.)", _traffic(traffic)))
    if data.get("task"):  # a pooling model: no decode, paid per input token
        rows = [r for r in rows if r[0] not in ("KV cache", "Decode (est.)", "Cost")] + [
            ("Task", f"{data['task']} (vLLM's pooling runner; no text is generated)"),
            (
                "Cost",
                f"${data['cost']['per_hour']:.2f}/h, "
                f"${data['cost']['per_million_input_tokens']:.4f} per 1M input tokens (est.)",
            ),
        ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)
    console.print(Text("Per GPU (GiB):", style="bold"))
    _bar(console, per_gpu)
    for reason in plan.reasons:
        console.print(Text(f"• {reason}"))
    console.print(Text(f"vLLM {data['vllm_version']}:", style="bold"))
    console.print(Text(serve_command(plan)), soft_wrap=True)


def _bar(console: Console, per_gpu: dict[str, float]) -> None:
    from rich.text import Text

    bar = Text()
    legend = Text()
    # Never wider than the terminal: a bar that wraps reads as two bars.
    width = max(1, min(60, console.width))
    for label, colour, chars in memory_bar(per_gpu, width):
        bar.append("█" * chars, style=colour)
        legend.append(f"■ {label}  ", style=colour)
    console.print(bar)
    console.print(legend)


def _startup(s: dict[str, Any]) -> str:
    init = s["engine_init"]
    return (
        f"{s['total']:.0f} s first replica, {s['total_warm_cache']:.0f} s with the compile "
        f"cache (read weights {s['weights_read']:.0f} s, engine init {init['cold']:.0f} s "
        f"cold / {init['warm_cache']:.0f} s warm)"
    )


def _traffic(w: dict[str, Any]) -> str:
    """The workload estimate in one cell: load, latency percentiles, throughput, cost."""
    ttft, itl = w["ttft_ms"], w["itl_ms"]

    def ms(x: float | None) -> str:
        return "—" if x is None else f"{x:,.0f} ms" if x >= 10 else f"{x:.1f} ms"

    cost = (w.get("cost_per_million_tokens") or {}).get("output")
    return (
        f"{w['load']} on {w['replicas_needed']} replica(s): TTFT p50/p95 "
        f"{ms(ttft['p50'])}/{ms(ttft['p95'])}, ITL p50/p95 {ms(itl['p50'])}/{ms(itl['p95'])}, "
        f"{w['output_tokens_per_s']:,.0f} output tok/s"
        + (f", ${cost:.3f} per 1M output tokens" if cost else "")
    )
