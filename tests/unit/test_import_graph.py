"""Imports run one way: no cycle between llmpod's packages or between the modules of
one package, and the spec imports none of the layers built on it.

Read from the source with ``ast`` (nothing is imported): every import counts, the lazy
ones inside functions too, except those under ``if TYPE_CHECKING:`` (annotations only,
never executed). A "package" is a top-level entry of infra/llmpod: a subpackage
(``planner``) or a module (``program``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "infra" / "llmpod"

#: What the spec (the typed user input) may never import: everything that consumes it.
SPEC_FORBIDDEN = {
    "aws",
    "backends",
    "cli",
    "deploy",
    "diagnose",
    "environments",
    "image",
    "k8s",
    "planner",
    "planning",
    "program",
    "project",
    "render",
    "verify",
}


def _runtime_nodes(tree: ast.Module) -> Iterable[ast.AST]:
    """Every node except the bodies of ``if TYPE_CHECKING:`` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return (n for n in ast.walk(tree) if id(n) not in skipped)


def module_imports(root: Path, name: str = "llmpod") -> dict[str, set[str]]:
    """Dotted module → the llmpod modules it imports (``from pkg import mod`` resolved
    to the module ``pkg.mod`` when that file exists, else to ``pkg``)."""
    files = {
        ".".join([name, *f.relative_to(root).with_suffix("").parts]).removesuffix(".__init__"): f
        for f in sorted(root.rglob("*.py"))
    }
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str] = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in files else base)
        graph[module] = {t for t in targets if t in files and t != module}
    return graph


def package_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def package_graph(modules: Mapping[str, set[str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in modules.items():
        here = package_of(module)
        graph.setdefault(here, set()).update(
            package_of(t) for t in targets if package_of(t) != here
        )
    return graph


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


MODULES = module_imports(ROOT)


def test_no_cycle_between_packages() -> None:
    assert cycles(package_graph(MODULES)) == []


def test_no_cycle_between_the_modules_of_a_package() -> None:
    inside: dict[str, set[str]] = {
        m: {t for t in targets if package_of(t) == package_of(m)} for m, targets in MODULES.items()
    }
    assert cycles(inside) == []


def test_the_spec_imports_only_what_it_is_built_on() -> None:
    assert package_graph(MODULES)["spec"] & SPEC_FORBIDDEN == set()


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        # A lazy import inside a function is an edge; one under TYPE_CHECKING is not.
        (
            {
                "a/__init__.py": "",
                "a/x.py": "def f():\n    from llmpod.b import y\n",
                "b/__init__.py": "",
                "b/y.py": "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from llmpod.a import x\n",
            },
            [],
        ),
        (
            {
                "a/__init__.py": "",
                "a/x.py": "def f():\n    from llmpod.b import y\n",
                "b/__init__.py": "",
                "b/y.py": "from llmpod.a.x import f\n",
            },
            [["a", "b"]],
        ),
        # Relative imports resolve against the importing package; top-level modules count.
        (
            {"a/__init__.py": "", "a/x.py": "from ..c import g\n", "c.py": "import llmpod.a.x\n"},
            [["a", "c"]],
        ),
    ],
)
def test_the_checker_sees_lazy_and_relative_imports(
    tmp_path: Path, sources: dict[str, str], expected: list[list[str]]
) -> None:
    for rel, text in sources.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert cycles(package_graph(module_imports(tmp_path))) == expected
