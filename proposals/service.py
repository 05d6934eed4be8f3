"""Proposals (提案) and suggestions: filing, co-signing, review, assignment, answers, rating,
due dates and escalation. Every transition is recorded in the timeline and told to the
proposer and co-signers through the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied
from members.dto import Identity
from members.roles import Role
from outbox.model import Notification
from proposals import notifications as templates
from proposals.model import (
    ASSIGNABLE,
    COSIGNABLE,
    OFFICIAL_ACTIONS,
    PRIVATE_NOTES,
    REVIEWABLE,
    STATUS_LABELS,
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
    TimelineEntry,
)
from proposals.ports import ProposalRepos
from proposals.settings import ProposalSettings

TITLE_MAX, BODY_MAX, NOTE_MAX = 100, 20_000, 4_000
BOARD_STATUSES = frozenset(Status) - {Status.DRAFT}


@dataclass(frozen=True, slots=True)
class Department:
    name: str
    handlers: int  # registered members with the handler role there


class ProposalService:
    def __init__(
        self,
        repos: ProposalRepos,
        settings: ProposalSettings | None = None,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._repos = repos
        self._proposals = repos.proposals
        self.settings = settings or ProposalSettings()
        self._clock = clock

    # -- reading ----------------------------------------------------------------------------------
    async def get(self, proposal_id: int) -> ProposalDTO:
        """Any proposal, drafts included: for the scheduler and the CLI. People's steps go
        through visible()."""
        proposal = await self._proposals.get(proposal_id)
        if proposal is None:
            raise _missing()
        return proposal

    async def visible(self, actor: Identity, proposal_id: int) -> ProposalDTO:
        """A proposal as this person may see it: someone else's draft answers exactly like a
        proposal that does not exist (a forged button learns nothing, not even that it is
        there). Every step a person takes starts here."""
        proposal = await self._proposals.get(proposal_id)
        if proposal is None or (
            proposal.status is Status.DRAFT and not _is_proposer(actor, proposal)
        ):
            raise _missing()
        return proposal

    async def published(self, proposal_id: int) -> ProposalDTO:
        """A proposal past its draft, for linking an improvement action to it: never a
        draft, not even one's own (officers open actions only from submitted proposals)."""
        proposal = await self._proposals.get(proposal_id)
        if proposal is None or proposal.status is Status.DRAFT:
            raise _missing()
        return proposal

    async def timeline(
        self, actor: Identity, proposal_id: int
    ) -> tuple[ProposalDTO, list[TimelineEntry]]:
        """The steps as this person may see them. Everyone sees every step and the names of
        officers and handlers; the proposer and officers also see who filed, co-signed and
        rated; they and the department's handlers see what was said between them."""
        proposal = await self.visible(actor, proposal_id)
        events = await self._proposals.events(proposal_id)
        member = actor.member
        own = member is not None and member.id == proposal.proposer_id
        department = (
            member is not None
            and actor.has(Role.HANDLER)
            and member.department == proposal.department
        )
        every_name = own or actor.has(Role.OFFICER)
        every_note = every_name or department
        names = await self.names(
            [e.actor_id for e in events if e.actor_id and (every_name or _official(e))]
        )
        return proposal, [
            TimelineEntry(
                at=event.at,
                action=event.action,
                actor=names.get(event.actor_id) if event.actor_id else None,
                note=event.note if every_note or event.action not in PRIVATE_NOTES else None,
            )
            for event in events
        ]

    async def attachments(self, actor: Identity, proposal_id: int) -> list[AttachmentDTO]:
        await self.visible(actor, proposal_id)
        return await self._proposals.attachments(proposal_id)

    async def cosigners(self, proposal_id: int) -> list[int]:
        return await self._proposals.cosigner_ids(proposal_id)

    async def board(
        self,
        *,
        status: Status | None = None,
        category: str | None = None,
        page: int = 0,
        per_page: int = 5,
    ) -> tuple[list[ProposalDTO], int]:
        statuses = BOARD_STATUSES if status is None else {status} & BOARD_STATUSES
        return await self._proposals.board(
            statuses=statuses, category=category, offset=max(page, 0) * per_page, limit=per_page
        )

    async def mine(self, actor: Identity) -> list[ProposalDTO]:
        return await self._proposals.by_proposer(actor.require_member().id)

    async def queue(self, actor: Identity) -> list[ProposalDTO]:
        """What waits for this person: officers review and assign; handlers answer."""
        if actor.has(Role.OFFICER):
            return await self._proposals.in_status(REVIEWABLE | ASSIGNABLE | {Status.ASSIGNED})
        member = actor.require_member()
        if actor.has(Role.HANDLER):
            return await self._proposals.in_status({Status.ASSIGNED}, member.department)
        raise PermissionDenied()

    # -- filing -----------------------------------------------------------------------------------
    def may_file(self, actor: Identity, kind: Kind) -> bool:
        if actor.member is None:
            return False
        if kind is Kind.SUGGESTION:
            return True
        return any(actor.has(role) for role in self.settings.proposer_roles)

    async def start(self, actor: Identity, kind: Kind, category: str) -> int:
        member = actor.require_member()
        if not self.may_file(actor, kind):
            raise DomainError(
                N_(
                    "Only union representatives may file proposals; you can file "
                    "a suggestion instead."
                )
            )
        if category not in self.settings.categories:
            raise DomainError(N_("This button is no longer valid."))
        proposal_id = await self._proposals.create(kind, category, member.id)
        await self._event(proposal_id, "created", actor, None, Status.DRAFT, None)
        await self._repos.commit()
        return proposal_id

    async def _draft(self, actor: Identity, proposal_id: int) -> ProposalDTO:
        proposal = await self.visible(actor, proposal_id)
        if not _is_proposer(actor, proposal):
            raise PermissionDenied()
        if proposal.status is not Status.DRAFT:
            raise _now(proposal)
        return proposal

    async def set_title(self, actor: Identity, proposal_id: int, title: str) -> None:
        await self._draft(actor, proposal_id)
        await self._proposals.set_title(proposal_id, _text(title, TITLE_MAX))
        await self._repos.commit()

    async def add_text(self, actor: Identity, proposal_id: int, text: str) -> int:
        """Append one message to the body (long texts arrive in several messages)."""
        proposal = await self._draft(actor, proposal_id)
        body = (proposal.body + "\n\n" if proposal.body else "") + _text(text, BODY_MAX)
        if len(body) > BODY_MAX:
            raise DomainError(
                N_("The text is too long: at most {limit} characters in all."), limit=BODY_MAX
            )
        await self._proposals.set_body(proposal_id, body)
        await self._repos.commit()
        return len(body)

    async def attach(
        self, actor: Identity, proposal_id: int, kind: str, file_id: str, file_name: str | None
    ) -> None:
        proposal = await self.visible(actor, proposal_id)
        stage = "filing"
        if proposal.status is Status.ASSIGNED:
            self._require_handler(actor, proposal)
            stage = "answer"
        else:
            await self._draft(actor, proposal_id)
        await self._proposals.add_attachment(proposal_id, stage, kind, file_id, file_name)
        await self._repos.commit()

    async def submit(self, actor: Identity, proposal_id: int) -> ProposalDTO:
        proposal = await self._draft(actor, proposal_id)
        if not proposal.title or not proposal.body:
            raise DomainError(N_("A proposal needs a title and a text before it is submitted."))
        needs_cosigners = proposal.kind is Kind.PROPOSAL and self.settings.min_cosigners > 0
        target = Status.COLLECTING if needs_cosigners else Status.SUBMITTED
        now = self._clock()
        await self._move(actor, proposal, {Status.DRAFT}, target, "submitted", None, Submitted(now))
        await self._repos.commit()
        return await self.get(proposal_id)

    # -- co-signing -------------------------------------------------------------------------------
    async def cosign(self, actor: Identity, proposal_id: int) -> ProposalDTO:
        member = actor.require_member()
        proposal = await self.visible(actor, proposal_id)
        if _is_proposer(actor, proposal):
            raise DomainError(N_("You cannot co-sign your own proposal."))
        if proposal.status not in COSIGNABLE:
            raise _now(proposal)
        if not await self._proposals.cosign(proposal_id, member.id):
            raise DomainError(N_("You have already co-signed this proposal."))
        await self._event(proposal_id, "cosigned", actor, None, None, None)
        count = len(await self._proposals.cosigner_ids(proposal_id))
        if proposal.status is Status.COLLECTING and count >= self.settings.min_cosigners:
            await self._move(
                actor, proposal, {Status.COLLECTING}, Status.SUBMITTED, "enough_cosigners", None
            )
        await self._repos.commit()
        return await self.get(proposal_id)

    # -- review -----------------------------------------------------------------------------------
    async def take_for_review(self, actor: Identity, proposal_id: int) -> ProposalDTO:
        _require(actor, Role.OFFICER)
        proposal = await self.visible(actor, proposal_id)
        if proposal.status is Status.SUBMITTED:
            await self._move(
                actor, proposal, {Status.SUBMITTED}, Status.UNDER_REVIEW, "review_started", None
            )
            await self._repos.commit()
        elif proposal.status is not Status.UNDER_REVIEW:
            raise _now(proposal)
        return await self.get(proposal_id)

    async def decide(
        self,
        actor: Identity,
        proposal_id: int,
        decision: Status,
        reason: str,
        merge_into: int | None = None,
    ) -> ProposalDTO:
        """Accept (立案), convert to a suggestion, merge into another, or decline — each with
        a reason the proposer sees."""
        _require(actor, Role.OFFICER)
        if decision not in (Status.ACCEPTED, Status.CONVERTED, Status.MERGED, Status.DECLINED):
            raise DomainError(N_("This button is no longer valid."))
        reason = _text(reason, NOTE_MAX)
        proposal = await self.visible(actor, proposal_id)
        merged_into_id = None
        if decision is Status.MERGED:
            target = await self._proposals.get(merge_into or 0)
            if target is None or target.id == proposal_id or target.status is Status.DRAFT:
                raise DomainError(N_("Choose another, existing proposal to merge into."))
            merged_into_id = target.id
        change = Decided(reason, merged_into_id, converted=decision is Status.CONVERTED)
        await self._move(actor, proposal, REVIEWABLE, decision, decision.value, reason, change)
        await self._repos.commit()
        return await self.get(proposal_id)

    async def departments(self) -> list[Department]:
        """The roster's departments to assign to: those with handlers first."""
        found = [
            Department(name, handlers) for name, handlers in await self._repos.work.departments()
        ]
        return sorted(found, key=lambda d: (d.handlers == 0, d.name))

    async def assignable(self, actor: Identity, proposal_id: int) -> ProposalDTO:
        """The proposal, if it can be assigned now; otherwise "this proposal is now …"."""
        _require(actor, Role.OFFICER)
        proposal = await self.visible(actor, proposal_id)
        if proposal.status not in ASSIGNABLE:
            raise _now(proposal)
        return proposal

    def today(self) -> date:
        """Today in the union's time zone (due dates are days there)."""
        return self._today()

    async def assign(
        self, actor: Identity, proposal_id: int, department: str, due_on: date | None = None
    ) -> ProposalDTO:
        """Assign to a department of the roster. Its handlers are told; a department without
        handlers is told to officers instead, so the proposal does not stall unseen."""
        _require(actor, Role.OFFICER)
        department = _text(department, 64)
        known = {d.name for d in await self.departments()}
        if known and department not in known:
            raise DomainError(N_("There is no department of that name: choose one from the list."))
        proposal = await self.visible(actor, proposal_id)
        today = self._today()
        due = due_on or today + timedelta(days=self.settings.answer_days)
        if due < today:
            raise DomainError(N_("The due date cannot be in the past."))
        await self._move(
            actor,
            proposal,
            ASSIGNABLE,
            Status.ASSIGNED,
            "assigned",
            f"{department} · {due.isoformat()}",
            Assigned(department, due),
        )
        handlers = await self._proposals.with_role(Role.HANDLER, department)
        template, recipients = templates.PROPOSAL_ASSIGNED, handlers
        if not handlers:
            template = templates.PROPOSAL_UNHANDLED
            recipients = await self._proposals.with_role(Role.OFFICER)
        for member_id, chat_id, locale in recipients:
            await self._notify(
                proposal,
                chat_id,
                locale,
                template,
                f"assigned:{member_id}",
                department=department,
                due_on=due.isoformat(),
            )
        await self._repos.commit()
        return await self.get(proposal_id)

    # -- handling ---------------------------------------------------------------------------------
    def _require_handler(self, actor: Identity, proposal: ProposalDTO) -> None:
        """The assigned department's handlers, or officers on its behalf."""
        member = actor.member
        if actor.has(Role.OFFICER):
            return
        if not (member and actor.has(Role.HANDLER) and member.department == proposal.department):
            raise PermissionDenied()

    async def ask_clarification(self, actor: Identity, proposal_id: int, question: str) -> None:
        proposal = await self.visible(actor, proposal_id)
        self._require_handler(actor, proposal)
        if proposal.status is not Status.ASSIGNED:
            raise _now(proposal)
        question = _text(question, NOTE_MAX)
        await self._event(proposal_id, "clarification_asked", actor, None, None, question)
        for _member_id, chat_id, locale in await self._proposals.recipients(
            [proposal.proposer_id] if proposal.proposer_id else []
        ):
            await self._notify(
                proposal,
                chat_id,
                locale,
                templates.PROPOSAL_CLARIFICATION,
                f"clarify:{self._clock().timestamp()}",
                note=question,
            )
        await self._repos.commit()

    async def clarify(self, actor: Identity, proposal_id: int, reply: str) -> None:
        """The proposer answers a handler's question; relayed to the department."""
        proposal = await self.visible(actor, proposal_id)
        if not _is_proposer(actor, proposal):
            raise PermissionDenied()
        if proposal.status is not Status.ASSIGNED:
            raise _now(proposal)
        reply = _text(reply, NOTE_MAX)
        await self._event(proposal_id, "clarified", actor, None, None, reply)
        for _member_id, chat_id, locale in await self._proposals.with_role(
            Role.HANDLER, proposal.department
        ):
            await self._notify(
                proposal,
                chat_id,
                locale,
                templates.PROPOSAL_CLARIFIED,
                f"clarified:{self._clock().timestamp()}:{chat_id}",
                note=reply,
            )
        await self._repos.commit()

    async def answer(self, actor: Identity, proposal_id: int, text: str) -> ProposalDTO:
        proposal = await self.visible(actor, proposal_id)
        self._require_handler(actor, proposal)
        text = _text(text, BODY_MAX)
        await self._move(
            actor,
            proposal,
            {Status.ASSIGNED},
            Status.ANSWERED,
            "answered",
            text,
            Answered(text, self._clock()),
        )
        await self._repos.commit()
        return await self.get(proposal_id)

    async def rate(
        self, actor: Identity, proposal_id: int, rating: Rating, comment: str | None = None
    ) -> ProposalDTO:
        """满意/基本满意 close it; the first 不满意 reopens it to the handler, the next goes to
        officers."""
        proposal = await self.visible(actor, proposal_id)
        if not _is_proposer(actor, proposal):
            raise PermissionDenied()
        comment = _text(comment, NOTE_MAX) if comment else None
        reopened = False
        if rating is not Rating.UNSATISFIED:
            target, action = Status.CLOSED, "rated"
        elif proposal.reopen_count == 0:
            target, action = Status.ASSIGNED, "reopened"
            reopened = True
        else:
            target, action = Status.UNDER_REVIEW, "sent_to_officers"
        await self._move(
            actor,
            proposal,
            {Status.ANSWERED},
            target,
            action,
            f"{rating.value}" + (f": {comment}" if comment else ""),
            Rated(rating, comment, reopened),
        )
        await self._repos.commit()
        return await self.get(proposal_id)

    async def comment_rating(self, actor: Identity, proposal_id: int, comment: str) -> None:
        """The proposer's words to go with their rating."""
        proposal = await self.visible(actor, proposal_id)
        if not _is_proposer(actor, proposal):
            raise PermissionDenied()
        if proposal.rating is None:
            raise _now(proposal)
        comment = _text(comment, NOTE_MAX)
        await self._proposals.set_rating_comment(proposal_id, comment)
        await self._event(proposal_id, "rating_comment", actor, None, None, comment)
        await self._repos.commit()

    async def names(self, member_ids: list[int]) -> dict[int, str]:
        return {k: v[0] for k, v in (await self._proposals.names(member_ids)).items()}

    # -- due dates --------------------------------------------------------------------------------
    async def sweep(self) -> dict[str, int]:
        """Scheduled: reminders before the due date, then officers, then the chair. Each
        message has its own key, so the sweep is idempotent and catches up."""
        today = self._today()
        horizon = today + timedelta(days=max(self.settings.reminder_days, default=0))
        counts = {"reminded": 0, "overdue": 0, "escalated": 0}
        for proposal in await self._proposals.assigned_due_by(horizon):
            assert proposal.due_on is not None
            days_left = (proposal.due_on - today).days
            if days_left >= 0:
                due = [d for d in self.settings.reminder_days if days_left <= d]
                if due:
                    for _id, chat_id, locale in await self._proposals.with_role(
                        Role.HANDLER, proposal.department
                    ):
                        counts["reminded"] += await self._notify(
                            proposal,
                            chat_id,
                            locale,
                            templates.PROPOSAL_DUE_SOON,
                            f"due:{min(due)}:{proposal.reopen_count}:{chat_id}",
                            due_on=proposal.due_on.isoformat(),
                        )
                continue
            level, role = (1, Role.OFFICER)
            if -days_left > self.settings.escalate_after_days:
                level, role = (2, Role.CHAIR)
            for _id, chat_id, locale in await self._proposals.with_role(role):
                sent = await self._notify(
                    proposal,
                    chat_id,
                    locale,
                    templates.PROPOSAL_OVERDUE,
                    f"overdue:{level}:{proposal.reopen_count}:{chat_id}",
                    level=level,
                    due_on=proposal.due_on.isoformat(),
                )
                counts["escalated" if level == 2 else "overdue"] += sent
        await self._repos.commit()
        return counts

    # -- internals --------------------------------------------------------------------------------
    def _today(self) -> date:
        return self._clock().astimezone(self.settings.tz).date()

    async def _move(
        self,
        actor: Identity | None,
        proposal: ProposalDTO,
        allowed: set[Status] | frozenset[Status],
        to: Status,
        action: str,
        note: str | None,
        change: StatusChange | None = None,
    ) -> None:
        if not await self._proposals.transition(proposal.id, allowed, to, change):
            current = await self.get(proposal.id)
            raise _now(current)
        await self._event(proposal.id, action, actor, proposal.status, to, note)
        await self._tell_followers(proposal, to, note)
        if to is Status.SUBMITTED or action == "sent_to_officers":
            await self._tell_officers(proposal)

    async def _tell_officers(self, proposal: ProposalDTO) -> None:
        """A proposal needs review: every officer is told (held and merged by the notice
        sweep, so a burst of proposals is one message)."""
        step = len(await self._proposals.events(proposal.id))
        for member_id, chat_id, locale in await self._proposals.with_role(Role.OFFICER):
            await self._notify(
                proposal, chat_id, locale, templates.PROPOSAL_REVIEW, f"review:{step}:{member_id}"
            )

    async def _event(
        self,
        proposal_id: int,
        action: str,
        actor: Identity | None,
        from_status: Status | None,
        to_status: Status | None,
        note: str | None,
    ) -> None:
        actor_id = actor.member.id if actor and actor.member else None
        await self._proposals.add_event(
            proposal_id,
            action,
            actor_id=actor_id,
            from_status=from_status,
            to_status=to_status,
            note=note,
            at=self._clock(),
        )

    async def _tell_followers(
        self, proposal: ProposalDTO, status: Status, note: str | None
    ) -> None:
        """The proposer and co-signers hear of every step (once per step)."""
        followers = [proposal.proposer_id] if proposal.proposer_id else []
        followers += await self._proposals.cosigner_ids(proposal.id)
        step = len(await self._proposals.events(proposal.id))
        for member_id, chat_id, locale in await self._proposals.recipients(followers):
            await self._notify(
                proposal,
                chat_id,
                locale,
                templates.PROPOSAL_STATUS,
                f"status:{step}:{member_id}",
                status=status.value,
                note=note,
                proposer=member_id == proposal.proposer_id,
            )

    async def _notify(
        self,
        proposal: ProposalDTO,
        chat_id: int,
        locale: str | None,
        template: str,
        key: str,
        **params: object,
    ) -> int:
        return int(
            await self._repos.outbox.enqueue(
                Notification.build(
                    ("proposal", proposal.id, key),
                    chat_id=chat_id,
                    locale=locale,
                    template=template,
                    params={"proposal_id": proposal.id, "title": proposal.title, **params},
                )
            )
        )


def _require(actor: Identity, role: Role) -> None:
    if not actor.has(role):
        raise PermissionDenied()


def _missing() -> DomainError:
    return DomainError(N_("This proposal does not exist."))


def _official(event: EventDTO) -> bool:
    return event.action in OFFICIAL_ACTIONS


def _is_proposer(actor: Identity, proposal: ProposalDTO) -> bool:
    return actor.member is not None and actor.member.id == proposal.proposer_id


def _text(value: str | None, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError(N_("Please send some text."))
    if len(text) > limit:
        raise DomainError(
            N_("The text is too long: at most {limit} characters in all."), limit=limit
        )
    return text


class ProposalMoved(DomainError):
    """An old button after a status change: "this proposal is now …"."""

    def __init__(self, proposal: ProposalDTO) -> None:
        super().__init__(
            N_("This proposal is now: {status}."),
            status=STATUS_LABELS[proposal.status],
            translate=("status",),
        )
        self.proposal = proposal


def _now(proposal: ProposalDTO) -> ProposalMoved:
    return ProposalMoved(proposal)
