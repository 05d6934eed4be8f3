"""The handlers' router tree: the guards every private-chat feature shares, set once here.

errors · reachability · groups
private (private_chat, `screen`)
    consent · start · menu                      anyone, registered or not
    officers · member_picker · survey drafts …  RequireRole(OFFICER) on each router
    registered (RequireRegistration)            every member feature
    fallback                                    last: what nobody else took
"""

from __future__ import annotations

from aiogram import Router

from bot.filters import private_chat
from bot.middlewares import RequireRegistration
from handlers import (
    consent,
    digest,
    errors,
    fallback,
    groups,
    improvements,
    mailbox,
    mailbox_inbox,
    member_picker,
    menu,
    mydata,
    officers,
    proposal_browse,
    proposal_work,
    proposals,
    reachability,
    settings,
    start,
    survey_admin,
    survey_drafts,
    survey_schedule,
    survey_try,
    surveys,
    todo,
)
from handlers.screen import ScreenMiddleware


def private_router(name: str, *children: Router) -> Router:
    """Private chats only (groups get a pointer to the private chat), with `screen` injected."""
    router = Router(name=name)
    screens = ScreenMiddleware()
    for observer in (router.message, router.callback_query):
        observer.filter(private_chat())
        observer.middleware(screens)
    router.include_routers(*children)
    return router


def registered_router(name: str, *children: Router) -> Router:
    """Registered members only: checked on every message and every button press."""
    router = Router(name=name)
    for observer in (router.message, router.callback_query):
        observer.middleware(RequireRegistration())
    router.include_routers(*children)
    return router


def create_routers() -> list[Router]:
    """Every router in the order the dispatcher tries them."""
    return [
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
                # The answer path first: nothing else takes these buttons.
                surveys.create_button_router(),
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
