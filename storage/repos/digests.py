"""Everything the weekly digest reads, aggregated by the database (GROUP BY rows, never every
answer), plus the stored digests and the exactly-once delivery rows.

Free texts for the themes are the one place rows come back: paged by key, at most `limit` per
source and period, so memory does not grow with the data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import case, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from digest.model import (
    ActiveSurvey,
    DueItem,
    MailboxFigures,
    NumericFigures,
    ProposalFigures,
    Recipient,
)
from storage.base import dialect_insert, rowcount, utcnow
from storage.models import (
    Member,
    MemberRole,
    Proposal,
    ProposalEvent,
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyResponse,
)
from storage.models_digest import Digest, DigestDelivery
from storage.repos.mailbox import MailboxRepository
from surveys.model import DETRACTOR_MAX, PROMOTER_MIN

PAGE = 1000  # texts per query
RATING_ACTIONS = ("rated", "reopened", "sent_to_officers")  # proposal events that carry a rating


class DigestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- recipients -------------------------------------------------------------------------------
    async def registered_with_roles(self, roles: Iterable[str]) -> list[Recipient]:
        """Registered members holding any of `roles`, each once with all their roles."""
        rows = await self.session.execute(
            select(Member.id, Member.telegram_id, Member.locale, Member.department, MemberRole.role)
            .join(MemberRole, MemberRole.member_id == Member.id)
            .where(Member.telegram_id.is_not(None), MemberRole.role.in_(list(roles)))
            .order_by(Member.id)
        )
        found: dict[int, Recipient] = {}
        for member_id, chat_id, locale, department, role in rows:
            if chat_id is None:  # excluded by the query; this narrows the type
                continue
            known = found.get(member_id)
            held = (known.roles if known else frozenset()) | {role}
            found[member_id] = Recipient(member_id, chat_id, locale, department, held)
        return list(found.values())

    async def registered_with_telegram_ids(self, telegram_ids: Iterable[int]) -> list[Recipient]:
        ids = list(telegram_ids)
        if not ids:
            return []
        rows = await self.session.execute(
            select(Member.id, Member.telegram_id, Member.locale, Member.department, MemberRole.role)
            .outerjoin(MemberRole, MemberRole.member_id == Member.id)
            .where(Member.telegram_id.in_(ids))
            .order_by(Member.id)
        )
        found: dict[int, Recipient] = {}
        for member_id, chat_id, locale, department, role in rows:
            if chat_id is None:  # excluded by the query; this narrows the type
                continue
            known = found.get(member_id)
            held = (known.roles if known else frozenset()) | ({role} if role else set())
            found[member_id] = Recipient(member_id, chat_id, locale, department, held)
        return list(found.values())

    # -- surveys ----------------------------------------------------------------------------------
    async def active_surveys(self, start: datetime, end: datetime) -> list[ActiveSurvey]:
        """Surveys open at some moment of [start, end)."""
        rows = await self.session.execute(
            select(
                Survey.id,
                Survey.slug,
                Survey.definition,
                Survey.status,
                Survey.anonymous,
                Survey.opened_at,
                Survey.closed_at,
            )
            .where(
                Survey.status != "draft",
                Survey.opened_at < end,
                or_(Survey.closed_at.is_(None), Survey.closed_at >= start),
            )
            .order_by(Survey.opened_at, Survey.id)
        )
        return [ActiveSurvey(*row) for row in rows]

    async def participation(self, survey_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """survey id → (invited, finished)."""
        rows = await self.session.execute(
            select(
                SurveyParticipant.survey_id,
                func.count(),
                func.count().filter(SurveyParticipant.done.is_(True)),
            )
            .where(SurveyParticipant.survey_id.in_(list(survey_ids)))
            .group_by(SurveyParticipant.survey_id)
        )
        return {survey_id: (int(invited), int(done)) for survey_id, invited, done in rows}

    async def responses_between(
        self, survey_ids: Sequence[int], first_day: date, end_day: date
    ) -> dict[int, int]:
        """survey id → responses submitted on days in [first_day, end_day)."""
        rows = await self.session.execute(
            select(SurveyResponse.survey_id, func.count())
            .where(
                SurveyResponse.survey_id.in_(list(survey_ids)),
                SurveyResponse.submitted_on >= first_day,
                SurveyResponse.submitted_on < end_day,
            )
            .group_by(SurveyResponse.survey_id)
        )
        return {survey_id: int(count) for survey_id, count in rows}

    async def numeric_figures(
        self,
        survey_ids: Sequence[int],
        question_ids: Sequence[str],
        previous_day: date,
        first_day: date,
        end_day: date,
    ) -> list[NumericFigures]:
        """Numeric answers given in [previous_day, end_day) — the previous period and this
        one — per survey, question, stored department and period, in one GROUP BY. A response
        has one department, so the department rows add up exactly to a question's figures."""
        if not survey_ids:
            return []
        number = SurveyAnswer.number
        current = SurveyResponse.submitted_on >= first_day
        rows = await self.session.execute(
            select(
                SurveyResponse.survey_id,
                SurveyAnswer.question_id,
                SurveyResponse.department,
                current,
                func.count(),  # one numeric answer per response and question
                func.coalesce(func.sum(number), 0.0),
                func.coalesce(func.sum(case((number >= PROMOTER_MIN, 1), else_=0)), 0),
                func.coalesce(func.sum(case((number <= DETRACTOR_MAX, 1), else_=0)), 0),
            )
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(
                # On the responses, not the answers: SQLite then walks the period's responses
                # and seeks their answers by primary key (3-4x faster than the other way).
                SurveyResponse.survey_id.in_(list(survey_ids)),
                SurveyAnswer.question_id.in_(list(question_ids)),
                number.is_not(None),
                SurveyResponse.submitted_on >= previous_day,
                SurveyResponse.submitted_on < end_day,
            )
            .group_by(
                SurveyResponse.survey_id,
                SurveyAnswer.question_id,
                SurveyResponse.department,
                current,
            )
        )
        return [
            NumericFigures(s, q, department, bool(is_current), int(n), float(total), int(p), int(d))
            for s, q, department, is_current, n, total, p, d in rows
        ]

    async def survey_texts(
        self,
        survey_ids: Sequence[int],
        question_ids: Sequence[str],
        first_day: date,
        end_day: date,
        *,
        limit: int,
    ) -> AsyncIterator[str]:
        """Typed answers to these questions (text questions, "other" texts) given in the
        period, by key pages (the question ids let the index do the work)."""
        if not survey_ids or not question_ids:
            return
        last: tuple[str, str, int] | None = None
        seen = 0
        while seen < limit:
            statement = (
                select(
                    SurveyAnswer.response_id,
                    SurveyAnswer.question_id,
                    SurveyAnswer.position,
                    SurveyAnswer.text,
                )
                .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
                .where(
                    SurveyResponse.survey_id.in_(list(survey_ids)),  # see numeric_figures
                    SurveyAnswer.question_id.in_(list(question_ids)),
                    SurveyAnswer.text.is_not(None),
                    SurveyResponse.submitted_on >= first_day,
                    SurveyResponse.submitted_on < end_day,
                )
                .order_by(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.position)
                .limit(min(PAGE, limit - seen))
            )
            if last is not None:
                key = tuple_(
                    SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.position
                )
                statement = statement.where(key > tuple_(*last))
            rows = (await self.session.execute(statement)).all()
            for row in rows:
                yield row.text
            seen += len(rows)
            if len(rows) < PAGE:
                return
            last = (rows[-1].response_id, rows[-1].question_id, rows[-1].position)

    # -- proposals --------------------------------------------------------------------------------
    async def proposal_texts(
        self, start: datetime, end: datetime, *, limit: int
    ) -> AsyncIterator[tuple[int, str]]:
        """(id, title and text) of proposals submitted in [start, end), by id pages."""
        last_id = 0
        seen = 0
        while seen < limit:
            rows = (
                await self.session.execute(
                    select(Proposal.id, Proposal.title, Proposal.body)
                    .where(
                        Proposal.submitted_at >= start,
                        Proposal.submitted_at < end,
                        Proposal.id > last_id,
                    )
                    .order_by(Proposal.id)
                    .limit(min(PAGE, limit - seen))
                )
            ).all()
            for row in rows:
                yield row.id, f"{row.title}\n{row.body}"
            seen += len(rows)
            if len(rows) < PAGE:
                return
            last_id = rows[-1].id

    async def proposal_figures(
        self, start: datetime, end: datetime, department: str | None = None
    ) -> ProposalFigures:
        """New, answered and rated proposals of [start, end) — one pass over the table and
        one over the rating events."""
        scope = [Proposal.department == department] if department is not None else []
        new, answered = (
            await self.session.execute(
                select(
                    func.count().filter(
                        Proposal.submitted_at >= start, Proposal.submitted_at < end
                    ),
                    func.count().filter(Proposal.answered_at >= start, Proposal.answered_at < end),
                ).where(*scope)
            )
        ).one()
        note = ProposalEvent.note
        ratings = (
            await self.session.execute(
                select(
                    func.count().filter(note.like("satisfied%")),
                    func.count().filter(note.like("basically%")),
                    func.count().filter(note.like("unsatisfied%")),
                )
                .select_from(ProposalEvent)
                .join(Proposal, Proposal.id == ProposalEvent.proposal_id)
                .where(
                    ProposalEvent.action.in_(RATING_ACTIONS),
                    ProposalEvent.at >= start,
                    ProposalEvent.at < end,
                    *scope,
                )
            )
        ).one()
        return ProposalFigures(int(new or 0), int(answered or 0), *(int(r or 0) for r in ratings))

    async def proposals_by_status(self, department: str | None = None) -> dict[str, int]:
        statement = (
            select(Proposal.status, func.count())
            .where(Proposal.status != "draft")
            .group_by(Proposal.status)
        )
        if department is not None:
            statement = statement.where(Proposal.department == department)
        return {status: int(count) for status, count in await self.session.execute(statement)}

    async def proposals_due(
        self, until: date, department: str | None = None, *, limit: int = 20
    ) -> tuple[list[DueItem], int]:
        """Assigned proposals due on or before `until`, soonest first, and how many in all."""
        where = [
            Proposal.status == "assigned",
            Proposal.due_on.is_not(None),
            Proposal.due_on <= until,
        ]
        if department is not None:
            where.append(Proposal.department == department)
        total = await self.session.scalar(select(func.count()).select_from(Proposal).where(*where))
        rows = await self.session.execute(
            select(Proposal.id, Proposal.title, Proposal.department, Proposal.due_on)
            .where(*where)
            .order_by(Proposal.due_on, Proposal.id)
            .limit(limit)
        )
        items = [
            DueItem(proposal_id, title, department, due_on)
            for proposal_id, title, department, due_on in rows
            if due_on is not None  # excluded by the query; this narrows the type
        ]
        return items, int(total or 0)

    # -- mailbox (the lead fills this in with the mailbox's tables) -------------------------------
    async def mailbox_figures(
        self, start: datetime, end: datetime, box: str | None, *, reply_days: int = 5
    ) -> MailboxFigures:
        """Letters of [start, end) by box and type, unanswered, overdue, median hours to the
        first reply; `box` None means every box."""
        received, unanswered, overdue, median = await MailboxRepository(self.session).figures(
            start, end, box, reply_days=reply_days
        )
        return MailboxFigures(received, unanswered, overdue, median)

    async def letter_texts(
        self, start: datetime, end: datetime, box: str | None, *, limit: int
    ) -> AsyncIterator[str]:
        """Texts of a box's letters for its own recipients' themes. Nobody else gets words out
        of letters, not even as keywords: officers see how many letters came, nothing more."""
        if box is None:
            return
        async for text in MailboxRepository(self.session).texts(start, end, box, limit=limit):
            yield text

    # -- stored digests ---------------------------------------------------------------------------
    async def stored(self, period: str, audience: str) -> tuple[int, str] | None:
        row = (
            await self.session.execute(
                select(Digest.id, Digest.data).where(
                    Digest.period == period, Digest.audience == audience
                )
            )
        ).first()
        return (row.id, row.data) if row else None

    async def store(self, period: str, audience: str, data: str) -> tuple[int, str]:
        """Keeps the first one stored (another instance may have built it meanwhile)."""
        await self.session.execute(
            dialect_insert(self.session)(Digest)
            .values(period=period, audience=audience, data=data, created_at=utcnow())
            .on_conflict_do_nothing(index_elements=[Digest.period, Digest.audience])
        )
        stored = await self.stored(period, audience)
        assert stored is not None
        return stored

    async def stored_by_id(self, digest_id: int) -> tuple[str, str, str] | None:
        """(period, audience, data)."""
        row = (
            await self.session.execute(
                select(Digest.period, Digest.audience, Digest.data).where(Digest.id == digest_id)
            )
        ).first()
        return (row.period, row.audience, row.data) if row else None

    async def claim_delivery(self, member_id: int, period: str, digest_id: int) -> bool:
        """True for the one transaction that records this member's digest of this period; the
        caller queues the messages in the same transaction."""
        result = await self.session.execute(
            dialect_insert(self.session)(DigestDelivery)
            .values(member_id=member_id, period=period, digest_id=digest_id, queued_at=utcnow())
            .on_conflict_do_nothing(
                index_elements=[DigestDelivery.member_id, DigestDelivery.period]
            )
        )
        return rowcount(result) == 1

    async def count_resend(self, member_id: int, period: str) -> int:
        """Numbers a re-send (its outbox keys differ from the first delivery's)."""
        await self.session.execute(
            update(DigestDelivery)
            .where(DigestDelivery.member_id == member_id, DigestDelivery.period == period)
            .values(resent=DigestDelivery.resent + 1)
        )
        return int(
            await self.session.scalar(
                select(DigestDelivery.resent).where(
                    DigestDelivery.member_id == member_id, DigestDelivery.period == period
                )
            )
            or 0
        )

    async def delivered(self, period: str) -> set[int]:
        return set(
            await self.session.scalars(
                select(DigestDelivery.member_id).where(DigestDelivery.period == period)
            )
        )
