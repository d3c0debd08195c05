"""The layers import one way (docs/architecture.md): a module imports only the layers above it,
at module level or inside a function alike; within a layer, only the folder pairs of
:data:`WITHIN_LAYER` (kpis before the analyses built on it, report's words and fragments before
the figures, both before the notebook display); and no import circle exists."""

from __future__ import annotations

import ast
from pathlib import Path

import kpitools

PACKAGE = Path(kpitools.__file__).parent

#: The layers, top (imported by everything) to bottom; a module belongs to the layer of the
#: longest prefix that names it. Kept in step with docs/architecture.md by a test below.
LAYERS: dict[str, int] = {
    "kpitools": 1,
    "kpitools.errors": 1,
    "kpitools.periods": 1,
    "kpitools.locales": 1,
    "kpitools.vocab": 1,
    "kpitools.numbers": 1,
    "kpitools.schema": 1,
    "kpitools.catalogue": 1,
    "kpitools.runs": 1,
    "kpitools.params": 2,
    "kpitools.data": 3,
    "kpitools.kpis": 4,
    "kpitools.objectives": 4,
    "kpitools.roi": 4,
    "kpitools.clv": 4,
    "kpitools.report": 5,
    "kpitools.plots": 5,
    "kpitools.runner": 6,
    "kpitools.delivery": 6,
    "kpitools.lab": 6,
    "kpitools.cli": 6,
}

#: The folders (a top-level module or package of kpitools) a module of the same layer may
#: import: ``(importer, imported)``. Any other import within a layer fails the test.
WITHIN_LAYER: set[tuple[str, str]] = {
    ("periods", "errors"),
    ("catalogue", "errors"),
    ("catalogue", "vocab"),
    ("runs", "errors"),
    ("objectives", "kpis"),
    ("roi", "kpis"),
    ("clv", "kpis"),
    ("plots", "report"),
    ("report.display", "report"),
    ("report.display", "plots"),
    ("cli", "runner"),
    ("cli", "delivery"),
}

#: Report modules that show results in a notebook (tables and figures): they sit below plots.
NOTEBOOK_DISPLAY = ("kpitools.report.notebook", "kpitools.report.display")


def folder(module: str) -> str:
    """The folder a module belongs to for the within-layer rule: ``roi``, ``report``,
    ``report.display`` (the notebook display modules), ``errors`` …"""
    if module in NOTEBOOK_DISPLAY:
        return "report.display"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "kpitools"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> int:
    best = max((k for k in LAYERS if module == k or module.startswith(k + ".")), key=len)
    return LAYERS[best]


def imports(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every kpitools module ``module`` imports, anywhere in its body."""
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                root = base[: len(base) - node.level + 1]
                target = ".".join(root + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target]
            names += [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
        else:
            continue
        for name in names:
            if name == "kpitools" or name.startswith("kpitools."):
                while name not in known and "." in name:
                    name = name.rsplit(".", 1)[0]
                if name != module:
                    out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imports(m, p, known) for m, p in known.items()}


def test_every_module_has_a_layer():
    for m in modules():
        assert any(m == k or m.startswith(k + ".") for k in LAYERS), m


def test_no_upward_import():
    upward = [
        f"{m} (layer {layer(m)}) imports {d} (layer {layer(d)})"
        for m, deps in graph().items()
        for d in sorted(deps)
        if layer(d) > layer(m)
    ]
    assert not upward, "\n".join(upward)


def test_within_a_layer_only_the_declared_folders_import_each_other():
    sideways = [
        f"{m} imports {d}: ({folder(m)!r}, {folder(d)!r}) is not in WITHIN_LAYER"
        for m, deps in graph().items()
        for d in sorted(deps)
        if folder(m) != folder(d)
        and layer(d) == layer(m)
        and (folder(m), folder(d)) not in WITHIN_LAYER
    ]
    assert not sideways, "\n".join(sideways)


def test_the_layer_rules_have_no_circle_between_folders():
    edges = WITHIN_LAYER
    seen = {a for a, _ in edges} | {b for _, b in edges}
    for start in seen:
        stack, reached = [start], set()
        while stack:
            node = stack.pop()
            for a, b in edges:
                if a == node and b not in reached:
                    reached.add(b)
                    stack.append(b)
        assert start not in reached, f"WITHIN_LAYER lets {start} import itself through others"


def test_no_import_cycle():
    g = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g.get(m, ())):
            # a package's own __init__ re-exporting its submodules is not a cycle
            if m.startswith(d + "."):
                continue
            if state.get(d) == 1:
                cycles.append(" -> ".join(stack[stack.index(d) :] + [d]))
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    assert not cycles, "\n".join(cycles)


def test_architecture_doc_lists_every_layer():
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for prefix in LAYERS:
        if prefix != "kpitools":
            path = prefix.replace("kpitools.", "").replace(".", "/")
            assert f"`{path}" in doc, f"docs/architecture.md does not name `{path}`"
