"""Improvement actions, their links, and the few survey/proposal lookups the loop needs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from improvements.model import (
    ActionDTO,
    ActionFigures,
    ActionStatus,
    Evidence,
    Link,
    LinkKind,
    ScoreFigures,
)
from storage.base import dialect_insert, rowcount
from storage.models import (
    Member,
    Proposal,
    ProposalCosigner,
    Survey,
    SurveyAnswer,
    SurveyResponse,
)
from storage.models_digest import ImprovementAction, ImprovementLink
from surveys.model import DETRACTOR_MAX, PROMOTER_MIN


def _dto(action: ImprovementAction, links: Iterable[ImprovementLink] = ()) -> ActionDTO:
    evidence = tuple(Evidence.from_json(e) for e in json.loads(action.evidence or "[]"))
    return ActionDTO(
        id=action.id,
        problem=action.problem,
        cause=action.cause,
        measures=action.measures,
        owner=action.owner,
        owner_id=action.owner_id,
        department=action.department,
        due_on=action.due_on,
        expected_effect=action.expected_effect,
        effect=action.effect,
        evidence=evidence,
        status=ActionStatus(action.status),
        reason=action.reason,
        opened_by_id=action.opened_by_id,
        created_at=action.created_at,
        closed_at=action.closed_at,
        links=tuple(Link(LinkKind(k.kind), k.ref_id, k.ref_key, k.baseline) for k in links),
    )


class ImprovementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- actions ----------------------------------------------------------------------------------
    async def create(
        self,
        *,
        problem: str,
        cause: str,
        measures: str,
        owner: str,
        owner_id: int | None,
        department: str | None,
        due_on: date | None,
        expected_effect: str,
        opened_by_id: int | None,
        created_at: datetime,
    ) -> int:
        action = ImprovementAction(
            status=ActionStatus.OPEN.value,
            problem=problem,
            cause=cause,
            measures=measures,
            owner=owner,
            owner_id=owner_id,
            department=department,
            due_on=due_on,
            expected_effect=expected_effect,
            opened_by_id=opened_by_id,
            created_at=created_at,
        )
        self._session.add(action)
        await self._session.flush()
        return action.id

    async def link(self, action_id: int, link: Link) -> None:
        await self._session.execute(
            dialect_insert(self._session)(ImprovementLink)
            .values(
                action_id=action_id,
                kind=link.kind.value,
                ref_id=link.ref_id,
                ref_key=link.ref_key,
                baseline=link.baseline,
            )
            .on_conflict_do_nothing()
        )

    async def get(self, action_id: int) -> ActionDTO | None:
        action = await self._session.get(ImprovementAction, action_id, populate_existing=True)
        if action is None:
            return None
        links = await self._session.scalars(
            select(ImprovementLink)
            .where(ImprovementLink.action_id == action_id)
            .order_by(ImprovementLink.id)
        )
        return _dto(action, links)

    async def record_effect(
        self, action_id: int, effect: str, evidence: Iterable[Evidence]
    ) -> None:
        await self._session.execute(
            update(ImprovementAction)
            .where(ImprovementAction.id == action_id)
            .values(effect=effect, evidence=json.dumps([e.to_json() for e in evidence]))
        )

    async def transition(
        self,
        action_id: int,
        allowed: Iterable[ActionStatus],
        to: ActionStatus,
        *,
        closed_at: datetime | None = None,
        reason: str | None = None,
    ) -> bool:
        """Move only from an allowed status (the first of two concurrent presses wins);
        closing and dropping record when, dropping also why."""
        values: dict[str, Any] = {}
        if closed_at is not None:
            values["closed_at"] = closed_at
        if reason is not None:
            values["reason"] = reason
        result = await self._session.execute(
            update(ImprovementAction)
            .where(
                ImprovementAction.id == action_id,
                ImprovementAction.status.in_([s.value for s in allowed]),
            )
            .values(status=to.value, **values)
        )
        return rowcount(result) == 1

    async def in_status(
        self,
        statuses: Iterable[ActionStatus],
        department: str | None = None,
        *,
        limit: int | None = None,
    ) -> list[ActionDTO]:
        statement = select(ImprovementAction).where(
            ImprovementAction.status.in_([s.value for s in statuses])
        )
        if department is not None:
            statement = statement.where(ImprovementAction.department == department)
        statement = statement.order_by(
            ImprovementAction.due_on.is_(None), ImprovementAction.due_on, ImprovementAction.id
        )
        if limit is not None:
            statement = statement.limit(limit)
        return [_dto(a) for a in await self._session.scalars(statement)]

    async def all_with_links(self) -> list[ActionDTO]:
        """Every action, oldest first, with its links (the export)."""
        actions = list(
            await self._session.scalars(select(ImprovementAction).order_by(ImprovementAction.id))
        )
        links: dict[int, list[ImprovementLink]] = {}
        for link in await self._session.scalars(
            select(ImprovementLink).order_by(ImprovementLink.id)
        ):
            links.setdefault(link.action_id, []).append(link)
        return [_dto(a, links.get(a.id, [])) for a in actions]

    async def due_by(self, day: date, statuses: Iterable[ActionStatus]) -> list[ActionDTO]:
        rows = await self._session.scalars(
            select(ImprovementAction).where(
                ImprovementAction.status.in_([s.value for s in statuses]),
                ImprovementAction.due_on.is_not(None),
                ImprovementAction.due_on <= day,
            )
        )
        return [_dto(a) for a in rows]

    async def figures(
        self,
        start: datetime,
        end: datetime,
        today: date,
        unfinished: Iterable[ActionStatus],
        department: str | None = None,
    ) -> ActionFigures:
        open_statuses = [s.value for s in unfinished]
        is_open = ImprovementAction.status.in_(open_statuses)
        statement = select(
            func.count().filter(
                ImprovementAction.created_at >= start, ImprovementAction.created_at < end
            ),
            func.count().filter(
                ImprovementAction.status == ActionStatus.CLOSED.value,
                ImprovementAction.closed_at >= start,
                ImprovementAction.closed_at < end,
            ),
            func.count().filter(is_open),
            func.count().filter(is_open, ImprovementAction.due_on < today),
        )
        if department is not None:
            statement = statement.where(ImprovementAction.department == department)
        row = (await self._session.execute(statement)).one()
        return ActionFigures(*(int(v or 0) for v in row))

    async def closed_between(
        self, start: datetime, end: datetime, department: str | None = None
    ) -> list[ActionDTO]:
        statement = select(ImprovementAction).where(
            ImprovementAction.status == ActionStatus.CLOSED.value,
            ImprovementAction.closed_at >= start,
            ImprovementAction.closed_at < end,
        )
        if department is not None:
            statement = statement.where(ImprovementAction.department == department)
        return [
            _dto(a) for a in await self._session.scalars(statement.order_by(ImprovementAction.id))
        ]

    async def linked_to(self, kind: LinkKind, ref_id: int) -> list[int]:
        """Ids of actions linked to this source."""
        return list(
            await self._session.scalars(
                select(ImprovementLink.action_id)
                .where(ImprovementLink.kind == kind.value, ImprovementLink.ref_id == ref_id)
                .order_by(ImprovementLink.action_id)
            )
        )

    # -- evidence ---------------------------------------------------------------------------------
    async def score(self, survey_id: int, question_id: str) -> ScoreFigures:
        """All numeric answers to one question: respondents, sum, promoters, detractors."""
        number = SurveyAnswer.number
        row = (
            await self._session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(number), 0.0),
                    func.coalesce(func.sum(case((number >= PROMOTER_MIN, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((number <= DETRACTOR_MAX, 1), else_=0)), 0),
                ).where(
                    SurveyAnswer.survey_id == survey_id,
                    SurveyAnswer.question_id == question_id,
                    number.is_not(None),
                )
            )
        ).one()
        return ScoreFigures(int(row[0]), float(row[1]), int(row[2]), int(row[3]))

    async def later_survey_with(
        self, question_id: str, after: datetime, not_survey: int
    ) -> int | None:
        """The latest survey opened after `after` that has answers to a question of this id
        (the survey "ran again")."""
        has_answers = exists().where(
            SurveyAnswer.survey_id == Survey.id,
            SurveyAnswer.question_id == question_id,
            SurveyAnswer.number.is_not(None),
        )
        return await self._session.scalar(
            select(Survey.id)
            .where(Survey.opened_at > after, Survey.id != not_survey, has_answers)
            .order_by(Survey.opened_at.desc(), Survey.id.desc())
            .limit(1)
        )

    # -- who is told ------------------------------------------------------------------------------
    async def proposal_followers(self, proposal_ids: Iterable[int]) -> set[int]:
        """Proposers and co-signers."""
        ids = list(proposal_ids)
        proposers = await self._session.scalars(
            select(Proposal.proposer_id).where(
                Proposal.id.in_(ids), Proposal.proposer_id.is_not(None)
            )
        )
        cosigners = await self._session.scalars(
            select(ProposalCosigner.member_id).where(ProposalCosigner.proposal_id.in_(ids))
        )
        return {m for m in proposers if m is not None} | set(cosigners)

    async def named_respondents(self, survey_id: int, question_id: str) -> set[int]:
        """Members who answered this question in a named survey; nobody for an anonymous one
        (its responses hold no member, and this query refuses to look)."""
        anonymous = await self._session.scalar(
            select(Survey.anonymous).where(Survey.id == survey_id)
        )
        if anonymous is None or anonymous:
            return set()
        rows = await self._session.scalars(
            select(SurveyResponse.member_id).where(
                SurveyResponse.survey_id == survey_id,
                SurveyResponse.member_id.is_not(None),
                exists().where(
                    SurveyAnswer.response_id == SurveyResponse.id,
                    SurveyAnswer.question_id == question_id,
                ),
            )
        )
        return {m for m in rows if m is not None}

    async def member_by_employee_id(self, employee_id: str) -> tuple[int, str, str] | None:
        """(id, name, department)."""
        row = (
            await self._session.execute(
                select(Member.id, Member.name, Member.department).where(
                    Member.employee_id == employee_id
                )
            )
        ).first()
        return (row.id, row.name, row.department) if row else None
