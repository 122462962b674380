"""Fill a config.json's missing fields the way transformers does when vLLM loads it.

Published configs leave out fields whose default lives in the model's
transformers config class: google/gemma-3-12b-it's ``text_config`` has no
``head_dim`` (Gemma3TextConfig: 256, not hidden/heads = 240), no
``sliding_window_pattern`` (6: five sliding layers, then one global), no
``vocab_size`` and no ``max_position_embeddings`` (131072). vLLM reads every
config through transformers (``get_config`` in
vllm/transformers_utils/config.py, v0.32), so those defaults are what it
sizes; hand-written copies would drift, so this module asks the same classes.

It never touches the network and never runs code from the checkpoint: the
class is looked up by ``model_type`` among transformers' built-in configs and
built from the dict already read (``from_dict``, no ``from_pretrained``). A
config whose ``model_type`` transformers does not know (custom code named by
``auto_map``, which vLLM runs only with ``--trust-remote-code``) is read as
written, with a warning.
"""

from __future__ import annotations

import os
from typing import Any

from llmpod.errors import shorten
from llmpod.models.config import check_layer_count

#: Nested configs transformers fills as well (the language model of a
#: multimodal checkpoint and its vision tower).
_NESTED = ("text_config", "llm_config", "vision_config")


def fill_defaults(raw: dict[str, Any], *, name: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``raw`` with the fields it omits taken from its transformers config class.

    Returns the filled dict (every key ``raw`` sets keeps its value) and
    warnings naming the sizing fields that were defaulted.
    """
    model_type = raw.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        return raw, ()
    # Config classes build per-layer lists (layer_types) from the layer count:
    # bound it first, or a hostile file costs minutes and gigabytes.
    check_layer_count(raw, name)
    for key in _NESTED:
        if isinstance(raw.get(key), dict):
            check_layer_count(raw[key], name)
    config_class = _config_class(model_type)
    if config_class is None:
        custom = " (its auto_map names custom code)" if raw.get("auto_map") else ""
        return raw, (
            f"config.json of {name!r}: transformers has no config class for model_type "
            f"{shorten(model_type)!r}{custom}; llmpod does not run a checkpoint's own code, "
            "so it read the file as written and defaulted nothing (vLLM needs "
            "--trust-remote-code for such a model).",
        )
    try:
        filled = config_class.from_dict(dict(raw)).to_dict()
    except Exception as exc:  # transformers validates values its own way
        return raw, (
            f"config.json of {name!r}: transformers' {config_class.__name__} rejected it "
            f"({shorten(str(exc))}); llmpod read the file as written and defaulted nothing.",
        )
    merged = _merge(raw, filled)
    return merged, _defaulted_warning(raw, merged, name=name, class_name=_text_class(merged))


def _config_class(model_type: str) -> Any:
    # transformers logs "PyTorch was not found" at import; llmpod needs no torch.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    # The mapping imports each class lazily in __getitem__; dict.get bypasses it.
    return CONFIG_MAPPING[model_type] if model_type in CONFIG_MAPPING else None  # noqa: SIM401


def _merge(raw: dict[str, Any], filled: dict[str, Any]) -> dict[str, Any]:
    """Defaults under the file's own keys: a key the file sets is never replaced."""
    out = {k: v for k, v in filled.items() if k not in raw}
    for key, value in raw.items():
        default = filled.get(key)
        if key in _NESTED and isinstance(value, dict) and isinstance(default, dict):
            out[key] = _merge(value, default)
        else:
            out[key] = value
    return out


def _text(config: dict[str, Any]) -> dict[str, Any]:
    for key in ("text_config", "llm_config"):
        if isinstance(config.get(key), dict):
            nested: dict[str, Any] = config[key]
            return nested
    return config


def _text_class(merged: dict[str, Any]) -> str:
    model_type = _text(merged).get("model_type") or merged.get("model_type")
    config_class = _config_class(str(model_type))
    return config_class.__name__ if config_class is not None else str(model_type)


def _defaulted_warning(
    raw: dict[str, Any], merged: dict[str, Any], *, name: str, class_name: str
) -> tuple[str, ...]:
    """One warning listing the sizing fields the file left to transformers.

    Only defaults that change the plan are named: a head_dim equal to
    hidden/heads or KV heads equal to the attention heads is what llmpod
    assumed before and stays quiet.
    """
    given, text = _text(raw), _text(merged)
    defaulted: list[tuple[str, str]] = []  # (field, value as shown)

    def missing(key: str) -> bool:
        return key not in given and text.get(key) is not None

    def add(key: str, shown: str | None = None) -> None:
        defaulted.append((key, shown or f"{key}={text[key]}"))

    for key in (
        "num_hidden_layers",
        "hidden_size",
        "num_attention_heads",
        "intermediate_size",
        "vocab_size",
        "max_position_embeddings",
    ):
        if missing(key):
            add(key)
    heads, hidden = text.get("num_attention_heads"), text.get("hidden_size")
    if missing("head_dim") and heads and hidden and text["head_dim"] != hidden // heads:
        add("head_dim")
    if missing("num_key_value_heads") and text["num_key_value_heads"] != heads:
        add("num_key_value_heads")
    layer_types = text.get("layer_types")
    sliding = [t for t in layer_types or () if "sliding" in str(t) or "chunk" in str(t)]
    if sliding and "layer_types" not in given and "sliding_window_pattern" not in given:
        add("layer_types", f"layer_types: {len(sliding)} of {len(layer_types or ())} sliding")
    # MistralConfig defaults to a 4096-token window: every layer then slides.
    if missing("sliding_window"):
        add("sliding_window")
    if not defaulted:
        return ()
    import transformers

    return (
        f"config.json of {name!r} does not set {', '.join(k for k, _ in defaulted)}: "
        f"llmpod took transformers {transformers.__version__}'s {class_name} defaults "
        f"({'; '.join(shown for _, shown in defaulted)}), as vLLM does when it loads this "
        "file; set them in "
        "config.json if the checkpoint differs.",
    )
