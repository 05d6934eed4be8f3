# Longer than 400 lines on purpose: the survey tables' SQL: definitions, drafts, responses and the
# answer path's compiled statements share one lane.
"""Surveys, participation, drafts and responses. Participation and responses are written by
different statements and share nothing that joins them (see docs/privacy.md)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from members.roles import Role, effective_roles
from storage.base import dialect_insert, insert_for, rowcount, utcnow
from storage.hot import Lane, Query, Statement, Write
from storage.models import (
    Member,
    MemberRole,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyParticipant,
    SurveyResponse,
)
from surveys.model import AnswerRow, DraftRecord, SurveyRecord

_SURVEY_COLUMNS = select(
    Survey.id,
    Survey.slug,
    Survey.definition,
    Survey.status,
    Survey.anonymous,
    Survey.opens_at,
    Survey.closes_at,
    Survey.opened_at,
    Survey.closed_at,
)


def _can_answer(audience: Sequence[str]) -> list[ColumnElement[bool]]:
    """Members who can answer a survey for this audience: registered, and in one of its
    departments or holding one of its roles (or a role that implies one: an admin is an
    officer)."""
    where: list[ColumnElement[bool]] = [Member.telegram_id.is_not(None)]
    if "all" not in audience:
        wanted = {Role(a) for a in audience if a in set(Role)}
        roles = [r.value for r in Role if effective_roles({r}) & wanted]
        departments = [a for a in audience if a not in set(Role)]
        role_members = select(MemberRole.member_id).where(MemberRole.role.in_(roles))
        where.append(or_(Member.department.in_(departments), Member.id.in_(role_members)))
    return where


# -- the answer path's statements (storage/hot.py): compiled once, one hop per unit of work ----
_SURVEY_BY_ID = Statement(lambda _d: _SURVEY_COLUMNS.where(Survey.id == bindparam("survey_id")))


def _progress(_dialect: str) -> Any:
    """(done, draft answers, draft editing) of one member in one statement."""
    mine = (SurveyDraft.survey_id == bindparam("survey_id")) & (
        SurveyDraft.member_id == bindparam("member_id")
    )
    done = select(SurveyParticipant.done).where(
        SurveyParticipant.survey_id == bindparam("survey_id"),
        SurveyParticipant.member_id == bindparam("member_id"),
    )
    return select(
        done.scalar_subquery(),
        select(SurveyDraft.answers).where(mine).scalar_subquery(),
        select(SurveyDraft.editing).where(mine).scalar_subquery(),
    )


def _draft_upsert(dialect: str) -> Any:
    statement = insert_for(dialect)(SurveyDraft).values(
        survey_id=bindparam("survey_id"),
        member_id=bindparam("member_id"),
        answers=bindparam("answers"),
        editing=bindparam("editing"),
        updated_at=bindparam("updated_at"),
    )
    return statement.on_conflict_do_update(
        index_elements=[SurveyDraft.survey_id, SurveyDraft.member_id],
        set_={
            "answers": statement.excluded.answers,
            "editing": statement.excluded.editing,
            "updated_at": statement.excluded.updated_at,
        },
    )


_PROGRESS = Statement(_progress)
_SAVE_DRAFT = Statement(_draft_upsert)
_DELETE_DRAFT = Statement(
    lambda _d: delete(SurveyDraft).where(
        SurveyDraft.survey_id == bindparam("survey_id"),
        SurveyDraft.member_id == bindparam("member_id"),
    )
)
_ADD_PARTICIPANT = Statement(
    lambda dialect: (
        insert_for(dialect)(SurveyParticipant)
        .values(survey_id=bindparam("survey_id"), member_id=bindparam("member_id"), done=False)
        .on_conflict_do_nothing()
    )
)
_MARK_DONE = Statement(
    lambda _d: (
        update(SurveyParticipant)
        .where(
            # Not the column names: UPDATE reserves those for its SET clause.
            SurveyParticipant.survey_id == bindparam("of_survey"),
            SurveyParticipant.member_id == bindparam("of_member"),
            SurveyParticipant.done.is_(False),
        )
        .values(done=True)
    )
)
_ADD_RESPONSE = Statement(
    lambda _d: insert(SurveyResponse).values(
        id=bindparam("id"),
        survey_id=bindparam("survey_id"),
        member_id=bindparam("member_id"),
        department=bindparam("department"),
        submitted_on=bindparam("submitted_on"),
        submitted_at=bindparam("submitted_at"),
    )
)
_ADD_ANSWER = Statement(
    lambda _d: insert(SurveyAnswer).values(
        response_id=bindparam("response_id"),
        survey_id=bindparam("survey_id"),
        question_id=bindparam("question_id"),
        position=bindparam("position"),
        option=bindparam("option"),
        number=bindparam("number"),
        text=bindparam("text"),
    )
)


_PEERS: dict[tuple[str, ...], Statement] = {}


def _peers_statement(audience: tuple[str, ...]) -> Statement:
    """Registered members of one department who are in the audience (a statement per audience:
    a handful per installation)."""
    found = _PEERS.get(audience)
    if found is None:
        found = _PEERS[audience] = Statement(
            lambda _d: (
                select(func.count())
                .select_from(Member)
                .where(*_can_answer(audience), Member.department == bindparam("department"))
            )
        )
    return found


def _survey_query(survey_id: int) -> Query:
    # Cached per process on a SQLite file until anything else commits (storage/hot.py).
    return Query(_SURVEY_BY_ID, {"survey_id": survey_id}, ("survey", survey_id))


def _response_rows(
    survey_id: int,
    member_id: int | None,
    department: str | None,
    submitted_on: date,
    submitted_at: datetime | None,
    answers: Sequence[AnswerRow],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A response row and its answer rows, under a random id: insertion order cannot be
    recovered."""
    response_id = secrets.token_hex(16)
    response = {
        "id": response_id,
        "survey_id": survey_id,
        "member_id": member_id,
        "department": department,
        "submitted_on": submitted_on,
        "submitted_at": submitted_at,
    }
    rows = [
        {
            "response_id": response_id,
            "survey_id": survey_id,
            "question_id": a.question_id,
            "position": a.position,
            "option": a.option,
            "number": a.number,
            "text": a.text,
        }
        for a in answers
    ]
    return response, rows


def _record(survey: Survey) -> SurveyRecord:
    return SurveyRecord(
        survey.id,
        survey.slug,
        survey.definition,
        survey.status,
        survey.anonymous,
        survey.opens_at,
        survey.closes_at,
        survey.opened_at,
        survey.closed_at,
    )


class SurveyRepository:
    def __init__(self, session: AsyncSession, lane: Lane | None = None) -> None:
        self._session = session
        self._lane = lane or Lane(session)

    # -- definitions ----------------------------------------------------------------------------
    async def get(self, survey_id: int) -> SurveyRecord | None:
        [rows] = await self._lane.fetch(_survey_query(survey_id))
        return SurveyRecord(*rows[0]) if rows else None

    async def answer_context(
        self, survey_id: int, member_id: int
    ) -> tuple[SurveyRecord | None, bool, DraftRecord | None]:
        """Survey, done and draft for one answer: one hop on a SQLite file."""
        survey, [(done, answers, editing)] = await self._lane.fetch(
            _survey_query(survey_id),
            Query(_PROGRESS, {"survey_id": survey_id, "member_id": member_id}),
        )
        draft = DraftRecord(json.loads(answers), editing) if answers is not None else None
        return (SurveyRecord(*survey[0]) if survey else None), bool(done), draft

    async def get_by_slug(self, slug: str) -> SurveyRecord | None:
        survey = await self._session.scalar(select(Survey).where(Survey.slug == slug))
        return _record(survey) if survey else None

    async def list_all(self) -> list[SurveyRecord]:
        return [_record(s) for s in await self._session.scalars(select(Survey).order_by(Survey.id))]

    async def list_by_status(self, *statuses: str) -> list[SurveyRecord]:
        surveys = await self._session.scalars(
            select(Survey).where(Survey.status.in_(statuses)).order_by(Survey.id)
        )
        return [_record(s) for s in surveys]

    async def save(
        self,
        slug: str,
        *,
        title: dict[str, str],
        source: str,
        anonymous: bool,
        opens_at: datetime | None,
        closes_at: datetime | None,
    ) -> tuple[int, bool]:
        """Insert or replace the definition; returns (id, created)."""
        survey = await self._session.scalar(select(Survey).where(Survey.slug == slug))
        created = survey is None
        if survey is None:
            survey = Survey(slug=slug)
            self._session.add(survey)
        survey.title = json.dumps(title, ensure_ascii=False)
        survey.definition = source
        survey.anonymous = anonymous
        survey.opens_at, survey.closes_at = opens_at, closes_at
        await self._session.flush()
        return survey.id, created

    async def set_status(self, survey_id: int, status: str, now: datetime) -> bool:
        """Move to open/closed; False if it already was (so two officers do not both open)."""
        values: dict[str, Any] = {"status": status}
        values["opened_at" if status == "open" else "closed_at"] = now
        result = await self._session.execute(
            update(Survey).where(Survey.id == survey_id, Survey.status != status).values(**values)
        )
        return rowcount(result) == 1

    async def answered_ranges(self, survey_id: int) -> dict[str, tuple[float, float]]:
        """Smallest and largest number answered per question (scales, NPS, numbers)."""
        rows = await self._session.execute(
            select(
                SurveyAnswer.question_id,
                func.min(SurveyAnswer.number),
                func.max(SurveyAnswer.number),
            )
            .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.number.is_not(None))
            .group_by(SurveyAnswer.question_id)
        )
        return {
            question_id: (low, high)
            for question_id, low, high in rows
            if low is not None and high is not None  # excluded by the query; narrows the type
        }

    async def has_responses(self, survey_id: int) -> bool:
        found = await self._session.scalar(
            select(SurveyResponse.id).where(SurveyResponse.survey_id == survey_id).limit(1)
        )
        return found is not None

    async def used_answers(self, survey_id: int) -> dict[str, set[str | None]]:
        """Question ids that have answers, with the option keys used (None for values)."""
        rows = await self._session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.option)
            .where(SurveyAnswer.survey_id == survey_id)
            .distinct()
        )
        used: dict[str, set[str | None]] = {}
        for question_id, option in rows:
            used.setdefault(question_id, set()).add(option)
        return used

    # -- audience and participation ---------------------------------------------------------------
    async def audience(self, audience: Sequence[str]) -> list[tuple[int, int, str | None]]:
        """(member id, telegram id, locale) of registered members in the audience."""
        statement = select(Member.id, Member.telegram_id, Member.locale).where(
            *_can_answer(audience)
        )
        rows = await self._session.execute(statement.order_by(Member.id))
        return [(r.id, r.telegram_id, r.locale) for r in rows]

    async def can_answer_in_department(self, audience: Sequence[str], department: str) -> int:
        """How many people of this department can answer: registered and in the audience.
        The k rule counts these, not the roster (an unregistered colleague hides nobody).
        On the answer path (every anonymous submission): one hop, cached like identities."""
        key = tuple(sorted(audience))
        [[(count,)]] = await self._lane.fetch(
            Query(_peers_statement(key), {"department": department}, ("peers", key, department))
        )
        return int(count or 0)

    async def add_participants(self, survey_id: int, member_ids: Iterable[int]) -> None:
        rows = [{"survey_id": survey_id, "member_id": m, "done": False} for m in member_ids]
        if rows:
            await self._session.execute(
                dialect_insert(self._session)(SurveyParticipant)
                .values(rows)
                .on_conflict_do_nothing()
            )

    async def is_done(self, survey_id: int, member_id: int) -> bool:
        return bool(
            await self._session.scalar(
                select(SurveyParticipant.done).where(
                    SurveyParticipant.survey_id == survey_id,
                    SurveyParticipant.member_id == member_id,
                )
            )
        )

    async def done_surveys(self, member_id: int) -> set[int]:
        rows = await self._session.scalars(
            select(SurveyParticipant.survey_id).where(
                SurveyParticipant.member_id == member_id, SurveyParticipant.done.is_(True)
            )
        )
        return set(rows)

    async def mark_done(self, survey_id: int, member_id: int) -> bool:
        """Record that the member finished; False if they already had (one response each)."""
        await self.add_participants(survey_id, [member_id])
        result = await self._session.execute(
            update(SurveyParticipant)
            .where(
                SurveyParticipant.survey_id == survey_id,
                SurveyParticipant.member_id == member_id,
                SurveyParticipant.done.is_(False),
            )
            .values(done=True)
        )
        return rowcount(result) == 1

    def stage_done(self, survey_id: int, member_id: int) -> None:
        """Buffered (applied at commit): record that the member finished. The commit raises
        WriteConflict, storing nothing, if they already had (one response each)."""
        ids = {"survey_id": survey_id, "member_id": member_id}
        self._lane.stage(Write(_ADD_PARTICIPANT, ids))
        self._lane.stage(
            Write(_MARK_DONE, {"of_survey": survey_id, "of_member": member_id}, expect=1)
        )

    async def not_done(self, survey_id: int) -> list[tuple[int, int, str | None]]:
        """Registered participants who have not finished (reminder recipients)."""
        rows = await self._session.execute(
            select(Member.id, Member.telegram_id, Member.locale)
            .join(SurveyParticipant, SurveyParticipant.member_id == Member.id)
            .where(
                SurveyParticipant.survey_id == survey_id,
                SurveyParticipant.done.is_(False),
                Member.telegram_id.is_not(None),
            )
            .order_by(Member.id)
        )
        return [(r.id, r.telegram_id, r.locale) for r in rows]

    async def participation(self, survey_id: int) -> tuple[int, int]:
        """(invited, finished)."""
        row = (
            await self._session.execute(
                select(func.count(), func.count().filter(SurveyParticipant.done.is_(True))).where(
                    SurveyParticipant.survey_id == survey_id
                )
            )
        ).one()
        return row[0], row[1]

    # -- drafts -----------------------------------------------------------------------------------
    async def draft(self, survey_id: int, member_id: int) -> DraftRecord | None:
        row = (
            await self._session.execute(
                select(SurveyDraft.answers, SurveyDraft.editing).where(
                    SurveyDraft.survey_id == survey_id, SurveyDraft.member_id == member_id
                )
            )
        ).first()
        return DraftRecord(json.loads(row.answers), row.editing) if row else None

    async def save_draft(
        self, survey_id: int, member_id: int, answers: dict[str, Any], editing: str | None
    ) -> None:
        values = {"answers": json.dumps(answers, ensure_ascii=False), "editing": editing}
        statement = dialect_insert(self._session)(SurveyDraft).values(
            survey_id=survey_id, member_id=member_id, **values
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[SurveyDraft.survey_id, SurveyDraft.member_id], set_=values
            )
        )

    def stage_draft(
        self, survey_id: int, member_id: int, answers: dict[str, Any], editing: str | None
    ) -> None:
        """Buffered save_draft (applied at commit)."""
        params = {
            "survey_id": survey_id,
            "member_id": member_id,
            "answers": json.dumps(answers, ensure_ascii=False),
            "editing": editing,
            "updated_at": utcnow(),
        }
        self._lane.stage(Write(_SAVE_DRAFT, params))

    def stage_draft_deletion(self, survey_id: int, member_id: int) -> None:
        """Buffered delete_draft (applied at commit)."""
        self._lane.stage(Write(_DELETE_DRAFT, {"survey_id": survey_id, "member_id": member_id}))

    async def delete_draft(self, survey_id: int, member_id: int) -> None:
        await self._session.execute(
            delete(SurveyDraft).where(
                SurveyDraft.survey_id == survey_id, SurveyDraft.member_id == member_id
            )
        )

    async def drafts_of(self, member_id: int) -> set[int]:
        rows = await self._session.scalars(
            select(SurveyDraft.survey_id).where(SurveyDraft.member_id == member_id)
        )
        return set(rows)

    # -- responses --------------------------------------------------------------------------------
    async def add_response(
        self,
        survey_id: int,
        *,
        member_id: int | None,
        department: str | None,
        submitted_on: date,
        submitted_at: datetime | None,
        answers: Sequence[AnswerRow],
    ) -> None:
        """Store a response now, in the session (tests and seeding; the bot stages it)."""
        response, rows = _response_rows(
            survey_id, member_id, department, submitted_on, submitted_at, answers
        )
        self._session.add(SurveyResponse(**response))
        await self._session.flush()
        if rows:
            await self._session.execute(dialect_insert(self._session)(SurveyAnswer), rows)

    def stage_response(
        self,
        survey_id: int,
        *,
        member_id: int | None,
        department: str | None,
        submitted_on: date,
        submitted_at: datetime | None,
        answers: Sequence[AnswerRow],
    ) -> None:
        """Buffered add_response (applied at commit)."""
        response, rows = _response_rows(
            survey_id, member_id, department, submitted_on, submitted_at, answers
        )
        self._lane.stage(Write(_ADD_RESPONSE, response))
        if rows:
            self._lane.stage(Write(_ADD_ANSWER, rows))

    async def done_member_ids(self, survey_id: int) -> set[int]:
        rows = await self._session.scalars(
            select(SurveyParticipant.member_id).where(
                SurveyParticipant.survey_id == survey_id, SurveyParticipant.done.is_(True)
            )
        )
        return set(rows)
