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


def _prefixes(router: Router) -> dict[str, set[str]]:
    """Router name → the callback data prefixes its own handlers take."""
    from aiogram.filters.callback_data import CallbackQueryFilter

    found = {
        router.name: {
            check.callback.callback_data.__prefix__
            for handler in router.callback_query.handlers
            for check in handler.filters or ()
            if isinstance(check.callback, CallbackQueryFilter)
        }
    }
    for child in router.sub_routers:
        found.update(_prefixes(child))
    return found


def test_survey_buttons_are_taken_by_the_answer_router_alone(
    db_url: str, database: Database
) -> None:
    """The answer router is tried right after consent; that is only safe while no other router
    (officers', menu, drafts …) takes a survey button."""
    from handlers.survey_callbacks import SurveyCB

    dispatcher = create_dispatcher(make_config(db_url), database)
    takers = [name for name, taken in _prefixes(dispatcher).items() if SurveyCB.__prefix__ in taken]
    assert takers == ["survey_buttons"]


def test_each_router_is_entered_by_the_buttons_it_or_its_children_take(
    db_url: str, database: Database
) -> None:
    """A router's prefix filter must let in every button one of its handlers (or a sub-router's)
    takes, or that button would fall through to "no longer valid"."""
    from handlers.routers import CallbackPrefixes

    def check(router: Router) -> set[str]:
        below = set(_prefixes(router)[router.name])
        for child in router.sub_routers:
            below |= check(child)
        for root in router.callback_query._handler.filters or ():
            if isinstance(root.callback, CallbackPrefixes):
                assert below <= root.callback.prefixes, router.name
        return below

    check(create_dispatcher(make_config(db_url), database))
