"""`llmpod verify`: does a running vLLM (a URL or a recording) run what its plan says?"""

from __future__ import annotations

import argparse
import json
import sys

COMMAND = ("verify", "hold a running vLLM (URL or recording) against its plan")
__all__ = ["COMMAND", "add_arguments", "run"]

EPILOG = """\
Forms:
  llmpod verify --plan PLAN.json (URL | --from-file RECORDING) [--json]
  llmpod verify STACK --service NAME (URL | --from-file RECORDING) [--json]

PLAN.json is the output of `llmpod plan --json` or the plan file a backend mounts
(/etc/llmpod/plan.json). URL is the vLLM server (verify reads /metrics and
/v1/models); --status-url adds the llmpod entrypoint's /status (port 8081 by
default), whose launched arguments are then compared flag by flag.

RECORDING is anything `llmpod diagnose --from-file` reads (one scrape is enough:
a JSON lines file from --save, a .prom file, or a directory of them), or a
directory holding a metrics.prom. The directory (or, for a file, the one it is in)
may also hold models.json (the body of GET /v1/models) and status.json (the body
of the entrypoint's /status).

Checks: KV cache tokens (vllm:cache_config_info kv_cache_size_tokens, else
num_gpu_blocks x block_size) within 3% of the plan; gpu_memory_utilization,
cache_dtype, block_size, enable_prefix_caching, max_model_len and the served
model name exactly. A check the plan or the server cannot answer is listed as
not checked, never as passed silently.

Exit codes: 0 every check holds; 3 something differs (the output names it);
            1 could not verify (bad plan, unreachable URL, unreadable recording);
            2 bad command line.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    from llmpod.cli.json_errors import json_command_line_errors

    json_command_line_errors(p)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument(
        "targets",
        nargs="*",
        metavar="STACK|URL",
        help="the stack (with --service) and/or the vLLM server URL",
    )
    p.add_argument("--plan", metavar="PLAN.json", help="the plan to hold the server to")
    p.add_argument("--service", help="with STACK: the service whose plan is checked")
    p.add_argument("--from-file", metavar="RECORDING", help="a recording instead of a URL")
    p.add_argument("--status-url", help="the llmpod entrypoint's status port, e.g. http://h:8081")
    p.add_argument(
        "--timeout", type=float, default=10.0, help="seconds per HTTP request (default 10)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


def run(ns: argparse.Namespace) -> int:
    from llmpod.errors import LlmpodError

    try:
        return _verify(ns)
    except LlmpodError as err:
        if not ns.json:
            raise
        from llmpod.cli.json_errors import print_error

        print_error(err, ok=None)
        return err.exit_code


def _verify(ns: argparse.Namespace) -> int:
    from llmpod.image.runtime.plan_check import RunningReportError, compare
    from llmpod.verify import planned, report, running

    stack, url = _targets(ns)
    if ns.plan:
        plan = planned.from_plan_file(ns.plan)
    else:
        plan = planned.from_stack(str(stack), ns.service)
    if ns.from_file:
        server = running.from_recording(ns.from_file)
    else:
        server = running.from_url(str(url), ns.status_url, ns.timeout)
    launched = _launched(server.status)
    try:
        checks = compare(plan.expectation, server.metrics_text, server.models, launched)
    except RunningReportError as exc:
        from llmpod.errors import LlmpodError

        raise LlmpodError(
            code="not_verifiable",
            message=f"{server.source}: {exc}.",
            suggestions=["point at the vLLM OpenAI server (the port `vllm serve` listens on)"],
        ) from None
    if ns.json:
        body = report.to_json(plan.label, server.source, checks)
        print(json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False))
    else:
        report.write_text(plan.label, server.source, checks, sys.stdout)
    return 3 if any(c.ok is False for c in checks) else 0


def _launched(status: dict[str, object] | None) -> list[str] | None:
    if status is None:
        return None
    args = status.get("vllm_args")
    if isinstance(args, list) and args and all(isinstance(a, str) for a in args):
        return [str(a) for a in args]
    return None  # an entrypoint older than the plan check does not list them


def _targets(ns: argparse.Namespace) -> tuple[str | None, str | None]:
    """(stack, url) from the positionals, which depend on the form used."""
    from llmpod.errors import LlmpodError

    def bad(message: str, fix: str) -> LlmpodError:
        return LlmpodError(code="bad_verify_flags", message=message, suggestions=[fix])

    forms = "--plan PLAN.json URL, or STACK --service NAME URL (or --from-file instead of URL)"
    if ns.plan and ns.service:
        raise bad("give the plan either as --plan or as STACK --service, not both.", forms)
    if not ns.plan and not ns.service:
        raise bad("verify needs the plan: --plan PLAN.json, or STACK --service NAME.", forms)
    wanted = (0 if ns.plan else 1) + (0 if ns.from_file else 1)
    if len(ns.targets) != wanted:
        got = " ".join(ns.targets)[:120] or "none"
        raise bad(f"expected {wanted} positional argument(s) for this form, got: {got}.", forms)
    stack = None if ns.plan else ns.targets[0]
    url = None if ns.from_file else ns.targets[-1]
    if ns.timeout <= 0 or ns.timeout != ns.timeout:
        raise bad(f"--timeout {ns.timeout} must be a number of seconds > 0.", "e.g. --timeout 10")
    return stack, url
