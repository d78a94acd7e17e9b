"""The house stays simple: no import cycles inside ``vpp``, no module imports another
module's private ``_names`` (docs/architecture.md, Layers), and modules stay small
without switching the formatter off.

The graph is read from the source with :mod:`ast`, imports inside functions included
(a cycle hidden in a function is still a cycle of meaning). A package's ``__init__``
counts as the package's module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import vpp

ROOT = Path(vpp.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = ["vpp", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, ast.Module]:
    return {
        module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(ROOT.rglob("*.py"))
    }


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def edges_and_private() -> tuple[dict[str, set[str]], list[str]]:
    """Imports between vpp modules, and every private name imported across modules."""
    trees = modules()
    packages = {module_name(p) for p in ROOT.rglob("__init__.py")}  # modules that are packages
    edges: dict[str, set[str]] = {m: set() for m in trees}
    private: list[str] = []
    for module, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = resolve(module, module in packages, node)
                targets = []
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    if sub in trees:  # `from package import module`
                        targets.append(sub)
                    else:
                        targets.append(source)
                        dunder = alias.name.startswith("__") and alias.name.endswith("__")
                        if alias.name.startswith("_") and not dunder and source != module:
                            private.append(f"{module} <- {source}.{alias.name}")
            else:
                continue
            for target in targets:
                if target in trees and target != module:
                    edges[module].add(target)
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
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

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle_and_a_private_reach() -> None:
    """The checks can fail: a made-up graph with a circle is caught."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    tree = ast.parse("from vpp.errors import _hidden")
    node = tree.body[0]
    assert isinstance(node, ast.ImportFrom)
    assert resolve("vpp.x", False, node) == "vpp.errors"


def test_no_import_cycles() -> None:
    edges, _ = edges_and_private()
    assert len(edges) > 100  # the whole package was read
    assert cycles(edges) == []


def test_no_private_names_imported_across_modules() -> None:
    _, private = edges_and_private()
    assert private == []


#: The house rule: split a module by meaning before it grows past about this many lines.
MAX_MODULE_LINES = 600


def test_modules_stay_small_without_switching_the_formatter_off() -> None:
    """Every module is under :data:`MAX_MODULE_LINES` lines, and none keeps a line out of
    the formatter's hands (``# fmt: skip`` / ``# fmt: off``)."""
    too_long, unformatted = [], []
    for path in sorted(ROOT.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        name = str(path.relative_to(ROOT))
        if len(lines) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(lines)} lines")
        unformatted += [f"{name}:{i}" for i, ln in enumerate(lines, 1) if "# fmt: " in ln]
    assert too_long == []
    assert unformatted == []
