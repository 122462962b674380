"""`llmpod` command line.

Every subcommand lives in ``infra/cli/<name>_cmd.py`` and defines
``COMMAND = (name, help)``, ``add_arguments(parser)`` and ``run(ns) -> int``.
Those modules keep heavy imports (pulumi, boto3, rich) inside ``run`` so that
building the parser stays cheap and `llmpod plan` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType


def _command_modules() -> list[ModuleType]:
    import infra.cli as pkg

    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.endswith("_cmd"))
    return [importlib.import_module(f"infra.cli.{n}") for n in names]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmpod",
        description="Plan, render and promote vLLM serving on GPUs from a typed spec.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _command_modules():
        name, help_text = module.COMMAND
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(handler=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from infra.errors import LlmpodError

    ns = build_parser().parse_args(argv)
    try:
        return int(ns.handler(ns))
    except LlmpodError as err:
        print(f"error: {err.render()}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `llmpod ... | head` closed the pipe: stop quietly, as Unix tools do.
        import os

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

    from infra.errors import shorten

    if os.environ.get("LLMPOD_DEBUG"):
        raise exc
    if isinstance(exc, OSError) and exc.strerror:
        name = f" {shorten(str(exc.filename), 120)}" if exc.filename else ""
        print(f"error: cannot use{name}: {exc.strerror}. Nothing else was changed. Try: check "
              f"the path and its permissions.", file=sys.stderr)
        return 1
    print(f"error: internal error ({type(exc).__name__}: {shorten(str(exc), 200, quote=False)})"
          f" while handling this input. This is a bug in llmpod: please "
          f"report it with the command and input (LLMPOD_DEBUG=1 shows the traceback).",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
