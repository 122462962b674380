"""String types by destination: every user string is checked against the grammar
of the place it lands (a Kubernetes name or label, an AWS region, an S3 bucket or
key, an OCI image reference, a git revision, a Hub repo id, a path...).

The checks are pure functions returning the problem (or None) so the renderers'
own guards (IAM builder, manifest validation) reuse them; the ``Annotated`` types
wrap them for pydantic. Messages never repeat the value: ``spec_error`` shows it
once, truncated and with control characters escaped (``shown``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator

from llmpod.errors import shown

__all__ = ["shown"]  # re-exported: the spec's error formatting uses it from here

_CONTROL = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069"
    r"\ufeff]"
)


def _control(value: str) -> str | None:
    bad = _CONTROL.search(value)
    return f"it contains the control character {bad.group()!r}" if bad else None


def _first_bad(value: str, allowed: str) -> str:
    """The first character outside the ``allowed`` class, for the message."""
    bad = re.search(f"[^{allowed}]", value)
    return f"{bad.group()!r} is not allowed" if bad else "its form is wrong"


# ------------------------------------------------------------------ Kubernetes
# Grammars from k8s.io/apimachinery/pkg/util/validation (Kubernetes 1.33).

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


def dns_label_problem(value: str, max_len: int = 63) -> str | None:
    if not value:
        return "it is empty"
    if len(value) > max_len:
        return f"it is {len(value)} characters long (at most {max_len})"
    if not _DNS_LABEL.fullmatch(value):
        return _control(value) or (
            "it must start and end with a letter or digit"
            if value[0] == "-" or value[-1] == "-"
            else _first_bad(value, "-a-z0-9")
        )
    return None


def dns_subdomain_problem(value: str) -> str | None:
    if not value:
        return "it is empty"
    if len(value) > 253:
        return f"it is {len(value)} characters long (at most 253)"
    if not _DNS_SUBDOMAIN.fullmatch(value):
        return _control(value) or (
            "every dot-separated part must start and end with a letter or digit"
            if re.fullmatch(r"[-a-z0-9.]+", value)
            else _first_bad(value, "-a-z0-9.")
        )
    return None


def label_key_problem(value: str) -> str | None:
    """``[prefix/]name``: prefix a DNS subdomain, name ≤ 63 of [A-Za-z0-9._-]."""
    prefix, slash, name = value.rpartition("/")
    if slash and (problem := dns_subdomain_problem(prefix)):
        return f"its prefix {prefix[:40]!r}: {problem}"
    if not name:
        return "its name part is empty"
    if len(name) > 63:
        return f"its name part is {len(name)} characters long (at most 63)"
    if not _QUALIFIED_NAME.fullmatch(name):
        return _qualified_problem(name)
    return None


def label_value_problem(value: str) -> str | None:
    if value == "":
        return None
    if len(value) > 63:
        return f"it is {len(value)} characters long (at most 63)"
    if not _QUALIFIED_NAME.fullmatch(value):
        return _qualified_problem(value)
    return None


def _qualified_problem(value: str) -> str:
    if re.search(r"[^-A-Za-z0-9_.]", value):
        return _control(value) or _first_bad(value, "-A-Za-z0-9_.")
    return "it must start and end with a letter or digit"


# ------------------------------------------------------------------ AWS

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: Key characters AWS lists as safe, minus '*' (an IAM wildcard); '/' separates.
_KEY_CHARS = "-A-Za-z0-9!_.'()/=+@,"
_KEY = re.compile(f"^[{_KEY_CHARS}]+$")
_AWS_IDS = {
    "vpc": re.compile(r"^vpc-[0-9a-f]{8,17}$"),
    "subnet": re.compile(r"^subnet-[0-9a-f]{8,17}$"),
    "ami": re.compile(r"^ami-[0-9a-f]{8,17}$"),
}


def region_problem(value: str) -> str | None:
    if _REGION.fullmatch(value):
        return None
    return _control(value) or "it is not of the form us-east-1, eu-west-2, us-gov-west-1"


def bucket_problem(value: str) -> str | None:
    """S3 general purpose bucket naming rules (S3 User Guide, 'Bucket naming rules')."""
    if not 3 <= len(value) <= 63:
        return f"it has {len(value)} characters (3 to 63)"
    if not _BUCKET.fullmatch(value):
        return _control(value) or (
            _first_bad(value, "a-z0-9.-")
            if re.search(r"[^a-z0-9.-]", value)
            else "it must start and end with a letter or digit"
        )
    if ".." in value or ".-" in value or "-." in value:
        return "it has '..', '.-' or '-.'"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", value):
        return "it is formatted as an IP address"
    if value.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or value.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
    ):
        return "it uses a prefix or suffix S3 reserves"
    return None


def key_prefix_problem(value: str) -> str | None:
    """An S3 key prefix that can be used literally in a shell and an IAM ARN."""
    if not value:
        return "it is empty (a whole-bucket grant is not least privilege)"
    if len(value.encode()) > 1024:
        return f"it is {len(value.encode())} bytes long (at most 1024)"
    if problem := _control(value):
        return problem
    if "*" in value or "?" in value:
        return "it contains a wildcard ('*' or '?'), which would widen the IAM grant"
    if "${" in value:
        return "it contains '${', an IAM policy variable"
    parts = value.strip("/").split("/")
    if any(p in ("", ".", "..") for p in parts) or value.startswith("/"):
        return "it has an empty, '.' or '..' path segment"
    if not _KEY.fullmatch(value):
        return _first_bad(value, _KEY_CHARS)
    return None


def aws_id_problem(kind: str, value: str) -> str | None:
    if _AWS_IDS[kind].fullmatch(value):
        return None
    return _control(value) or f"it is not of the form {kind}-0123456789abcdef0"


def cidr_problem(value: str) -> str | None:
    if problem := _control(value):
        return problem
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        return str(exc)[:120]
    return None


# ------------------------------------------------------------------ images, git, Hub

# distribution/reference grammar (github.com/distribution/reference, v0.6):
#   name       := [domain '/'] path-component ('/' path-component)*
#   domain     := domain-component ('.' domain-component)* [':' port-number]
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"^{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?$")
_PATH_PART = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$", re.ASCII)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_VERSION = re.compile(r"^v?\d+\.\d+(?:\.\d+)?(?:rc\d+|\.post\d+|\.dev\d+)?$")


def image_repository_problem(value: str) -> str | None:
    """A repository name without tag or digest (they come from other fields)."""
    if not value or len(value) > 255:
        return f"it is {len(value)} characters long (1 to 255)"
    if problem := _control(value):
        return problem
    if "@" in value:
        return "it carries a digest; set image.digest instead"
    parts = value.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        if not _DOMAIN.fullmatch(first):
            return f"its registry {first[:40]!r} is not a host name[:port]"
        parts = parts[1:]
    for part in parts:
        name, colon, tag = part.partition(":")
        if colon and part is parts[-1] and _PATH_PART.fullmatch(name) and _TAG.fullmatch(tag):
            return "it carries a tag; the tag comes from image.vllm_version"
        if not _PATH_PART.fullmatch(part):
            return (
                f"its path component {part[:40]!r} is not lower-case letters and digits "
                f"separated by '.', '_', '__' or '-'"
            )
    return None


def digest_problem(value: str) -> str | None:
    return None if _DIGEST.fullmatch(value) else "it is not 'sha256:' and 64 lower-case hex digits"


def version_problem(value: str) -> str | None:
    return (
        None
        if _VERSION.fullmatch(value)
        else (_control(value) or "it is not a release version such as 0.32.0")
    )


_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_REF_CHAR_CLASS = "-A-Za-z0-9._/+"
_REF_CHARS = re.compile(f"^[{_REF_CHAR_CLASS}]+$")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def git_revision_problem(value: str) -> str | None:
    """A commit sha or a ref name that `git check-ref-format --allow-onelevel` accepts."""
    if _SHA.fullmatch(value):
        return None
    if not value:
        return "it is empty"
    if len(value) > 255:
        return f"it is {len(value)} characters long (at most 255)"
    if problem := _control(value):
        return problem
    if bad := _REF_FORBIDDEN.search(value):
        return f"{bad.group()!r} is not allowed in a git ref name"
    if ".." in value or "@{" in value or value == "@" or "//" in value:
        return "it contains '..', '@{', '//' or is '@'"
    if value.startswith(("/", "-")) or value.endswith(("/", ".", ".lock")):
        return "it starts with '/' or '-', or ends with '/', '.' or '.lock'"
    if any(part.startswith(".") for part in value.split("/")):
        return "a '/'-separated part starts with '.'"
    # Stricter than git (which allows $, (, ), ', ...): a revision also lands in
    # scripts and markers, and Hub branch and tag names never need more.
    if not _REF_CHARS.fullmatch(value):
        return _first_bad(value, _REF_CHAR_CLASS)
    return None


# validate_repo_id (huggingface_hub 0.2x-1.x): \b[\w\-.]+\b per part, so each
# part starts and ends with a letter, digit or '_'.
_HUB_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
_HUB_ID = re.compile(rf"^{_HUB_PART}/{_HUB_PART}$")


def hub_repo_problem(value: str) -> str | None:
    """Hub repo ids as huggingface_hub's validate_repo_id accepts them (org/name)."""
    if len(value) > 96:
        return f"it is {len(value)} characters long (at most 96)"
    if not _HUB_ID.fullmatch(value):
        return _control(value) or (
            "it is not org/name of letters, digits, '-', '_' and '.', "
            "each part starting and ending with a letter or digit"
        )
    if "--" in value or ".." in value or value.endswith(".git") or value.endswith((".", "-")):
        return "it contains '--' or '..', or ends with '.git', '.' or '-'"
    return None


# ------------------------------------------------------------------ sources, paths, text

_PATH_PART_CHARS = "-A-Za-z0-9_.+@=~,"
_LOCAL_PATH = re.compile(f"^[{_PATH_PART_CHARS}/]+$")


def local_path_problem(value: str) -> str | None:
    """A path whose parts end up as names (served model name, PromQL label), so only
    characters that need no quoting anywhere."""
    if len(value) > 4096:
        return f"it is {len(value)} characters long (at most 4096)"
    if problem := _control(value):
        return problem
    if not _LOCAL_PATH.fullmatch(value):
        return _first_bad(value, _PATH_PART_CHARS + "/")
    if any(len(p) > 255 for p in value.split("/")):
        return "a path component is longer than 255 characters"
    return None


def hf_ref_problem(value: str) -> str | None:
    repo, at, rev = value.removeprefix("hf://").partition("@")
    if problem := hub_repo_problem(repo):
        return f"its repo id: {problem}"
    if at and (problem := git_revision_problem(rev)):
        return f"its revision: {problem}"
    return None


def s3_ref_problem(value: str) -> str | None:
    bucket, _, prefix = value.removeprefix("s3://").partition("/")
    if problem := bucket_problem(bucket):
        return f"its bucket: {problem}"
    # A whole bucket is a valid model reference (config.json at its root); the AWS
    # backend refuses it separately because its IAM grant needs a prefix.
    if prefix.strip("/") and (problem := key_prefix_problem(prefix.rstrip("/"))):
        return f"its key prefix: {problem}"
    return None


def weights_source_problem(value: str) -> str | None:
    if value.startswith("hf://"):
        return hf_ref_problem(value)
    if value.startswith("s3://"):
        return s3_ref_problem(value)
    return _control(value) or "it is neither hf://org/name[@revision] nor s3://bucket/prefix"


_CATALOG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)?$")


def model_ref_problem(value: str) -> str | None:
    """Catalog name, hf://, s3:// or a local path to a config.json (or its directory)."""
    if not value:
        return "it is empty"
    if value.startswith(("hf://", "s3://")):
        return weights_source_problem(value)
    if "://" in value:
        return "its scheme is not hf:// or s3://"
    if _CATALOG_NAME.fullmatch(value) and len(value) <= 200:
        return None
    return local_path_problem(value)


def adapter_source_problem(value: str) -> str | None:
    """A LoRA adapter's files: hf://org/name[@revision], s3://bucket/prefix, or a
    directory on this machine. No catalog names (the catalog holds base models), so a
    local directory must be spelled as a path: absolute, or starting with ./ or ../."""
    if not value:
        return "it is empty"
    if value.startswith(("hf://", "s3://")):
        return weights_source_problem(value)
    if "://" in value:
        return "its scheme is not hf:// or s3://"
    if not value.startswith(("/", "./", "../")):
        return "it is neither hf://, s3:// nor a path starting with '/', './' or '../'"
    return local_path_problem(value)


#: vLLM registers a LoRA adapter under its name as a model of the OpenAI API
#: (``/v1/models``, a request's ``model``), it is a token of --lora-modules, and
#: llmpod uses it as the adapter's directory on the weights volume: so no '/', no
#: leading '.', nothing a shell, YAML or URL path would need to quote.
_ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def adapter_name_problem(value: str) -> str | None:
    if len(value) > 63:
        return f"it is {len(value)} characters long (at most 63)"
    if not _ADAPTER_NAME.fullmatch(value):
        return _control(value) or (
            "it must start with a letter or digit"
            if value and re.fullmatch(r"[A-Za-z0-9._-]+", value)
            else _first_bad(value, "-A-Za-z0-9._")
        )
    return None


def url_problem(value: str) -> str | None:
    """An http(s) URL with a host name and nothing to quote (it lands in YAML and
    in KEDA's trigger metadata)."""
    if re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[-A-Za-z0-9._~/%]*)?", value):
        return None
    return _control(value) or "it is not http(s)://host[:port][/path] without query or spaces"


def text_problem(value: str, max_len: int = 512) -> str | None:
    """Free text shown to people (annotations): one line, printable."""
    if len(value) > max_len:
        return f"it is {len(value)} characters long (at most {max_len})"
    return _control(value)


def dir_problem(value: str) -> str | None:
    """A directory llmpod writes to: printable, no control characters."""
    if not value.strip():
        return "it is empty"
    if value != value.strip() and not _control(value):
        return "it starts or ends with white space"
    if len(value) > 4096:
        return f"it is {len(value)} characters long (at most 4096)"
    return _control(value)


# ------------------------------------------------------------------ pydantic types


def _typed(what: str, problem: Callable[[str], str | None], fix: str) -> AfterValidator:
    def check(value: str) -> str:
        found = problem(value)
        if found:
            raise ValueError(f"must be {what}, but {found}; {fix}")
        return value

    return AfterValidator(check)


DnsLabel = Annotated[
    str,
    _typed(
        "a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)",
        dns_label_problem,
        "e.g. 'llm-prod'",
    ),
]
DnsSubdomain = Annotated[
    str,
    _typed(
        "a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', at most 253 characters)",
        dns_subdomain_problem,
        "e.g. 'efs-sc' or 'llama.example.com'",
    ),
]
LabelKey = Annotated[
    str,
    _typed(
        "a Kubernetes label key ([dns.prefix/]name, the name at most 63 of A-Z a-z 0-9 - _ .)",
        label_key_problem,
        "e.g. 'team' or 'example.com/team'",
    ),
]
LabelValue = Annotated[
    str,
    _typed(
        "a Kubernetes label value (at most 63 of A-Z a-z 0-9 - _ ., starting and ending "
        "with a letter or digit)",
        label_value_problem,
        "e.g. 'ml-platform'",
    ),
]
AwsRegion = Annotated[str, _typed("an AWS region", region_problem, "e.g. 'us-east-1'")]
VpcId = Annotated[
    str,
    _typed(
        "a VPC id",
        lambda v: aws_id_problem("vpc", v),
        "copy it from the VPC console (vpc-0123456789abcdef0)",
    ),
]
SubnetId = Annotated[
    str,
    _typed(
        "a subnet id",
        lambda v: aws_id_problem("subnet", v),
        "use ids of the form subnet-0123456789abcdef0",
    ),
]
AmiId = Annotated[
    str,
    _typed(
        "an AMI id",
        lambda v: aws_id_problem("ami", v),
        "use ami-0123456789abcdef0, or leave it out for the DLAMI",
    ),
]
Cidr = Annotated[
    str,
    _typed(
        "a network CIDR",
        cidr_problem,
        "write address/prefix with the host bits zero, e.g. 10.0.0.0/8",
    ),
]
ImageRepository = Annotated[
    str,
    _typed(
        "an OCI repository name ([registry[:port]/]path, lower case, no tag or digest)",
        image_repository_problem,
        "e.g. 'ghcr.io/llmpod/vllm'",
    ),
]
ImageDigest = Annotated[
    str,
    _typed(
        "an image digest", digest_problem, "copy it from `docker buildx imagetools inspect IMAGE`"
    ),
]
VllmVersion = Annotated[str, _typed("a vLLM release version", version_problem, "e.g. '0.32.0'")]
GitRevision = Annotated[
    str,
    _typed(
        "a git revision (a commit sha, or a branch/tag name git check-ref-format accepts)",
        git_revision_problem,
        "e.g. 'main' or a 40-digit commit sha",
    ),
]
ModelRef = Annotated[
    str,
    _typed(
        "a catalog name, hf://org/name[@revision], s3://bucket/prefix or a path to a config.json",
        model_ref_problem,
        "see `llmpod catalog models`; paths may use letters, digits and - _ . + @ = ~ , /",
    ),
]
WeightsSource = Annotated[
    str,
    _typed(
        "hf://org/name[@revision] or s3://bucket/prefix (a bucket name and a key prefix "
        "without wildcards, '..' or control characters)",
        weights_source_problem,
        "e.g. 's3://llmpod-models/meta-llama/Llama-3.1-8B-Instruct'",
    ),
]
AdapterSource = Annotated[
    str,
    _typed(
        "hf://org/name[@revision], s3://bucket/prefix or a directory path (starting with "
        "'/', './' or '../')",
        adapter_source_problem,
        "e.g. 'hf://org/sql-lora@0123abc' or './adapters/sql'",
    ),
]
AdapterName = Annotated[
    str,
    _typed(
        "a LoRA adapter name (letters, digits, '.', '_' and '-', starting with a letter or "
        "digit, at most 63 characters)",
        adapter_name_problem,
        "e.g. 'sql-lora'",
    ),
]
HttpUrl = Annotated[
    str,
    _typed("an http(s) URL", url_problem, "e.g. 'http://prometheus-operated.monitoring.svc:9090'"),
]
OneLineText = Annotated[
    str,
    _typed(
        "one line of printable text (at most 512 characters)", text_problem, "write it on one line"
    ),
]
OutputDir = Annotated[str, _typed("a directory path", dir_problem, "e.g. 'build/dev-rendered'")]
