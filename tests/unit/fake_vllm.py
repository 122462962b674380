"""A stand-in `vllm` executable for the entrypoint's unit tests (stdlib only).

`fake_vllm.py serve ARGS... --host H --port P` records its argv to
$FAKE_VLLM_ARGV_FILE and then behaves per $FAKE_VLLM_MODE:

* ``serve``  — answers /health, /v1/models, /tokenize, /v1/completions, /metrics
  like vLLM does for a model with max_model_len 256 (one token per word + BOS);
  /metrics carries ``vllm:cache_config_info`` built from the arguments it was
  started with (utilization, KV dtype, block size as vLLM resolves them) and
  $FAKE_VLLM_GPU_BLOCKS blocks (default 64), /v1/models the served name;
* ``crash``  — exits 3 at once (a rejected flag, a CUDA error);
* ``hang``   — never opens its port (weights that never finish loading);
* ``warmup_500`` — healthy, but every completion fails with 500;
* ``undercount`` — /tokenize reports half the real count, so long prompts are
  rejected as too long and the entrypoint has to shrink them.
With ``VLLM_CACHE_ROOT`` set it behaves like vLLM's compile cache: it records in
$FAKE_VLLM_CACHE_FILE whether a compiled artifact was already there, and
"compiles" (writes the artifact) when it was not.
The real-vLLM behaviour is covered by tests/e2e; this only drives the entrypoint's
decisions quickly.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_MODEL_LEN = 256
ARGV: list[str] = []


def arg(flag: str, default: str) -> str:
    return ARGV[ARGV.index(flag) + 1] if flag in ARGV else default


def served_name() -> str:
    positional = ARGV[1] if len(ARGV) > 1 and not ARGV[1].startswith("--") else None
    return arg("--served-model-name", positional or arg("--model", "fake"))


def metrics() -> str:
    blocks = int(os.environ.get("FAKE_VLLM_GPU_BLOCKS", "64"))
    block = int(arg("--block-size", "16"))
    labels = {
        "block_size": str(block),
        "cache_dtype": arg("--kv-cache-dtype", "auto"),
        "enable_prefix_caching": str("--no-enable-prefix-caching" not in ARGV),
        "engine": "0",
        "gpu_memory_utilization": arg("--gpu-memory-utilization", "0.9"),
        "kv_cache_size_tokens": str(blocks * block),
        "num_gpu_blocks": str(blocks),
    }
    info = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return (
        "# TYPE vllm:cache_config_info gauge\n"
        f"vllm:cache_config_info{{{info}}} 1.0\n"
        'vllm:num_requests_running{engine="0"} 0.0\n'
        'vllm:num_requests_waiting{engine="0"} 0.0\n'
    )


def tokens(prompt: str) -> int:
    return len(prompt.split()) + 1


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return

    def _reply(self, code: int, body: object) -> None:
        data = (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(200, "")
        elif self.path == "/v1/models":
            length = int(arg("--max-model-len", str(MAX_MODEL_LEN)))
            self._reply(200, {"data": [{"id": served_name(), "max_model_len": length}]})
        elif self.path == "/metrics":
            self._reply(200, metrics())
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/tokenize":
            count = tokens(body["prompt"])
            if os.environ.get("FAKE_VLLM_MODE") == "undercount":
                count //= 2
            self._reply(200, {"count": count, "max_model_len": MAX_MODEL_LEN})
        elif self.path == "/v1/completions":
            if os.environ.get("FAKE_VLLM_MODE") == "warmup_500":
                self._reply(500, {"error": {"message": "EngineCore died"}})
                return
            total = tokens(body["prompt"]) + body["max_tokens"]
            if total > MAX_MODEL_LEN:
                self._reply(
                    400,
                    {
                        "error": {
                            "message": f"This model's maximum context length is"
                            f" {MAX_MODEL_LEN} tokens. However, you requested {total}"
                        }
                    },
                )
                return
            usage = {"completion_tokens": body["max_tokens"]}
            self._reply(200, {"choices": [{"text": "x"}], "usage": usage})
        else:
            self._reply(404, {"error": "not found"})


ARTIFACT = "torch_compile_cache/0123abcd/rank_0_0/backbone/artifact"


def _compile_cache() -> None:
    root = os.environ.get("VLLM_CACHE_ROOT")
    if not root:
        return
    path = os.path.join(root, ARTIFACT)
    found = os.path.exists(path)
    if not found:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("compiled graph\n")
    with open(os.environ["FAKE_VLLM_CACHE_FILE"], "w") as f:
        json.dump({"cache_root": root, "found": found}, f)


def main() -> int:
    argv = sys.argv[1:]
    ARGV[:] = argv
    with open(os.environ["FAKE_VLLM_ARGV_FILE"], "w") as f:
        json.dump(argv, f)
    _compile_cache()
    mode = os.environ.get("FAKE_VLLM_MODE", "serve")
    if mode == "crash":
        return 3
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if mode == "hang":
        while True:
            time.sleep(1)
    host = argv[argv.index("--host") + 1]
    port = int(argv[argv.index("--port") + 1])
    ThreadingHTTPServer((host, port), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
