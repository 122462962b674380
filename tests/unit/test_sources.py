"""Loading config.json from the catalog, local files, the Hugging Face cache and S3.

S3 runs against moto's standalone server on 127.0.0.1 (real HTTP, real boto3
client, endpoint taken from AWS_ENDPOINT_URL as boto3 resolves it); the Hub
tests never leave the machine: HF_HUB_OFFLINE=1 plus a cache directory laid out
the way huggingface_hub writes it (models--org--name/refs, snapshots/<commit>).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llmpod.errors import LlmpodError
from llmpod.models.sources import load_model_config, parse_config_json, s3_config_key

TINY = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "vocab_size": 128,
}


# ------------------------------------------------------------------ catalog and files
def test_catalog_name_resolves_with_its_source_and_revision() -> None:
    raw = load_model_config("llama-3.1-8b")
    assert (raw.origin, raw.name, raw.revision) == (
        "catalog",
        "meta-llama/Llama-3.1-8B-Instruct",
        "main",
    )
    assert raw.source.startswith("https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct/")
    assert raw.config["num_hidden_layers"] == 32


def test_unknown_name_is_reported_with_a_suggestion() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"'qwen3-8x' is not in the built-in catalog\. "
        r"Did you mean 'qwen3-8b'",
    ) as info:
        load_model_config("qwen3-8x")
    assert info.value.code == "unknown_model"


def test_local_file_and_directory_both_load(tmp_path: Path) -> None:
    model_dir = tmp_path / "tiny-llama"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(TINY))
    by_file = load_model_config(str(model_dir / "config.json"))
    by_dir = load_model_config(str(model_dir))
    for raw in (by_file, by_dir):
        assert raw.origin == "file" and raw.config == TINY and raw.revision is None
        assert raw.name == "tiny-llama"
        assert raw.source == str((model_dir / "config.json").resolve())


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "config.json"
    with pytest.raises(LlmpodError, match=r"'.*nope/config\.json' does not exist") as info:
        load_model_config(str(missing))
    assert info.value.code == "model_config_missing"


def test_directory_without_config_json_is_explained(tmp_path: Path) -> None:
    with pytest.raises(LlmpodError, match=r"directory '.*' has no config\.json") as info:
        load_model_config(str(tmp_path))
    assert info.value.code == "model_config_missing"


def test_malformed_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{\n  "hidden_size": 64,\n  "num_hidden_layers": ,\n}\n')
    with pytest.raises(
        LlmpodError,
        match=r"config\.json is not valid JSON: Expecting value "
        r"at line 3 column 24",
    ) as info:
        load_model_config(str(path))
    assert info.value.code == "model_config_invalid"


@pytest.mark.parametrize(
    ("payload", "kind"), [("[1, 2]", "list"), ('"text"', "str"), ("42", "int")]
)
def test_non_object_json_is_rejected(tmp_path: Path, payload: str, kind: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(payload)
    with pytest.raises(LlmpodError, match=rf"holds a JSON {kind}, but a config\.json must be"):
        load_model_config(str(path))


def test_binary_file_is_not_mistaken_for_json() -> None:
    with pytest.raises(LlmpodError, match=r"weights\.bin is not UTF-8 text \(byte 0\)"):
        parse_config_json(b"\xff\xfe\x00weights", where="weights.bin")


def test_utf8_bom_is_tolerated() -> None:
    assert parse_config_json(b"\xef\xbb\xbf" + json.dumps(TINY).encode(), where="x") == TINY


@pytest.mark.parametrize(
    ("ref", "pattern"),
    [
        ("ftp://host/config.json", r"uses the scheme 'ftp'"),
        ("hf://just-a-name", r"not of the form hf://org/name\[@revision\]"),
        ("s3://", r"not of the form s3://bucket/prefix"),
        ("   ", r"The model reference is empty"),
    ],
)
def test_malformed_references_are_rejected(ref: str, pattern: str) -> None:
    with pytest.raises(LlmpodError, match=pattern):
        load_model_config(ref)


@pytest.mark.parametrize(
    ("prefix", "key"),
    [
        ("", "config.json"),
        ("llama/", "llama/config.json"),
        ("a/b", "a/b/config.json"),
        ("a/b/config.json", "a/b/config.json"),
    ],
)
def test_s3_prefix_maps_to_config_key(prefix: str, key: str) -> None:
    assert s3_config_key(prefix) == key


def test_importing_sources_pulls_in_no_cloud_sdk() -> None:
    code = (
        "import sys, llmpod.models.sources, llmpod.models.catalog, llmpod.adaptors; "
        "bad = [m for m in ('boto3', 'botocore', 'huggingface_hub') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# ------------------------------------------------------------------ Hugging Face
@pytest.fixture
def hf_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_ENDPOINT", raising=False)


def _seed_hf_cache(cache: Path, repo: str, revision: str, config: dict[str, Any]) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = cache / ("models--" + repo.replace("/", "--"))
    (root / "refs").mkdir(parents=True)
    (root / "refs" / revision).write_text(commit)
    snapshot = root / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text(json.dumps(config))


@pytest.mark.usefixtures("hf_offline")
def test_hf_offline_with_empty_cache_explains_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        LlmpodError,
        match=r"Cannot read config\.json for hf://acme/tiny@main: "
        r"HF_HUB_OFFLINE is set .* not in the local cache"
        r".*HF_TOKEN.*download config\.json and pass its path",
    ) as info:
        load_model_config("hf://acme/tiny", cache_dir=tmp_path)
    assert info.value.code == "model_config_unreachable"


@pytest.mark.usefixtures("hf_offline")
def test_hf_prepopulated_cache_works_offline(tmp_path: Path) -> None:
    _seed_hf_cache(tmp_path, "acme/tiny", "v1.0", TINY)
    raw = load_model_config("hf://acme/tiny@v1.0", cache_dir=tmp_path)
    assert (raw.origin, raw.name, raw.revision, raw.source) == (
        "hf",
        "acme/tiny",
        "v1.0",
        "hf://acme/tiny@v1.0",
    )
    assert raw.config == TINY


@pytest.mark.usefixtures("hf_offline")
def test_hf_cached_malformed_config_names_the_reference(tmp_path: Path) -> None:
    _seed_hf_cache(tmp_path, "acme/tiny", "main", TINY)
    snapshot = next((tmp_path / "models--acme--tiny" / "snapshots").iterdir())
    (snapshot / "config.json").write_text("{oops")
    with pytest.raises(LlmpodError, match=r"hf://acme/tiny@main is not valid JSON"):
        load_model_config("hf://acme/tiny", cache_dir=tmp_path)


# ------------------------------------------------------------------ S3 (moto server)
# moto_endpoint: tests/unit/conftest.py


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Keep boto3 away from the developer's files and from the EC2 metadata address.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_endpoint


@pytest.fixture
def bucket(aws_env: str) -> Iterator[str]:
    import boto3

    s3 = boto3.client("s3")
    name = f"models-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="llama/tiny/config.json", Body=json.dumps(TINY).encode())
    s3.put_object(Bucket=name, Key="broken/config.json", Body=b"[1, 2")
    yield name
    for obj in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=obj["Key"])
    s3.delete_bucket(Bucket=name)


def test_s3_prefix_reads_config_json(bucket: str) -> None:
    raw = load_model_config(f"s3://{bucket}/llama/tiny/")
    assert (raw.origin, raw.name, raw.source) == (
        "s3",
        f"{bucket}/llama/tiny",
        f"s3://{bucket}/llama/tiny/config.json",
    )
    assert raw.config == TINY and raw.revision is None


def test_s3_missing_key_is_reported(bucket: str) -> None:
    with pytest.raises(
        LlmpodError,
        match=rf"s3://{bucket}/mistral/config\.json: bucket "
        rf"'{bucket}' has no object 'mistral/config\.json'",
    ) as info:
        load_model_config(f"s3://{bucket}/mistral")
    assert info.value.code == "model_config_missing"


@pytest.mark.usefixtures("aws_env")
def test_s3_missing_bucket_is_reported() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"bucket 'no-such-bucket-llmpod' does not exist"
        r".*AWS_ENDPOINT_URL",
    ) as info:
        load_model_config("s3://no-such-bucket-llmpod/llama")
    assert info.value.code == "model_config_missing"


def test_s3_malformed_json_names_the_object(bucket: str) -> None:
    with pytest.raises(LlmpodError, match=rf"s3://{bucket}/broken/config\.json is not valid JSON"):
        load_model_config(f"s3://{bucket}/broken")


@pytest.mark.usefixtures("aws_env")
def test_s3_without_credentials_says_how_to_configure_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(LlmpodError, match=r"no AWS credentials were found.*AWS_PROFILE") as info:
        load_model_config("s3://any-bucket/llama")
    assert info.value.code == "model_config_unreachable"


@pytest.mark.usefixtures("aws_env")
def test_s3_access_denied_names_the_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto does not enforce IAM by default, so the server's AccessDenied answer is
    # reproduced with botocore's own exception type, exactly as get_object raises it.
    from botocore.exceptions import ClientError

    from llmpod.adaptors import aws

    class DeniedClient:
        def get_object(self, **_: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject"
            )

    monkeypatch.setattr(aws, "_client", DeniedClient)
    with pytest.raises(
        LlmpodError,
        match=r"access denied \(AccessDenied\).*s3:GetObject on "
        r"arn:aws:s3:::secret/llama/config\.json",
    ):
        load_model_config("s3://secret/llama")


def test_a_long_missing_path_keeps_its_file_name(tmp_path: Path) -> None:
    # Long paths are cut from the front: the file name is what identifies them.
    missing = tmp_path / ("d" * 150) / "nope" / "config.json"
    with pytest.raises(LlmpodError, match=r"'….*nope/config\.json' does not exist") as info:
        load_model_config(str(missing))
    assert ("d" * 150) not in info.value.message
