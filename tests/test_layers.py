"""The package's layers, checked from its source with the standard library alone.

Every module of the importable ``dsg`` is parsed with :mod:`ast`, and every import in it is
collected: at the top, inside functions, under ``if TYPE_CHECKING:``, and a literal
``import_module("dsg....")``. Then no module may import a module of a higher layer, and no
group of modules may import each other in a circle. ``lint-imports`` checks the same layers
in CI; this test makes the README's plain ``pytest`` catch a break too.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

# Bottom up. A module belongs to the first entry that is it or one of its parents.
LAYERS = (
    ("dsg.i18n", "dsg.data"),
    ("dsg.errors", "dsg.interrupts"),
    ("dsg.formula",),
    ("dsg.grants",),
    ("dsg.analysis",),
    ("dsg.output",),
    ("dsg.pipeline",),
    ("dsg.cli",),
    ("dsg",),  # the package itself: the public names, loaded lazily from any layer
)


def layer_of(module: str) -> int:
    best, length = -1, -1
    for level, roots in enumerate(LAYERS):
        for root in roots:
            if (module == root or module.startswith(root + ".")) and len(root) > length:
                best, length = level, len(root)
    return best


def package_modules() -> dict[str, Path]:
    """Module name -> source file, for every module of the importable dsg."""
    spec = importlib.util.find_spec("dsg")
    assert spec is not None and spec.submodule_search_locations, "dsg is not importable"
    (root,) = (Path(p) for p in spec.submodule_search_locations)
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = ("dsg", *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imported_modules(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``tree`` imports: ``from dsg.formula import kernels`` is an
    import of dsg.formula.kernels, ``from dsg.formula.settle import settle`` of dsg.formula.settle,
    ``from dsg import run`` of the package dsg itself."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                names.add(submodule if submodule in known else source)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return (names & known) - {module}


def import_graph(sources: dict[str, str], packages: set[str]) -> dict[str, set[str]]:
    """Module -> the modules of ``sources`` it imports (other packages' modules left out)."""
    known = set(sources)
    return {
        module: imported_modules(ast.parse(text), module, module in packages, known) for module, text in sources.items()
    }


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a circle (Tarjan's strongly connected
    components of more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = package_modules()
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    return import_graph({name: path.read_text(encoding="utf-8") for name, path in modules.items()}, packages)


def test_every_module_has_a_layer(graph):
    assert len(graph) > 30, "too few modules found: is this the dsg package?"
    assert [m for m in graph if layer_of(m) < 0] == []


def test_the_graph_sees_imports_inside_functions(graph):
    # cli imports the pipeline only inside its commands, as "from dsg import pipeline".
    assert "dsg.pipeline" in graph["dsg.cli"]
    assert "dsg.formula.kernels" in graph["dsg.formula.settle"]
    assert "dsg.i18n" in graph["dsg.errors"]


def test_no_module_imports_a_higher_layer(graph):
    assert upward_imports(graph) == []


def test_no_import_cycles(graph):
    assert cycles(graph) == []


def test_the_checks_catch_a_break():
    sources = {
        "dsg": "",
        "dsg.formula": "",
        "dsg.formula.settle": "def f():\n    from dsg.grants import path\n",
        "dsg.grants": "",
        "dsg.grants.path": "from ..formula import settle\n",
        "dsg.i18n": "import dsg.errors\n",
        "dsg.errors": "from dsg.i18n import name_of\n",
        "dsg.output": "",
        "dsg.output.files": "from dsg import run\n",
    }
    graph = import_graph(sources, {"dsg", "dsg.formula", "dsg.grants"})
    assert graph["dsg.grants.path"] == {"dsg.formula.settle"}
    assert upward_imports(graph) == [
        "dsg.formula.settle (dsg.formula) imports dsg.grants.path (dsg.grants)",
        "dsg.i18n (dsg.i18n) imports dsg.errors (dsg.errors)",
        "dsg.output.files (dsg.output) imports dsg (dsg)",
    ]
    assert cycles(graph) == [["dsg.errors", "dsg.i18n"], ["dsg.formula.settle", "dsg.grants.path"]]
