"""ServingSpec: what a user declares for one served model, per environment.

Everything here is validated without I/O: model references are only checked
for form (resolving hf:// or s3:// happens when planning, not in validators).
Fields marked ``local(...)`` belong to the environment and are kept by
`llmpod promote`; every other field is promotable.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from llmpod.errors import hint
from llmpod.models.quant_config import QUANTIZATIONS
from llmpod.spec.base import NOT_BOOL, SpecModel, local
from llmpod.spec.grammars import (
    AmiId,
    AwsRegion,
    Cidr,
    DnsLabel,
    DnsSubdomain,
    GitRevision,
    HttpUrl,
    ImageDigest,
    ImageRepository,
    LabelKey,
    LabelValue,
    ModelRef,
    OneLineText,
    SubnetId,
    VllmVersion,
    VpcId,
    WeightsSource,
    shown,
)
from llmpod.spec.vllm_options import Dtype, KvCacheDtype, Positive, VllmOptions
from llmpod.spec.vllm_version import parse_version

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

#: The deployment backends a service may name. A Literal so the spec's JSON schema
#: lists the choices; infra/llmpod/deploy/registry.py holds one implementation per
#: name (a test keeps the two in step). The spec-level rules of each backend (which
#: section it reads, what it cannot do yet) are ``ServingSpec._backend_rules``: data
#: rules, checked without importing any backend.
BackendName = Literal["kubernetes", "aws"]


class Workload(SpecModel):
    """The traffic the service must carry: the planner simulates vLLM's scheduler at
    this load for every layout and sizes replicas to meet the latency targets
    (targets.ttft_p95_ms, targets.itl_p95_ms) at the lowest cost."""

    input_tokens: Positive
    """Prompt tokens per request (mean), history and system prompt included."""
    output_tokens: Positive
    """Generated tokens per request (mean)."""
    concurrency: Positive | None = None
    """Requests in flight at once across all replicas (users waiting on an answer)."""
    rate_per_s: Annotated[float, NOT_BOOL, Field(gt=0, le=100_000)] | None = None
    """Alternatively, requests arriving per second across all replicas."""
    prefix_hit: Annotated[float, NOT_BOOL, Field(ge=0, le=1)] = 0.0
    """Share of prompt tokens served from vLLM's prefix cache (shared system prompts,
    multi-turn history); 0 plans for none."""

    @model_validator(mode="after")
    def _one_load(self) -> Workload:
        if (self.concurrency is None) == (self.rate_per_s is None):
            raise ValueError(
                "workload needs exactly one of concurrency (requests in flight) or "
                "rate_per_s (requests arriving per second)"
            )
        return self


class Targets(SpecModel):
    """Service-level targets. The planner sizes replicas and layout to meet them."""

    concurrency: Positive = 1
    """Worst-case sizing: simultaneous requests at the full max_model_len, across all
    replicas (the workload section sizes for the traffic you expect instead)."""
    kv_tokens: Positive | None = None
    """Alternatively, a KV-cache token budget across all replicas."""
    ttft_ms: Annotated[float, NOT_BOOL, Field(gt=0)] | None = None
    """Time to first token of a lone 512-token prompt (roofline estimate), ms."""
    inter_token_latency_ms: Annotated[float, NOT_BOOL, Field(gt=0)] | None = None
    """Per-request time between output tokens at concurrency 1 (estimate), ms."""
    throughput_tokens_per_s: Annotated[float, NOT_BOOL, Field(gt=0)] | None = None
    """Aggregate output tokens per second across replicas (estimate)."""
    ttft_p95_ms: Annotated[float, NOT_BOOL, Field(gt=0)] | None = None
    """95th-percentile time to first token at the workload's load (simulated), ms."""
    itl_p95_ms: Annotated[float, NOT_BOOL, Field(gt=0)] | None = None
    """95th-percentile per-request time between output tokens at the workload's load, ms."""


class GpuChoice(SpecModel):
    types: list[str] = Field(default_factory=lambda: ["H100"], min_length=1)
    """Acceptable GPU types (see `llmpod catalog gpus`). The planner takes the cheapest
    that meets the targets; the order given here only breaks ties of equal cost."""
    max_per_replica: Positive = 16
    """Most GPUs one replica may use."""
    max_nodes: Annotated[int, NOT_BOOL, Field(ge=1, le=8)] = 2
    """Most nodes (Kubernetes) or instances (AWS) one replica may span."""
    price_per_gpu_hour: dict[str, Annotated[float, NOT_BOOL, Field(ge=0)]] = Field(
        default_factory=dict
    )
    """Override catalog prices (e.g. committed-use discounts), keyed by GPU type."""

    @field_validator("price_per_gpu_hour")
    @classmethod
    def _known_priced_gpus(cls, value: dict[str, float]) -> dict[str, float]:
        # A misspelt key would silently leave the catalog price in force.
        return dict(zip(cls._catalog_keys(list(value)), value.values(), strict=True))

    @field_validator("types")
    @classmethod
    def _known_gpus(cls, value: list[str]) -> list[str]:
        # A type named twice (H100 and h100) is one preference, at its first place.
        return list(dict.fromkeys(cls._catalog_keys(value)))

    @classmethod
    def _catalog_keys(cls, value: list[str]) -> list[str]:
        from llmpod.errors import LlmpodError
        from llmpod.gpus.catalog import find_gpu

        try:
            return [find_gpu(v).key for v in value]
        except LlmpodError as err:  # pydantic only wraps ValueError
            raise ValueError(err.render()) from None


class Weights(SpecModel):
    """Where the weights come from and where they are kept for every replica."""

    source: WeightsSource | None = None
    """hf://org/name@revision or s3://bucket/prefix; defaults to the model reference."""
    size_gib: Annotated[float, NOT_BOOL, Field(gt=0)] | None = None
    """Volume size; default: the checkpoint size from the plan plus 20% headroom."""
    storage_class: DnsSubdomain | None = local(None)
    """ReadWriteMany storage class (EFS, Filestore, CephFS...) of this cluster."""
    hf_token_secret: DnsSubdomain | None = local("hf-token")
    """Kubernetes Secret holding HF_TOKEN (key `token`) for gated models."""
    load_bandwidth_mb_s: Annotated[float, NOT_BOOL, Field(gt=0)] = local(400.0)
    """Sustained read bandwidth from the weights volume; sizes the startup probe budget."""


class Image(SpecModel):
    vllm_version: VllmVersion = "0.32.0"
    """vLLM release the image runs; the planner uses this version's defaults."""
    repository: ImageRepository = "ghcr.io/llmpod/vllm"
    """Image holding vLLM plus llmpod's entrypoint and hooks (see images/vllm)."""
    digest: ImageDigest | None = None
    """sha256:… digest to pin the image; strongly recommended for production."""

    @field_validator("vllm_version")
    @classmethod
    def _version(cls, value: str) -> str:
        from llmpod.errors import LlmpodError

        try:
            parse_version(value)
        except LlmpodError as err:
            raise ValueError(err.render()) from None
        return value.lstrip("v")

    @property
    def reference(self) -> str:
        ref = f"{self.repository}:v{self.vllm_version}"
        return f"{ref}@{self.digest}" if self.digest else ref


class Replicas(SpecModel):
    min: Annotated[int, NOT_BOOL, Field(ge=0)] = local(1)
    """Floor; the planner may raise it to meet the targets."""
    max: Positive = local(4)
    """Ceiling for autoscaling."""
    autoscale: bool = local(False)
    """Scale on vLLM's queue (vllm:num_requests_waiting) with KEDA or an HPA."""
    queue_target: Positive = 8
    """Waiting requests per replica that trigger a scale-up."""
    single_replica_reason: OneLineText | None = local(None)
    """Why this service may run one replica in production (policy waiver; emitted as
    the llmpod.dev/pdb-waiver annotation)."""

    @model_validator(mode="after")
    def _bounds(self) -> Replicas:
        if self.max < self.min:
            raise ValueError(
                f"replicas.max ({self.max}) is below replicas.min ({self.min}); set max ≥ min"
            )
        return self


class Warmup(SpecModel):
    prompt_lengths: list[Positive] = Field(default_factory=lambda: [16, 512])
    """Prompt lengths (tokens) to send before the pod is marked ready; one near
    max_model_len is always added."""
    max_tokens: Positive = 16
    """Tokens generated per warmup request."""


#: Namespaces admitted to the serving port when a stack names none: the namespace the
#: ingress-nginx controller's install manifests and Helm chart create (its docs' default).
DEFAULT_ALLOWED_NAMESPACES = ("ingress-nginx",)


class Kubernetes(SpecModel):
    namespace: DnsLabel = local("llm")
    create_namespace: bool = local(False)
    """Create ``namespace`` with the stack (once, however many services share it) and
    delete it on destroy. Leave false where the platform team owns the namespace; the
    API server refuses every object in a namespace that does not exist."""
    tolerations_for_gpu_taint: bool = local(True)
    """Tolerate the usual nvidia.com/gpu / amd.com/gpu NoSchedule taints."""
    extra_node_selector: dict[LabelKey, LabelValue] = local(default_factory=dict)
    """Extra node labels the serving pods require (node affinity, sorted)."""
    service_monitor: bool = local(False)
    """Emit a Prometheus Operator ServiceMonitor."""
    prometheus_url: HttpUrl = local("http://prometheus-operated.monitoring.svc:9090")
    """Prometheus that KEDA queries for vllm:num_requests_waiting when replicas.autoscale
    is on (default: Prometheus Operator's governing Service in "monitoring")."""
    allowed_namespaces: list[DnsLabel] = local(
        default_factory=lambda: list(DEFAULT_ALLOWED_NAMESPACES)
    )
    """Namespaces (matched by name: the kubernetes.io/metadata.name label every namespace
    has) whose pods may reach the serving port (NetworkPolicy). List your ingress
    controller's or gateway's namespace and any client namespaces. Default: ingress-nginx,
    where the ingress-nginx controller's standard install runs. [] admits none by name."""
    allowed_namespace_labels: dict[LabelKey, LabelValue] = local(default_factory=dict)
    """Also admit every namespace carrying all these labels (e.g. llmpod.dev/client: "true"),
    for clients spread over namespaces that come and go. Default: none."""
    prometheus_namespace: str = local("monitoring")
    """Namespace of the Prometheus that scrapes /metrics (on the serving port): the
    NetworkPolicy admits it when service_monitor or replicas.autoscale is on."""
    memory_gib: Annotated[int, NOT_BOOL, Field(ge=4, le=4096)] | None = local(None)
    """Container memory for vLLM per pod, GiB (request = limit); the in-memory /dev/shm
    of multi-GPU pods is added on top. Default: sized from the plan's GPUs per pod,
    at least 16 GiB."""


class Aws(SpecModel):
    region: AwsRegion = local("us-east-1")
    vpc_id: VpcId | None = local(None)
    subnet_ids: list[SubnetId] = local(default_factory=list)
    allowed_cidrs: list[Cidr] = local(default_factory=lambda: ["10.0.0.0/8"])
    """Who may reach the serving port; 0.0.0.0/0 is refused in production unless allow_public."""
    allow_public: bool = local(False)
    weights_filesystem: Literal["efs", "fsx-lustre"] = local("efs")
    ami_id: AmiId | None = local(None)
    """AMI to launch; default: the AWS Deep Learning Base AMI (NVIDIA driver, Docker,
    NVIDIA container toolkit), resolved at launch from its public SSM parameter.
    Pin an ami-… ID for reproducible fleets."""


#: The shortest prompt a context must hold (the warmup's shortest default prompt).
MIN_PROMPT_TOKENS = 16


class ServingSpec(SpecModel):
    """One served model."""

    name: str
    """Service name: a DNS label (lower case, digits, '-'), at most 40 characters."""
    model: ModelRef
    """Catalog name, hf://org/name@revision, s3://bucket/prefix, or a config.json path."""
    revision: GitRevision | None = None
    """Model revision (commit) to serve; pinned in the weights marker."""
    dtype: Dtype = "auto"
    quantization: str | None = None
    """On-the-fly quantization (fp8, bitsandbytes) for an unquantized checkpoint."""
    kv_cache_dtype: KvCacheDtype = "auto"
    max_model_len: Positive | None = None
    """Context length; default: what vLLM derives from the model's config."""
    targets: Targets = Field(default_factory=Targets)
    workload: Workload | None = None
    """The traffic to plan for (lengths, load, prefix-cache share); without it the
    service is sized for targets.concurrency full-context requests."""
    gpus: GpuChoice = Field(default_factory=GpuChoice)
    backend: BackendName = "kubernetes"
    """Where the service runs (infra/llmpod/deploy/registry.py lists them)."""
    weights: Weights = Field(default_factory=Weights)
    image: Image = Field(default_factory=Image)
    replicas: Replicas = Field(default_factory=Replicas)
    vllm: VllmOptions = Field(default_factory=VllmOptions)
    warmup: Warmup = Field(default_factory=Warmup)
    domain: DnsSubdomain | None = local(None)
    """Public host name, if exposed."""
    labels: dict[LabelKey, LabelValue] = local(default_factory=dict)
    """Extra labels on every object of the service (llmpod's own keys win)."""
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    aws: Aws | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if len(value) > 40 or not _DNS_LABEL.fullmatch(value):
            example = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:40]
            # 40, not 63: derived names add up to 17 characters (-weights-<hash>).
            raise ValueError(
                f"must be a DNS label: lower-case letters, digits and '-', "
                f"starting with a letter, at most 40 characters "
                f"(e.g. {shown(example or 'chat')})"
            )
        return value

    @field_validator("model", mode="before")
    @classmethod
    def _model(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("quantization")
    @classmethod
    def _quant(cls, value: str | None) -> str | None:
        known = list(QUANTIZATIONS)
        if value is not None and value not in known:
            raise ValueError(f"must be one of {known}.{hint(value[:80], known)}")
        return value

    def _backend_rules(self) -> None:
        """Cross-field rules of the chosen backend, and the rule that a backend's own
        section (``aws:``) is only set on a service of that backend (anywhere else it
        would be silently ignored). ``kubernetes:`` has a working default for every key,
        so it is never refused."""
        if self.backend == "aws":
            if self.aws is None:
                raise ValueError("backend 'aws' needs an 'aws' section (at least aws.region)")
            if self.replicas.autoscale:
                # No scaling policy on the Auto Scaling group yet: accepting the flag
                # would promise queue-based scaling that never happens.
                raise ValueError(
                    "replicas.autoscale is not supported with backend: aws yet; the "
                    "Auto Scaling group runs the planned replica count (set "
                    "autoscale: false, and size with targets.concurrency)"
                )

    def _foreign_sections(self) -> None:
        if self.backend != "aws" and self.aws is not None:
            raise ValueError(
                "an 'aws' section is only read with backend: aws; remove it or set backend: aws"
            )

    @model_validator(mode="after")
    def _cross_field(self) -> ServingSpec:
        self._backend_rules()
        shortest = MIN_PROMPT_TOKENS + self.warmup.max_tokens
        if self.max_model_len is not None and self.max_model_len < shortest:
            raise ValueError(
                f"max_model_len: {self.max_model_len} tokens leaves no room for a prompt of "
                f"{MIN_PROMPT_TOKENS} tokens and the {self.warmup.max_tokens} the warmup "
                f"generates; use at least {shortest} (or leave it out for the model's own)"
            )
        self._foreign_sections()
        return self

    @property
    def weights_source(self) -> str:
        """Where the loader fetches weights from."""
        if self.weights.source:
            return self.weights.source
        if self.model.startswith(("hf://", "s3://")):
            return self.model
        rev = f"@{self.revision}" if self.revision else ""
        return f"hf://{self.model}{rev}"
