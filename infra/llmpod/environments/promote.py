"""`llmpod promote SOURCE TARGET`: compute, check and write a promotion.

``prepare_promotion`` does everything that can refuse — reading both files,
validating both specs, merging, the conflict rule, validating and planning
the result — without writing; ``write_promotion`` is the only write, and it
re-checks the target's hash first. Every refusal leaves the target file
byte-for-byte as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llmpod.environments.merge import MergeResult, merge_promotion
from llmpod.environments.plan_diff import StackDiff, diff_stacks
from llmpod.environments.stack_yaml import (
    StackText,
    dump_doc,
    parse_stack_text,
    read_stack_text,
    write_if_unchanged,
)
from llmpod.environments.stacks import load_spec, resolve_stack
from llmpod.environments.summary import summarize_service_plan, summarize_stack
from llmpod.errors import LlmpodError


@dataclass(frozen=True)
class Promotion:
    source_name: str
    target_name: str
    target: StackText
    new_bytes: bytes
    merge: MergeResult
    diff: StackDiff

    @property
    def up_to_date(self) -> bool:
        return self.new_bytes == self.target.raw

    def notes(self) -> list[str]:
        import json

        m, src = self.merge, self.source_name
        out = [
            f"{c.service}.{c.path}: {json.dumps(c.before)} → {json.dumps(c.after)}"
            for c in m.changes
        ]
        out += [
            f"new in {self.target_name}: {n} (copied from {src}; its local values are "
            f"schema defaults — review namespace, storage class, replicas, domain)"
            for n in m.added
        ]
        out += [f"left alone: {n} (not in {src})" for n in m.target_only]
        out += [
            f"first promotion of {n}: no record of earlier promotions, so hand edits in "
            f"{self.target_name} could not be told apart from older values"
            for n in m.unrecorded
        ]
        return out


def _refuse(err: LlmpodError, source: str, target: str) -> LlmpodError:
    return LlmpodError(
        code=err.code,
        exit_code=err.exit_code,
        suggestions=err.suggestions,
        message=f"Refusing to promote {source} → {target}: {err.message} Nothing was written.",
    )


def prepare_promotion(
    source_ref: str,
    target_ref: str,
    stacks_dir: Path | None = None,
    *,
    overwrite_edits: bool = False,
) -> Promotion:
    from llmpod.deploy.stack import plan_stack

    source_path = resolve_stack(source_ref, stacks_dir)
    target_path = resolve_stack(target_ref, stacks_dir)
    if source_path.resolve() == target_path.resolve():
        raise LlmpodError(
            code="same_stack",
            message=f"Source and target are the same file ({target_path}).",
            suggestions=["name two different stacks, e.g. `llmpod promote staging production`"],
        )
    source = read_stack_text(source_path)
    target = read_stack_text(target_path)
    try:
        source_spec = load_spec(source, role="source")
        target_spec = load_spec(target, role="target")
    except LlmpodError as err:
        raise _refuse(err, source_ref, target_ref) from None

    working = parse_stack_text(target.raw, target.path)  # mutated by the merge
    merge = merge_promotion(source_ref, source.config, source_spec, working.config, target_spec)
    if merge.conflicts and not overwrite_edits:
        raise LlmpodError(
            code="target_edited_by_hand",
            message=(
                f"Refusing to promote {source_ref} → {target_ref}: {target_path} was edited "
                f"by hand since its last promotion, and the promotion would overwrite "
                f"that: "
                + "; ".join(c.describe() for c in merge.conflicts)
                + ". Nothing was written."
            ),
            suggestions=[
                f"make {source_ref} carry the same value (then there is nothing to overwrite)",
                f"revert the hand edit in {target_path}",
                "pass --overwrite-edits to discard the hand edits deliberately",
            ],
        )
    new_bytes = dump_doc(working.doc)
    try:
        promoted_spec = load_spec(parse_stack_text(new_bytes, target.path), role="promoted target")
        after_plans = plan_stack(promoted_spec)
    except LlmpodError as err:
        raise _refuse(err, source_ref, target_ref) from None
    before = summarize_stack(target_spec)
    after = {p.name: summarize_service_plan(p) for p in after_plans}
    diff = diff_stacks(f"{target_ref} now", before, f"{target_ref} promoted", after)
    return Promotion(source_ref, target_ref, target, new_bytes, merge, diff)


def write_promotion(promotion: Promotion) -> list[str]:
    return write_if_unchanged(promotion.target.path, promotion.new_bytes, promotion.target.sha256)
