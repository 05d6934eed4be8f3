"""Improvement actions (诊改): an officer opens one from a digest theme, a survey question, a
proposal or a letter; the owner carries out the measures; the effect is recorded with
evidence; closing tells every member whose words are linked to it ("you said, we did").

Reminders before the due date, then officers, then the chair — like proposals."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied
from improvements import notifications as templates
from improvements.model import (
    MOVES,
    STATUS_LABELS,
    UNFINISHED,
    ActionDTO,
    ActionStatus,
    Evidence,
    Link,
    LinkKind,
)
from improvements.ports import ImprovementRepos
from improvements.settings import ImprovementSettings
from mailboxes.service import MailboxService
from members.dto import Identity
from members.roles import Role
from outbox.model import Notification
from surveys.definition import QuestionType
from surveys.results import nps_score
from surveys.service import SurveyService

TEXT_MAX, OWNER_MAX = 4_000, 64


@dataclass(frozen=True, slots=True)
class ActionDraft:
    """What the officer fills in, step by step."""

    problem: str
    cause: str
    measures: str
    owner: str  # an employee id (that member) or a department's name (its handlers)
    due_on: date | None
    expected_effect: str


class ImprovementService:
    def __init__(
        self,
        repos: ImprovementRepos,
        settings: ImprovementSettings | None = None,
        *,
        clock: Clock = system_clock,
        mailbox: MailboxService | None = None,
        surveys: SurveyService,
    ) -> None:
        self._repos = repos
        self._actions = repos.improvements
        # Built by the composition root with the union's time zone: survey definitions read
        # their dates in it, so a default zone could reject a valid survey.
        self._surveys = surveys
        # Letters linked to an action are told through the mailbox, which alone can unseal
        # confidential senders; without it (CLI, jobs) letters are left out.
        self._mailbox = mailbox
        self.settings = settings or ImprovementSettings()
        self._tz = ZoneInfo(self.settings.timezone)
        self._clock = clock

    # -- reading ----------------------------------------------------------------------------------
    async def get(self, action_id: int) -> ActionDTO:
        action = await self._actions.get(action_id)
        if action is None:
            raise DomainError(N_("This improvement action does not exist."))
        return action

    async def visible(self, actor: Identity, action_id: int) -> ActionDTO:
        """Officers see every action; a department's handlers and the owner see theirs."""
        action = await self.get(action_id)
        if not self._may_work_on(actor, action):
            raise PermissionDenied()
        return action

    async def unfinished(self, actor: Identity) -> list[ActionDTO]:
        if actor.has(Role.OFFICER):
            return await self._actions.in_status(UNFINISHED)
        member = actor.member
        if member is not None and actor.has(Role.HANDLER):
            return await self._actions.in_status(UNFINISHED, member.department)
        raise PermissionDenied()

    # -- opening ----------------------------------------------------------------------------------
    async def open(self, actor: Identity, draft: ActionDraft, links: list[Link]) -> ActionDTO:
        """Officers only. A linked survey question's current score is kept as the baseline."""
        _require(actor, Role.OFFICER)
        if not draft.problem.strip():
            raise DomainError(N_("Please send some text."))
        if draft.due_on is not None and draft.due_on < self._today():
            raise DomainError(N_("The due date cannot be in the past."))
        owner, owner_id, department = await self._owner(draft.owner)
        action_id = await self._actions.create(
            problem=_text(draft.problem),
            cause=_text(draft.cause, required=False),
            measures=_text(draft.measures, required=False),
            owner=owner,
            owner_id=owner_id,
            department=department,
            due_on=draft.due_on,
            expected_effect=_text(draft.expected_effect, required=False),
            opened_by_id=actor.member.id if actor.member else None,
            created_at=self._clock(),
        )
        for link in links:
            await self._actions.link(action_id, await self._with_baseline(link))
        await self._repos.commit()
        return await self.get(action_id)

    async def _owner(self, text: str) -> tuple[str, int | None, str | None]:
        """(shown name, member id, department): an employee id names a member (and their
        department); anything else is a department."""
        text = (text or "").strip()
        if not text:
            return "", None, None
        if len(text) > OWNER_MAX:
            raise DomainError(
                N_("The text is too long: at most {limit} characters in all."), limit=OWNER_MAX
            )
        member = await self._actions.member_by_employee_id(text)
        if member is not None:
            member_id, name, department = member
            return name, member_id, department
        return text, None, text

    async def _with_baseline(self, link: Link) -> Link:
        if link.kind is not LinkKind.QUESTION or link.baseline is not None:
            return link
        score = await self._score(link.ref_id, link.ref_key)
        return Link(link.kind, link.ref_id, link.ref_key, score[0] if score else None)

    async def _score(self, survey_id: int, question_id: str) -> tuple[float, str] | None:
        """(mean or NPS, "mean" | "nps") of every numeric answer to a question; None when
        nobody answered it."""
        figures = await self._actions.score(survey_id, question_id)
        if not figures.respondents:
            return None
        if await self._is_nps(survey_id, question_id):
            return (
                float(nps_score(figures.promoters, figures.detractors, figures.respondents)),
                "nps",
            )
        return figures.total / figures.respondents, "mean"

    async def _is_nps(self, survey_id: int, question_id: str) -> bool:
        try:
            survey = await self._surveys.get(survey_id)
            return survey.definition.question(question_id).type is QuestionType.NPS
        except (DomainError, KeyError):
            return False

    # -- progress ---------------------------------------------------------------------------------
    async def start(self, actor: Identity, action_id: int) -> ActionDTO:
        return await self._move(actor, action_id, ActionStatus.IN_PROGRESS)

    async def to_checking(self, actor: Identity, action_id: int) -> ActionDTO:
        return await self._move(actor, action_id, ActionStatus.CHECKING)

    async def measure(self, action_id: int) -> list[Evidence]:
        """For each linked question: its baseline, and its score in the survey that ran again
        (a later survey with a question of the same id), when there is one."""
        action = await self.get(action_id)
        found = []
        for link in action.links:
            if link.kind is not LinkKind.QUESTION:
                continue
            later = await self._actions.later_survey_with(
                link.ref_key, action.created_at, link.ref_id
            )
            after = await self._score(later, link.ref_key) if later is not None else None
            measure = "nps" if await self._is_nps(link.ref_id, link.ref_key) else "mean"
            found.append(
                Evidence(
                    survey_id=link.ref_id,
                    question_id=link.ref_key,
                    before=link.baseline,
                    after=after[0] if after else None,
                    after_survey_id=later if after else None,
                    measure=measure,
                )
            )
        return found

    async def record_effect(
        self, actor: Identity, action_id: int, effect: str, evidence: list[Evidence] | None = None
    ) -> ActionDTO:
        """The effect (改进成效) in words, with the measured evidence (computed when not given)."""
        action = await self.get(action_id)
        self._require_worker(actor, action)
        if action.status not in UNFINISHED:
            raise _now(action)
        if evidence is None:
            evidence = await self.measure(action_id)
        await self._actions.record_effect(action_id, _text(effect), evidence)
        if action.status is not ActionStatus.CHECKING:
            await self._actions.transition(
                action_id, MOVES[ActionStatus.CHECKING], ActionStatus.CHECKING
            )
        await self._repos.commit()
        return await self.get(action_id)

    async def close(self, actor: Identity, action_id: int) -> tuple[ActionDTO, int]:
        """Officers close an action whose effect is recorded; every member linked to it is
        told what changed. Returns the action and how many notices were queued."""
        _require(actor, Role.OFFICER)
        action = await self.get(action_id)
        if not action.effect:
            raise DomainError(N_("Record the effect before closing the action."))
        now = self._clock()
        if not await self._actions.transition(
            action_id, MOVES[ActionStatus.CLOSED], ActionStatus.CLOSED, closed_at=now
        ):
            raise _now(await self.get(action_id))
        action = await self.get(action_id)
        told = await self._tell_members(action)
        await self._repos.commit()
        return action, told

    async def drop(self, actor: Identity, action_id: int, reason: str) -> ActionDTO:
        _require(actor, Role.OFFICER)
        reason = _text(reason)
        if not await self._actions.transition(
            action_id,
            MOVES[ActionStatus.DROPPED],
            ActionStatus.DROPPED,
            reason=reason,
            closed_at=self._clock(),
        ):
            raise _now(await self.get(action_id))
        await self._repos.commit()
        return await self.get(action_id)

    async def _move(self, actor: Identity, action_id: int, to: ActionStatus) -> ActionDTO:
        action = await self.get(action_id)
        self._require_worker(actor, action)
        if not await self._actions.transition(action_id, MOVES[to], to):
            raise _now(await self.get(action_id))
        await self._repos.commit()
        return await self.get(action_id)

    # -- "you said, we did" -----------------------------------------------------------------------
    async def _tell_members(self, action: ActionDTO) -> int:
        """A notice to each member whose proposal, named letter or named survey answer is
        linked; confidential senders get theirs from the mailbox sweep's next batch,
        anonymous letters on their receipt. Once per member."""
        members: set[int] = set()
        proposals = [link.ref_id for link in action.links if link.kind is LinkKind.PROPOSAL]
        if proposals:
            members |= await self._actions.proposal_followers(proposals)
        for link in action.links:
            if link.kind is LinkKind.QUESTION:
                members |= await self._actions.named_respondents(link.ref_id, link.ref_key)
        letter_ids = [link.ref_id for link in action.links if link.kind is LinkKind.LETTER]
        if letter_ids and self._mailbox is not None:
            summary = "\n".join(
                part for part in (action.title, action.measures, action.effect or "") if part
            )
            members |= await self._mailbox.improvement_done(letter_ids, summary)
        told = 0
        # Keys name nobody: a keyed hash (the mailbox's key), or without the mailbox a key
        # of this call only (closing happens once: the status transition guards it).
        keyed = (
            self._mailbox.notice_key
            if self._mailbox is not None
            else _one_time_hash(secrets.token_bytes(32))
        )
        for member_id, chat_id, locale in await self._repos.proposals.recipients(sorted(members)):
            told += await self._repos.outbox.enqueue(
                Notification.build(
                    ("improvement", action.id, "closed", keyed("closed", action.id, member_id)),
                    chat_id=chat_id,
                    locale=locale,
                    template=templates.IMPROVEMENT_DONE,
                    params={
                        "action_id": action.id,
                        "problem": action.title,
                        "measures": action.measures,
                        "effect": action.effect or "",
                    },
                )
            )
        return told

    # -- due dates --------------------------------------------------------------------------------
    async def sweep(self) -> dict[str, int]:
        """Scheduled: reminders before the due date to the owner (or the department's
        handlers), then officers, then the chair. Keys make it idempotent."""
        today = self._today()
        horizon = today + timedelta(days=max(self.settings.reminder_days, default=0))
        counts = {"reminded": 0, "overdue": 0, "escalated": 0}
        for action in await self._actions.due_by(horizon, UNFINISHED):
            assert action.due_on is not None
            days_left = (action.due_on - today).days
            if days_left >= 0:
                due = [d for d in self.settings.reminder_days if days_left <= d]
                if due:
                    for chat_id, locale in await self._workers(action):
                        counts["reminded"] += await self._remind(
                            action,
                            chat_id,
                            locale,
                            templates.IMPROVEMENT_DUE_SOON,
                            f"due:{min(due)}",
                        )
                continue
            level, role = (1, Role.OFFICER)
            if -days_left > self.settings.escalate_after_days:
                level, role = (2, Role.CHAIR)
            for _id, chat_id, locale in await self._repos.proposals.with_role(role):
                counts["escalated" if level == 2 else "overdue"] += await self._remind(
                    action,
                    chat_id,
                    locale,
                    templates.IMPROVEMENT_OVERDUE,
                    f"overdue:{level}",
                    level=level,
                )
        await self._repos.commit()
        return counts

    async def _workers(self, action: ActionDTO) -> list[tuple[int, str | None]]:
        if action.owner_id is not None:
            found = await self._repos.proposals.recipients([action.owner_id])
        elif action.department:
            found = await self._repos.proposals.with_role(Role.HANDLER, action.department)
        else:
            found = await self._repos.proposals.recipients(
                [action.opened_by_id] if action.opened_by_id else []
            )
        return [(chat_id, locale) for _id, chat_id, locale in found]

    async def _remind(
        self,
        action: ActionDTO,
        chat_id: int,
        locale: str | None,
        template: str,
        key: str,
        **params: object,
    ) -> int:
        assert action.due_on is not None
        return int(
            await self._repos.outbox.enqueue(
                Notification.build(
                    ("improvement", action.id, key, action.due_on.isoformat(), chat_id),
                    chat_id=chat_id,
                    locale=locale,
                    template=template,
                    params={
                        "action_id": action.id,
                        "problem": action.title,
                        "due_on": action.due_on.isoformat(),
                        **params,
                    },
                )
            )
        )

    # -- internals --------------------------------------------------------------------------------
    def today(self) -> date:
        """Today in the union's time zone."""
        return self._today()

    def _today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    def _may_work_on(self, actor: Identity, action: ActionDTO) -> bool:
        member = actor.member
        if actor.has(Role.OFFICER):
            return True
        if member is None:
            return False
        if action.owner_id == member.id:
            return True
        return actor.has(Role.HANDLER) and member.department == action.department

    def _require_worker(self, actor: Identity, action: ActionDTO) -> None:
        if not self._may_work_on(actor, action):
            raise PermissionDenied()


def _one_time_hash(key: bytes) -> Callable[..., str]:
    def keyed(*parts: object) -> str:
        text = ":".join(str(part) for part in parts)
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:40]

    return keyed


def _require(actor: Identity, role: Role) -> None:
    if not actor.has(role):
        raise PermissionDenied()


def _text(value: str | None, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(N_("Please send some text."))
    if len(text) > TEXT_MAX:
        raise DomainError(
            N_("The text is too long: at most {limit} characters in all."), limit=TEXT_MAX
        )
    return text


class ActionMoved(DomainError):
    """An old button after a status change: "this action is now …"."""

    def __init__(self, action: ActionDTO) -> None:
        super().__init__(
            N_("This improvement action is now: {status}."),
            status=STATUS_LABELS[action.status],
            translate=("status",),
        )
        self.action = action


def _now(action: ActionDTO) -> ActionMoved:
    return ActionMoved(action)
