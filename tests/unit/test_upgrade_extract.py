"""The ast extractor reads each way vLLM declares a serve option or a metric."""

from __future__ import annotations

from textwrap import dedent

from llmpod.releases.extract import extract_facts

CONFIG = dedent('''
    from typing import Literal
    CacheDType = Literal["auto", "fp8"]

    class CacheConfig:
        block_size: int = 16
        """Tokens per block."""
        enable_prefix_caching: bool = True
        """Reuse prefixes."""
        cache_dtype: CacheDType = "auto"
        """Deprecated: will be removed in v0.40, use --kv-cache-dtype."""
''')

ARG_UTILS = dedent("""
    import argparse

    def get_kwargs(cls):
        kwargs["action"] = argparse.BooleanOptionalAction

    class EngineArgs:
        tensor_parallel_size: int = 1

        @staticmethod
        def add_cli_args(parser):
            cache_kwargs = get_kwargs(CacheConfig)
            parser.add_argument("--block-size", **cache_kwargs["block_size"])
            parser.add_argument("--enable-prefix-caching",
                                **{**cache_kwargs["enable_prefix_caching"], "default": None})
            parser.add_argument("--cache-dtype", **cache_kwargs["cache_dtype"])
            parser.add_argument("--tensor-parallel-size", "-tp", type=int,
                                default=EngineArgs.tensor_parallel_size)
            parser.add_argument("--disable-log-requests", action="store_true",
                                deprecated=True)
            parser.add_argument("--enable-log-requests",
                                action=argparse.BooleanOptionalAction, default=False)
            parser.add_argument("--secret", help=argparse.SUPPRESS)
""")

CLI_ARGS = dedent("""
    class BaseFrontendArgs:
        port: int = 8000

        @classmethod
        def add_cli_args(cls, parser):
            frontend_kwargs = get_kwargs(cls)
            for key, value in frontend_kwargs.items():
                parser.add_argument(f"--{key.replace('_', '-')}", **value)

    class FrontendArgs(BaseFrontendArgs):
        host: str | None = None
""")

LOGGERS = dedent("""
    class PrometheusStatLogger:
        def __init__(self, show_hidden_metrics):
            self.g = self._gauge_cls(name="vllm:kv_cache_usage_perc", documentation="KV")
            if self.show_hidden_metrics:
                self.old = self._gauge_cls(
                    name="vllm:gpu_cache_usage_perc",
                    documentation="GPU KV. DEPRECATED: Use vllm:kv_cache_usage_perc instead.")
            self.c = self._counter_cls(name="vllm:prompt_tokens_total", documentation="p")
            self.h = self._histogram_cls(name="vllm:iteration_tokens_total", documentation="h")
""")

SOURCES = {
    "vllm/config/cache.py": CONFIG,
    "vllm/engine/arg_utils.py": ARG_UTILS,
    "vllm/entrypoints/openai/cli_args.py": CLI_ARGS,
    "vllm/v1/metrics/loggers.py": LOGGERS,
    "vllm/model_executor/ignored.py": 'x = add_argument("--not-serve")',
}


def test_flags() -> None:
    flags = extract_facts("9.9.9", SOURCES)["flags"]
    assert sorted(flags) == [
        "--block-size", "--cache-dtype", "--disable-log-requests", "--enable-log-requests",
        "--enable-prefix-caching",
        "--host", "--port", "--secret", "--tensor-parallel-size",
    ]  # fmt: skip
    assert flags["--block-size"] == {"kind": "int", "default": 16}
    # the explicit "default": None of the **{...} merge wins over the field default
    assert flags["--enable-prefix-caching"] == {"kind": "bool", "default": None, "negatable": True}
    assert flags["--cache-dtype"]["choices"] == ["auto", "fp8"]
    assert flags["--cache-dtype"]["deprecated"] and flags["--cache-dtype"]["see"] == [
        "--kv-cache-dtype"
    ]
    assert flags["--tensor-parallel-size"] == {"kind": "int", "aliases": ["-tp"], "default": 1}
    # A deprecated --disable-x beside a negatable --enable-x: the replacement is --no-enable-x.
    assert flags["--disable-log-requests"] == {
        "kind": "bool", "default": False, "deprecated": True, "see": ["--no-enable-log-requests"],
    }  # fmt: skip
    assert flags["--secret"]["hidden"]
    assert flags["--port"] == {"kind": "int", "default": 8000}


def test_metrics() -> None:
    metrics = extract_facts("9.9.9", SOURCES)["metrics"]
    assert metrics == {
        "vllm:gpu_cache_usage_perc": {
            "kind": "gauge", "hidden": True, "deprecated": True,
            "see": ["vllm:kv_cache_usage_perc"],
        },
        "vllm:iteration_tokens_total": {"kind": "histogram"},
        "vllm:kv_cache_usage_perc": {"kind": "gauge"},
        "vllm:prompt_tokens": {"kind": "counter"},
    }  # fmt: skip


def test_options_added_in_a_loop_over_literals() -> None:
    # vLLM 0.11.0 adds its deprecated --guided-decoding-* options this way.
    source = dedent("""
        class EngineArgs:
            @staticmethod
            def add_cli_args(parser):
                for arg, type in [("--old-a", str), ("--old-b", int)]:
                    parser.add_argument(arg, type=type, help=f"[DEPRECATED] {arg}", deprecated=True)
    """)
    flags = extract_facts("9.9.9", {"vllm/engine/arg_utils.py": source})["flags"]
    assert flags == {
        "--old-a": {"kind": "str", "deprecated": True},
        "--old-b": {"kind": "int", "deprecated": True},
    }


def test_enable_disable_pairs_when_the_parser_registers_them() -> None:
    # vLLM 0.34.0's FlexibleArgumentParser swaps BooleanOptionalAction for one that
    # also accepts --disable-x for --enable-x (vllm/utils/argparse_utils.py).
    parser_module = dedent("""
        class EnableDisableAction(BooleanOptionalAction):
            _inverse_prefixes = {"--enable-": "--disable-", "--disable-": "--enable-"}

        class FlexibleArgumentParser(ArgumentParser):
            def __init__(self):
                self.register("action", BooleanOptionalAction, EnableDisableAction)
    """)
    sources = {**SOURCES, "vllm/utils/argparse_utils.py": parser_module}
    flags = extract_facts("9.9.9", sources)["flags"]
    assert flags["--enable-prefix-caching"]["inverse"] == "--disable-prefix-caching"
    assert "inverse" not in flags["--disable-log-requests"]  # store_true: no pair
    assert "inverse" not in extract_facts("9.9.9", SOURCES)["flags"]["--enable-prefix-caching"]
