"""The handlers' router tree: the guards every private-chat feature shares, set once here.

answers (private_chat, `screen`, consent, RequireRegistration): survey buttons, the hot path
errors · reachability · groups
private (private_chat, `screen`)
    consent · start · menu                      anyone, registered or not
    officers · member_picker · survey drafts …  RequireRole(OFFICER) on each router
    registered (RequireRegistration)            every member feature
    fallback                                    last: what nobody else took
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery

from handlers import errors, fallback, groups, reachability
from handlers.digest import command as digest
from handlers.filters import private_chat
from handlers.guards import RequireRegistration
from handlers.improvements import working as improvements
from handlers.mailbox import inbox as mailbox_inbox
from handlers.mailbox import writing as mailbox
from handlers.members import consent, menu, officers, settings, start
from handlers.members import picker as member_picker
from handlers.members.consent import NeedsConsent
from handlers.privacy import mydata
from handlers.proposals import browse as proposal_browse
from handlers.proposals import filing as proposals
from handlers.proposals import work as proposal_work
from handlers.screen import ScreenMiddleware
from handlers.surveys import admin as survey_admin
from handlers.surveys import answering as surveys
from handlers.surveys import drafts as survey_drafts
from handlers.surveys import schedule as survey_schedule
from handlers.surveys import trying as survey_try
from handlers.todo import queues as todo


def private_router(name: str, *children: Router) -> Router:
    """Private chats only (groups get a pointer to the private chat), with `screen` injected."""
    router = Router(name=name)
    screens = ScreenMiddleware()
    for observer in (router.message, router.callback_query):
        observer.filter(private_chat())
        observer.middleware(screens)
    router.include_routers(*children)
    return router


def answer_lane(*children: Router) -> Router:
    """The survey answer buttons, first in the tree, so a tap visits no other router (each visit
    costs aiogram a middleware chain and a filter check). The guards are those of their place
    under `private`: private chat, `screen`, registration — and a member who must consent again
    skips the lane and meets the consent router, as every other button does."""
    router = private_router("answers", *children)
    router.callback_query.filter(~NeedsConsent())
    for observer in (router.message, router.callback_query):
        observer.middleware(RequireRegistration())
    return router


def registered_router(name: str, *children: Router) -> Router:
    """Registered members only: checked on every message and every button press."""
    router = Router(name=name)
    for observer in (router.message, router.callback_query):
        observer.middleware(RequireRegistration())
    router.include_routers(*children)
    return router


class CallbackPrefixes(Filter):
    """Lets a button press into a router only when one of the router's handlers (or of its
    sub-routers') takes its callback data prefix: a survey answer then skips the officers',
    drafts' and menu routers in one set lookup, instead of trying their CallbackData filters
    one by one (each a split, a failed parse and an exception)."""

    def __init__(self, prefixes: frozenset[str]) -> None:
        self.prefixes = prefixes

    async def __call__(self, callback: CallbackQuery) -> bool:
        return (callback.data or "").partition(":")[0] in self.prefixes


def route_by_prefix(router: Router) -> frozenset[str] | None:
    """Gives `router` and each of its sub-routers a `CallbackPrefixes` root filter with the
    prefixes their handlers take. Returns the set, or None when some handler takes any button
    (no CallbackData filter, e.g. "this button is outdated"): such a router stays open."""
    prefixes: set[str] = set()
    open_to_any = False
    for handler in router.callback_query.handlers:
        taken = [
            found.callback.callback_data
            for found in handler.filters or ()
            if isinstance(found.callback, CallbackQueryFilter)
        ]
        for factory in taken:
            # The filter splits on ":" (aiogram's default); a factory with another separator
            # would be wrongly refused, so there is none.
            assert factory.__separator__ == ":", factory
            prefixes.add(factory.__prefix__)
        open_to_any = open_to_any or not taken
    for child in router.sub_routers:
        below = route_by_prefix(child)
        open_to_any = open_to_any or below is None
        prefixes |= below or set()
    if open_to_any:
        return None
    router.callback_query.filter(CallbackPrefixes(frozenset(prefixes)))
    return frozenset(prefixes)


def create_routers() -> list[Router]:
    """Every router in the order the dispatcher tries them, button presses routed by prefix."""
    routers = _routers()
    for router in routers:
        route_by_prefix(router)
    return routers


def _routers() -> list[Router]:
    return [
        # Survey buttons first: their prefixes are the surveys' alone (tests/unit/test_router_tree).
        answer_lane(surveys.create_button_router()),
        errors.create_router(),
        reachability.create_router(),
        groups.create_router(),
        private_router(
            "private",
            consent.create_router(),  # before everything a registered member can do
            start.create_router(),
            menu.create_router(),
            # Officers' tools need the role only: a bootstrap admin acts before registering.
            officers.create_router(),
            member_picker.create_router(),
            survey_drafts.create_router(),  # before survey_admin: a file asked for may be TOML
            survey_try.create_router(),
            survey_schedule.create_router(),
            survey_admin.create_router(),
            registered_router(
                "registered",
                mydata.create_router(),
                surveys.create_router(),
                proposals.create_router(),
                proposal_browse.create_router(),
                proposal_work.create_router(),
                mailbox_inbox.create_router(),
                mailbox.create_router(),
                digest.create_router(),
                improvements.create_router(),
                todo.create_router(),
                settings.create_router(),
            ),
            fallback.create_router(),  # last: catches what nobody else took
        ),
    ]
