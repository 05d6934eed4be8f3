"""Per-update plumbing: database session, duplicate detection, who the sender is."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.exc import IntegrityError

from bot.services import HANDLER_SERVICES, Services, UpdateServices
from handlers.errors import TELEGRAM_AWAY
from storage.database import Database
from storage.uow import DuplicateUpdate, Repositories

logger = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    """Opens one session per update, skips updates already processed, identifies the sender.

    Sets `repos`, `membership` and `identity`; the other services come from `ServicesMiddleware`,
    only those the matched handler asks for."""

    def __init__(
        self,
        database: Database,
        services: Services,
        *,
        outbox_wakeup: asyncio.Event | None = None,
    ) -> None:
        self._database = database
        self._services = services
        self._outbox_wakeup = outbox_wakeup
        # Telegram's update ids grow: one above every id this process has started on cannot
        # be a redelivery, so only the others cost a lookup.
        self._highest_update_id: int | None = None

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        session = self._database.sessions()
        try:
            repos = Repositories(session, update_id=event.update_id, channel=self._database.channel)
            if self._highest_update_id is None:
                self._highest_update_id = await repos.updates.highest()
            # The shortcut holds only for the one process on a SQLite file: other instances
            # on a shared database process ids this one never saw.
            if event.update_id > self._highest_update_id and self._database.is_sqlite:
                self._highest_update_id = event.update_id
            elif await repos.updates.seen(event.update_id):
                logger.info("update %s was already processed; skipped", event.update_id)
                return None
            membership = self._services.membership(repos)
            user = data.get("event_from_user")
            identity = await membership.identify(user.id) if user is not None else None
            data.update(
                repos=repos,
                membership=membership,
                identity=identity,
                update_services=self._services.for_update(repos),
            )
            try:
                result = await handler(event, data)
                await repos.commit()  # the update marker, if no service committed
            except DuplicateUpdate:
                logger.info("update %s was processed concurrently; rolled back", event.update_id)
                return None
            except TELEGRAM_AWAY:
                # The step was done and only its answer was lost: Telegram refused it after
                # bot/flood.py's retries. Recorded as processed all the same, or a redelivered
                # copy does the step again (the soak saw a letter part appended twice: the
                # draft is kept apart from this transaction). The error router says the rest.
                await repos.commit()
                raise
            except IntegrityError:
                # A copy of this update handled at the same moment (a webhook redelivered while
                # the first was still running) committed first, and its rows collided with ours
                # before our marker could. The update is done: this copy is the duplicate, not a
                # failure to report to the person.
                if not await self._processed(event.update_id):
                    raise
                logger.info("update %s was processed concurrently; rolled back", event.update_id)
                return None
            if repos.outbox.enqueued and self._outbox_wakeup is not None:
                self._outbox_wakeup.set()
            return result
        finally:
            # On a SQLite file the answer path runs on the channel and never begins the
            # session's transaction: such a session holds no connection, and closing it would
            # only cost a greenlet switch per update. Shielded, as `async with` does.
            if session.in_transaction():
                await asyncio.shield(session.close())

    async def _processed(self, update_id: int) -> bool:
        async with self._database.sessions() as session:
            return await Repositories(session).updates.seen(update_id)


class ServicesMiddleware(BaseMiddleware):
    """Inner middleware on every event type: injects the services (`surveys`, `proposals`,
    `mailbox`, `todo`, `notice_settings`, `data_rights`, `survey_drafts`, `improvements`,
    `digest`, `member_picker`) the matched handler names, built for this update on first use.
    Runs after the filters, so filters cannot ask for services (they never need them)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        services: UpdateServices | None = data.get("update_services")
        if services is not None:
            matched = data["handler"]  # aiogram's HandlerObject: the handler's parameters
            wanted = HANDLER_SERVICES if matched.varkw else HANDLER_SERVICES & matched.params
            for name in wanted:
                data[name] = services.get(name)
        return await handler(event, data)
