"""Features declare the storage they need as Protocols; storage implements them
(docs/architecture.md). mypy checks storage/conformance.py; these tests check the same at run
time, so a renamed or re-shaped repository method fails here even where mypy is not run."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any, cast, get_type_hints

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage.conformance import HOLDERS
from storage.uow import Repositories

ROOT = Path(__file__).resolve().parents[2]
FEATURES = (
    "common",
    "digest",
    "improvements",
    "mailboxes",
    "members",
    "outbox",
    "privacy",
    "proposals",
    "surveys",
    "todo",
)


def _protocol_methods(protocol: type) -> dict[str, Any]:
    """The methods a Protocol lists, its bases' included (not object's or Protocol's)."""
    methods: dict[str, Any] = {}
    for klass in reversed(protocol.__mro__):
        if klass.__module__ in {"builtins", "typing"}:
            continue
        for name, value in vars(klass).items():
            if inspect.isfunction(value) and not name.startswith("_"):
                methods[name] = value
    return methods


def _properties(protocol: type) -> dict[str, type]:
    """The repositories a holder Protocol exposes, with the Protocol each must implement."""
    found: dict[str, type] = {}
    for klass in reversed(protocol.__mro__):
        for name, value in vars(klass).items():
            if isinstance(value, property) and value.fget is not None:
                found[name] = get_type_hints(value.fget)["return"]
    return found


def _shape(function: Any) -> tuple[bool, list[tuple[str, Any, bool]]]:
    """Awaited or not (an async generator is declared as a def returning AsyncIterator), and
    the parameters' names, kinds and whether they have a default."""
    parameters = [
        (p.name, p.kind, p.default is not inspect.Parameter.empty)
        for p in inspect.signature(function).parameters.values()
    ]
    return inspect.iscoroutinefunction(function), parameters


def _cases() -> list[tuple[str, str, type]]:
    return [
        (holder.__name__, attribute, port)
        for holder in HOLDERS
        for attribute, port in _properties(holder).items()
    ]


@pytest.mark.parametrize(("holder", "attribute", "port"), _cases())
def test_storage_implements_every_port(holder: str, attribute: str, port: type) -> None:
    repos = Repositories(cast(AsyncSession, object()))
    implementation = getattr(repos, attribute)
    for name, declared in _protocol_methods(port).items():
        method = getattr(type(implementation), name, None)
        assert method is not None, f"{holder}.{attribute}: {type(implementation)} lacks {name}"
        assert _shape(method) == _shape(declared), f"{port.__name__}.{name} differs from storage"


def test_every_holder_needs_only_what_the_unit_of_work_has() -> None:
    repos = Repositories(cast(AsyncSession, object()))
    for holder in HOLDERS:
        for name in _protocol_methods(holder):
            assert callable(getattr(repos, name, None)), f"{holder.__name__}.{name}"


def test_features_never_import_storage() -> None:
    """The dependency points one way: storage imports the features' models and ports."""
    offenders = []
    for package in FEATURES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                offenders += [
                    f"{path.relative_to(ROOT)}: {m}"
                    for m in modules
                    if m == "storage" or m.startswith("storage.")
                ]
    assert offenders == []
