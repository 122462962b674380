"""What the weights loader fetches besides the checkpoint: LoRA adapters and the
speculative draft (pure).

Each is one source (hf://org/name at a revision, or s3://bucket/prefix) copied once
into its own directory on the shared weights volume, with its own marker, by the
same loader as the checkpoint (the Kubernetes loader Job, the AWS cloud-init
script); serving mounts the volume read-only and finds the files where the plan's
--lora-modules and --speculative-config say. A local directory cannot be fetched
by a cluster, so a service that names one is refused here, before any resource.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from llmpod import contract
from llmpod.errors import LlmpodError
from llmpod.planner.lora import LoraBudget, lora_bytes_per_gpu
from llmpod.planner.weights import GIB, checkpoint_bytes
from llmpod.planning.service import ServicePlan, adapter_dir
from llmpod.spec.vllm_version import parse_version

#: Marker file of a fetched directory (the checkpoint's has its own, k8s/contract.py).
MARKER_NAME = ".llmpod-fetched"


@dataclass(frozen=True)
class Fetch:
    """One extra source the loader copies onto the weights volume."""

    #: "draft", or "lora-<adapter name>": unique per service; names its script and
    #: marker in the scripts ConfigMap (adapter names are ConfigMap-key safe).
    key: str
    kind: Literal["adapter", "draft"]
    scheme: Literal["hf", "s3"]
    #: org/name, or bucket/prefix (no trailing '/').
    location: str
    #: The Hub revision ("main" when unpinned); "" for s3.
    revision: str
    #: Where its files go, as the serving containers see the volume.
    target_dir: str

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.location}"

    @property
    def marker_path(self) -> str:
        return f"{self.target_dir}/{MARKER_NAME}"

    @property
    def marker_text(self) -> str:
        """Written when done; compared byte for byte, so another revision is not ready."""
        return (
            f"llmpod-weights v1\nsource={self.uri}\nrevision={self.revision}\n"
            f"path={self.target_dir}\n"
        )


def _split(source: str) -> tuple[Literal["hf", "s3"], str, str]:
    scheme, _, rest = source.partition("://")
    if scheme == "s3":
        return "s3", rest.rstrip("/"), ""
    repo, _, rev = rest.partition("@")
    return "hf", repo, rev or "main"


def _local(sp: ServicePlan, field: str, value: str) -> LlmpodError:
    return LlmpodError(
        code="invalid_spec",
        message=(
            f"service {sp.name!r}: {field} {value!r} is a directory on this machine; the "
            f"weights loader fills the shared volume from hf:// or s3:// only, and no "
            f"{sp.spec.backend} node can read this machine's files."
        ),
        suggestions=[
            "upload it (`huggingface-cli upload` or `aws s3 sync`) and name hf://org/name@"
            "revision or s3://bucket/prefix instead",
            "a local directory serves with `llmpod plan` and the entrypoint on this machine",
        ],
    )


def _draft(sp: ServicePlan) -> Fetch | None:
    draft = sp.draft
    if draft is None:
        return None
    raw = draft.raw
    if raw.origin == "file":
        raise _local(sp, "vllm.speculative_model", str(sp.spec.vllm.speculative_model))
    if raw.origin == "s3":
        ref = str(sp.spec.vllm.speculative_model)
        scheme, location, revision = _split(ref.removesuffix("config.json"))
    else:  # catalog and hf: the Hub repo the config came from, at its revision
        scheme, location, revision = "hf", raw.name, raw.revision or "main"
    if draft.container_path == sp.model.container_path:
        return None  # the checkpoint itself (an MTP-style self-draft): already fetched
    return Fetch("draft", "draft", scheme, location, revision, draft.container_path)


def extra_fetches(sp: ServicePlan) -> tuple[Fetch, ...]:
    """The draft first, then the adapters by name: the loader's order, stable."""
    out: list[Fetch] = []
    draft = _draft(sp)
    if draft is not None:
        out.append(draft)
    for adapter in sorted(sp.spec.vllm.adapters, key=lambda a: a.name):
        if not adapter.source.startswith(("hf://", "s3://")):
            raise _local(sp, f"vllm.adapters[{adapter.name}].source", adapter.source)
        scheme, location, revision = _split(adapter.source)
        target = adapter_dir(adapter.source, adapter.name)
        assert target.startswith(contract.ADAPTERS_DIR + "/")
        out.append(Fetch(f"lora-{adapter.name}", "adapter", scheme, location, revision, target))
    return tuple(out)


#: Bytes per element of a saved adapter: PEFT keeps LoRA weights in float32 unless
#: the trainer cast them, so the volume is sized for that.
_ADAPTER_BYTES = 4


def extra_weights_gib(sp: ServicePlan) -> float:
    """Room the extra fetches take on the weights volume: the draft's checkpoint and,
    per adapter, a LoRA of its rank over every module vLLM can target (embedding and
    LM head included): an upper bound, as adapters usually target fewer."""
    version = parse_version(sp.spec.image.vllm_version)
    total = 0.0
    if sp.draft is not None and _draft(sp) is not None:
        d = sp.draft.facts
        total += checkpoint_bytes(d, d.quant, 2, version)
    m = sp.model.facts
    for adapter in sp.spec.vllm.adapters:
        total += lora_bytes_per_gpu(
            m,
            range(m.num_layers),
            tp=1,
            first_stage=True,
            last_stage=True,
            budget=LoraBudget(max_loras=1, max_lora_rank=adapter.rank),
            dtype_bytes=_ADAPTER_BYTES,
        )
    return total / GIB
