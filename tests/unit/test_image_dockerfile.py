"""The image's Dockerfile: pinned base, entrypoint files, non-root, no drift from the template."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from llmpod.errors import LlmpodError
from llmpod.image.dockerfile import render_dockerfile, render_dockerignore
from llmpod.image.runtime_files import RUNTIME_MODULES

REPO = Path(__file__).resolve().parents[2]
IMAGE_DIR = REPO / "images" / "vllm"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _lines(text: str, instruction: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith(instruction + " ")]


def test_committed_dockerfile_is_a_fresh_render() -> None:
    # After changing the template or the runtime modules:
    # python -m llmpod.image.dockerfile > images/vllm/Dockerfile
    assert (IMAGE_DIR / "Dockerfile").read_text() == render_dockerfile()


def test_default_base_is_the_official_image_pinned_by_tag() -> None:
    assert _lines(render_dockerfile(), "FROM") == ["FROM vllm/vllm-openai:v0.32.0"]


def test_digest_pins_the_base_too() -> None:
    text = render_dockerfile("0.11.0", digest=DIGEST)
    assert _lines(text, "FROM") == [f"FROM vllm/vllm-openai:v0.11.0@{DIGEST}"]
    assert f'org.opencontainers.image.base.digest="{DIGEST}"' in text


def test_private_registry_mirror_with_port() -> None:
    text = render_dockerfile(base_image="registry.internal:5000/mirror/vllm-openai")
    assert _lines(text, "FROM") == ["FROM registry.internal:5000/mirror/vllm-openai:v0.32.0"]


def test_no_floating_tags_anywhere() -> None:
    for text in (render_dockerfile(), render_dockerfile("0.33.0", digest=DIGEST)):
        assert "latest" not in text


def test_every_runtime_module_is_copied_into_the_package() -> None:
    text = render_dockerfile()
    copies = _lines(text, "COPY")
    copied = sorted(
        re.findall(
            r"^COPY --chmod=0644 llmpod_image/(\S+) /opt/llmpod/llmpod_image/\1$",
            "\n".join(copies),
            re.M,
        )
    )
    assert copied == sorted(RUNTIME_MODULES)
    for module in RUNTIME_MODULES:
        assert (REPO / "infra" / "llmpod" / "image" / "runtime" / module).is_file(), module


def test_runs_the_entrypoint_as_a_numeric_non_root_user() -> None:
    text = render_dockerfile()
    user = _lines(text, "USER")
    assert len(user) == 1
    uid = user[0].split()[1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0  # Kubernetes runAsNonRoot needs a numeric UID
    assert _lines(text, "ENTRYPOINT") == ['ENTRYPOINT ["python3", "-m", "llmpod_image.entrypoint"]']
    assert "PYTHONPATH=/opt/llmpod" in text
    assert _lines(text, "EXPOSE") == ["EXPOSE 8000 8081"]


def test_ports_follow_the_inputs() -> None:
    text = render_dockerfile(vllm_port=9000, status_port=9001, uid=2000)
    assert _lines(text, "EXPOSE") == ["EXPOSE 9000 9001"]
    assert "LLMPOD_STATUS_PORT=9001" in text and "LLMPOD_VLLM_PORT=9000" in text
    assert _lines(text, "USER") == ["USER 2000:2000"]


def test_dockerignore_sends_only_the_entrypoint() -> None:
    lines = [ln for ln in render_dockerignore().splitlines() if not ln.startswith("#")]
    assert lines[:2] == ["*", "!Dockerfile"]
    assert sorted(lines[2:]) == sorted(f"!llmpod_image/{m}" for m in RUNTIME_MODULES)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"vllm_version": "latest"}, r"vllm_version 'latest' is not a release version"),
        ({"vllm_version": "v0.32.0"}, r"vllm_version 'v0.32.0' is not a release.*leading 'v'"),
        ({"vllm_version": "0.32"}, r"vllm_version '0.32' is not a release version"),
        ({"base_image": "vllm/vllm-openai:v0.32.0"}, r"base_image .* without tag or digest"),
        ({"base_image": f"vllm/vllm-openai@{DIGEST}"}, r"must be a repository name without"),
        ({"base_image": "Vllm/Openai"}, r"base_image 'Vllm/Openai' must be a repository name"),
        ({"digest": "sha256:abc"}, r"digest 'sha256:abc' is not 'sha256:' followed by 64"),
    ],
)
def test_unpinned_or_malformed_bases_are_refused(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(LlmpodError, match=match) as info:
        render_dockerfile(**kwargs)
    assert info.value.suggestions  # every refusal says what to use instead


def test_release_candidates_and_post_releases_are_pinnable() -> None:
    assert "FROM vllm/vllm-openai:v0.33.0rc1" in render_dockerfile("0.33.0rc1")
    assert "FROM vllm/vllm-openai:v0.32.0.post1" in render_dockerfile("0.32.0.post1")
