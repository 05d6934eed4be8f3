"""One session, its repositories, one commit: the unit of work of one user action."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import insert_for, utcnow
from storage.hot import Channel, Lane, Statement, Write
from storage.models import ProcessedUpdate
from storage.repos.budget import SendBudgetRepository
from storage.repos.digests import DigestRepository
from storage.repos.improvements import ImprovementRepository
from storage.repos.mailbox import MailboxRepository
from storage.repos.members import MemberRepository
from storage.repos.outbox import OutboxRepository
from storage.repos.personal_data import PersonalDataRepository
from storage.repos.proposals import ProposalRepository
from storage.repos.registration import InviteRepository, RegistrationRepository
from storage.repos.retention import RetentionRepository
from storage.repos.role_audit import RoleAuditRepository
from storage.repos.survey_results import SurveyResultsRepository
from storage.repos.surveys import SurveyRepository
from storage.repos.updates import ProcessedUpdateRepository
from storage.repos.work import WorkRepository


class DuplicateUpdate(Exception):
    """The Telegram update was already processed; its effects must not be applied again."""


_MARK_PROCESSED = Statement(
    lambda dialect: (
        insert_for(dialect)(ProcessedUpdate)
        .values(update_id=bindparam("update_id"), processed_at=bindparam("processed_at"))
        .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
    )
)


class Repositories:
    """Repositories around one session.

    With `update_id`, the first commit also records that update as processed, in the same
    transaction as its effects: a crash before the commit lets a redelivery redo the work, and
    a redelivery after it finds the marker. The marker is written just before COMMIT so that an
    SQLite write lock is never held while a handler waits on Telegram.

    `lane.pending` holds the writes repositories buffered (the answer path's); they are applied
    at commit with the marker, in one transaction — on a SQLite file in one hop to the
    database's channel (`channel`, see storage/hot.py).
    """

    def __init__(
        self, session: AsyncSession, update_id: int | None = None, channel: Channel | None = None
    ) -> None:
        self.session = session
        self.lane = Lane(session, channel)
        self.members = MemberRepository(session, self.lane)
        self.registrations = RegistrationRepository(session)
        self.invites = InviteRepository(session)
        self.role_audit = RoleAuditRepository(session)
        self.updates = ProcessedUpdateRepository(session)
        self.outbox = OutboxRepository(session)
        self.surveys = SurveyRepository(session, self.lane)
        self.results = SurveyResultsRepository(session)
        self.proposals = ProposalRepository(session)
        self.mailbox = MailboxRepository(session)
        self.personal_data = PersonalDataRepository(session)
        self.retention = RetentionRepository(session)
        self.digests = DigestRepository(session)
        self.improvements = ImprovementRepository(session)
        self.work = WorkRepository(session)
        self.budget = SendBudgetRepository(session)
        self._unmarked_update_id = update_id

    async def commit(self) -> None:
        update_id = self._unmarked_update_id
        marker = []
        if update_id is not None:
            marker.append(
                Write(
                    _MARK_PROCESSED,
                    {"update_id": update_id, "processed_at": utcnow()},
                    expect=1,
                    conflict=lambda: DuplicateUpdate(update_id),
                )
            )
        await self.lane.commit(marker)
        self._unmarked_update_id = None  # only once it is durable

    async def rollback(self) -> None:
        await self.lane.rollback()


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Repositories]:
    """Repositories over a fresh session; rolled back unless the caller committed."""
    async with sessions() as session:
        yield Repositories(session)
