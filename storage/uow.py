"""One session, its repositories, one commit: the unit of work of one user action."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import insert_for, utcnow
from storage.hot import Channel, Lane, Statement, Write
from storage.models_members import ProcessedUpdate

# Each repository is imported and built when first used: an update or a CLI command touches
# two or three of the seventeen (`members list` only `members`: bench/cli_bench.py).
if TYPE_CHECKING:
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
        self._unmarked_update_id = update_id

    @cached_property
    def members(self) -> MemberRepository:
        from storage.repos.members import MemberRepository

        return MemberRepository(self.session, self.lane)

    @cached_property
    def registrations(self) -> RegistrationRepository:
        from storage.repos.registration import RegistrationRepository

        return RegistrationRepository(self.session)

    @cached_property
    def invites(self) -> InviteRepository:
        from storage.repos.registration import InviteRepository

        return InviteRepository(self.session)

    @cached_property
    def role_audit(self) -> RoleAuditRepository:
        from storage.repos.role_audit import RoleAuditRepository

        return RoleAuditRepository(self.session)

    @cached_property
    def updates(self) -> ProcessedUpdateRepository:
        from storage.repos.updates import ProcessedUpdateRepository

        return ProcessedUpdateRepository(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        from storage.repos.outbox import OutboxRepository

        return OutboxRepository(self.session)

    @cached_property
    def surveys(self) -> SurveyRepository:
        from storage.repos.surveys import SurveyRepository

        return SurveyRepository(self.session, self.lane)

    @cached_property
    def results(self) -> SurveyResultsRepository:
        from storage.repos.survey_results import SurveyResultsRepository

        return SurveyResultsRepository(self.session)

    @cached_property
    def proposals(self) -> ProposalRepository:
        from storage.repos.proposals import ProposalRepository

        return ProposalRepository(self.session)

    @cached_property
    def mailbox(self) -> MailboxRepository:
        from storage.repos.mailbox import MailboxRepository

        return MailboxRepository(self.session)

    @cached_property
    def personal_data(self) -> PersonalDataRepository:
        from storage.repos.personal_data import PersonalDataRepository

        return PersonalDataRepository(self.session)

    @cached_property
    def retention(self) -> RetentionRepository:
        from storage.repos.retention import RetentionRepository

        return RetentionRepository(self.session)

    @cached_property
    def digests(self) -> DigestRepository:
        from storage.repos.digests import DigestRepository

        return DigestRepository(self.session)

    @cached_property
    def improvements(self) -> ImprovementRepository:
        from storage.repos.improvements import ImprovementRepository

        return ImprovementRepository(self.session)

    @cached_property
    def work(self) -> WorkRepository:
        from storage.repos.work import WorkRepository

        return WorkRepository(self.session)

    @cached_property
    def budget(self) -> SendBudgetRepository:
        from storage.repos.budget import SendBudgetRepository

        return SendBudgetRepository(self.session)

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
