"""What the plan says the server must report: from a plan file or a stack's service.

``--plan PLAN.json`` takes either document llmpod writes:

* the output of ``llmpod plan --json`` (``vllm_args``, ``kv_cache_tokens``,
  ``kv_cache_blocks``), or
* the entrypoint's plan file (``vllm_args``, ``warmup``, ``expected``), as the
  backends mount it at ``/etc/llmpod/plan.json``.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmpod.errors import LlmpodError
from llmpod.image.runtime.plan_check import Expectation
from llmpod.image.runtime.plan_file import PlanFileError, parse_plan


@dataclass(frozen=True)
class Planned:
    label: str
    expectation: Expectation


def _bad(path: Path | str, problem: str, fix: str) -> LlmpodError:
    return LlmpodError(code="bad_plan_file", message=f"{path}: {problem}.", suggestions=[fix])


_FIX = "give the output of `llmpod plan --json` or the plan file a backend mounts (plan.json)"


def _count(raw: dict[str, Any], key: str, path: Path) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(path, f"'{key}' must be a whole number ≥ 0, got {str(value)[:40]!r}", _FIX)
    return value


def _from_planner_output(raw: dict[str, Any], path: Path) -> Expectation:
    if raw.get("feasible") is False:
        errors = raw.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        raise _bad(
            path,
            f"the plan is not feasible ({str(first.get('message', 'no reason given'))[:200]}),"
            " so no server can be held to it",
            "plan a feasible layout first (`llmpod plan ... --json`)",
        )
    args = raw.get("vllm_args")
    if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
        raise _bad(
            path, f"'vllm_args' must be a non-empty list of strings, got {str(args)[:80]}", _FIX
        )
    tokens = _count(raw, "kv_cache_tokens", path) or None
    blocks = _count(raw, "kv_cache_blocks", path) or None
    # The planner computes tokens = blocks × block size; the block size is not a
    # separate field of its JSON, so it is recovered only when that holds exactly.
    block = tokens // blocks if tokens and blocks and tokens % blocks == 0 else None
    return Expectation(vllm_args=tuple(args), kv_cache_tokens=tokens, block_size=block)


#: A plan is a few KiB; anything near this is not one (and /dev/zero never ends).
MAX_PLAN_BYTES = 4 << 20


def _read_plan_text(path: Path) -> str:
    """The file's text, from a regular file of bounded size only: a FIFO would block
    forever and /dev/zero would fill memory."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise _bad(path, "is not a regular file (a pipe, device or directory)", _FIX)
        with path.open("rb") as handle:
            data = handle.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        raise _bad(path, "no such file", _FIX) from None
    except OSError as exc:
        raise _bad(path, f"cannot be read ({exc.strerror or exc})", _FIX) from None
    if len(data) > MAX_PLAN_BYTES:
        raise _bad(path, f"is larger than {MAX_PLAN_BYTES >> 20} MiB, so not a plan", _FIX)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(path, "is not UTF-8 text", _FIX) from None


def from_plan_file(path_text: str) -> Planned:
    path = Path(path_text)
    text = _read_plan_text(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(path, f"is not JSON ({exc.msg} at line {exc.lineno})", _FIX) from None
    except RecursionError:
        raise _bad(path, "is JSON nested too deeply to be a plan", _FIX) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise _bad(path, f"is not a plan's JSON ({str(exc)[:120]})", _FIX) from None
    if not isinstance(raw, dict):
        raise _bad(path, f"must hold a JSON object, got {type(raw).__name__}", _FIX)
    if "feasible" in raw or "kv_cache_tokens" in raw:
        return Planned(str(path), _from_planner_output(raw, path))
    try:
        plan = parse_plan(text, source=str(path))
    except PlanFileError as exc:
        # The image's parser says "plan file: …" (it has one file); here, name which.
        text = str(exc)
        if str(path) not in text:
            text = f"{path}: {text.removeprefix('plan file: ')}"
        raise LlmpodError(code="bad_plan_file", message=text[:600], suggestions=[_FIX]) from None
    expectation = Expectation(
        vllm_args=plan.vllm_args,
        kv_cache_tokens=plan.expected.kv_cache_tokens,
        block_size=plan.expected.block_size,
    )
    return Planned(str(path), expectation)


def from_stack(stack_name: str, service: str) -> Planned:
    """Plan the service exactly as `llmpod render` / `pulumi up` would deploy it."""
    from llmpod.backends.runtime import expected_figures
    from llmpod.environments.stack_files import load_service
    from llmpod.planning.service import plan_service

    stack, spec = load_service(stack_name, service)
    sp = plan_service(spec, stack.environment)
    figures = expected_figures(sp)
    expectation = Expectation(
        vllm_args=tuple(sp.plan.vllm_args),
        kv_cache_tokens=figures["kv_cache_tokens"],
        block_size=figures["block_size"],
    )
    return Planned(f"{stack_name}/{service}", expectation)
