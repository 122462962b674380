"""Compare a planned `vllm serve` argument list with what vLLM parsed from it."""

from __future__ import annotations

import ast
import json
import re


def expected_values(args: list[str]) -> dict[str, object]:
    """What each planned flag should parse to, from the flag text alone.

    ``--flag v`` → "v"; ``--flag v1 v2`` → ["v1", "v2"]; ``--flag`` → True;
    ``--no-flag`` → False. The model comes first and positionally
    (``vllm serve MODEL ...``), which vLLM 0.32 parses into ``model_tag``; the
    older ``--model`` spelling lands there too.
    """
    expected: dict[str, object] = {}
    i = 0
    if args and not args[0].startswith("--"):
        expected["model_tag"] = args[0]
        i = 1
    while i < len(args):
        flag = args[i]
        assert flag.startswith("--"), f"stray value {flag!r} in {args}"
        values = []
        i += 1
        while i < len(args) and not args[i].startswith("--"):
            values.append(args[i])
            i += 1
        key = flag[2:].replace("-", "_")
        if flag == "--model":
            key = "model_tag"
        if flag.startswith("--no-") and not values:
            expected[key[3:]] = False
        elif not values:
            expected[key] = True
        else:
            expected[key] = values[0] if len(values) == 1 else values
    return expected


def matches(parsed: object, expected: object) -> bool:
    """Parsed value (int, float, bool, list...) equals the planned text."""
    if isinstance(expected, bool):
        return parsed is expected
    if isinstance(parsed, dict):  # a JSON flag (--speculative-config): same object
        return isinstance(expected, str) and json.loads(expected) == parsed
    if isinstance(parsed, list):
        wanted = expected if isinstance(expected, list) else [expected]
        return [str(p) for p in parsed] == wanted
    return str(parsed) == expected


def non_default_args(log: str) -> dict[str, object]:
    """vLLM's "non-default args" line: literals as values, anything else as its source."""
    match = re.search(r"non-default args: (\{.*\})", log)
    assert match, "vLLM did not log its non-default args"
    tree = ast.parse(match.group(1), mode="eval").body
    assert isinstance(tree, ast.Dict)
    out: dict[str, object] = {}
    for key, value in zip(tree.keys, tree.values, strict=True):
        assert key is not None
        try:  # lora_modules holds LoRAModulePath(...) objects, not literals
            out[ast.literal_eval(key)] = ast.literal_eval(value)
        except ValueError:
            out[ast.literal_eval(key)] = ast.unparse(value)
    return out
