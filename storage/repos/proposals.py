"""Proposals, co-signers, attachments and the timeline."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from members.roles import Role
from proposals.model import (
    Answered,
    Assigned,
    AttachmentDTO,
    Decided,
    EventDTO,
    Kind,
    ProposalDTO,
    Rated,
    Rating,
    Status,
    StatusChange,
    Submitted,
)
from storage.base import dialect_insert, rowcount
from storage.models import (
    Member,
    MemberRole,
    Proposal,
    ProposalAttachment,
    ProposalCosigner,
    ProposalEvent,
)


def _dto(p: Proposal) -> ProposalDTO:
    return ProposalDTO(
        id=p.id,
        kind=Kind(p.kind),
        category=p.category,
        title=p.title,
        body=p.body,
        status=Status(p.status),
        proposer_id=p.proposer_id,
        department=p.department,
        due_on=p.due_on,
        merged_into_id=p.merged_into_id,
        decision_reason=p.decision_reason,
        answer=p.answer,
        rating=Rating(p.rating) if p.rating else None,
        rating_comment=p.rating_comment,
        reopen_count=p.reopen_count,
        created_at=p.created_at,
        submitted_at=p.submitted_at,
    )


def _columns(change: StatusChange | None) -> dict[str, Any]:
    match change:
        case None:
            return {}
        case Submitted(at):
            return {"submitted_at": at}
        case Decided(reason, merged_into_id, converted):
            columns: dict[str, Any] = {"decision_reason": reason}
            if merged_into_id is not None:
                columns["merged_into_id"] = merged_into_id
            if converted:
                columns["kind"] = Kind.SUGGESTION.value
            return columns
        case Assigned(department, due_on):
            return {"department": department, "due_on": due_on}
        case Answered(text, at):
            return {"answer": text, "answered_at": at}
        case Rated(rating, comment, reopened):
            columns = {"rating": rating.value, "rating_comment": comment}
            if reopened:
                columns["reopen_count"] = 1
            return columns


class ProposalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def create(self, kind: Kind, category: str, proposer_id: int) -> int:
        proposal = Proposal(
            kind=kind.value, category=category, proposer_id=proposer_id, status=Status.DRAFT.value
        )
        self._session.add(proposal)
        await self._session.flush()
        return proposal.id

    async def get(self, proposal_id: int) -> ProposalDTO | None:
        proposal = await self._session.get(Proposal, proposal_id, populate_existing=True)
        return _dto(proposal) if proposal else None

    async def set_title(self, proposal_id: int, title: str) -> None:
        await self._update(proposal_id, title=title)

    async def set_body(self, proposal_id: int, body: str) -> None:
        await self._update(proposal_id, body=body)

    async def set_rating_comment(self, proposal_id: int, comment: str) -> None:
        await self._update(proposal_id, rating_comment=comment)

    async def _update(self, proposal_id: int, **values: Any) -> None:
        await self._session.execute(
            update(Proposal).where(Proposal.id == proposal_id).values(**values)
        )

    async def transition(
        self,
        proposal_id: int,
        allowed: Iterable[Status],
        to: Status,
        change: StatusChange | None = None,
    ) -> bool:
        """Move only from an allowed status (first of two concurrent officers wins), with
        what `change` records."""
        result = await self._session.execute(
            update(Proposal)
            .where(Proposal.id == proposal_id, Proposal.status.in_([s.value for s in allowed]))
            .values(status=to.value, **_columns(change))
        )
        return rowcount(result) == 1

    async def add_event(
        self,
        proposal_id: int,
        action: str,
        *,
        actor_id: int | None,
        from_status: Status | None,
        to_status: Status | None,
        note: str | None,
        at: datetime,
    ) -> None:
        self._session.add(
            ProposalEvent(
                proposal_id=proposal_id,
                action=action,
                actor_id=actor_id,
                at=at,
                from_status=from_status.value if from_status else None,
                to_status=to_status.value if to_status else None,
                note=note,
            )
        )
        await self._session.flush()

    async def events(self, proposal_id: int) -> list[EventDTO]:
        rows = await self._session.scalars(
            select(ProposalEvent)
            .where(ProposalEvent.proposal_id == proposal_id)
            .order_by(ProposalEvent.at, ProposalEvent.id)
        )
        return [
            EventDTO(
                e.at,
                e.actor_id,
                e.action,
                Status(e.from_status) if e.from_status else None,
                Status(e.to_status) if e.to_status else None,
                e.note,
            )
            for e in rows
        ]

    async def cosign(self, proposal_id: int, member_id: int) -> bool:
        insert = dialect_insert(self._session)
        result = await self._session.execute(
            insert(ProposalCosigner)
            .values(proposal_id=proposal_id, member_id=member_id)
            .on_conflict_do_nothing()
        )
        return rowcount(result) == 1

    async def cosigner_ids(self, proposal_id: int) -> list[int]:
        rows = await self._session.scalars(
            select(ProposalCosigner.member_id)
            .where(ProposalCosigner.proposal_id == proposal_id)
            .order_by(ProposalCosigner.created_at)
        )
        return list(rows)

    async def add_attachment(
        self, proposal_id: int, stage: str, kind: str, telegram_file_id: str, file_name: str | None
    ) -> None:
        self._session.add(
            ProposalAttachment(
                proposal_id=proposal_id,
                stage=stage,
                kind=kind,
                telegram_file_id=telegram_file_id,
                file_name=file_name,
            )
        )
        await self._session.flush()

    async def attachments(self, proposal_id: int) -> list[AttachmentDTO]:
        rows = await self._session.scalars(
            select(ProposalAttachment)
            .where(ProposalAttachment.proposal_id == proposal_id)
            .order_by(ProposalAttachment.id)
        )
        return [AttachmentDTO(a.stage, a.kind, a.telegram_file_id, a.file_name) for a in rows]

    async def board(
        self, *, statuses: Iterable[Status], category: str | None, offset: int, limit: int
    ) -> tuple[list[ProposalDTO], int]:
        """Proposals members may browse (never drafts), newest first, with the total."""
        condition: ColumnElement[bool] = Proposal.status.in_([s.value for s in statuses])
        if category:
            condition = condition & (Proposal.category == category)
        total = (
            await self._session.scalar(select(func.count()).where(condition).select_from(Proposal))
            or 0
        )
        rows = await self._session.scalars(
            select(Proposal)
            .where(condition)
            .order_by(Proposal.submitted_at.desc(), Proposal.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_dto(p) for p in rows], total

    async def assigned_due_by(self, day: date) -> list[ProposalDTO]:
        rows = await self._session.scalars(
            select(Proposal).where(
                Proposal.status == Status.ASSIGNED.value,
                Proposal.due_on.is_not(None),
                Proposal.due_on <= day,
            )
        )
        return [_dto(p) for p in rows]

    async def recipients(self, member_ids: Iterable[int]) -> list[tuple[int, int, str | None]]:
        """(member id, telegram id, locale) of those still registered."""
        rows = await self._session.execute(
            select(Member.id, Member.telegram_id, Member.locale).where(
                Member.id.in_(list(member_ids)), Member.telegram_id.is_not(None)
            )
        )
        return [(r.id, r.telegram_id, r.locale) for r in rows]

    async def with_role(
        self, role: Role, department: str | None = None
    ) -> list[tuple[int, int, str | None]]:
        statement = (
            select(Member.id, Member.telegram_id, Member.locale)
            .join(MemberRole)
            .where(MemberRole.role == role.value, Member.telegram_id.is_not(None))
        )
        if department is not None:
            statement = statement.where(Member.department == department)
        rows = await self._session.execute(statement.order_by(Member.id))
        return [(r.id, r.telegram_id, r.locale) for r in rows]

    async def all_submitted(self) -> list[ProposalDTO]:
        """Everything past draft, oldest first (the congress report)."""
        rows = await self._session.scalars(
            select(Proposal).where(Proposal.status != Status.DRAFT.value).order_by(Proposal.id)
        )
        return [_dto(p) for p in rows]

    async def names(self, member_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """member id → (name, department)."""
        rows = await self._session.execute(
            select(Member.id, Member.name, Member.department).where(Member.id.in_(list(member_ids)))
        )
        return {r.id: (r.name, r.department) for r in rows}

    async def by_proposer(self, member_id: int) -> list[ProposalDTO]:
        rows = await self._session.scalars(
            select(Proposal).where(Proposal.proposer_id == member_id).order_by(Proposal.id.desc())
        )
        return [_dto(p) for p in rows]

    async def in_status(
        self, statuses: Iterable[Status], department: str | None = None
    ) -> list[ProposalDTO]:
        statement = select(Proposal).where(Proposal.status.in_([s.value for s in statuses]))
        if department is not None:
            statement = statement.where(Proposal.department == department)
        rows = await self._session.scalars(statement.order_by(Proposal.id))
        return [_dto(p) for p in rows]
