"""`vllm serve` options from a release's source: literal add_argument calls, config
dataclass fields passed through get_kwargs, loops over fields or literals.

Part of the ast extractor (llmpod.releases.extract, whose docstring describes the
patterns and the vLLM files they come from).
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from llmpod.releases.source_index import (
    DEPRECATION,
    FLAG_IN_TEXT,
    UNRESOLVED,
    Field,
    Index,
    name_of,
)


def _kind_from_annotation(ann: str, idx: Index) -> tuple[str, list[Any] | None]:
    """(kind, choices) the release's get_kwargs gives a field with this annotation."""
    expanded = ann
    for name in re.findall(r"[A-Za-z_]\w*", ann):
        alias = idx.constants.get(name)
        if alias is not None and isinstance(alias, ast.Subscript):
            expanded = expanded.replace(name, ast.unparse(alias))
    literal = re.search(r"Literal\[([^\]]*)\]", expanded)
    types = set(re.findall(r"\b(bool|int|float|str|dict|list|tuple|set)\b", expanded))
    if "bool" in types and types <= {"bool"}:
        return "bool", None
    if literal and not (types - {"str"}):
        try:
            choices = ast.literal_eval("[" + literal.group(1) + "]")
        except (ValueError, SyntaxError):
            choices = None
        return "choice", choices
    for kind in ("dict", "list", "tuple", "set", "int", "float", "str"):
        if kind in types:
            return {"tuple": "list", "set": "list"}.get(kind, kind), None
    return "json", None  # a nested config dataclass: parsed from JSON


def _fmt_default(value: Any) -> Any:
    if value is UNRESOLVED:
        return None
    if isinstance(value, float | int | str | bool) or value is None:
        return {"v": value}
    if isinstance(value, list | dict):
        return {"v": value}
    return None


@dataclass
class _Flag:
    names: list[str]
    kind: str
    default: Any = UNRESOLVED
    negatable: bool = False
    deprecated: bool = False
    suppressed: bool = False
    note: str = ""
    choices: list[Any] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        aliases = sorted(n for n in self.names[1:])
        if aliases:
            out["aliases"] = aliases
        default = _fmt_default(self.default)
        if default is not None:
            out["default"] = default["v"]
        if self.negatable:
            out["negatable"] = True
        if self.deprecated:
            out["deprecated"] = True
            mentioned = sorted({m for m in FLAG_IN_TEXT.findall(self.note)} - set(self.names))
            if mentioned:
                out["see"] = mentioned
        if self.suppressed:
            out["hidden"] = True
        if self.choices and all(isinstance(c, str) or c is None for c in self.choices):
            out["choices"] = sorted(c for c in self.choices if c is not None)
        return out


class FlagCollector:
    def __init__(self, idx: Index) -> None:
        self.idx = idx
        self.flags: dict[str, _Flag] = {}
        #: kwargs-dict customisations: (var-agnostic) field -> {"flags": [...], ...}
        self.field_extra: dict[str, dict[str, ast.expr]] = {}

    def module(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                t = node.targets[0]
                # kwargs["field"]["flags"] = [...] / ["deprecated"] = True
                if (
                    isinstance(t, ast.Subscript)
                    and isinstance(t.value, ast.Subscript)
                    and isinstance(t.slice, ast.Constant)
                    and isinstance(t.value.slice, ast.Constant)
                ):
                    key, attr = t.value.slice.value, t.slice.value
                    if isinstance(key, str) and isinstance(attr, str):
                        self.field_extra.setdefault(key, {})[attr] = node.value
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self.function(stmt, None, tree)
            elif isinstance(stmt, ast.ClassDef):
                for fn in stmt.body:
                    if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                        self.function(fn, stmt, tree)

    def function(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, cls: ast.ClassDef | None,
                 tree: ast.Module) -> None:  # fmt: skip
        kwargs_vars: dict[str, tuple[str, str | None]] = {}  # var -> (class, field|None)
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                t = node.targets[0]
                v = node.value
                if isinstance(t, ast.Name):
                    fld = None
                    if isinstance(v, ast.Subscript) and isinstance(v.slice, ast.Constant):
                        fld = v.slice.value
                        v = v.value
                    if isinstance(v, ast.Call) and name_of(v.func) == "get_kwargs" and v.args:
                        owner = name_of(v.args[0])
                        if owner == "cls" and cls is not None:
                            owner = cls.name
                        kwargs_vars[t.id] = (owner, fld if isinstance(fld, str) else None)
        for node in ast.walk(fn):
            if isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
                it = node.iter.func
                if isinstance(it, ast.Attribute) and it.attr == "items":
                    var = name_of(it.value)
                    if var in kwargs_vars:
                        for inner in ast.walk(node):
                            if _is_add_argument(inner) and not _literal_names(inner):
                                self.loop_fields(kwargs_vars[var][0], tree)
            if isinstance(node, ast.For) and isinstance(node.iter, ast.List | ast.Tuple):
                for call in _unrolled_calls(node):
                    self.add_argument(call, kwargs_vars)
            if _is_add_argument(node):
                self.add_argument(node, kwargs_vars)

    def loop_fields(self, owner: str, tree: ast.Module) -> None:
        """One option per field of owner and of its subclasses in the same module."""
        owners = {owner}
        for stmt in tree.body:
            if isinstance(stmt, ast.ClassDef) and any(name_of(b) == owner for b in stmt.bases):
                owners.add(stmt.name)
        for o in sorted(owners):
            for f in self.idx.fields(o).values():
                extra = self.field_extra.get(f.name, {})
                aliases = self.idx.value(extra["flags"]) if "flags" in extra else []
                names = ["--" + f.name.replace("_", "-")]
                if isinstance(aliases, list):
                    names += [a for a in aliases if isinstance(a, str)]
                flag = self.from_field(names, f)
                if "deprecated" in extra and self.idx.value(extra["deprecated"]) is True:
                    flag.deprecated = True
                self.put(flag)

    def from_field(self, names: list[str], f: Field) -> _Flag:
        kind, choices = _kind_from_annotation(f.annotation, self.idx)
        flag = _Flag(names=names, kind=kind, default=f.default, choices=choices)
        if kind == "bool":
            flag.negatable = self.idx.bool_optional
        if DEPRECATION.search(f.doc):
            flag.deprecated, flag.note = True, f.doc
        return flag

    def add_argument(self, call: ast.Call, kwargs_vars: dict[str, tuple[str, str | None]]) -> None:
        names = _literal_names(call)
        if not names or not any(n.startswith("--") for n in names):
            return
        names = sorted(names, key=lambda n: (not n.startswith("--"), 0))
        flag = _Flag(names=names, kind="str")
        keywords: list[ast.keyword] = []
        for kw in call.keywords:  # **{**kwargs["field"], "default": None} → both parts
            if kw.arg is None and isinstance(kw.value, ast.Dict):
                for k, v in zip(kw.value.keys, kw.value.values, strict=True):
                    if k is None:
                        keywords.insert(0, ast.keyword(arg=None, value=v))
                    elif isinstance(k, ast.Constant) and isinstance(k.value, str):
                        keywords.append(ast.keyword(arg=k.value, value=v))
            else:
                keywords.append(kw)
        for kw in keywords:
            if kw.arg is None:  # **kwargs["field"] or **kwargs
                ref = kw.value
                owner_field: tuple[str, str | None] | None = None
                if isinstance(ref, ast.Subscript) and isinstance(ref.slice, ast.Constant):
                    var = name_of(ref.value)
                    if var in kwargs_vars and isinstance(ref.slice.value, str):
                        owner_field = (kwargs_vars[var][0], ref.slice.value)
                elif isinstance(ref, ast.Name) and ref.id in kwargs_vars:
                    owner_field = kwargs_vars[ref.id]
                if owner_field and owner_field[1]:
                    f = self.idx.fields(owner_field[0]).get(owner_field[1])
                    if f is not None:
                        flag = self.from_field(names, f)
        explicit_type = False
        for kw in keywords:
            if kw.arg == "action":
                action = ast.unparse(kw.value)
                if "store_true" in action or "store_false" in action:
                    flag.kind, flag.negatable = "bool", False
                elif "BooleanOptional" in action:
                    flag.kind, flag.negatable = "bool", True
                elif "Deprecated" in action:
                    flag.deprecated = True
            elif kw.arg == "type":
                explicit_type = True
                t = ast.unparse(kw.value)
                flag.kind = next(
                    (k for k in ("int", "float") if re.search(rf"\b{k}\b", t)),
                    "json" if "json" in t else "str",
                )
            elif kw.arg == "default":
                flag.default = self.idx.value(kw.value)
            elif kw.arg == "choices":
                choices = self.idx.value(kw.value)
                if isinstance(choices, list):
                    flag.choices = choices
                    if not explicit_type and flag.kind == "str":
                        flag.kind = "choice"
            elif kw.arg == "deprecated" and self.idx.value(kw.value) is True:
                flag.deprecated = True
            elif kw.arg == "help":
                if ast.unparse(kw.value).endswith("SUPPRESS"):
                    flag.suppressed = True
                text = self.idx.text(kw.value)
                if DEPRECATION.search(text):
                    flag.deprecated, flag.note = True, text
        if flag.kind == "bool" and flag.default is UNRESOLVED and not flag.negatable:
            flag.default = False
        self.put(flag)

    def put(self, flag: _Flag) -> None:
        primary = next(n for n in flag.names if n.startswith("--"))
        old = self.flags.get(primary)
        if old is not None:  # added twice (e.g. two parser groups): merge
            flag.names = [primary, *sorted(set(old.names[1:]) | set(flag.names[1:]) - {primary})]
            flag.deprecated = flag.deprecated or old.deprecated
        self.flags[primary] = flag


class _Substitute(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]) -> None:
        self.values = values

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.values.get(node.id, node)


def _unrolled_calls(loop: ast.For) -> list[ast.Call]:
    """``for arg, type in [("--a", str), ...]: add_argument(arg, type=type)`` (vLLM
    0.11's deprecated --guided-decoding-* options): one call per literal element."""
    assert isinstance(loop.iter, ast.List | ast.Tuple)
    if isinstance(loop.target, ast.Name):
        targets = [loop.target.id]
    elif isinstance(loop.target, ast.Tuple) and all(
        isinstance(t, ast.Name) for t in loop.target.elts
    ):
        targets = [t.id for t in loop.target.elts if isinstance(t, ast.Name)]
    else:
        return []
    calls = [n for n in ast.walk(loop) if _is_add_argument(n) and not _literal_names(n)]
    out: list[ast.Call] = []
    for element in loop.iter.elts:
        parts = element.elts if isinstance(element, ast.Tuple) else [element]
        if len(parts) != len(targets):
            continue
        values = dict(zip(targets, parts, strict=True))
        for call in calls:
            copied = _Substitute(values).visit(copy.deepcopy(call))
            if isinstance(copied, ast.Call):
                out.append(copied)
    return out


def _is_add_argument(node: ast.AST) -> TypeGuard[ast.Call]:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_argument"
    )


def _literal_names(call: ast.Call) -> list[str]:
    return [
        a.value
        for a in call.args
        if isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.startswith("-")
    ]
