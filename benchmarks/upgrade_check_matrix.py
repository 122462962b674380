"""`llmpod upgrade-check` of the shipped stacks against every vLLM release llmpod has facts for.

    python benchmarks/upgrade_check_matrix.py > benchmarks/upgrade_check_matrix.md

One row per release: the exit code `llmpod upgrade-check STACK --to RELEASE`
gives for each stack, the planned KV-cache tokens under the release's memory
rules against the stack's own release (per service, in stack order), and the
findings that are not "fine"/"present" across the three stacks. Also the legacy
fixture stack (vLLM 0.10.0) moved to 0.17.0, the move that broke the field.
"""

from __future__ import annotations

from pathlib import Path

from llmpod.environments.stack_yaml import read_stack_text
from llmpod.environments.stacks import load_spec
from llmpod.releases.facts import index, known_versions
from llmpod.upgrade.check import ServiceCheck, check_stack

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "production")
LEGACY = ROOT / "tests" / "fixtures" / "stacks" / "Pulumi.legacy.yaml"


def _kv(checks: list[ServiceCheck]) -> str:
    out = []
    for c in checks:
        to = c.plan.get("to")
        if to:
            before = c.plan["from"]["kv_cache_tokens"]
            out.append(f"{(to['kv_cache_tokens'] - before) / before:+.0%}")
    return f" (KV {', '.join(out)})" if out else ""


def main() -> int:
    specs = {s: load_spec(read_stack_text(ROOT / "stacks" / f"Pulumi.{s}.yaml"), "stack")
             for s in STACKS}  # fmt: skip
    versions = known_versions()
    print(f"# upgrade-check of the shipped stacks, {len(versions)} vLLM releases")
    print()
    print(f"Facts generated {index()['generated']} by `{index()['command']}`.")
    print("Exit 0: nothing llmpod renders for the release breaks; 3: something would.")
    print()
    print("| release | " + " | ".join(STACKS) + " | findings other than fine/present |")
    print("|---|" + "---|" * (len(STACKS) + 1))
    for version in versions:
        cells, notes = [], set()
        for stack in STACKS:
            checks = check_stack(specs[stack], version)
            code = 3 if any(c.breaks for c in checks) else 0
            cells.append(f"{code}{_kv(checks)}")
            notes |= {
                f"{f.kind} `{f.subject}` {f.status}"
                for c in checks
                for f in c.findings
                if f.status not in ("fine", "present")
            }
        print(f"| {version} | " + " | ".join(cells) + " | " + "; ".join(sorted(notes)) + " |")
    print()
    print("## The legacy fixture stack (vLLM 0.10.0) moved to 0.17.0")
    print()
    legacy = load_spec(read_stack_text(LEGACY), "stack")
    for c in check_stack(legacy, "0.17.0"):
        for f in c.findings:
            if f.status not in ("fine", "present"):
                print(f"- {f.kind} `{f.subject}`: {f.status}. {f.detail}. Fix: {f.fix}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
