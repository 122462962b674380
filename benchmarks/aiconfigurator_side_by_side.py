"""llmpod's throughput estimate and aiconfigurator 0.12's, side by side, on the H200 rows.

Issue 19, item 6. The rows are benchmarks/throughput_h200.csv (vLLM 0.26.0 on one H200:
N in {1, 8, 32, 128} requests of 512 prompt tokens / 128 output tokens submitted
together; aggregate output tokens / (last token - submission)). llmpod's estimate per
row comes from ``benchmarks/throughput_accuracy.py --json``, run with a Python that has
llmpod installed (a subprocess: this script never imports llmpod, and llmpod never
imports aiconfigurator). aiconfigurator's estimate per row comes from its own API,
``aiconfigurator.cli.api.cli_estimate(mode="static", ...)``: the programmatic form of
``aiconfigurator cli estimate --mode static``, a single ``InferenceSession.run_static``
pass (prefill of the whole batch, then 128 decode steps of the same batch, no in-flight
batching), which is the quantity the CSV measures. Its ``tokens/s`` is
N * 128 / request_latency (TTFT included), checked below against that formula.

Not a test and not a dependency: aiconfigurator lives in its own venv, outside the
tracked files (``.cache/`` is git-ignored). Run by hand from the repository root:

    python3 -m venv .cache/aic-venv
    .cache/aic-venv/bin/pip install aiconfigurator==0.12.0
    .cache/aic-venv/bin/python benchmarks/aiconfigurator_side_by_side.py \\
        --llmpod-python .venv/bin/python > benchmarks/aiconfigurator_side_by_side.md

(``.venv`` = a venv with ``pip install -e .``; aiconfigurator's log lines go to stderr.)

Database mode: SILICON first (aiconfigurator's measured kernel tables only). Where SILICON
raises (a kernel its vLLM tables do not hold), the row counts as "cannot model" for
aiconfigurator, and the HYBRID estimate (its formula fallback for missing kernels) is
shown beside it for information, in its own summary line.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.metadata
import json
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CSV = REPO / "benchmarks" / "throughput_h200.csv"
CATALOG = REPO / "infra" / "llmpod" / "models" / "catalog"
TOLERANCE = 0.15
ISL, OSL = 512, 128
SYSTEM, BACKEND = "h200_sxm", "vllm"

#: llmpod catalog alias -> a model whose config aiconfigurator 0.12 ships (its
#: ``DefaultHFModels``; same shapes as the Instruct checkpoints the runs used).
#: Any other model is given to aiconfigurator as a local directory holding the
#: catalog's config.json (the one the H200 server loaded). Mixtral-8x7B's config
#: is in aiconfigurator's model_configs/ but not in DefaultHFModels, which makes
#: it try to download it from Hugging Face: it goes the local way too.
AIC_BUILTIN = {
    "llama-3.1-8b": "meta-llama/Meta-Llama-3.1-8B",
    "qwen3-8b": "Qwen/Qwen3-8B",
    "qwen3-30b-a3b": "Qwen/Qwen3-30B-A3B",
}


def forbid_network() -> None:
    """aiconfigurator downloads configs it does not ship; this benchmark must not
    send traffic anywhere. Name resolution fails instead, and the row is listed as
    one aiconfigurator cannot model."""

    def refuse(host: object, *args: object, **kwargs: object) -> object:
        raise OSError(f"network disabled by {Path(__file__).name} (asked for {host!r})")

    socket.getaddrinfo = refuse  # type: ignore[assignment]


HEADER = """\
# llmpod vs aiconfigurator 0.12 on the H200 throughput rows (issue 19, item 6)

- Generated {when} UTC by `{cmd}`
  (aiconfigurator in its own venv outside the tracked files: see the script's docstring).
- aiconfigurator {aic} (aiconfigurator-core {core}), system `{system}`, backend `{backend}`,
  database {db} (the newest vLLM version its H200 tables hold; the runs used vLLM 0.26.0).
  Call per row: `aiconfigurator.cli.api.cli_estimate(model, "{system}", mode="static",
  backend_name="{backend}", database_mode="SILICON", isl=512, osl=128, batch_size=N, tp_size=1,
  stride=1)`, plus `moe_tp_size=1, moe_ep_size=1` for MoE and the GEMM/KV quant modes in the
  table; its `tokens/s` = N × 128 / request_latency (TTFT included), as the CSV measures.
- Measured: vLLM 0.26.0 on one H200 (`benchmarks/throughput_h200.csv`, described in
  `benchmarks/h200/README.md`). llmpod: `benchmarks/throughput_accuracy.py --json` on this
  commit; its kernel efficiencies were fit on some of these rows (that script's FIT set),
  aiconfigurator's tables on none of them.
- AWQ rows: aiconfigurator 0.12 rejects the AWQ checkpoints' config.json (`ValueError:
  Unsupported quant algorithm: awq`), so they are given as the same shape without
  `quantization_config` plus `gemm_quant_mode="int4_wo"` (w4a16). Its vLLM H200 GEMM table
  holds no int4_wo rows, so SILICON cannot model them; the HYBRID column is its formula
  fallback for that GEMM, shown for information.
- Mixtral-8x7B: aiconfigurator ships its config but not in `DefaultHFModels`, so by name it
  tries to download it; it gets llmpod's catalog config.json instead (the script refuses
  all network access).
- error = estimate / measured − 1; ‘—’ = aiconfigurator cannot model the row in SILICON mode.
"""


@dataclass(frozen=True)
class AicInput:
    model_path: str
    model_label: str
    gemm_quant_mode: str | None
    kvcache_quant_mode: str | None
    moe: bool

    @property
    def quant_label(self) -> str:
        return f"gemm={self.gemm_quant_mode or 'auto'} kv={self.kvcache_quant_mode or 'auto'}"


def catalog_config(alias: str) -> dict[str, object]:
    for path in sorted(CATALOG.glob("*.json")):
        for model in json.loads(path.read_text())["models"]:
            if alias in model["aliases"]:
                return dict(model["config"])
    raise SystemExit(f"--model {alias}: not in {CATALOG}")


def aic_input(plan_args: str, workdir: Path) -> AicInput:
    """Translate one CSV row's `llmpod plan` arguments into aiconfigurator's."""
    words = shlex.split(plan_args)

    def flag(name: str) -> str | None:
        return words[words.index(name) + 1] if name in words else None

    model = flag("--model")
    assert model is not None
    if model.endswith(".json"):
        config = json.loads((REPO / model).read_text())
    else:
        config = catalog_config(model)
    quant_cfg = config.get("quantization_config")
    quant_method = quant_cfg.get("quant_method") if isinstance(quant_cfg, dict) else None
    if quant_method == "awq":
        # aiconfigurator 0.12 rejects the AWQ checkpoint's own config.json
        # ("Unsupported quant algorithm: awq", sdk/models/helpers.py); the bf16 shape
        # plus an explicit int4_wo GEMM mode (below) is the closest it can express.
        config = {k: v for k, v in config.items() if k != "quantization_config"}
    if model in AIC_BUILTIN:
        model_path, label = AIC_BUILTIN[model], AIC_BUILTIN[model]
    else:
        name = Path(model).parent.name if model.endswith(".json") else model
        directory = workdir / name
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(config))
        model_path, label = str(directory), f"llmpod's config.json of {name}"
    gemm: str | None = None
    if flag("--quantization") == "fp8":
        # vLLM's online fp8: per-tensor weight scales, dynamic activation scales,
        # CUTLASS scaled-mm on Hopper: aiconfigurator's "fp8" GEMM mode.
        gemm = "fp8"
    elif quant_method == "awq":
        # AWQ 4-bit group 128 runs weight-only int4 (w4a16) GEMMs.
        gemm = "int4_wo"
    elif quant_method is not None:
        raise SystemExit(
            f"{plan_args}: no aiconfigurator mapping for quant_method {quant_method!r}"
        )
    kv = "fp8" if flag("--kv-cache-dtype") == "fp8" else None
    moe = "num_experts" in config or "num_local_experts" in config
    return AicInput(model_path, label, gemm, kv, moe)


@dataclass(frozen=True)
class AicEstimate:
    tok_s: float
    version: str
    quant: str
    oom: bool


@dataclass
class SideBySide:
    run: str
    kernel_class: str
    n: int
    measured: float
    llmpod: float
    aic_model: str
    aic_quant: str
    aic: float | None = None
    aic_hybrid: float | None = None
    note: str = ""

    def error(self, estimate: float | None) -> float | None:
        return None if estimate is None else estimate / self.measured - 1


def aic_estimate(inp: AicInput, batch: int, database_mode: str) -> AicEstimate:
    from aiconfigurator.cli.api import cli_estimate
    from aiconfigurator_core.sdk.common import DefaultHFModels

    if not (Path(inp.model_path).is_dir() or inp.model_path in DefaultHFModels):
        raise SystemExit(f"{inp.model_path}: aiconfigurator would download it; give a local config")
    kwargs: dict[str, object] = {
        "mode": "static",
        "backend_name": BACKEND,
        "database_mode": database_mode,
        "isl": ISL,
        "osl": OSL,
        "batch_size": batch,
        "tp_size": 1,
        "stride": 1,
    }
    if inp.moe:
        kwargs.update(moe_tp_size=1, moe_ep_size=1)
    if inp.gemm_quant_mode:
        kwargs["gemm_quant_mode"] = inp.gemm_quant_mode
    if inp.kvcache_quant_mode:
        kwargs["kvcache_quant_mode"] = inp.kvcache_quant_mode
    result = cli_estimate(inp.model_path, SYSTEM, **kwargs)
    tok_s = float(result.raw["tokens/s"])
    by_formula = batch * OSL / (float(result.raw["request_latency"]) / 1000.0)
    if abs(tok_s / by_formula - 1) > 1e-6:
        raise SystemExit(f"aiconfigurator tokens/s {tok_s} != N*OSL/request_latency {by_formula}")
    return AicEstimate(
        tok_s=tok_s,
        version=str(result.backend_version),
        quant=f"gemm={result.raw.get('gemm')} kv={result.raw.get('kvcache')}",
        oom=bool(result.kv_cache_warning),
    )


def llmpod_rows(python: str, csv_path: Path) -> list[dict[str, object]]:
    out = subprocess.run(
        [
            python,
            str(REPO / "benchmarks" / "throughput_accuracy.py"),
            "--csv",
            str(csv_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if not out.stdout.strip():
        raise SystemExit(f"throughput_accuracy.py printed nothing: {out.stderr[-2000:]}")
    return list(json.loads(out.stdout)["rows"])


def first_line(exc: BaseException) -> str:
    """The exception's first line, without this machine's paths, safe in a table cell."""
    import aiconfigurator_core

    site = str(Path(aiconfigurator_core.__file__).parent.parent)
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return text.replace(site, "<site-packages>").replace("|", "/")[:300]


def stats(errors: list[float]) -> str:
    if not errors:
        return "no rows"
    within = sum(abs(e) <= TOLERANCE for e in errors)
    median = statistics.median(abs(e) for e in errors) * 100
    return f"{within}/{len(errors)}, median {median:.1f}%"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument(
        "--llmpod-python",
        default=str(REPO / ".venv" / "bin" / "python"),
        help="a Python with llmpod installed, to run throughput_accuracy.py --json",
    )
    ns = ap.parse_args()
    forbid_network()

    with ns.csv.open(newline="") as f:
        csv_rows = list(csv.DictReader(f))
    ours = {
        (str(r["run"]), int(str(r["concurrency"]))): r
        for r in llmpod_rows(ns.llmpod_python, ns.csv)
    }

    table: list[SideBySide] = []
    versions: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for r in csv_rows:
            batch = int(r["concurrency"])
            inp = aic_input(r["plan_args"], Path(tmp))
            mine = ours[(r["run"], batch)]
            row = SideBySide(
                run=r["run"],
                kernel_class=str(mine["class"]),
                n=batch,
                measured=float(r["measured_tok_s"]),
                # Unrounded (its JSON rounds "estimate" to 0.1 but not "error").
                llmpod=float(r["measured_tok_s"]) * (1 + float(str(mine["error"]))),
                aic_model=inp.model_label,
                aic_quant=inp.quant_label,
            )
            try:
                est = aic_estimate(inp, batch, "SILICON")
                row.aic, row.aic_quant = est.tok_s, est.quant
                versions.add(est.version)
                if est.oom:
                    row.note = "aiconfigurator flags OOM"
            except Exception as exc:  # any failure means "cannot model" in SILICON
                row.note = f"SILICON: {first_line(exc)}"
                try:
                    est = aic_estimate(inp, batch, "HYBRID")
                    row.aic_hybrid = est.tok_s
                    versions.add(est.version)
                except Exception as exc2:
                    row.note += f"; HYBRID: {first_line(exc2)}"
            table.append(row)

    exe = Path(sys.executable)
    if exe.is_relative_to(REPO):
        exe = exe.relative_to(REPO)
    cmd = " ".join(shlex.quote(str(a)) for a in [exe, *sys.argv])
    print(
        HEADER.format(
            when=f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M}",
            cmd=cmd,
            aic=importlib.metadata.version("aiconfigurator"),
            core=importlib.metadata.version("aiconfigurator_core"),
            system=SYSTEM,
            backend=BACKEND,
            db=", ".join(sorted(versions)),
        )
    )
    print(
        "| run | class | N | measured tok/s | llmpod | llmpod err | aiconfigurator | aic err "
        "| aic HYBRID (fallback) | aic model / quant | note |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for t in table:
        aic = "—" if t.aic is None else f"{t.aic:,.1f}"
        hyb = "" if t.aic_hybrid is None else f"{t.aic_hybrid:,.1f} ({pct(t.error(t.aic_hybrid))})"
        print(
            f"| {t.run} | {t.kernel_class} | {t.n} | {t.measured:,.1f} | {t.llmpod:,.1f} "
            f"| {pct(t.error(t.llmpod))} | {aic} | {pct(t.error(t.aic))} | {hyb} "
            f"| {t.aic_model}; {t.aic_quant} | {t.note} |"
        )

    def errors(rows: list[SideBySide], pick: Callable[[SideBySide], float | None]) -> list[float]:
        return [e for e in (r.error(pick(r)) for r in rows) if e is not None]

    print("\n## Summary: rows within 15% of the measurement / rows estimated, median |error|\n")
    print(
        "| rows | llmpod | aiconfigurator (SILICON) | aiconfigurator, HYBRID where SILICON cannot |"
    )
    print("|---|---|---|---|")
    classes = sorted({t.kernel_class for t in table})
    groups = [("all", table)]
    groups += [(f"class {c}", [t for t in table if t.kernel_class == c]) for c in classes]
    groups += [(f"N = {n}", [t for t in table if t.n == n]) for n in sorted({t.n for t in table})]
    for name, rows in groups:
        silicon = errors(rows, lambda r: r.aic)
        combined = errors(rows, lambda r: r.aic if r.aic is not None else r.aic_hybrid)
        cannot = len(rows) - len(silicon)
        cannot_note = f"; cannot model {cannot}" if cannot else ""
        print(
            f"| {name} ({len(rows)}) | {stats(errors(rows, lambda r: r.llmpod))} "
            f"| {stats(silicon)}{cannot_note} | {stats(combined)} |"
        )
    print("\n## Rows aiconfigurator cannot model (SILICON)\n")
    cannot_rows = [t for t in table if t.aic is None]
    if not cannot_rows:
        print("None.")
    for t in cannot_rows:
        print(f"- {t.run} N={t.n}: {t.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
