"""render_stack: a stack file → the files `llmpod render` writes, plus a summary.

The stack file is read and validated with the same StackSpec the program uses
(for an error that names the file), then handed to the real Pulumi program as
stack config under the mock engine. What the program registers is what gets
written: there is no second code path that could drift from `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llmpod.deploy.registry import backend_for
from llmpod.deploy.stack import cost_per_hour
from llmpod.environments.stack_files import read_stack_config, stack_file
from llmpod.planning.service import ServicePlan
from llmpod.render.collect import RenderedObject
from llmpod.spec.stack import StackSpec

PROJECT = "llmpod"


@dataclass(frozen=True)
class ServiceSummary:
    name: str
    backend: str
    gpu: str
    layout: str
    replicas: int
    cost_per_hour: float
    files: int
    #: Indented lines under the summary: memory, KV cache, command, files.
    details: tuple[str, ...] = ()

    def line(self) -> str:
        return (
            f"{self.name}: {self.backend}, {self.layout} on {self.gpu}, "
            f"{self.replicas} replica(s), ${self.cost_per_hour:.2f}/h, {self.files} files"
        )

    def report(self) -> str:
        return "\n".join([self.line(), *(f"    {d}" for d in self.details)])


@dataclass(frozen=True)
class RenderResult:
    files: dict[str, str]
    services: list[ServiceSummary]
    stack_path: Path
    """The stack file that was rendered (printed, so nobody wonders which checkout)."""
    spec: StackSpec
    objects: list[RenderedObject] = field(default_factory=list)
    """What the policy pack sees: every deployable resource with its service."""


def _summary(sp: ServicePlan, files: dict[str, str]) -> ServiceSummary:
    e = sp.evaluation
    gpus = f"{e.gpus_per_replica} GPU" + ("s" if e.gpus_per_replica > 1 else "")
    layout = f"TP {e.tp} × PP {e.pp} ({gpus}"
    layout += f" over {e.nodes_per_replica} nodes)" if e.nodes_per_replica > 1 else ")"
    mem = e.limiting
    own = sorted(p for p in files if p.startswith(f"{sp.name}/"))
    details: tuple[str, ...] = (
        f"context {e.settings.max_model_len:,} tokens; KV cache {e.capacity.tokens:,} tokens "
        f"= {e.capacity.max_concurrency:.1f} full-context requests per replica",
        f"per GPU: {mem.weights_gib:.1f} GiB weights + {mem.activation_gib:.1f} activations + "
        f"{mem.non_torch_gib + mem.cuda_graph_gib:.1f} runtime + {mem.kv_cache_gib:.1f} KV "
        f"of {mem.requested_gib:.1f} GiB requested ({e.gpu.memory_gib} GiB card)",
        "vllm serve " + " ".join(sp.plan.vllm_args),
        "files: " + ", ".join(p.split("/", 1)[1] for p in own),
    )
    priced = backend_for(sp.spec.backend).cost_text(sp)
    if priced:
        details = (*details[:-1], priced, details[-1])
    return ServiceSummary(
        name=sp.name,
        backend=sp.spec.backend,
        gpu=e.gpu.key,
        layout=layout,
        replicas=sp.plan.replicas,
        cost_per_hour=cost_per_hour(sp),
        files=len(own),
        details=details,
    )


def render_stack(stack: str, stacks_dir: Path | None = None) -> RenderResult:
    from llmpod.program import run_program
    from llmpod.render.collect import collect_files, rendered_objects
    from llmpod.render.mock_engine import run_under_mocks

    path = stack_file(stack, stacks_dir)
    config = read_stack_config(path)
    spec = StackSpec.from_config(config, where=str(path))  # the file's own error, first
    llmpod_config = {k: v for k, v in config.items() if ":" not in k or k.startswith("llmpod:")}
    llmpod_config = {(k if ":" in k else f"llmpod:{k}"): v for k, v in llmpod_config.items()}
    # Offline: no AWS preflight (it needs credentials); `llmpod preflight` runs it.
    plans, regs = run_under_mocks(
        lambda: run_program(preflight=False), llmpod_config, project=PROJECT, stack=stack
    )
    files = collect_files(regs)
    return RenderResult(
        files,
        [_summary(sp, files) for sp in plans],
        stack_path=path.resolve(),
        spec=spec,
        objects=rendered_objects(regs),
    )
