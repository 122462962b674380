"""pulumi-aws is the `aws` extra: a stack that needs it says how to install it."""

from __future__ import annotations

import sys

import pytest

from llmpod.backends.extras import require_backends
from llmpod.errors import LlmpodError


def test_aws_service_without_pulumi_aws_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pulumi_aws", None)  # import now raises ImportError
    with pytest.raises(
        LlmpodError,
        match=r"service\(s\) a, b use backend: aws, which needs "
        r"pulumi-aws.*pip install 'llmpod\[aws\]'",
    ):
        require_backends([("b", "aws"), ("k", "kubernetes"), ("a", "aws")])


def test_kubernetes_only_stacks_need_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pulumi_aws", None)
    require_backends([("k", "kubernetes")])


def test_render_of_an_aws_stack_stops_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from llmpod.cli.main import main

    monkeypatch.setitem(sys.modules, "pulumi_aws", None)
    assert main(["render", "staging", "--out", "/nonexistent/never-written"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'llmpod[aws]'" in err and "llama-8b-aws" in err
    assert "Traceback" not in err


def test_pulumi_aws_is_an_extra_not_a_dependency() -> None:
    import tomllib
    from pathlib import Path

    meta = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    deps = meta["project"]["dependencies"]
    assert not [d for d in deps if d.startswith("pulumi-aws")]
    assert meta["project"]["optional-dependencies"]["aws"] == ["pulumi-aws>=7,<8"]
    assert "llmpod[aws]" in meta["project"]["optional-dependencies"]["test"]
