"""Read a vLLM release's `vllm serve` flags and Prometheus metric names from its source.

Used only by scripts/gen_vllm_facts.py (run by hand); the runtime reads the JSON
it wrote. vLLM is never imported: its modules are parsed with ``ast``.

Flags. `vllm serve` builds its parser from ``make_arg_parser`` (in
``vllm/entrypoints/openai/cli_args.py`` up to 0.2x, later
``entrypoints/launchers/`` or ``entrypoints/common/cli_args.py``), which adds
a few literal options and calls ``FrontendArgs.add_cli_args`` and
``AsyncEngineArgs.add_cli_args`` (``vllm/engine/arg_utils.py``). Those add
options three ways, all read here:

* ``add_argument("--name", "-alias", type=…, default=…, help=…)`` — literal;
* ``add_argument("--name", **kwargs["field"])`` with ``kwargs = get_kwargs(SomeConfig)``
  — the type, default and help come from the config dataclass's field
  (annotation, default, the docstring under it);
* ``for key, value in get_kwargs(cls).items(): add_argument(f"--{key…}", **value)``
  — one option per dataclass field (FrontendArgs, 0.11+).

A bool field becomes ``--x/--no-x`` when the release's ``get_kwargs`` uses
``argparse.BooleanOptionalAction`` (0.9+), else a ``store_true`` switch.
Deprecated: ``deprecated=True`` (FlexibleArgumentParser backports it), an
action class named ``Deprecated…``, or help/docstring text that says so.

Metrics. Every ``"vllm:…"`` name given to a Gauge/Counter/Histogram (or the
``self._gauge_cls``-style indirections) in the metrics modules of either engine
(``vllm/engine/metrics.py`` (V0), ``vllm/v1/metrics/*.py``, spec-decode). A
counter's family name drops ``_total`` (prometheus_client exposes
``x_total`` for a counter named ``x`` or ``x_total``). A metric is *hidden*
when it is created only under ``if …show_hidden_metrics…`` (shown with
``--show-hidden-metrics-for-version``), *deprecated* when its documentation
says so.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from typing import Any, TypeGuard

_WANTED = re.compile(
    r"^vllm/("
    r"config\.py|config/.*\.py|engine/[^/]+\.py|entrypoints/.*\.py|utils\.py|utils/.*\.py"
    r"|v1/metrics/.*\.py|spec_decode/metrics\.py|v1/spec_decode/metrics\.py"
    r")$"
)
#: Modules whose add_argument calls make up `vllm serve`'s options.
_ARG_MODULES = re.compile(
    r"^vllm/(engine/arg_utils\.py|entrypoints/(openai|common|launchers)/cli_args\.py"
    r"|entrypoints/cli/serve\.py)$"
)
_METRIC_MODULES = re.compile(
    r"^vllm/(engine/metrics\.py|v1/metrics/[^/]+\.py|spec_decode/metrics\.py"
    r"|v1/spec_decode/metrics\.py)$"
)
_METRIC_NAME = re.compile(r"^vllm:[a-z][a-z0-9_]*$")
_DEPRECATION = re.compile(
    r"\[deprecated\]|^\s*deprecated|(is|are|been|now) deprecated|deprecated[:;,.]"
    r"|will be removed",
    re.IGNORECASE,
)
_FLAG_IN_TEXT = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]")

UNRESOLVED = object()


def wanted_source(path: str) -> bool:
    """Whether the extractor reads this wheel member."""
    return bool(_WANTED.match(path))


@dataclass
class _Field:
    name: str
    annotation: str
    default: Any
    doc: str


@dataclass
class _Index:
    """Classes and module-level constants across the release's modules."""

    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)
    bool_optional: bool = False
    enable_disable: bool = False

    def fields(self, cls_name: str, depth: int = 0) -> dict[str, _Field]:
        node = self.classes.get(cls_name)
        if node is None or depth > 8:
            return {}
        out: dict[str, _Field] = {}
        for base in node.bases:
            base_name = _name_of(base)
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
                out[stmt.target.id] = _Field(stmt.target.id, ann, default, doc)
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
            fname = _name_of(node.func)
            if fname in ("field", "Field"):
                for kw in node.keywords:
                    if kw.arg == "default":
                        return self.value(kw.value, depth + 1)
                    if kw.arg == "default_factory":
                        factory = _name_of(kw.value)
                        if factory in ("list", "dict", "set"):
                            return {"list": [], "dict": {}, "set": []}[factory]
                        if isinstance(kw.value, ast.Lambda):
                            return self.value(kw.value.body, depth + 1)
                if node.args:
                    return self.value(node.args[0], depth + 1)
                return UNRESOLVED
            if fname == "get_field" and len(node.args) == 2:
                owner = _name_of(node.args[0])
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


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _name_of(node.value)
    return ""


def _index(trees: dict[str, ast.Module]) -> _Index:
    idx = _Index()
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
                and _name_of(node.func) == "register"
                and len(node.args) == 3
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "action"
                and _name_of(node.args[1]) == "BooleanOptionalAction"
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


def _kind_from_annotation(ann: str, idx: _Index) -> tuple[str, list[Any] | None]:
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
            mentioned = sorted({m for m in _FLAG_IN_TEXT.findall(self.note)} - set(self.names))
            if mentioned:
                out["see"] = mentioned
        if self.suppressed:
            out["hidden"] = True
        if self.choices and all(isinstance(c, str) or c is None for c in self.choices):
            out["choices"] = sorted(c for c in self.choices if c is not None)
        return out


class _FlagCollector:
    def __init__(self, idx: _Index) -> None:
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
                    if isinstance(v, ast.Call) and _name_of(v.func) == "get_kwargs" and v.args:
                        owner = _name_of(v.args[0])
                        if owner == "cls" and cls is not None:
                            owner = cls.name
                        kwargs_vars[t.id] = (owner, fld if isinstance(fld, str) else None)
        for node in ast.walk(fn):
            if isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
                it = node.iter.func
                if isinstance(it, ast.Attribute) and it.attr == "items":
                    var = _name_of(it.value)
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
            if isinstance(stmt, ast.ClassDef) and any(_name_of(b) == owner for b in stmt.bases):
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

    def from_field(self, names: list[str], f: _Field) -> _Flag:
        kind, choices = _kind_from_annotation(f.annotation, self.idx)
        flag = _Flag(names=names, kind=kind, default=f.default, choices=choices)
        if kind == "bool":
            flag.negatable = self.idx.bool_optional
        if _DEPRECATION.search(f.doc):
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
                    var = _name_of(ref.value)
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
                if _DEPRECATION.search(text):
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


def _metrics(trees: dict[str, ast.Module], idx: _Index) -> dict[str, dict[str, Any]]:
    """V1 engine's metrics, plus those only the V0 engine (gone in 0.11) creates, marked so."""
    v0: dict[str, dict[str, Any]] = {}
    v1: dict[str, dict[str, Any]] = {}
    for path in sorted(trees):
        if _METRIC_MODULES.match(path):
            _walk_metrics(trees[path], idx, v1 if path.startswith("vllm/v1/") else v0, False)
    for entry in v0.values():
        entry["v0_only"] = True
    return {**v0, **v1}


def _walk_metrics(node: ast.AST, idx: _Index, out: dict[str, dict[str, Any]], hidden: bool) -> None:
    if isinstance(node, ast.If) and "show_hidden_metrics" in ast.unparse(node.test):
        negated = isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not)
        for child in node.body:
            _walk_metrics(child, idx, out, hidden or not negated)
        for child in node.orelse:
            _walk_metrics(child, idx, out, hidden or negated)
        return
    if isinstance(node, ast.Call):
        _metric_call(node, idx, out, hidden)
    if (  # name = "vllm:cache_config_info" in log_metrics_info: an info gauge (value 1)
        isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and _METRIC_NAME.match(node.value.value)
        and node.value.value.endswith("_info")
    ):
        out.setdefault(node.value.value, {"kind": "gauge", "hidden": hidden, "deprecated": False})
    for sub in ast.iter_child_nodes(node):
        _walk_metrics(sub, idx, out, hidden)


def _metric_call(call: ast.Call, idx: _Index, out: dict[str, dict[str, Any]], hidden: bool) -> None:
    name_node: ast.expr | None = None
    doc = ""
    for kw in call.keywords:
        if kw.arg == "name":
            name_node = kw.value
        elif kw.arg == "documentation":
            doc = idx.text(kw.value)
    if name_node is None and call.args:
        name_node = call.args[0]
        if len(call.args) > 1:
            doc = idx.text(call.args[1])
    if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)):
        return
    name = name_node.value
    if not _METRIC_NAME.match(name):
        return
    func = _name_of(call.func).lower()
    kind = next((k for k in ("gauge", "counter", "histogram") if k in func), None)
    if kind is None:
        return
    if kind == "counter" and name.endswith("_total"):
        name = name[: -len("_total")]
    entry = out.get(name)
    deprecated = bool(_DEPRECATION.search(doc))
    if entry is None:
        entry = out[name] = {"kind": kind, "hidden": hidden, "deprecated": deprecated}
    else:  # created twice (two loggers): visible if either shows it
        entry["hidden"] = entry["hidden"] and hidden
        entry["deprecated"] = entry["deprecated"] and deprecated
    if entry["deprecated"]:
        see = sorted(set(re.findall(r"vllm:[a-z][a-z0-9_]*", doc)) - {name})
        if see:
            entry["see"] = see


def extract_facts(version: str, sources: dict[str, str]) -> dict[str, Any]:
    """The JSON-ready facts of one release from its wheel's Python sources."""
    trees = {p: ast.parse(src, filename=p) for p, src in sources.items() if wanted_source(p)}
    idx = _index(trees)
    collector = _FlagCollector(idx)
    for path in sorted(trees):
        if _ARG_MODULES.match(path):
            collector.module(trees[path])
    flags = {name: f.as_json() for name, f in sorted(collector.flags.items())}
    for name, info in flags.items():
        # "--disable-x" deprecated in favour of an opt-in "--enable-x" (vLLM's pattern,
        # e.g. --disable-log-requests in 0.10.1): its replacement is the negative form.
        twin = "--enable-" + name.removeprefix("--disable-")
        if (
            info.get("deprecated")
            and "see" not in info
            and name.startswith("--disable-")
            and twin in flags
        ):
            info["see"] = ["--no-" + twin[2:]] if flags[twin].get("negatable") else [twin]
    if idx.enable_disable:
        for name, info in flags.items():
            for prefix, inverse in (("--enable-", "--disable-"), ("--disable-", "--enable-")):
                if info.get("negatable") and name.startswith(prefix):
                    info["inverse"] = inverse + name.removeprefix(prefix)
    metrics = {}
    for name, m in sorted(_metrics(trees, idx).items()):
        entry = {"kind": m["kind"]}
        if m["hidden"]:
            entry["hidden"] = True
        if m["deprecated"]:
            entry["deprecated"] = True
        if m.get("see"):
            entry["see"] = m["see"]
        if m.get("v0_only"):
            entry["v0_only"] = True
        metrics[name] = entry
    return {"version": version, "flags": flags, "metrics": metrics}
