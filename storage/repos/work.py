"""Officers' daily work: notice mutes, the roster's departments, the to-do queues."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from improvements.model import ActionStatus
from mailboxes.model import LetterStatus
from members.roles import Role
from proposals.model import ProposalDTO, Status
from storage.base import dialect_insert
from storage.models import Member, MemberRole, NoticeMute, Proposal, RegistrationRequest
from storage.models_digest import ImprovementAction
from storage.models_mailbox import Letter
from storage.repos.proposals import _dto as proposal_dto


class WorkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- notice mutes ---------------------------------------------------------------------------
    async def muted(self, member_id: int) -> set[str]:
        rows = await self._session.scalars(
            select(NoticeMute.kind).where(NoticeMute.member_id == member_id)
        )
        return set(rows)

    async def set_muted(self, member_id: int, kind: str, muted: bool) -> None:
        if muted:
            await self._session.execute(
                dialect_insert(self._session)(NoticeMute)
                .values(member_id=member_id, kind=kind)
                .on_conflict_do_nothing(index_elements=[NoticeMute.member_id, NoticeMute.kind])
            )
        else:
            await self._session.execute(
                delete(NoticeMute).where(NoticeMute.member_id == member_id, NoticeMute.kind == kind)
            )

    # -- departments ----------------------------------------------------------------------------
    async def departments(self) -> list[tuple[str, int]]:
        """Every department on the roster with how many registered handlers it has."""
        roster = await self._session.scalars(
            select(Member.department).where(Member.department != "").distinct()
        )
        counts = dict(
            (
                await self._session.execute(
                    select(Member.department, func.count())
                    .join(MemberRole, MemberRole.member_id == Member.id)
                    .where(MemberRole.role == Role.HANDLER.value, Member.telegram_id.is_not(None))
                    .group_by(Member.department)
                )
            ).all()
        )
        return [(department, int(counts.get(department, 0))) for department in roster]

    # -- to-do queues ---------------------------------------------------------------------------
    async def pending_registrations(self) -> int:
        return int(
            await self._session.scalar(
                select(func.count())
                .select_from(RegistrationRequest)
                .where(RegistrationRequest.status == "pending")
            )
            or 0
        )

    async def proposals(
        self,
        statuses: Iterable[Status],
        *,
        department: str | None = None,
        due_by: date | None = None,
    ) -> list[ProposalDTO]:
        statement = select(Proposal).where(Proposal.status.in_([s.value for s in statuses]))
        if department is not None:
            statement = statement.where(Proposal.department == department)
        if due_by is not None:
            statement = statement.where(Proposal.due_on.is_not(None), Proposal.due_on <= due_by)
        rows = await self._session.scalars(statement.order_by(Proposal.id))
        return [proposal_dto(p) for p in rows]

    async def letters_awaiting_reply(self, boxes: Iterable[str]) -> list[tuple[int, str]]:
        """(letter id, box) of letters in these boxes that nobody has answered yet."""
        rows = await self._session.execute(
            select(Letter.id, Letter.box)
            .where(
                Letter.box.in_(list(boxes)),
                Letter.first_reply_at.is_(None),
                Letter.status != LetterStatus.HANDLED.value,
            )
            .order_by(Letter.id)
        )
        return [(row.id, row.box) for row in rows]

    async def actions_due(
        self,
        owner_id: int,
        department: str | None,
        statuses: Iterable[ActionStatus],
        due_by: date,
    ) -> list[tuple[int, str, date]]:
        """(id, problem, due date) of unfinished actions due by `due_by` that this member
        owns, or that their department owns without a named owner."""
        owned = ImprovementAction.owner_id == owner_id
        if department is not None:
            owned = or_(
                owned,
                (ImprovementAction.owner_id.is_(None))
                & (ImprovementAction.department == department),
            )
        rows = await self._session.execute(
            select(ImprovementAction.id, ImprovementAction.problem, ImprovementAction.due_on)
            .where(
                owned,
                ImprovementAction.status.in_([s.value for s in statuses]),
                ImprovementAction.due_on.is_not(None),
                ImprovementAction.due_on <= due_by,
            )
            .order_by(ImprovementAction.due_on, ImprovementAction.id)
        )
        return [(row.id, row.problem, row.due_on) for row in rows]

    # -- choosing a member ----------------------------------------------------------------------
    async def members_in(self, department: str) -> list[tuple[int, str, str]]:
        """(id, name, employee id) of a department's members, by name."""
        rows = await self._session.execute(
            select(Member.id, Member.name, Member.employee_id)
            .where(Member.department == department)
            .order_by(Member.name, Member.employee_id)
        )
        return [(row.id, row.name, row.employee_id) for row in rows]
