"""The library's house: concept folders on floors, imports pointing down, no import cycle.

Imports are read from the source (module level and inside functions alike; only those under
``if TYPE_CHECKING:`` are left out, since they never run). A subpackage may import its own
modules and those of the floors below it; `FLOORS` is the order the README's Layout and each
folder's docstring state.
"""

import ast
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[1] / "workflow" / "trainability"
FLOORS = [
    {"numerics"},
    {"core"},
    {"models"},
    {"train"},
    {"analysis"},
    {"zoom", "toys"},
    {"figures"},
    {"study"},
    {"report", "explore"},
    {"cli", "__main__"},
]
NETWORK = {"activate", "activation_slope", "forward", "fused_forward", "fused_loss_and_grads",
           "loss_and_grads", "reference_loss"}  # fmt: skip


def modules() -> dict[str, Path]:
    out = {}
    for path in LIBRARY.rglob("*.py"):
        parts = list(path.relative_to(LIBRARY.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The library modules ``name`` imports (the longest known prefix of each import)."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and target != "trainability":
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(name, path, set(mods)) for name, path in mods.items()}


def floor(module: str) -> int:
    parts = module.split(".")
    place = parts[1] if len(parts) > 1 else "trainability"
    for level, names in enumerate(FLOORS):
        if place in names:
            return level
    raise AssertionError(f"{module} lives in no floor of FLOORS: add its folder there")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_point_down_the_floors():
    upward = [
        f"{module} -> {target}"
        for module, targets in graph().items()
        if module != "trainability"
        for target in targets
        if floor(target) > floor(module)
    ]
    assert upward == []


def test_every_folder_is_a_floor_and_says_what_it_may_import():
    folders = [p for p in LIBRARY.iterdir() if (p / "__init__.py").is_file()]
    assert {p.name for p in folders} <= set().union(*FLOORS)
    for folder in folders:
        doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
        assert doc, f"{folder.name}/__init__.py has no docstring"
        below = floor(f"trainability.{folder.name}") > 0
        if below and folder.name not in ("report", "explore"):
            assert "import" in doc, f"{folder.name}/__init__.py does not say what it may import"


@pytest.mark.parametrize("module", ["doubledouble", "perturbation", "plain", "base"])
def test_no_arithmetic_writes_the_network_again(module):
    """The network's passes live in models/mlp.py alone; an arithmetic supplies numbers."""
    tree = ast.parse((LIBRARY / "train" / "arithmetics" / f"{module}.py").read_text())
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert not defined & NETWORK
