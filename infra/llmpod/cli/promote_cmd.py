"""`llmpod promote SOURCE TARGET`: carry the promotable spec over, after a plan diff."""

from __future__ import annotations

import argparse
import sys

from llmpod.cli.project_args import add_stacks_dir

COMMAND = (
    "promote",
    "carry SOURCE's promotable service spec into TARGET's stack file "
    "(shows the plan diff; refuses unsafe promotions)",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="stack to promote from (e.g. staging), or a stack file path")
    p.add_argument("target", help="stack whose file is rewritten (e.g. production)")
    p.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    p.add_argument(
        "--yes",
        action="store_true",
        help="write without asking (required when stdin is not a terminal)",
    )
    p.add_argument(
        "--require-healthy",
        metavar="URL",
        help="refuse unless GET URL (the source's health endpoint) answers 200",
    )
    p.add_argument(
        "--health-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long --require-healthy waits (default 5)",
    )
    p.add_argument(
        "--overwrite-edits",
        action="store_true",
        help="overwrite promotable values edited by hand in TARGET since the last "
        "promotion (refused by default)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 0 if TARGET already holds SOURCE's promotable spec, "
        "3 if a promotion would change it (CI guard for production)",
    )
    p.add_argument(
        "--markdown",
        action="store_true",
        help="print the diff as GitHub markdown (for a promotion PR body)",
    )
    add_stacks_dir(p)


def run(ns: argparse.Namespace) -> int:

    from llmpod.environments.health import check_healthy
    from llmpod.environments.markdown import render_markdown
    from llmpod.environments.promote import prepare_promotion, write_promotion
    from llmpod.environments.safe_write import real_target
    from llmpod.environments.table_view import show_diff
    from llmpod.errors import LlmpodError

    stacks_dir = ns.stacks_dir
    if ns.require_healthy:
        check_healthy(ns.require_healthy, ns.health_timeout)
    promotion = prepare_promotion(
        ns.source, ns.target, stacks_dir, overwrite_edits=ns.overwrite_edits
    )
    print(f"stack: {promotion.target.path.resolve()}", file=sys.stderr)
    title = f"llmpod promote {ns.source} → {ns.target}"
    notes = promotion.notes()
    if ns.markdown:
        print(render_markdown(promotion.diff, title=title))
        if notes:
            print("**Spec changes and notes:**\n\n" + "\n".join(f"- {n}" for n in notes) + "\n")
    else:
        show_diff(promotion.diff, sys.stdout, title=title)
        for note in notes:
            print(f"• {note}")
    path = promotion.target.path
    if promotion.up_to_date:
        print(f"{path} is already up to date with {ns.source}; nothing to write.", file=sys.stderr)
        return 0
    if ns.check:
        raise LlmpodError(
            code="not_promoted",
            message=f"{path} does not hold {ns.source}'s promotable spec (diff above): it was "
            f"edited by hand or not promoted yet.",
            suggestions=[
                f"run `llmpod promote {ns.source} {ns.target}` (or the promote "
                f"workflow) instead of editing promotable values by hand"
            ],
            exit_code=3,
        )
    if ns.dry_run:
        print(f"dry run: {path} was not written.", file=sys.stderr)
        return 0
    real_target(path)  # a read-only or dangling target is refused before the prompt
    if not ns.yes:
        if not sys.stdin.isatty():
            raise LlmpodError(
                code="confirmation_required",
                message=f"Refusing to write {path} without confirmation: stdin is not a "
                f"terminal, so nobody can answer the prompt. Nothing was written.",
                suggestions=[
                    "review the diff above and pass --yes (as the promotion workflow does)",
                    "use --dry-run to only see the diff",
                ],
            )
        answer = input(f"Write {path}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print(f"not confirmed: {path} was not written.", file=sys.stderr)
            return 1
    for note in write_promotion(promotion):
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {path}", file=sys.stderr)
    return 0
