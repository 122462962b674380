"""The classes and module-level constants of a vLLM release's source, and literal values.

Part of the ast extractor (llmpod.releases.extract): a config dataclass's fields
(annotation, default, the docstring under it) and the values of expressions such
as ``EngineArgs.max_model_len`` or ``field(default_factory=list)``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

DEPRECATION = re.compile(
    r"\[deprecated\]|^\s*deprecated|(is|are|been|now) deprecated|deprecated[:;,.]"
    r"|will be removed",
    re.IGNORECASE,
)
FLAG_IN_TEXT = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]")

UNRESOLVED = object()


@dataclass
class Field:
    name: str
    annotation: str
    default: Any
    doc: str


@dataclass
class Index:
    """Classes and module-level constants across the release's modules."""

    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)
    bool_optional: bool = False
    enable_disable: bool = False

    def fields(self, cls_name: str, depth: int = 0) -> dict[str, Field]:
        node = self.classes.get(cls_name)
        if node is None or depth > 8:
            return {}
        out: dict[str, Field] = {}
        for base in node.bases:
            base_name = name_of(base)
            if base_name:
                out.update(self.fields(base_name, depth + 1))
        body = node.body
        for i, stmt in enumerate(body):
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                ann = ast.unparse(stmt.annotation)
                if ann.startswith("ClassVar") or stmt.target.id.startswith("_"):
                    continue
                doc = ""
                nxt = body[i + 1] if i + 1 < len(body) else None
                if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
                    doc = str(nxt.value.value)
                default = self.value(stmt.value) if stmt.value is not None else UNRESOLVED
                out[stmt.target.id] = Field(stmt.target.id, ann, default, doc)
        return out

    def value(self, node: ast.expr | None, depth: int = 0) -> Any:
        """A literal value for an expression, following names and class fields."""
        if node is None or depth > 6:
            return UNRESOLVED
        if isinstance(node, ast.Constant):
            return node.value if not isinstance(node.value, bytes) else UNRESOLVED
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.value(node.operand, depth + 1)
            return -inner if isinstance(inner, int | float) else UNRESOLVED
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items = [self.value(e, depth + 1) for e in node.elts]
            return UNRESOLVED if any(i is UNRESOLVED for i in items) else items
        if isinstance(node, ast.Dict) and not node.keys:
            return {}
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return self.value(self.constants[node.id], depth + 1)
            return UNRESOLVED
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = node.value.id
            if owner in self.classes:
                f = self.fields(owner).get(node.attr)
                if f is not None:
                    return f.default
                for stmt in self.classes[owner].body:
                    if isinstance(stmt, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == node.attr for t in stmt.targets
                    ):
                        return self.value(stmt.value, depth + 1)
            return UNRESOLVED
        if isinstance(node, ast.Call):
            fname = name_of(node.func)
            if fname in ("field", "Field"):
                for kw in node.keywords:
                    if kw.arg == "default":
                        return self.value(kw.value, depth + 1)
                    if kw.arg == "default_factory":
                        factory = name_of(kw.value)
                        if factory in ("list", "dict", "set"):
                            return {"list": [], "dict": {}, "set": []}[factory]
                        if isinstance(kw.value, ast.Lambda):
                            return self.value(kw.value.body, depth + 1)
                if node.args:
                    return self.value(node.args[0], depth + 1)
                return UNRESOLVED
            if fname == "get_field" and len(node.args) == 2:
                owner = name_of(node.args[0])
                key = node.args[1]
                if owner and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    f = self.fields(owner).get(key.value)
                    return f.default if f is not None else UNRESOLVED
        return UNRESOLVED

    def text(self, node: ast.expr | None) -> str:
        """Literal text of a help= expression (string pieces of concatenations, f-strings)."""
        if node is None:
            return ""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.constants:
            return self.text(self.constants[node.id])
        if isinstance(node, ast.BinOp):
            return self.text(node.left) + self.text(node.right)
        if isinstance(node, ast.JoinedStr):
            return "".join(self.text(v) for v in node.values)
        if isinstance(node, ast.Call):  # ("..." "...").format(...) or similar
            return self.text(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        return ""


def name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return name_of(node.value)
    return ""


def build_index(trees: dict[str, ast.Module]) -> Index:
    idx = Index()
    # Config modules first so a config class wins over a same-named class elsewhere.
    order = sorted(trees, key=lambda p: (not p.startswith("vllm/config"), p))
    for path in order:
        for stmt in trees[path].body:
            if isinstance(stmt, ast.ClassDef):
                idx.classes.setdefault(stmt.name, stmt)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    idx.constants.setdefault(target.id, stmt.value)
            elif (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.value is not None
            ):
                idx.constants.setdefault(stmt.target.id, stmt.value)
    for path in ("vllm/utils/argparse_utils.py", "vllm/utils.py"):
        tree = trees.get(path)
        if tree is None:
            continue
        for node in ast.walk(tree):
            # parser.register("action", BooleanOptionalAction, EnableDisableAction) (0.34):
            # every --enable-x/--no-enable-x switch also answers to --disable-x.
            if (
                isinstance(node, ast.Call)
                and name_of(node.func) == "register"
                and len(node.args) == 3
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "action"
                and name_of(node.args[1]) == "BooleanOptionalAction"
                and "_inverse_prefixes" in ast.unparse(tree)
            ):
                idx.enable_disable = True
    arg_utils = trees.get("vllm/engine/arg_utils.py")
    if arg_utils is not None:
        for node in ast.walk(arg_utils):
            if isinstance(node, ast.FunctionDef) and node.name in ("get_kwargs", "_compute_kwargs"):
                idx.bool_optional = idx.bool_optional or "BooleanOptionalAction" in ast.unparse(
                    node
                )
    return idx
