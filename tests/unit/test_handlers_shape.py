"""The shape of handlers/: one sub-package per feature, small files, and router modules that
never import one another (shared views live in handlers/ui.py or a feature's views)."""

from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
FILE_LIMIT = 250  # lines


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(HANDLERS.rglob("*.py")):
        name = ".".join(path.relative_to(HANDLERS.parent).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = ast.parse(path.read_text(), str(path))
    return found


def defines_router(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.FunctionDef)
        and node.name.startswith("create_")
        and "router" in node.name
        for node in tree.body
    )


def imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_handler_file_is_over_the_limit() -> None:
    long = {
        str(path.relative_to(HANDLERS)): n
        for path in HANDLERS.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > FILE_LIMIT
    }
    assert not long


def test_router_modules_do_not_import_each_other() -> None:
    found = modules()
    routers = {name for name, tree in found.items() if defines_router(tree)}
    crossing = {
        name: sorted(imported(tree) & (routers - {name}))
        for name, tree in found.items()
        if name != "handlers.routers"  # the one place that composes them
    }
    assert not {name: hits for name, hits in crossing.items() if hits}


def test_each_feature_is_a_package_with_views() -> None:
    packages = [p for p in HANDLERS.iterdir() if (p / "__init__.py").exists()]
    assert len(packages) >= 7
    for package in packages:
        assert (package / "views.py").exists(), package.name


def test_callback_plumbing_lives_in_one_place() -> None:
    """Handlers show through `screen` and answer with `screen.notify`; only the screen
    middleware (and the group pointer, outside private chats) answers a callback query."""
    allowed = {"screen.py", "groups.py"}
    for path in HANDLERS.rglob("*.py"):
        if path.name in allowed:
            continue
        text = path.read_text()
        assert "callback.answer(" not in text, path
        assert "isinstance(callback.message, Message)" not in text, path
