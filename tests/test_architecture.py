"""The architecture, enforced: layers use each other's public doors, the import graph has no
circle, and ``import losslab`` stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "losslab"
TESTS = ROOT / "tests"
# The core and the catalogue implement the contract: they may touch a loss's machinery.
INSIDE_THE_CORE = ("_core", "losses")


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def _resolve(node: ast.ImportFrom, module: str, is_pkg: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _package(module: str) -> str:
    """losslab.X.y -> X (the package of losslab a module belongs to; '' for losslab itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _violations(path: Path, module: str | None, is_pkg: bool) -> list[str]:
    """Private names of another package imported, and private attributes of objects other than
    ``self``/``cls``/``super()`` read."""
    tree = ast.parse(path.read_text(), filename=str(path))
    mine = _package(module) if module else None
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(node, module or "", is_pkg) if module else (node.module or "")
            if not target.startswith("losslab"):
                continue
            if module is not None and _package(target) == mine:
                continue  # inside one package its modules may share private helpers
            # a package's door is its __init__: no private module below the package, no private name
            hidden = [p for p in target.split(".")[2:] if _private(p)]
            names = [a.name for a in node.names if _private(a.name)]
            if hidden or names:
                out.append(f"{_shown(path)}:{node.lineno}: from {target} import "
                           f"{', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("losslab") and any(_private(p) for p in a.name.split(".")[2:]):
                    out.append(f"{_shown(path)}:{node.lineno}: import {a.name}")
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if module is not None and mine in INSIDE_THE_CORE:
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                    and owner.func.id == "super"):
                continue
            if isinstance(owner, ast.Name) and (owner.id, node.attr) in STDLIB_PUBLIC:
                continue
            out.append(f"{_shown(path)}:{node.lineno}: .{node.attr}")
    return out


# documented public functions of the standard library whose names start with "_"
STDLIB_PUBLIC = {("os", "_exit"), ("sys", "_getframe")}


def test_layers_use_public_doors_only():
    # Outside _core/ and losses/ no code reads a private attribute of another object (a loss's
    # _kernel, a model's _forward), and no module imports a private name or module of another
    # package of losslab.
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        module, is_pkg = _module_name(path)
        bad += _violations(path, module, is_pkg)
    assert not bad, "private reads across layers:\n" + "\n".join(bad)


def test_tests_use_public_api_only():
    bad = []
    for path in sorted(TESTS.rglob("*.py")):
        bad += _violations(path, None, False)
    assert not bad, "tests reading private names:\n" + "\n".join(bad)


def _import_graph() -> dict[str, set[str]]:
    """module -> the losslab modules it imports, at module level or inside functions."""
    modules = {}
    for path in SRC.rglob("*.py"):
        name, is_pkg = _module_name(path)
        modules[name] = (path, is_pkg)
    graph = {name: set() for name in modules}
    for name, (path, is_pkg) in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = _resolve(node, name, is_pkg)
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.append(sub if sub in modules else base)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t in modules and t != name:
                    graph[name].add(t)
    return graph


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_import_graph_has_no_circle():
    # Every import counts, also those inside functions (lazy imports are still dependencies).
    graph = _import_graph()
    assert len(graph) > 50
    cycles = _cycles(graph)
    assert not cycles, f"import circles: {cycles}"


def test_the_cycle_finder_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def test_the_scanner_can_fail(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from losslab._core._base import Loss\nx = loss._kernel\ny = self._ok\n")
    found = _violations(probe, None, False)
    assert len(found) == 2 and "_core._base" in found[0] and "._kernel" in found[1]


HEAVY = ("torch", "scipy", "sklearn", "matplotlib", "plotly", "typer", "rich", "pandas")


def test_import_losslab_is_light():
    # Measured in a fresh interpreter: the best of three imports under 0.3 s, and none of the
    # heavy libraries loaded.
    code = ("import sys, time; t = time.perf_counter(); import losslab; "
            "dt = time.perf_counter() - t; "
            f"print(dt, [m for m in {HEAVY!r} if m in sys.modules])")
    best, loaded = None, None
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, timeout=60).stdout.split(maxsplit=1)
        dt = float(out[0])
        best = dt if best is None else min(best, dt)
        loaded = out[1].strip()
    assert loaded == "[]", f"import losslab loaded {loaded}"
    assert best < 0.3, f"import losslab took {best:.3f} s"


@pytest.mark.parametrize("package", ["models", "optim", "training", "landscapes"])
def test_numpy_layers_import_no_heavy_library(package):
    code = (f"import sys; import losslab.{package}; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=60).stdout.strip()
    assert out == "[]"


def test_landscapes_is_a_library_that_imports_no_course_experiment():
    # the course's cases live in labs/; the landscapes package imports no lab, statically (every
    # module's imports) and at run time (a fresh interpreter). It may use the library layers
    # (training's data checks and loss resolution, models, optim).
    import ast

    pkg = SRC / "landscapes"
    for path in pkg.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                assert not target.startswith("..labs"), (path.name, target)
                assert "labs" not in (node.module or "").split("."), (path.name, target)
    code = ("import sys, losslab.landscapes; "
            "print(sorted(m for m in sys.modules if m.startswith('losslab.labs')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=60).stdout.strip()
    assert out == "[]"


def test_command_line_and_report_hold_no_landscape_case_knowledge():
    # the cases, their options and the report's choice of them are declared in labs.landscapes
    from losslab.labs import landscapes as cases

    for path in (SRC / "cli.py", SRC / "report" / "_run.py"):
        text = path.read_text()
        for name in (*cases.CASES[1:-2], "course_case(", "surface_case(", "skip_case(",
                     "csv_case("):
            assert name not in text, (path.name, name)
