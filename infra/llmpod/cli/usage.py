"""argparse rejections as llmpod errors: exit 1 (bad input), JSON under --json.

argparse's default ``error()`` prints usage and exits 2, which llmpod's exit
codes reserve for "valid but does not fit"; a script checking ``$? == 2``
would read `--tp 0` as an infeasible plan.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, NoReturn

from llmpod.errors import LlmpodError


class UsageError(Exception):
    def __init__(self, message: str, usage: str, prog: str) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.prog = prog

    def as_error(self) -> LlmpodError:
        return LlmpodError(
            code="bad_argument",
            message=f"{self.prog}: {self.message}.",
            suggestions=[f"see `{self.prog} --help`"],
        )


class UsageParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.format_usage(), self.prog)


def wants_json(argv: Sequence[str]) -> bool:
    return "--json" in argv


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (skipping global options and -C's value)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("-C", "--cwd"):
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def error_json(argv: Sequence[str], err: LlmpodError) -> dict[str, Any]:
    """The error object each command's --json output uses (plan keeps its contract:
    ``feasible: false`` with the errors)."""
    out: dict[str, Any] = {"errors": [err.as_json()]}
    if command_of(argv) == "plan":
        out = {"feasible": False, **out}
    return out
