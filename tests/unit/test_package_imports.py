"""The composition root's place in the import graph: `bot` builds everything and nothing in the
product imports it back, so `bot`, `handlers` and `sandbox` are in no package-level cycle.

Every import counts: module level, inside functions, and under TYPE_CHECKING."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCT = {"tests", "bench"}


def product_packages() -> list[str]:
    return sorted(
        path.name
        for path in ROOT.iterdir()
        if (path / "__init__.py").exists() and path.name not in NOT_PRODUCT
    )


def package_graph() -> dict[str, set[str]]:
    """Top-level package → the other top-level product packages it imports."""
    packages = product_packages()
    graph: dict[str, set[str]] = {package: set() for package in packages}
    for package in packages:
        for file in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                graph[package] |= {name.split(".")[0] for name in names} & set(graph) - {package}
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        package = todo.pop()
        if package not in seen:
            seen.add(package)
            todo.extend(graph[package])
    return seen


def test_nothing_in_the_product_imports_the_composition_root() -> None:
    graph = package_graph()
    assert {"bot", "handlers", "sandbox"} <= set(graph)
    assert sorted(package for package, imports in graph.items() if "bot" in imports) == []


def test_bot_handlers_and_sandbox_are_in_no_package_cycle() -> None:
    graph = package_graph()
    for package in ("bot", "handlers", "sandbox"):
        assert package not in reachable(graph, package), package
