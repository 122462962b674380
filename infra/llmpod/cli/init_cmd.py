"""`llmpod init DIR`: start an llmpod project in a repository of your own."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

COMMAND = (
    "init",
    "create a new llmpod project (Pulumi.yaml, dev/staging/production stacks, CI workflows) in DIR",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "directory",
        nargs="?",
        default=".",
        type=Path,
        help="where to create the project (default: the current directory)",
    )
    p.add_argument(
        "--name", default=None, help="Pulumi project name (default: the directory's name)"
    )
    p.add_argument(
        "--install",
        default=None,
        metavar="SPEC",
        help="the pip requirement CI installs llmpod from (.llmpod/requirements.txt), e.g. "
        "'llmpod @ git+https://github.com/<you>/llmpod@<commit>' (default: how this llmpod "
        "was installed: its git URL and commit, or its wheel, copied into .llmpod/)",
    )


def run(ns: argparse.Namespace) -> int:
    from llmpod.cli.main import version
    from llmpod.scaffold.install import REQUIREMENTS, detect_source, explicit_source
    from llmpod.scaffold.project import project_name, scaffold_files, write_project

    directory: Path = ns.directory
    name = project_name(directory, ns.name)
    install = explicit_source(ns.install) if ns.install else detect_source(version())
    written = write_project(directory, scaffold_files(name, version(), install))
    for path in written:
        print(f"created {path}", file=sys.stderr)
    print(f"CI installs llmpod from {REQUIREMENTS}: {install.requirement}", file=sys.stderr)
    if install.note:
        print(f"note: {install.note}", file=sys.stderr)
    _record_first_promotion(directory / "stacks")
    # `cd .` is noise, and a directory name with a space must survive the paste.
    here = directory.resolve() == Path.cwd().resolve()
    cd = "" if here else f"cd {shlex.quote(str(directory))} && "
    print(
        f"llmpod project {name!r} in {directory.resolve()}. Next:\n"
        f"  {cd}llmpod render dev      # manifests + policy report in build/dev\n"
        f"  llmpod diff staging production            # what a promotion would change"
    )
    return 0


def _record_first_promotion(stacks: Path) -> None:
    """Promote staging → production once, as `llmpod promote` would: production
    then records what it received, so the CI guard (`promote --check`) passes
    until someone edits production's promotable values by hand."""
    from llmpod.environments.promote import prepare_promotion, write_promotion

    promotion = prepare_promotion("staging", "production", stacks)
    if not promotion.up_to_date:
        write_promotion(promotion)
