"""A config.json as published plans as transformers (and so vLLM) reads it (issue 20, item 5).

Expected values are transformers' documented Gemma3TextConfig defaults
(transformers 5.x, models/gemma3/configuration_gemma3.py): head_dim 256,
sliding_window_pattern 6 (every sixth layer global), vocab_size 262208,
max_position_embeddings 131072 — not values read back from llmpod.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from llmpod.models.hf_defaults import fill_defaults
from llmpod.models.resolve import resolve_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
GEMMA3_12B = FIXTURES / "gemma-3-12b-it" / "config.json"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: Any, **_k: Any) -> None:
        raise AssertionError("llmpod opened a socket while reading a config")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_published_gemma3_plans_with_transformers_defaults(no_network: None) -> None:
    raw_text = json.loads(GEMMA3_12B.read_text())["text_config"]
    for key in ("head_dim", "sliding_window_pattern", "vocab_size", "max_position_embeddings"):
        assert key not in raw_text  # the fixture is the file as published
    facts = resolve_model(str(GEMMA3_12B)).facts
    assert facts.head_dim == 256  # not hidden/heads = 3840/16 = 240
    assert facts.vocab_size == 262208
    assert facts.max_model_len == 131072  # not the 2048 fallback
    # Pattern 6 over 48 layers: layers 6, 12, ..., 48 are global, 40 slide.
    assert facts.layer_kinds.count("full") == 8
    assert facts.layer_kinds[5] == "full" and facts.layer_kinds[0] == "sliding"
    assert facts.sliding_window == 1024  # the file's own value beats the class default 4096
    (warning,) = facts.notes
    for field in ("head_dim", "vocab_size", "max_position_embeddings", "layer_types"):
        assert field in warning
    assert "sliding_window" not in warning  # the file sets it
    assert "Gemma3TextConfig" in warning


def test_published_gemma3_warning_reaches_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    from llmpod.cli.main import main

    assert main(["plan", "--model", str(GEMMA3_12B), "--gpu", "H100", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["feasible"] is True
    assert plan["max_model_len"] == 131072
    # Per token: 48 layers × (K, V) × 8 KV heads × head_dim 256 × 2 bytes (bfloat16).
    assert plan["kv_bytes_per_token_per_gpu"] == 48 * 2 * 8 * 256 * 2
    assert any("head_dim" in w for w in plan["warnings"])


def test_keys_the_file_sets_are_kept() -> None:
    raw = json.loads(GEMMA3_12B.read_text())
    raw["text_config"].update(head_dim=128, max_position_embeddings=8192)
    filled, warnings = fill_defaults(raw, name="g")
    assert filled["text_config"]["head_dim"] == 128
    assert filled["text_config"]["max_position_embeddings"] == 8192
    assert "head_dim" not in warnings[0] and "max_position_embeddings" not in warnings[0]


def test_a_complete_llama_config_raises_no_warning() -> None:
    raw = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
        "max_position_embeddings": 131072,
    }
    filled, warnings = fill_defaults(raw, name="llama")
    assert warnings == ()
    assert filled["head_dim"] == 128  # transformers derives hidden/heads, as llmpod did


def test_a_defaulted_sliding_window_is_named() -> None:
    """transformers' MistralConfig defaults sliding_window to 4096 (Mistral-7B v0.1)."""
    raw = {
        "architectures": ["MistralForCausalLM"],
        "model_type": "mistral",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "vocab_size": 32000,
        "max_position_embeddings": 32768,
    }
    filled, (warning,) = fill_defaults(raw, name="mistral")
    assert filled["sliding_window"] == 4096 and "sliding_window=4096" in warning
    raw["sliding_window"] = None  # Mistral-7B v0.2 and later say so outright
    assert fill_defaults(raw, name="mistral")[1] == ()


def test_custom_code_is_not_run_and_the_file_is_read_as_written(tmp_path: Path) -> None:
    raw = {
        "architectures": ["MyForCausalLM"],
        "model_type": "my_private_arch",
        "auto_map": {"AutoConfig": "configuration_my.MyConfig"},
        "hidden_size": 512,
        "num_attention_heads": 8,
        "num_hidden_layers": 4,
        "vocab_size": 1000,
    }
    (tmp_path / "configuration_my.py").write_text("raise SystemExit('remote code ran')\n")
    (tmp_path / "config.json").write_text(json.dumps(raw))
    resolved = resolve_model(str(tmp_path / "config.json"))
    assert resolved.facts.head_dim == 64
    (warning,) = resolved.facts.notes
    assert "auto_map" in warning and "trust-remote-code" in warning


def test_a_huge_config_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    from llmpod.errors import LlmpodError

    big = tmp_path / "config.json"
    with big.open("wb") as out:
        out.truncate(64 << 20)  # sparse: 64 MiB on paper, nothing on disk
    with pytest.raises(LlmpodError, match="larger than 1 MiB"):
        resolve_model(str(big))


def test_an_absurd_layer_count_is_refused_before_transformers_sees_it() -> None:
    """Gemma3TextConfig builds a layer_types list of num_hidden_layers entries."""
    from llmpod.errors import LlmpodError

    raw = json.loads(GEMMA3_12B.read_text())
    raw["text_config"]["num_hidden_layers"] = 10**8
    with pytest.raises(LlmpodError, match="num_hidden_layers=100000000"):
        fill_defaults(raw, name="g")


def test_a_text_config_that_is_not_an_object_is_a_clear_error(tmp_path: Path) -> None:
    from llmpod.errors import LlmpodError

    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "gemma3", "text_config": "x", "architectures": ["A"]})
    )
    with pytest.raises(LlmpodError, match="text_config"):
        resolve_model(str(tmp_path / "config.json"))
