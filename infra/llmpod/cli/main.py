"""`llmpod` command line.

Every subcommand lives in ``infra/llmpod/cli/<name>_cmd.py`` and defines
``COMMAND = (name, help)``, ``add_arguments(parser)`` and ``run(ns) -> int``.
Those modules keep heavy imports (pulumi, boto3, rich) inside ``run`` so that
building the parser stays cheap and `llmpod plan` starts fast.

Exit codes (README): 0 ok, 1 bad input, 2 valid but does not fit, 3 drift.
argparse's own rejections would exit 2 and print usage; here they are bad
input like any other (exit 1, and one JSON object under --json).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from llmpod.cli.usage import UsageError, UsageParser, error_json, wants_json


def _command_modules() -> list[ModuleType]:
    import llmpod.cli as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.endswith("_cmd"))
    return [importlib.import_module(f"llmpod.cli.{n}") for n in names]


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("llmpod")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def _add_cwd(parser: argparse.ArgumentParser, default: object) -> None:
    # Like `pulumi -C DIR`: run as if started in DIR (the project is found from
    # there, relative paths such as --out resolve there).
    parser.add_argument(
        "-C",
        "--cwd",
        metavar="DIR",
        default=default,
        help="run in DIR: its Pulumi.yaml (or the nearest above) is the project",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="llmpod",
        description="Plan, render and promote vLLM serving on GPUs from a typed spec.",
    )
    parser.add_argument("--version", action="version", version=f"llmpod {version()}")
    _add_cwd(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _command_modules():
        name, help_text = module.COMMAND
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        # Also accepted after the command (`llmpod render dev -C ../other`);
        # SUPPRESS keeps the global value when it is not repeated here.
        _add_cwd(cmd, argparse.SUPPRESS)
        cmd.set_defaults(handler=module.run)
    return parser


def _enter(directory: str | None) -> None:
    from llmpod.errors import LlmpodError

    if directory is None:
        return
    path = Path(directory).expanduser()
    if not path.is_dir():
        raise LlmpodError(
            code="bad_argument",
            message=f"-C/--cwd {directory[:200]!r} is not a directory.",
            suggestions=["pass the directory that holds Pulumi.yaml (or one below it)"],
        )
    os.chdir(path)


def main(argv: Sequence[str] | None = None) -> int:
    from llmpod.errors import LlmpodError

    args = list(sys.argv[1:] if argv is None else argv)
    as_json = wants_json(args)
    try:
        ns = build_parser().parse_args(args)
    except UsageError as err:
        if as_json:
            print(json.dumps(error_json(args, err.as_error()), indent=2))
        else:
            print(f"{err.usage}error: {err.message}", file=sys.stderr)
        return 1
    try:
        _enter(ns.cwd)
        return int(ns.handler(ns))
    except LlmpodError as err:
        if as_json:
            print(json.dumps(error_json(args, err), indent=2))
        else:
            print(f"error: {err.render()}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `llmpod ... | head` closed the pipe: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # the last line of defence, see below
        return _unexpected(exc)


def _unexpected(exc: Exception) -> int:
    """Anything that is not an LlmpodError: one paragraph, exit 1, never a traceback.

    Users feed llmpod hand-written files; an exception that escaped every
    check (an OS error on a path they named, a library's ValueError on an odd
    value) must still read as an error message, not a stack dump. Tests call
    the functions underneath and treat these as bugs; LLMPOD_DEBUG=1 re-raises
    for whoever fixes one.
    """
    import os

    from llmpod.errors import shorten

    if os.environ.get("LLMPOD_DEBUG"):
        raise exc
    if isinstance(exc, OSError) and exc.strerror:
        name = f" {shorten(str(exc.filename), 120)}" if exc.filename else ""
        print(
            f"error: cannot use{name}: {exc.strerror}. Nothing else was changed. Try: check "
            f"the path and its permissions.",
            file=sys.stderr,
        )
        return 1
    print(
        f"error: internal error ({type(exc).__name__}: {shorten(str(exc), 200, quote=False)})"
        f" while handling this input. This is a bug in llmpod: please "
        f"report it with the command and input (LLMPOD_DEBUG=1 shows the traceback).",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
