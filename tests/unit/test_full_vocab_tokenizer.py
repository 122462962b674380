"""The full-vocabulary tiny tokenizer (tests/e2e/make_tiny_model.py, issue 19).

A dummy-weight model emits any id below its config's ``vocab_size``; an id its
tokenizer lacks adds no text and makes vLLM's detokenizer re-decode the whole
prompt on every step (benchmarks/frontend_prompt_cost.txt, table B). The GPU kit
therefore serves a tokenizer in which every id decodes to text. No vLLM here:
``tokenizers`` and ``transformers`` only (both llmpod dependencies).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Small enough to decode every id in a second; far past the 1,024 trained entries.
VOCAB = 5000
#: Ids a config could name past the trained ones (Llama 3's bos and eos sit at the
#: top of its vocabulary the same way).
BOS, EOS = 4000, (4001, 4999)


def _make_tiny_model() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_tiny_model", ROOT / "tests" / "e2e" / "make_tiny_model.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny() -> ModuleType:
    return _make_tiny_model()


@pytest.fixture(scope="module")
def saved(tiny: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tok")
    config = {"vocab_size": VOCAB, "bos_token_id": BOS, "eos_token_id": list(EOS)}
    tiny.build_tokenizer(out, 1_048_576, tiny.config_ids(config))
    return out


@pytest.fixture(scope="module")
def loaded(saved: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(saved))


def test_every_id_decodes_to_text(loaded: Any) -> None:
    assert len(loaded) == VOCAB
    assert loaded.model_max_length == 1_048_576
    # transformers 5's all_special_ids names bos/eos/pad only; the backend knows them all.
    specials = {i for i, t in loaded.added_tokens_decoder.items() if t.special}
    empty = [i for i in range(VOCAB) if not loaded.decode([i])]
    assert empty == []
    # As vLLM streams (skip_special_tokens): every non-special id still adds text.
    skipped = [
        i
        for i in range(VOCAB)
        if i not in specials and not loaded.decode([i], skip_special_tokens=True)
    ]
    assert skipped == []
    assert specials == {0, 1, 2, BOS, *EOS}


def test_config_ids_are_its_special_tokens(loaded: Any) -> None:
    assert loaded.bos_token_id == BOS
    assert loaded.eos_token_id == EOS[0]
    assert loaded.pad_token_id == EOS[0]  # no pad named: eos, as the tiny tokenizer does
    for token_id in (BOS, *EOS):
        token = loaded.convert_ids_to_tokens(token_id)
        assert loaded.convert_tokens_to_ids(token) == token_id
        assert loaded.encode(token, add_special_tokens=False) == [token_id]


def test_encodes_text_with_the_trained_merges(tiny: ModuleType, loaded: Any) -> None:
    text = "the quick brown fox, 42! Is it? Yes."
    ids = loaded.encode(text, add_special_tokens=False)
    assert loaded.decode(ids) == text
    assert max(ids) < tiny.VOCAB_SIZE  # text is the trained entries; generated ids are not
    assert len(ids) < len(text.encode())  # merges applied, not one id per byte
    chat = loaded.apply_chat_template([{"role": "user", "content": text}], tokenize=False)
    assert loaded.decode(loaded.encode(chat, add_special_tokens=False)) == chat


def test_a_stream_of_generated_ids_adds_text_every_step(saved: Path) -> None:
    # What vLLM's FastIncrementalDetokenizer does (vllm/v1/engine/detokenizer.py, 0.32.0).
    from tokenizers import Tokenizer
    from tokenizers.decoders import DecodeStream

    backend = Tokenizer.from_file(str(saved / "tokenizer.json"))
    stream = DecodeStream(ids=list(range(10, 200)), skip_special_tokens=True)
    steps = [stream.step(backend, i) for i in range(1024, VOCAB, 37) if i not in (BOS, *EOS)]
    assert all(steps)


def test_default_is_the_1024_entry_tokenizer(tiny: ModuleType, tmp_path: Path) -> None:
    tiny.build_tokenizer(tmp_path)
    doc = json.loads((tmp_path / "tokenizer.json").read_text())
    assert len(doc["model"]["vocab"]) == tiny.VOCAB_SIZE


def test_config_ids_reads_text_config_and_rejects_no_vocab(tiny: ModuleType) -> None:
    nested = {"text_config": {"vocab_size": 262208, "bos_token_id": 2, "eos_token_id": [1, 106]}}
    assert tiny.config_ids(nested) == tiny.ConfigIds(262208, 2, (1, 106), None)
    with pytest.raises(ValueError, match="vocab_size"):
        tiny.config_ids({"hidden_size": 128})


def test_a_special_id_on_a_trained_text_token_is_refused(tiny: ModuleType) -> None:
    with pytest.raises(ValueError, match="special id 500"):
        tiny.extend_vocabulary(tiny.train_tokenizer(), VOCAB, [500])
