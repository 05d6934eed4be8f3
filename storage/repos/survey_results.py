"""Survey results, aggregated by the database: counts, distributions and per-department figures
come back as GROUP BY rows, never as every answer. Free texts are paged and the export streams
responses in batches, so a survey with a million answers needs no more memory than one page.

Anonymous surveys: no query here joins a response to a member, whatever the caller asks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Member, Survey, SurveyAnswer, SurveyResponse
from surveys.model import (
    DETRACTOR_MAX,
    PROMOTER_MIN,
    AnswerRow,
    DepartmentFigures,
    FreeTextRow,
    ResponseExportRow,
)


class SurveyResultsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_anonymous(self, survey_id: int) -> bool:
        """Whether the survey is anonymous (unknown surveys count as anonymous: safe side)."""
        anonymous = await self.session.scalar(
            select(Survey.anonymous).where(Survey.id == survey_id)
        )
        return anonymous is None or bool(anonymous)

    # -- totals -----------------------------------------------------------------------------------
    async def respondent_count(self, survey_id: int) -> int:
        """Submitted responses."""
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(SurveyResponse)
                .where(SurveyResponse.survey_id == survey_id)
            )
            or 0
        )

    async def answered_counts(self, survey_id: int) -> dict[str, int]:
        """{question id: responses that answered it} (distinct responses, so a multi-choice
        answer of three options counts once)."""
        rows = await self.session.execute(
            select(SurveyAnswer.question_id, func.count(distinct(SurveyAnswer.response_id)))
            .where(SurveyAnswer.survey_id == survey_id)
            .group_by(SurveyAnswer.question_id)
        )
        return {question_id: int(count) for question_id, count in rows}

    # -- distributions ----------------------------------------------------------------------------
    async def option_counts(
        self, survey_id: int, question_ids: Sequence[str] | None = None
    ) -> dict[str, dict[str, int]]:
        """{question id: {option key: responses choosing it}} for choice questions, including
        "other" (the key stored for a typed other choice)."""
        statement = (
            select(SurveyAnswer.question_id, SurveyAnswer.option, func.count())
            .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.option.is_not(None))
            .group_by(SurveyAnswer.question_id, SurveyAnswer.option)
        )
        if question_ids is not None:
            statement = statement.where(SurveyAnswer.question_id.in_(list(question_ids)))
        result: dict[str, dict[str, int]] = {}
        for question_id, option, count in await self.session.execute(statement):
            result.setdefault(question_id, {})[str(option)] = int(count)
        return result

    async def number_counts(
        self, survey_id: int, question_ids: Sequence[str] | None = None
    ) -> dict[str, dict[float, int]]:
        """{question id: {value: responses giving it}} for scale, nps and number questions."""
        statement = (
            select(SurveyAnswer.question_id, SurveyAnswer.number, func.count())
            .where(SurveyAnswer.survey_id == survey_id, SurveyAnswer.number.is_not(None))
            .group_by(SurveyAnswer.question_id, SurveyAnswer.number)
        )
        if question_ids is not None:
            statement = statement.where(SurveyAnswer.question_id.in_(list(question_ids)))
        result: dict[str, dict[float, int]] = {}
        for question_id, number, count in await self.session.execute(statement):
            if number is not None:  # excluded by the query; this narrows the type
                result.setdefault(question_id, {})[float(number)] = int(count)
        return result

    async def department_figures(self, survey_id: int, question_id: str) -> list[DepartmentFigures]:
        """Per stored department (None included): respondents, sum, promoters and detractors
        of a numeric question. No small-group rule here: results.py applies it."""
        number = SurveyAnswer.number
        rows = await self.session.execute(
            select(
                SurveyResponse.department,
                func.count(distinct(SurveyAnswer.response_id)),
                func.coalesce(func.sum(number), 0.0),
                func.coalesce(func.sum(case((number >= PROMOTER_MIN, 1), else_=0)), 0),
                func.coalesce(func.sum(case((number <= DETRACTOR_MAX, 1), else_=0)), 0),
            )
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(
                SurveyAnswer.survey_id == survey_id,
                SurveyAnswer.question_id == question_id,
                number.is_not(None),
            )
            .group_by(SurveyResponse.department)
        )
        return [
            DepartmentFigures(department, int(count), float(total), int(promoters), int(detractors))
            for department, count, total, promoters, detractors in rows
        ]

    async def response_departments(self, survey_id: int) -> dict[str | None, int]:
        """{stored department (None: not stored): responses}."""
        rows = await self.session.execute(
            select(SurveyResponse.department, func.count())
            .where(SurveyResponse.survey_id == survey_id)
            .group_by(SurveyResponse.department)
        )
        return {department: int(count) for department, count in rows}

    # -- free texts -------------------------------------------------------------------------------
    def _texts_where(self, survey_id: int, question_id: str) -> list[ColumnElement[bool]]:
        return [
            SurveyAnswer.survey_id == survey_id,
            SurveyAnswer.question_id == question_id,
            SurveyAnswer.text.is_not(None),
        ]

    async def free_text_count(self, survey_id: int, question_id: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(SurveyAnswer)
                .where(*self._texts_where(survey_id, question_id))
            )
            or 0
        )

    async def free_texts(
        self, survey_id: int, question_id: str, *, limit: int = 50, offset: int = 0
    ) -> list[FreeTextRow]:
        """Typed answers of one question, a page at a time. Named surveys add the member's
        name and department; anonymous ones give the text only, in the order of the random
        response ids (which says nothing about who answered when)."""
        where = self._texts_where(survey_id, question_id)
        if await self.is_anonymous(survey_id):
            rows = await self.session.execute(
                select(SurveyAnswer.text, SurveyAnswer.option)
                .where(*where)
                .order_by(SurveyAnswer.response_id, SurveyAnswer.position)
                .limit(limit)
                .offset(offset)
            )
            # `or ""` only narrows the type: _texts_where excludes answers without a text.
            return [FreeTextRow(question_id, text or "", option) for text, option in rows]
        named = await self.session.execute(
            select(
                SurveyAnswer.text,
                SurveyAnswer.option,
                Member.name,
                func.coalesce(SurveyResponse.department, Member.department),
            )
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .outerjoin(Member, Member.id == SurveyResponse.member_id)
            .where(*where)
            .order_by(
                SurveyResponse.submitted_on,
                SurveyResponse.submitted_at,
                SurveyAnswer.response_id,
                SurveyAnswer.position,
            )
            .limit(limit)
            .offset(offset)
        )
        return [
            FreeTextRow(question_id, text or "", option, name, department)
            for text, option, name, department in named
        ]

    # -- export -----------------------------------------------------------------------------------
    async def iter_responses(
        self, survey_id: int, *, batch_size: int = 500
    ) -> AsyncIterator[list[ResponseExportRow]]:
        """Every response with its answers, a batch at a time (keyset pages: each batch is two
        short queries, and nothing stays open between batches).

        Named: oldest first, with employee id, name and department. Anonymous: department as
        stored and the submission day only, in the order of the random response ids.
        """
        anonymous = await self.is_anonymous(survey_id)
        base = SurveyResponse.survey_id == survey_id
        if anonymous:
            # Random ids: an order that says nothing about who answered when, served by the
            # primary key.
            phases: list[tuple[ColumnElement[bool], Any]] = [(base, None)]
        else:
            # Named responses always have submitted_at; any without it come last, by day.
            phases = [
                (and_(base, SurveyResponse.submitted_at.is_not(None)), SurveyResponse.submitted_at),
                (and_(base, SurveyResponse.submitted_at.is_(None)), SurveyResponse.submitted_on),
            ]
        for where, key in phases:
            async for batch in self._pages(where, key, anonymous, batch_size):
                yield batch

    async def _pages(
        self, where: ColumnElement[bool], key: Any, anonymous: bool, batch_size: int
    ) -> AsyncIterator[list[ResponseExportRow]]:
        """Keyset pages ordered by (key, id), or by id alone when key is None."""
        response_id = SurveyResponse.id
        columns: list[Any] = [
            response_id.label("id"),
            SurveyResponse.department.label("department"),
            SurveyResponse.submitted_on.label("submitted_on"),
        ]
        if key is not None:
            columns.append(key.label("sort_key"))
        if not anonymous:
            columns += [
                SurveyResponse.submitted_at.label("submitted_at"),
                Member.employee_id.label("employee_id"),
                Member.name.label("name"),
            ]
        order = [response_id] if key is None else [key, response_id]
        last: Any = None
        while True:
            statement = select(*columns).where(where)
            if not anonymous:
                statement = statement.outerjoin(Member, Member.id == SurveyResponse.member_id)
            if last is not None:
                if key is None:
                    statement = statement.where(response_id > last.id)
                else:
                    statement = statement.where(
                        or_(
                            key > last.sort_key,
                            and_(key == last.sort_key, response_id > last.id),
                        )
                    )
            rows = (await self.session.execute(statement.order_by(*order).limit(batch_size))).all()
            if not rows:
                return
            answers = await self._answers_of([row.id for row in rows])
            yield [
                ResponseExportRow(
                    department=row.department,
                    submitted_on=row.submitted_on,
                    submitted_at=None if anonymous else row.submitted_at,
                    employee_id=None if anonymous else row.employee_id,
                    name=None if anonymous else row.name,
                    answers=answers.get(row.id, {}),
                )
                for row in rows
            ]
            if len(rows) < batch_size:
                return
            last = rows[-1]

    async def _answers_of(self, response_ids: list[str]) -> dict[str, dict[str, list[AnswerRow]]]:
        rows = await self.session.execute(
            select(
                SurveyAnswer.response_id,
                SurveyAnswer.question_id,
                SurveyAnswer.position,
                SurveyAnswer.option,
                SurveyAnswer.number,
                SurveyAnswer.text,
            )
            .where(SurveyAnswer.response_id.in_(response_ids))
            .order_by(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.position)
        )
        result: dict[str, dict[str, list[AnswerRow]]] = {}
        for response_id, question_id, position, option, number, text in rows:
            result.setdefault(response_id, {}).setdefault(question_id, []).append(
                AnswerRow(question_id, position, option, number, text)
            )
        return result
