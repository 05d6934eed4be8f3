"""The update path stays on the event loop: aiogram runs a synchronous filter or handler in a
worker thread (`asyncio.to_thread`), one hop per check. A bare `State` used as a filter is
synchronous, so states are matched with `StateFilter`, which is awaited in place."""

from __future__ import annotations

from aiogram import Router

from bot.factory import create_dispatcher
from storage.database import Database
from tests.conftest import make_config


def _synchronous(router: Router) -> list[str]:
    found = []
    for name, observer in router.observers.items():
        for handler in observer.handlers:
            if not handler.awaitable:
                found.append(f"{router.name}.{name}: handler {handler.callback!r}")
            for check in handler.filters or ():
                if not check.awaitable:
                    found.append(f"{router.name}.{name}: filter {check.callback!r}")
    for child in router.sub_routers:
        found += _synchronous(child)
    return found


def test_every_filter_and_handler_is_awaited_on_the_loop(db_url: str, database: Database) -> None:
    dispatcher = create_dispatcher(make_config(db_url), database)
    assert _synchronous(dispatcher) == []
