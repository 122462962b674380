"""Drive the real Pulumi CLI over a project directory, step by step, and report as JSON.

The real-engine tests run this as a script, in a fresh process per call: Pulumi's
runtime settings are process-global (the unit tests install mocks in theirs), and
the project made by ``llmpod init`` must run on the Python of the venv its wheel was
installed into, not on the checkout's.

The program is llmpod's own (``llmpod.program.main``, what ``python -m llmpod``
runs), given to the Automation API as an inline program: the Python SDK serves it
and starts the real ``pulumi`` binary with ``--client``, so no Python language host
is needed (that Go module is not served here; scripts/install_pulumi_toolchain.sh
says why). Everything else is what ``pulumi <step>`` does in the project directory:
the CLI reads ``Pulumi.yaml`` and ``stackConfigDir``, starts the Kubernetes provider
it finds on PATH, and writes state to the backend in ``PULUMI_BACKEND_URL``.

usage: python drive_pulumi.py --work-dir DIR --stack NAME --pulumi-root ROOT STEP...

Steps: ``select`` (``pulumi stack select NAME --create``), ``preview``, ``preview-diff``,
``preview-no-changes`` (``--expect-no-changes``), ``up``, ``destroy``, ``refresh``,
``refresh-preview`` (``refresh --preview-only``). Stops at the first failing step.
Prints one JSON object ``{"steps": [{"step", "ok", "seconds", "changes", "stdout",
"error"}], "outputs": {...}}``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any


def _project_name(work_dir: Path) -> str:
    text = (work_dir / "Pulumi.yaml").read_text(encoding="utf-8")
    match = re.search(r"^name:\s*(\S+)\s*$", text, re.M)
    if not match:
        raise SystemExit(f"{work_dir}/Pulumi.yaml has no name:")
    return match.group(1)


def _run_step(stack: Any, step: str) -> tuple[dict[str, int], str]:
    """One step → (changes by operation, the CLI's own output)."""
    lines: list[str] = []
    out = lines.append
    if step == "preview":
        result = stack.preview(on_output=out, color="never")
        return dict(result.change_summary), "\n".join(lines)
    if step == "preview-diff":
        result = stack.preview(on_output=out, color="never", diff=True)
        return dict(result.change_summary), "\n".join(lines)
    if step == "preview-no-changes":
        result = stack.preview(on_output=out, color="never", expect_no_changes=True)
        return dict(result.change_summary), "\n".join(lines)
    if step == "up":
        up = stack.up(on_output=out, color="never")
        return dict(up.summary.resource_changes or {}), "\n".join(lines)
    if step == "destroy":
        done = stack.destroy(on_output=out, color="never")
        return dict(done.summary.resource_changes or {}), "\n".join(lines)
    if step == "refresh":
        done = stack.refresh(on_output=out, color="never")
        return dict(done.summary.resource_changes or {}), "\n".join(lines)
    if step == "refresh-preview":
        result = stack.preview_refresh(on_output=out, color="never", diff=True)
        return dict(result.change_summary), "\n".join(lines)
    raise SystemExit(f"unknown step {step!r}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--pulumi-root", required=True, help="ROOT/bin/pulumi is the CLI")
    parser.add_argument("steps", nargs="+")
    args = parser.parse_args(argv)

    from pulumi import automation as auto

    from llmpod.program import main as llmpod_program

    work_dir = args.work_dir.resolve()
    import llmpod

    # Which llmpod ran the program (the checkout's, or a wheel's in a venv).
    report: dict[str, Any] = {"steps": [], "outputs": {}, "llmpod": llmpod.__file__}
    started = time.monotonic()
    stack = auto.create_or_select_stack(
        stack_name=args.stack,
        project_name=_project_name(work_dir),
        program=llmpod_program,
        opts=auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            pulumi_command=auto.PulumiCommand(root=args.pulumi_root),
        ),
    )
    for step in args.steps:
        if step == "select":
            report["steps"].append(
                {"step": step, "ok": True, "seconds": round(time.monotonic() - started, 2)}
            )
            continue
        t0 = time.monotonic()
        entry: dict[str, Any] = {"step": step}
        try:
            entry["changes"], entry["stdout"] = _run_step(stack, step)
            entry["ok"] = True
        except auto.errors.CommandError as err:
            entry.update(ok=False, error=str(err)[-6000:])
        entry["seconds"] = round(time.monotonic() - t0, 2)
        report["steps"].append(entry)
        if not entry["ok"]:
            break
    else:
        report["outputs"] = {k: v.value for k, v in stack.outputs().items() if not v.secret}
    print(json.dumps(report, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
