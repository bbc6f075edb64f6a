"""The dependency rules of docs/CONTRIBUTING.md ("The shape"), checked on the source: every import the code makes
(at the top of a module or inside a function) points down the layers, and no module imports itself
back through others. A second check imports every module in a fresh interpreter, each one first, so
an order-dependent circle fails here rather than in a worker at 3 a.m.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "jobs")

# Which layers a module may import, by the longest matching prefix of its name.
ALLOWED: dict[str, tuple[str, ...]] = {
    "service.core": ("service.core",),
    "service.extensions": ("service.core",),
    "service.api": ("service.api", "service.core", "service.extensions"),
    "jobs": ("jobs", "service.core"),
    "service.commands": ("service.commands", "service.core", "service.extensions", "jobs"),
    "service.web": ("service.api", "service.core"),  # serves web/dist beside the API
    "service.app": ("service", "jobs"),  # the composition root wires everything together
    "service": ("service",),  # the package's own docstring module
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `path` imports, anywhere in its body."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a.b import c` imports the module a.b.c when there is one, else a name of a.b.
            names = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names
            ]
        found.update(name for name in names if name.split(".")[0] in PACKAGES)
    return found


def layer_of(name: str) -> str:
    return max((prefix for prefix in ALLOWED if name == prefix or name.startswith(prefix + ".")), key=len)


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def test_every_import_points_down_the_layers():
    wrong = []
    for module, imported in import_graph().items():
        allowed = ALLOWED[layer_of(module)]
        wrong += [
            f"{module} imports {target}"
            for target in sorted(imported)
            if not any(target == a or target.startswith(a + ".") for a in allowed)
        ]
    assert wrong == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back():
    graph = import_graph()
    # A package's __init__ runs before any of its modules: importing a.b imports a first. (A package
    # that itself imports a.b is the usual pattern, not a circle: a.b then finds `a` under way.)
    for name in list(graph):
        parent = name.rsplit(".", 1)[0]
        if "." in name and name not in graph.get(parent, ()):
            graph[name] = graph[name] | {parent}
    assert cycles(graph) == []


def test_listing_snapshots_are_written_only_with_what_follows_from_them():
    # A snapshot committed before its summary and inference is rolled up with no floor by a pipeline
    # run in between (service/core/ingest/after.py): every writer goes through write_listings.
    callers = sorted(
        name
        for name, path in project_modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute | ast.Name)
        and (node.attr if isinstance(node, ast.Attribute) else node.id) == "write_listing_batch"
    )
    assert set(callers) == {"service.core.ingest.after"}


def test_the_circle_check_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def dependency_order(graph: dict[str, set[str]]) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> None:
        if node in seen:
            return
        seen.add(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        done.append(node)

    for node in sorted(graph):
        visit(node)
    return done


# Each module is imported first in a process of its own: forked from one that has loaded the
# third-party libraries (so each import is quick) but none of the project's modules.
IMPORT_EACH_FIRST = """
import importlib, os, sys
for library in sys.argv[1].split(","):
    try:
        importlib.import_module(library)
    except ImportError:
        pass
failed = []
for name in sys.argv[2:]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
        except BaseException as exc:
            os.write(write, f"{name}: {type(exc).__name__}: {exc}".encode())
            os._exit(1)
        os._exit(0)
    os.close(write)
    message = os.read(read, 4096).decode()
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(message or f"{name}: exit status {status}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def third_party_libraries() -> set[str]:
    names: set[str] = set()
    for path in project_modules().values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names - set(PACKAGES) - set(sys.stdlib_module_names)


def test_every_module_imports_on_its_own_in_dependency_order():
    order = dependency_order(import_graph())
    assert len(order) == len(project_modules())
    libraries = ",".join(sorted(third_party_libraries()))
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, libraries, *order],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_test_modules_share_through_helpers_and_fixtures_only():
    """Tests reach shared code through tests/helpers.py, conftest.py's fixtures, the fakes and the
    reference model, never by importing another test module (which also re-registers its fixtures)."""
    shared = ("tests.helpers", "tests.fakes", "tests.reference")
    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests"):
                names = [node.module] if node.module != "tests" else [f"tests.{a.name}" for a in node.names]
                wrong += [f"{path.relative_to(ROOT)} imports {n}" for n in names if not n.startswith(shared)]
    assert wrong == []
