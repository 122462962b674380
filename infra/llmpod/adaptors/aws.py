"""boto3 calls (S3 reads, EC2 instance types, service quotas): the only module
in llmpod that imports boto3.

The client is built per call, never at import time, so importing llmpod needs
neither credentials nor a region. Endpoint, region and credentials come from
boto3's own resolution chain: since botocore 1.31 / boto3 1.28 that includes
``AWS_ENDPOINT_URL`` (and ``AWS_ENDPOINT_URL_S3``), which is how users point
llmpod at MinIO, Ceph or a local test server without an llmpod-specific flag.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from llmpod.adaptors import import_sdk
from llmpod.errors import LlmpodError

_PURPOSE = "Reading s3:// model references"
#: S3 error codes meaning "the object is not there" vs "you may not read it".
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_MISSING_BUCKET = {"NoSuchBucket"}
_DENIED = {
    "AccessDenied",
    "403",
    "Forbidden",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
}
_FIX_CREDENTIALS = (
    "configure AWS credentials (AWS_PROFILE, "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an instance role)"
)


def _client() -> Any:
    boto3 = import_sdk("boto3", purpose=_PURPOSE, package="boto3")
    return boto3.session.Session().client("s3")


def read_object(bucket: str, key: str) -> bytes:
    """The bytes of ``s3://bucket/key``; every failure becomes an ``LlmpodError``."""
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PURPOSE, package="botocore")
    url = f"s3://{bucket}/{key}"
    try:
        response = _client().get_object(Bucket=bucket, Key=key)
        body: bytes = response["Body"].read()
    except botocore_exc.NoCredentialsError as exc:
        raise LlmpodError(
            code="model_config_unreachable",
            message=f"Cannot read {url}: no AWS credentials were found.",
            suggestions=[_FIX_CREDENTIALS, "or copy config.json locally and pass its path"],
        ) from exc
    except botocore_exc.ClientError as exc:
        raise _client_error(url, bucket, key, exc) from exc
    except (
        botocore_exc.EndpointConnectionError,
        botocore_exc.ConnectTimeoutError,
        botocore_exc.ReadTimeoutError,
    ) as exc:
        raise LlmpodError(
            code="model_config_unreachable",
            message=f"Cannot read {url}: the S3 endpoint could not be reached ({exc}).",
            suggestions=[
                "check network access and AWS_ENDPOINT_URL / AWS_REGION",
                "or copy config.json locally and pass its path",
            ],
        ) from exc
    except (botocore_exc.ParamValidationError, botocore_exc.NoRegionError) as exc:
        raise LlmpodError(
            code="model_config_invalid",
            message=f"Cannot read {url}: {exc}.",
            suggestions=[
                "use s3://<bucket>/<prefix> with a valid bucket name",
                "set AWS_REGION (or AWS_DEFAULT_REGION)",
            ],
        ) from exc
    except botocore_exc.BotoCoreError as exc:
        raise LlmpodError(
            code="model_config_unreachable",
            message=f"Cannot read {url}: {exc}.",
            suggestions=[
                "check AWS configuration",
                "or copy config.json locally and pass its path",
            ],
        ) from exc
    return body


def _client_error(url: str, bucket: str, key: str, exc: Any) -> LlmpodError:
    error = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
    code = str(error.get("Code", ""))
    if code in _MISSING_BUCKET:
        return LlmpodError(
            code="model_config_missing",
            message=f"Cannot read {url}: bucket {bucket!r} does not exist.",
            suggestions=[
                "check the bucket name and the account/endpoint (AWS_ENDPOINT_URL)",
                "or use a catalog name from `llmpod catalog models`",
            ],
        )
    if code in _MISSING_KEY:
        return LlmpodError(
            code="model_config_missing",
            message=f"Cannot read {url}: bucket {bucket!r} has no object {key!r}.",
            suggestions=[
                "point s3:// at the prefix that holds the model's config.json",
                "upload config.json next to the weights",
            ],
        )
    if code in _DENIED:
        return LlmpodError(
            code="model_config_unreachable",
            message=f"Cannot read {url}: access denied ({code}).",
            suggestions=[f"grant s3:GetObject on arn:aws:s3:::{bucket}/{key}", _FIX_CREDENTIALS],
        )
    return LlmpodError(
        code="model_config_unreachable",
        message=(
            f"Cannot read {url}: S3 answered {code or 'an error'} ({error.get('Message', exc)})."
        ),
        suggestions=[
            "check the bucket, prefix and AWS configuration",
            "or copy config.json locally and pass its path",
        ],
    )


# ---------------------------------------------------------------- preflight calls
T = TypeVar("T")
_PREFLIGHT = "The AWS preflight (llmpod preflight)"
#: Error codes AWS services use for "slow down"; EC2 says RequestLimitExceeded,
#: S3 SlowDown, most JSON services ThrottlingException.
THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "EC2ThrottledException",
    "ProvisionedThroughputExceededException",
}
RETRY_ATTEMPTS = 5
RETRY_BASE_DELAY_S = 0.5
RETRY_MAX_DELAY_S = 8.0
Sleep = Callable[[float], None]


def new_client(service: str, region: str) -> Any:
    """A client whose own retries are off: ``with_retries`` below is the one retry loop,
    so attempts and delays are bounded in one place and can be tested."""
    boto3 = import_sdk("boto3", purpose=_PREFLIGHT, package="boto3")
    botocore_config = import_sdk("botocore.config", purpose=_PREFLIGHT, package="botocore")
    config = botocore_config.Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30
    )
    return boto3.session.Session().client(service, region_name=region, config=config)


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def with_retries(
    call: Callable[[], T],
    *,
    what: str,
    attempts: int = RETRY_ATTEMPTS,
    base_delay_s: float = RETRY_BASE_DELAY_S,
    sleep: Sleep = time.sleep,
) -> T:
    """Run ``call``, retrying throttling errors with exponential backoff (0.5, 1, 2, 4 s).

    No jitter: preflight is one process making a handful of calls, not a fleet that
    needs desynchronizing. Other errors propagate at once.
    """
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PREFLIGHT, package="botocore")
    for attempt in range(attempts):
        try:
            return call()
        except botocore_exc.ClientError as exc:
            if error_code(exc) not in THROTTLING:
                raise
            if attempt == attempts - 1:
                raise LlmpodError(
                    code="aws_throttled",
                    message=(
                        f"{what}: AWS kept throttling the request ({error_code(exc)}) "
                        f"through {attempts} attempts with exponential backoff."
                    ),
                    suggestions=[
                        "run the preflight again in a minute",
                        "check for other tools hammering the same API in this account and region",
                    ],
                ) from exc
            sleep(min(RETRY_MAX_DELAY_S, base_delay_s * 2**attempt))
    raise AssertionError("unreachable: the loop returns or raises")


def _translate(what: str, exc: BaseException) -> LlmpodError:
    """Credentials, endpoint and permission failures of a preflight call."""
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PREFLIGHT, package="botocore")
    if isinstance(exc, botocore_exc.NoCredentialsError):
        return LlmpodError(
            code="aws_unreachable",
            message=f"{what}: no AWS credentials found.",
            suggestions=[_FIX_CREDENTIALS],
        )
    if isinstance(exc, botocore_exc.ClientError):
        code = error_code(exc)
        if code in _DENIED or code.endswith("AccessDenied") or code == "UnauthorizedOperation":
            return LlmpodError(
                code="aws_access_denied",
                message=f"{what}: access denied ({code}).",
                suggestions=[
                    'grant the IAM permissions listed in docs/aws.md ("IAM for preflight")',
                    _FIX_CREDENTIALS,
                ],
            )
        return LlmpodError(
            code="aws_error",
            message=f"{what}: AWS answered {code} ({exc}).",
            suggestions=["check the region and the account"],
        )
    return LlmpodError(
        code="aws_unreachable",
        message=f"{what}: {exc}.",
        suggestions=["check network access, AWS_REGION and AWS_ENDPOINT_URL"],
    )


def _guarded(what: str, call: Callable[[], T], sleep: Sleep) -> T:
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PREFLIGHT, package="botocore")
    try:
        return with_retries(call, what=what, sleep=sleep)
    except (botocore_exc.ClientError, botocore_exc.BotoCoreError) as exc:
        raise _translate(what, exc) from exc


@dataclass(frozen=True)
class InstanceTypeInfo:
    name: str
    vcpus: int
    gpu_count: int
    gpu_name: str
    gpu_memory_mib: int


def instance_type_offered(region: str, name: str, *, sleep: Sleep = time.sleep) -> bool:
    ec2 = new_client("ec2", region)
    what = f"describe_instance_type_offerings({name}, {region})"
    out = _guarded(
        what,
        lambda: ec2.describe_instance_type_offerings(
            LocationType="region", Filters=[{"Name": "instance-type", "Values": [name]}]
        ),
        sleep,
    )
    return any(o.get("InstanceType") == name for o in out.get("InstanceTypeOfferings", []))


def subnet_zones(
    region: str, subnet_ids: tuple[str, ...], *, sleep: Sleep = time.sleep
) -> dict[str, str]:
    """Subnet id → availability zone, for those of ``subnet_ids`` EC2 knows in
    ``region`` (a filter, not SubnetIds=, so an unknown id is absent, not an error).
    One page: at most len(subnet_ids) subnets can match."""
    ec2 = new_client("ec2", region)
    what = f"describe_subnets({', '.join(subnet_ids)}, {region})"
    out = _guarded(
        what,
        lambda: ec2.describe_subnets(Filters=[{"Name": "subnet-id", "Values": list(subnet_ids)}]),
        sleep,
    )
    return {
        str(s["SubnetId"]): str(s.get("AvailabilityZone", ""))
        for s in out.get("Subnets", [])
        if s.get("SubnetId") in subnet_ids
    }


def describe_instance_type(
    region: str, name: str, *, sleep: Sleep = time.sleep
) -> InstanceTypeInfo | None:
    """The GPU facts EC2 reports for ``name``, or None when EC2 does not know the type."""
    ec2 = new_client("ec2", region)
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PREFLIGHT, package="botocore")
    try:
        out = with_retries(
            lambda: ec2.describe_instance_types(InstanceTypes=[name]),
            what=f"describe_instance_types({name})",
            sleep=sleep,
        )
    except botocore_exc.ClientError as exc:
        if error_code(exc) in {"InvalidInstanceType", "InvalidParameterValue"}:
            return None
        raise _translate(f"describe_instance_types({name})", exc) from exc
    except botocore_exc.BotoCoreError as exc:
        raise _translate(f"describe_instance_types({name})", exc) from exc
    types = out.get("InstanceTypes", [])
    if not types:
        return None
    info = types[0]
    gpus = info.get("GpuInfo", {}).get("Gpus", [])
    return InstanceTypeInfo(
        name=name,
        vcpus=int(info.get("VCpuInfo", {}).get("DefaultVCpus", 0)),
        gpu_count=sum(int(g.get("Count", 0)) for g in gpus),
        gpu_name=str(gpus[0].get("Name", "")) if gpus else "",
        gpu_memory_mib=int(gpus[0].get("MemoryInfo", {}).get("SizeInMiB", 0)) if gpus else 0,
    )


def object_size(region: str, bucket: str, key: str, *, sleep: Sleep = time.sleep) -> int | None:
    """Size of ``s3://bucket/key``, or None when it (or the bucket) does not exist."""
    s3 = new_client("s3", region)
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PREFLIGHT, package="botocore")
    what = f"head_object(s3://{bucket}/{key})"
    try:
        out = with_retries(lambda: s3.head_object(Bucket=bucket, Key=key), what=what, sleep=sleep)
    except botocore_exc.ClientError as exc:
        if error_code(exc) in _MISSING_KEY | _MISSING_BUCKET:
            return None
        raise _translate(what, exc) from exc
    except botocore_exc.BotoCoreError as exc:
        raise _translate(what, exc) from exc
    return int(out.get("ContentLength", 0))


def list_prefix(
    region: str, bucket: str, prefix: str, *, sleep: Sleep = time.sleep
) -> dict[str, int]:
    """{key: size} of every object under ``prefix/`` (all pages); {} if the bucket is missing."""
    s3 = new_client("s3", region)
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PREFLIGHT, package="botocore")
    what = f"list_objects_v2(s3://{bucket}/{prefix}/)"
    sizes: dict[str, int] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix.rstrip("/") + "/"}
        if token:
            kwargs["ContinuationToken"] = token

        def one_page(kw: dict[str, Any] = kwargs) -> Any:
            return s3.list_objects_v2(**kw)

        try:
            page = with_retries(one_page, what=what, sleep=sleep)
        except botocore_exc.ClientError as exc:
            if error_code(exc) in _MISSING_BUCKET:
                return {}
            raise _translate(what, exc) from exc
        except botocore_exc.BotoCoreError as exc:
            raise _translate(what, exc) from exc
        sizes.update({o["Key"]: int(o["Size"]) for o in page.get("Contents", [])})
        token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not token:
            return sizes


@dataclass(frozen=True)
class QuotaReading:
    value: float | None
    #: Why ``value`` is None ("access denied", "not found" ...).
    unreadable: str = ""


def service_quota(
    region: str, service_code: str, quota_code: str, *, sleep: Sleep = time.sleep
) -> QuotaReading:
    """A Service Quotas value; never raises for permissions, which many roles lack."""
    client = new_client("service-quotas", region)
    botocore_exc = import_sdk("botocore.exceptions", purpose=_PREFLIGHT, package="botocore")
    try:
        out = with_retries(
            lambda: client.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code),
            what=f"get_service_quota({service_code}/{quota_code})",
            sleep=sleep,
        )
    except botocore_exc.ClientError as exc:
        code = error_code(exc)
        return QuotaReading(
            None,
            "access denied"
            if "AccessDenied" in code or code in _DENIED
            else f"not readable ({code})",
        )
    except (botocore_exc.BotoCoreError, LlmpodError) as exc:
        return QuotaReading(None, f"not readable ({exc})")
    return QuotaReading(float(out.get("Quota", {}).get("Value", 0.0)))
