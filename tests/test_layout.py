"""The package's layout: imports go one way (no cycle between modules, no import up the pipeline)."""

from __future__ import annotations

import ast
from pathlib import Path

import arcttt

PACKAGE = Path(arcttt.__file__).parent

LAYERS = {  # subpackage (or top-level module) -> its layer; a module may import its own layer or lower ones
    "errors": 0, "seeding": 0, "fields": 0,
    "data": 1, "models": 1,
    "fast": 2,
    "method": 3,
    "dsl": 1,
    "search": 4, "train": 4,
    "run": 5,
    "cli": 6,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every arcttt module that `path` imports, at the top or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("arcttt")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("arcttt"):
                target = node.module
            else:
                continue
            for alias in node.names:  # `from . import x` may name a submodule
                sub = f"{target}.{alias.name}"
                out.add(sub if (PACKAGE.parent / (sub.replace(".", "/") + ".py")).exists()
                        or (PACKAGE.parent / sub.replace(".", "/")).is_dir() else target)
    return {m for m in out if m != name}


GRAPH = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    assert top in LAYERS, f"{module}: not in a known layer; add it to LAYERS"
    return LAYERS[top]


def test_every_module_has_a_layer():
    unplaced = sorted(m for m in GRAPH if m != "arcttt" and m.split(".")[1] not in LAYERS)
    assert unplaced == [], "add these modules' top-level package to LAYERS"


def test_imports_never_go_up_the_layers():
    upward = sorted(f"{m} imports {t}" for m, targets in GRAPH.items() if m != "arcttt"
                    for t in targets if t != "arcttt" and layer(t) > layer(m))
    assert upward == []


def test_no_import_cycle_between_modules():
    known = set(GRAPH)
    edges = {m: {t for t in targets if t in known} for m, targets in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(path[path.index(t):] + [t]) if t in path else f"{m} -> {t}")
            elif t not in state:
                visit(t, path + [t])
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_executors_do_not_import_the_pipeline():
    for module, targets in GRAPH.items():
        if module.startswith("arcttt.run.executors"):
            assert not {t for t in targets if t.startswith(("arcttt.run.solve", "arcttt.run.solver", "arcttt.method"))}, \
                module


def test_the_graph_sees_real_imports():
    """The checks above are only as good as the graph: spot-check edges that must be there."""
    assert "arcttt.data.codec" in GRAPH["arcttt.fast.draft_decode"]
    assert "arcttt.method.inference" in GRAPH["arcttt.run.solver"]
    assert "arcttt.run.report" in GRAPH["arcttt.run.solve"]  # a function-level import
    assert "arcttt.train.generators.geometry" in GRAPH["arcttt.train.generators"]  # `from . import geometry`
