"""Robustness sweep: mutated stack files through the real `llmpod` CLI, counted.

    python benchmarks/robustness_sweep.py [--project DIR] [-n 150] [--seed 10]

Each case copies the project (``--project``, default this checkout, without
``.git``) into a fresh temporary directory, writes one mutated stack file into
its ``stacks/``, runs one command there in a subprocess (``render`` mostly;
``diff`` and ``promote --dry-run`` too, since they read stack files through
another loader), and then checks:

* traceback: ``Traceback (most recent call last)`` on stderr;
* data loss: a file that existed before the command is gone or changed;
* hang: still running after ``--timeout`` seconds (killed);
* internal error: the CLI's last-resort message (no traceback, still a bug);
* clean: exit 0, or exit 1/2/3 with one ``error:`` paragraph and no traceback.

A fixed list of cases comes first (the ones issue 10 reported: ``--out .``,
``--out stacks``, ``--out README.md``, a parent directory, an alias bomb for
diff and promote, non-UTF-8 bytes, deep nesting, huge numbers, long names);
then ``-n`` random mutations of the shipped stacks, seeded, so a run on an
older checkout (``git archive main | tar -x -C /tmp/before``) is comparable.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
IGNORE = shutil.ignore_patterns(
    ".git",
    ".cache",
    "build",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
)

#: Values dropped into string, number and list positions. Injection strings,
#: grammar breakers, and the sizes that crashed main at 8ad285c.
PAYLOADS: list[Any] = [
    "",
    " ",
    "x" * 300,
    "a" * 70_000,
    "us-east-1;touch /tmp/pwned;",
    "$(id)",
    "`id`",
    "a\nExecStartPre=/bin/sh -c id",
    "line\r\nbreak",
    "\x01\x02\x1b[31m",
    "../../etc/passwd",
    "s3://*/models",
    "s3://llmpod-models/*",
    " --privileged -v /:/host",
    "{{ 7*7 }}",
    "${IFS}id",
    "'\"",
    "%s%n",
    "\\",
    "a: b",
    "- x",
    "名前",
    "\u202eevil",
    "\ud7ff",
    'Qwen/Qwen2.5-7B-Instruct"} or vector(1)',
    "*",
    "..",
    "/",
    "hf://x/y@$(id)",
    10**5000,
    -1,
    0,
    2**63,
    1e308,
    -1e308,
    float("inf"),
    float("nan"),
    0.0,
    True,
    None,
    [],
    {},
    [1, 2],
    {"a": 1},
]


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            try:
                out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
            except OSError:
                out[str(p.relative_to(root))] = "unreadable"
    return out


def _load(path: Path) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(path.read_text())


def _dump(doc: Any) -> bytes:
    import io

    from ruamel.yaml import YAML

    y = YAML(typ="safe", pure=True)
    y.default_flow_style = False
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _delete(doc: Any, path: tuple[Any, ...]) -> None:
    node = doc
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]


def mutate(rng: random.Random, doc: Any) -> bytes:
    """One random mutation of a parsed stack file, serialised as YAML bytes."""
    kind = rng.choice(["payload", "payload", "payload", "payload", "delete", "nest", "key", "text"])
    paths = _paths(doc)
    path = rng.choice(paths)
    if kind == "payload":
        _set(doc, path, rng.choice(PAYLOADS))
    elif kind == "delete" and len(path) > 1:
        _delete(doc, path)
    elif kind == "nest":
        _set(doc, path, "__NEST__")
        text = _dump(doc).decode("utf-8", "surrogatepass")
        depth = rng.choice([40, 200, 600])
        return text.replace("__NEST__", "[" * depth + "]" * depth).encode("utf-8", "surrogatepass")
    elif kind == "key" and isinstance(doc["config"].get("llmpod:services"), list):
        svc = rng.choice(doc["config"]["llmpod:services"])
        svc[rng.choice([1, 2.5, None, True, "unknown_key", "nmae"])] = "x"
    else:
        text = _dump(doc)
        cut = rng.randrange(len(text))
        tweak = rng.choice([b"\xff\xfe", b"\t", b": :", b"&a [*a]", b"\x00", b"\n  - ", b"'"])
        return text[:cut] + tweak + text[cut:]
    return _dump(doc)


def alias_bomb(levels: int = 12) -> bytes:
    lines = ["config:", "  llmpod:environment: dev", '  a0: &a0 ["lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"  a{i}: &a{i} [{refs}]")
    lines.append(f"  llmpod:services: *a{levels - 1}")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Case:
    name: str
    stack: bytes | None  # None: the shipped files only
    args: list[str]  # after `llmpod`; "mut" names the mutated stack


def fixed_cases(shipped: dict[str, bytes]) -> list[Case]:
    dev = shipped["dev"]
    long_name = dev.replace(b"name: qwen-7b", b"name: " + b"q" * 300)
    return [
        Case("out-dot", None, ["render", "dev", "--out", "."]),
        Case("out-stacks", None, ["render", "dev", "--out", "stacks"]),
        Case("out-readme", None, ["render", "dev", "--out", "README.md"]),
        Case("out-infra", None, ["render", "dev", "--out", "infra"]),
        Case("out-parent", None, ["render", "dev", "--out", ".."]),
        Case("out-stacks-child-parent", None, ["render", "dev", "--out", "stacks/.."]),
        Case("alias-bomb-render", alias_bomb(), ["render", "mut", "--out", "build/o"]),
        Case("alias-bomb-diff", alias_bomb(), ["diff", "stacks/Pulumi.mut.yaml", "dev"]),
        Case(
            "alias-bomb-promote",
            alias_bomb(),
            ["promote", "stacks/Pulumi.mut.yaml", "staging", "--dry-run"],
        ),
        Case(
            "non-utf8",
            dev.replace(b"qwen-7b", b"qwen-\xff\xfe"),
            ["render", "mut", "--out", "build/o"],
        ),
        Case(
            "non-utf8-diff",
            dev.replace(b"qwen-7b", b"qwen-\xff\xfe"),
            ["diff", "stacks/Pulumi.mut.yaml", "dev"],
        ),
        Case(
            "nest-500",
            dev.replace(b"concurrency: 4", b"concurrency: " + b"[" * 500 + b"]" * 500),
            ["render", "mut", "--out", "build/o"],
        ),
        Case(
            "int-5000",
            dev.replace(b"concurrency: 4", b"concurrency: " + b"9" * 5000),
            ["render", "mut", "--out", "build/o"],
        ),
        Case(
            "size-1e308",
            dev.replace(
                b"storage_class: standard-rwx",
                b"storage_class: standard-rwx\n        size_gib: 1e308",
            ),
            ["render", "mut", "--out", "build/o"],
        ),
        Case(
            "size-inf",
            dev.replace(
                b"storage_class: standard-rwx",
                b"storage_class: standard-rwx\n        size_gib: .inf",
            ),
            ["render", "mut", "--out", "build/o"],
        ),
        Case("long-name", long_name, ["render", "mut", "--out", "build/o"]),
        Case(
            "non-string-key",
            dev.replace(b"      max_model_len:", b"      1: x\n      max_model_len:"),
            ["render", "mut", "--out", "build/o"],
        ),
        Case(
            "six-mb-value",
            dev.replace(b"name: qwen-7b", b"name: " + b"z" * 6_000_000),
            ["render", "mut", "--out", "build/o"],
        ),
    ]


def random_cases(shipped: dict[str, bytes], n: int, seed: int, project: Path) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    docs = {k: _load(project / "stacks" / f"Pulumi.{k}.yaml") for k in shipped}
    for i in range(n):
        base = rng.choice(sorted(docs))
        doc = json.loads(json.dumps(docs[base]))  # deep copy of plain data
        data = mutate(rng, doc)
        roll = rng.random()
        if roll < 0.8:
            args = ["render", "mut", "--out", "build/o"]
        elif roll < 0.9:
            args = ["diff", "stacks/Pulumi.mut.yaml", base]
        else:
            args = ["promote", "stacks/Pulumi.mut.yaml", "production", "--dry-run"]
        cases.append(Case(f"random-{i:04d}-{base}", data, args))
    return cases


def run_case(case: Case, project: Path, timeout: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="llmpod-sweep-") as tmp:
        root = Path(tmp)
        proj = root / "proj"
        shutil.copytree(project, proj, ignore=IGNORE, symlinks=True)
        (root / "sibling.txt").write_text("a file next to the project\n")
        if case.stack is not None:
            (proj / "stacks" / "Pulumi.mut.yaml").write_bytes(case.stack)
        before = _snapshot(root)
        env = {**os.environ, "PYTHONPATH": str(proj), "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "llmpod.cli.main", *case.args],
                cwd=proj,
                env=env,
                capture_output=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
            rc, err = proc.returncode, proc.stderr.decode("utf-8", "replace")
            hang = False
        except subprocess.TimeoutExpired as exc:
            rc, err, hang = None, (exc.stderr or b"").decode("utf-8", "replace"), True
        after = _snapshot(root) if root.exists() else {}
        lost = sorted(k for k, v in before.items() if after.get(k) != v)
        return {
            "case": case.name,
            "args": case.args,
            "rc": rc,
            "hang": hang,
            "traceback": "Traceback (most recent call last)" in err,
            "lost": lost[:5],
            "lost_count": len(lost),
            "internal_error": "error: internal error" in err,
            "stderr_bytes": len(err),
            "stderr_head": err[:300],
            "stderr_tail": err[-300:],
        }


def summarize(rows: list[dict[str, Any]]) -> dict[str, int]:
    c: Counter[str] = Counter()
    for r in rows:
        c["cases"] += 1
        c["tracebacks"] += r["traceback"]
        c["hangs"] += r["hang"]
        c["data_loss"] += r["lost_count"] > 0
        # The CLI's last-resort handler: no traceback, but a bug all the same.
        c["internal_errors"] += r.get("internal_error", False)
        c["stderr_over_10kb"] += r["stderr_bytes"] > 10_000
        if not (r["traceback"] or r["hang"] or r["lost_count"]):
            c[f"exit_{r['rc']}"] += 1
    return dict(sorted(c.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--project", type=Path, default=ROOT)
    ap.add_argument("-n", type=int, default=150, help="random mutations (default 150)")
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds before a hang")
    ap.add_argument("--json", type=Path, help="write every case's result here")
    ap.add_argument("--only-fixed", action="store_true")
    ap.add_argument(
        "--cases",
        default="",
        help="comma-separated case names to run (e.g. to re-run a 'hang' with a "
        "longer --timeout on a busy machine)",
    )
    ns = ap.parse_args()
    # The sweep itself writes 5,000-digit integers into stack files; the CLI under
    # test runs in its own process with CPython's default limit.
    sys.set_int_max_str_digits(0)
    project = ns.project.resolve()
    shipped = {
        k: (project / "stacks" / f"Pulumi.{k}.yaml").read_bytes()
        for k in ("dev", "staging", "production")
    }
    cases = fixed_cases(shipped)
    if not ns.only_fixed:
        cases += random_cases(shipped, ns.n, ns.seed, project)
    if ns.cases:
        wanted = set(ns.cases.split(","))
        cases = [c for c in cases if c.name in wanted]
    rows = []
    show: Callable[[dict[str, Any]], str] = lambda r: (  # noqa: E731
        "HANG"
        if r["hang"]
        else "TRACEBACK"
        if r["traceback"]
        else "INTERNAL"
        if r["internal_error"]
        else f"LOST {r['lost_count']}"
        if r["lost_count"]
        else f"exit {r['rc']}"
    )
    for case in cases:
        row = run_case(case, project, ns.timeout)
        rows.append(row)
        print(f"{row['case']:32} {' '.join(case.args)[:60]:60} {show(row)}", flush=True)
    summary = summarize(rows)
    print(json.dumps(summary, indent=2))
    if ns.json:
        ns.json.write_text(json.dumps({"summary": summary, "cases": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
