"""Per-update plumbing: database session, duplicate detection, who the sender is, role guards."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.config import Config
from common.clock import Clock
from digest.service import DigestService
from digest.settings import settings_from as digest_settings
from improvements.service import ImprovementService
from improvements.service import settings_from as improvement_settings
from mailboxes.service import MailboxService
from mailboxes.settings import MailboxContext
from members.dto import Identity
from members.picker import MemberPicker
from members.roles import Role
from members.service import MembershipService
from privacy.service import DataRightsService
from proposals.service import ProposalService, settings_from
from storage.database import Database
from storage.uow import DuplicateUpdate, Repositories
from surveys.drafts import SurveyDrafts
from surveys.service import SurveyService
from todo.service import NoticeSettings, TodoService

logger = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    """Opens one session per update, skips updates already processed, identifies the sender.

    Handlers get `repos`, the services (`membership`, `surveys`, `survey_drafts`, `proposals`,
    `mailbox`, `data_rights`, `todo`, `notice_settings`, `improvements`, `digest`,
    `member_picker`) and `identity` injected.
    """

    def __init__(
        self,
        database: Database,
        config: Config,
        *,
        clock: Clock,
        mailbox: MailboxContext,
        outbox_wakeup: asyncio.Event | None = None,
    ) -> None:
        self._database = database
        self._mailbox = mailbox
        self._config = config
        self._admins = frozenset(config.union.admins)
        self._clock = clock
        self._outbox_wakeup = outbox_wakeup
        # Telegram's update ids grow: one above every id this process has started on cannot
        # be a redelivery, so only the others cost a lookup.
        self._highest_update_id: int | None = None
        self._proposal_settings = settings_from(config)
        self._improvement_settings = improvement_settings(config)
        self._digest_settings = digest_settings(config)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        async with self._database.sessions() as session:
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
            membership = MembershipService(
                repos,
                admins=self._admins,
                clock=self._clock,
                boxes=self._mailbox.settings.boxes,
                match_by_name=self._config.registration.match_by_name,
            )
            surveys = SurveyService(
                repos,
                timezone=self._config.union.timezone,
                small_group=self._config.surveys.small_group,
                clock=self._clock,
            )
            user = data.get("event_from_user")
            identity = await membership.identify(user.id) if user is not None else None
            proposals = ProposalService(repos, self._proposal_settings, clock=self._clock)
            mailbox = MailboxService(repos, self._mailbox, clock=self._clock)
            data.update(
                repos=repos,
                membership=membership,
                surveys=surveys,
                survey_drafts=SurveyDrafts(
                    surveys, repos, timezone=self._config.union.timezone, clock=self._clock
                ),
                proposals=proposals,
                mailbox=mailbox,
                todo=TodoService(repos, self._proposal_settings, mailbox, clock=self._clock),
                notice_settings=NoticeSettings(repos),
                data_rights=DataRightsService(repos, self._mailbox.sealer, clock=self._clock),
                identity=identity,
                improvements=ImprovementService(
                    repos, self._improvement_settings, clock=self._clock, mailbox=mailbox
                ),
                digest=DigestService(repos, self._digest_settings, clock=self._clock),
                member_picker=MemberPicker(repos),
            )
            try:
                result = await handler(event, data)
                await repos.commit()  # the update marker, if no service committed
            except DuplicateUpdate:
                logger.info("update %s was processed concurrently; rolled back", event.update_id)
                return None
            if repos.outbox.enqueued and self._outbox_wakeup is not None:
                self._outbox_wakeup.set()
            return result


async def _refuse(event: TelegramObject, text: str, data: dict[str, Any]) -> None:
    screen = data.get("screen")
    if screen is not None and isinstance(event, CallbackQuery):
        screen.notify(text, alert=True)  # the screen middleware answers the press once
    elif isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, Message):
        await event.answer(text)


class RequireRole(BaseMiddleware):
    """Guards a whole router: checked on every message and every button press."""

    def __init__(self, role: Role) -> None:
        self._role = role

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        identity: Identity | None = data.get("identity")
        if identity is None or not identity.has(self._role):
            await _refuse(event, _("You are not allowed to do this."), data)
            return None
        return await handler(event, data)


class RequireRegistration(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        identity: Identity | None = data.get("identity")
        if identity is None or not identity.is_registered:
            await _refuse(event, _("Please register first: send /start."), data)
            return None
        return await handler(event, data)
