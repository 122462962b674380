"""Errors as JSON for commands run with ``--json``, command-line mistakes included.

A script that asked for JSON parses stdout; an error printed as prose on stderr
(argparse's usage message, an ``error: …`` paragraph) leaves it with nothing to
parse. With ``--json`` every error becomes ``{"error": {"code", "message",
"suggestions"}}`` on stdout, with the same exit code as without.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from llmpod.errors import LlmpodError


def print_error(err: LlmpodError, **extra: Any) -> None:
    print(json.dumps({**extra, "error": err.as_json()}, indent=2, ensure_ascii=False))


def json_command_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` report its own errors (exit 2) as JSON when ``--json`` was given."""
    wanted = {"json": False}
    parse_known = parser.parse_known_args
    plain_error = parser.error

    def parse_known_args(args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        wanted["json"] = "--json" in (sys.argv[1:] if args is None else list(args))
        return parse_known(args, namespace)

    def error(message: str) -> NoReturn:
        if not wanted["json"]:
            plain_error(message)
        err = LlmpodError(
            code="bad_command_line",
            message=f"{parser.prog}: {message}.",
            suggestions=[f"see {parser.prog} --help"],
            exit_code=2,
        )
        print_error(err)
        sys.exit(2)

    # Instance attributes: argparse calls both through ``self``, so this parser
    # (one subcommand) changes and no other does.
    # mypy forbids assigning to methods; a per-instance override is the point here.
    parser.parse_known_args = parse_known_args  # type: ignore[method-assign,assignment]
    parser.error = error  # type: ignore[method-assign]
