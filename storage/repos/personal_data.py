"""Everything stored about one member, for /mydata, and erasing it (`members forget`).

Anonymous survey responses and anonymous letters are out of reach by design: nothing links
them to the member, so these queries cannot find them either.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from members.dto import FORMER_MEMBER
from privacy.ports import Row
from storage.base import rowcount
from storage.models import (
    FsmRecord,
    Member,
    MemberRole,
    NoticeMute,
    OutboxMessage,
    Proposal,
    ProposalCosigner,
    RegistrationRequest,
    Survey,
    SurveyAnswer,
    SurveyParticipant,
    SurveyResponse,
)
from storage.models_digest import ImprovementAction
from storage.models_mailbox import Letter
from storage.models_privacy import DataRequest


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _title(raw: str) -> dict[str, str]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {"zh": raw}
    return parsed if isinstance(parsed, dict) else {"zh": str(parsed)}


class PersonalDataRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- reading ----------------------------------------------------------------------------------
    async def profile(self, member_id: int) -> Row | None:
        member = await self._session.get(Member, member_id)
        if member is None:
            return None
        roles = await self._session.scalars(
            select(MemberRole.role).where(MemberRole.member_id == member_id)
        )
        muted = await self._session.scalars(
            select(NoticeMute.kind).where(NoticeMute.member_id == member_id)
        )
        return {
            "employee_id": member.employee_id,
            "name": member.name,
            "department": member.department,
            "roles": sorted(roles),
            "telegram_id": member.telegram_id,
            "language": member.locale,
            "consent_version": member.consent_version,
            "consented_at": _iso(member.consented_at),
            "registered_at": _iso(member.registered_at),
            "muted_notices": sorted(muted),  # /settings: kinds of work notice turned off
        }

    async def surveys(self, member_id: int) -> list[Row]:
        """Surveys the member was invited to, with their named answers (none for anonymous)."""
        rows = await self._session.execute(
            select(Survey.id, Survey.title, Survey.anonymous, SurveyParticipant.done)
            .join(SurveyParticipant, SurveyParticipant.survey_id == Survey.id)
            .where(SurveyParticipant.member_id == member_id)
            .order_by(Survey.id)
        )
        result = []
        for survey_id, title, anonymous, done in rows:
            answers = await self._session.execute(
                select(
                    SurveyAnswer.question_id,
                    SurveyAnswer.option,
                    SurveyAnswer.number,
                    SurveyAnswer.text,
                )
                .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
                .where(SurveyResponse.survey_id == survey_id, SurveyResponse.member_id == member_id)
                .order_by(SurveyAnswer.question_id, SurveyAnswer.position)
            )
            result.append(
                {
                    "survey_id": survey_id,
                    "title": _title(title),
                    "anonymous": anonymous,
                    "finished": done,
                    "answers": [
                        {"question": q, "option": o, "number": n, "text": t}
                        for q, o, n, t in answers
                    ],
                }
            )
        return result

    async def proposals(self, member_id: int) -> list[Row]:
        rows = await self._session.scalars(
            select(Proposal).where(Proposal.proposer_id == member_id).order_by(Proposal.id)
        )
        return [
            {
                "proposal_id": p.id,
                "kind": p.kind,
                "title": p.title,
                "body": p.body,
                "status": p.status,
                "created_at": _iso(p.created_at),
                "answer": p.answer,
                "rating": p.rating,
            }
            for p in rows
        ]

    async def cosigned(self, member_id: int) -> list[Row]:
        rows = await self._session.execute(
            select(Proposal.id, Proposal.title, ProposalCosigner.created_at)
            .join(ProposalCosigner, ProposalCosigner.proposal_id == Proposal.id)
            .where(ProposalCosigner.member_id == member_id)
            .order_by(Proposal.id)
        )
        return [{"proposal_id": i, "title": t, "cosigned_at": _iso(at)} for i, t, at in rows]

    async def letters(self, member_id: int, sender_tag: str) -> list[Row]:
        rows = await self._session.scalars(
            select(Letter)
            .where(or_(Letter.member_id == member_id, Letter.sender_tag == sender_tag))
            .order_by(Letter.created_at)
        )
        return [
            {
                "letter_id": letter.id,
                "box": letter.box,
                "type": letter.type,
                "mode": letter.mode,
                "status": letter.status,
                "body": letter.body,
                "created_at": _iso(letter.created_at),
            }
            for letter in rows
        ]

    async def notifications(self, telegram_id: int | None) -> list[Row]:
        if telegram_id is None:
            return []
        rows = await self._session.execute(
            select(OutboxMessage.template, OutboxMessage.status, OutboxMessage.created_at)
            .where(OutboxMessage.chat_id == telegram_id)
            .order_by(OutboxMessage.created_at)
        )
        return [{"template": t, "status": s, "created_at": _iso(at)} for t, s, at in rows]

    # -- deletion requests ------------------------------------------------------------------------
    async def request_erasure(self, member_id: int) -> bool:
        """A pending request; False if one is pending already."""
        pending = await self._session.scalar(
            select(DataRequest.id).where(
                DataRequest.member_id == member_id, DataRequest.status == "pending"
            )
        )
        if pending is not None:
            return False
        self._session.add(DataRequest(member_id=member_id))
        await self._session.flush()
        return True

    async def cancel_erasure(self, member_id: int) -> bool:
        result = await self._session.execute(
            update(DataRequest)
            .where(DataRequest.member_id == member_id, DataRequest.status == "pending")
            .values(status="cancelled")
        )
        return bool(rowcount(result))

    async def pending_erasures(self) -> list[tuple[int, datetime]]:
        rows = await self._session.execute(
            select(DataRequest.member_id, DataRequest.created_at)
            .where(DataRequest.status == "pending")
            .order_by(DataRequest.created_at)
        )
        return [(member_id, at) for member_id, at in rows]

    # -- erasing ----------------------------------------------------------------------------------
    async def erase(
        self,
        member_id: int,
        telegram_id: int | None,
        sender_tag: str,
        employee_id: str | None = None,
    ) -> Row:
        """Remove the member and every trace of their Telegram id; de-identify what the union
        keeps (submitted proposals, named letters, named survey answers). Counts per kind."""
        counts: Row = {}

        async def run(name: str, statement: Any) -> None:
            result = await self._session.execute(statement)
            counts[name] = rowcount(result)

        # Named survey answers stay in the results, unlinked and with the day only.
        await run(
            "survey_responses_deidentified",
            update(SurveyResponse)
            .where(SurveyResponse.member_id == member_id)
            .values(member_id=None, submitted_at=None),
        )
        await run(
            "proposal_drafts_deleted",
            delete(Proposal).where(Proposal.proposer_id == member_id, Proposal.status == "draft"),
        )
        # Improvement actions they own keep their department, not their name.
        await run(
            "improvement_actions_deidentified",
            update(ImprovementAction)
            .where(ImprovementAction.owner_id == member_id)
            .values(owner=FORMER_MEMBER),
        )
        # Confidential letters lose their sealed link; named ones lose the member (FK).
        await run(
            "confidential_letters_unlinked",
            update(Letter)
            .where(Letter.sender_tag == sender_tag)
            .values(sender_tag=None, sender_seal=None),
        )
        if telegram_id is not None:
            await run(
                "outbox_deleted", delete(OutboxMessage).where(OutboxMessage.chat_id == telegram_id)
            )
            await run(
                "registration_requests_deleted",
                delete(RegistrationRequest).where(RegistrationRequest.telegram_id == telegram_id),
            )
            await run("conversations_deleted", delete(FsmRecord).where(_fsm_of(telegram_id)))
        if employee_id:
            # Notices about them sent to others (the officers' "X (id) asks to be erased",
            # registration requests) carry their name and employee id in the parameters.
            fragment = json.dumps({"employee_id": employee_id}, ensure_ascii=False)[1:-1]
            await run(
                "notices_about_them_deleted",
                delete(OutboxMessage).where(
                    OutboxMessage.params.contains(fragment, autoescape=True)
                ),
            )
        # The member row last: foreign keys cascade (roles, invites, participation, drafts,
        # co-signatures, requests) or set NULL (proposals, letters, timelines, audit).
        await run("members_deleted", delete(Member).where(Member.id == member_id))
        return counts


def _fsm_of(telegram_id: int) -> Any:
    """FSM keys are `fsm:<chat>:<user>` (aiogram's DefaultKeyBuilder)."""
    return or_(
        FsmRecord.key.like(f"fsm:{telegram_id}:%"), FsmRecord.key.like(f"fsm:%:{telegram_id}")
    )
