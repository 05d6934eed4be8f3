"""What waits for a person (/todo) and which work notices they get (/settings)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from common.clock import Clock, system_clock
from common.errors import N_, DomainError
from improvements.model import UNFINISHED
from mailboxes.service import MailboxService
from members.dto import Identity
from members.roles import Role, effective_roles
from proposals.model import ASSIGNABLE, REVIEWABLE, ProposalDTO, Status
from proposals.service import ProposalSettings
from todo.notices import NoticeKind, kinds_for
from todo.ports import HeldNoticeRepos, NoticeRepos, TodoRepos


@dataclass(frozen=True, slots=True)
class ActionDue:
    id: int
    problem: str
    due_on: date


@dataclass(frozen=True, slots=True)
class Todo:
    """One person's queues. None: not a queue of theirs (the screen leaves it out)."""

    registrations: int | None
    to_review: list[ProposalDTO] | None
    to_assign: list[ProposalDTO] | None
    due: list[ProposalDTO] | None  # assigned, due soon or overdue
    department: str | None  # a handler's: `due` is only theirs
    letters: list[tuple[int, str]] | None  # (letter id, box), no first reply yet
    actions: list[ActionDue]
    today: date

    @property
    def total(self) -> int:
        lists = (self.to_review, self.to_assign, self.due, self.letters, self.actions)
        return (self.registrations or 0) + sum(len(items) for items in lists if items)


class TodoService:
    def __init__(
        self,
        repos: TodoRepos,
        proposal_settings: ProposalSettings,
        mailbox: MailboxService,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._repos = repos
        self._work = repos.work
        self._settings = proposal_settings
        self._mailbox = mailbox
        self._clock = clock

    def today(self) -> date:
        return self._clock().astimezone(self._settings.tz).date()

    async def todo(self, actor: Identity) -> Todo:
        """Everything waiting for this person, as their roles allow: a handler sees only
        their own department's proposals, a recipient only the boxes they receive."""
        member = actor.require_member()
        roles = effective_roles(actor.roles)
        officer = Role.OFFICER in roles
        handler = Role.HANDLER in roles
        today = self.today()
        # "Due soon" is the first reminder's horizon: what the reminders already call due.
        horizon = today + timedelta(days=max(self._settings.reminder_days, default=0))
        department = member.department if handler and not officer else None
        due = None
        if officer or handler:
            due = await self._work.proposals(
                {Status.ASSIGNED}, department=department, due_by=horizon
            )
        boxes = self._mailbox.recipient_boxes(actor)
        actions = await self._work.actions_due(
            member.id, member.department if handler else None, UNFINISHED, horizon
        )
        return Todo(
            registrations=await self._work.pending_registrations() if officer else None,
            to_review=await self._work.proposals(REVIEWABLE) if officer else None,
            to_assign=await self._work.proposals(ASSIGNABLE) if officer else None,
            due=due,
            department=department,
            letters=await self._work.letters_awaiting_reply(boxes) if boxes else None,
            actions=[ActionDue(*row) for row in actions],
            today=today,
        )


class NoticeSettings:
    """Per-member mutes of work notices; the outbox drops a muted kind when it is queued."""

    def __init__(self, repos: NoticeRepos) -> None:
        self._repos = repos

    async def choices(self, actor: Identity) -> list[tuple[NoticeKind, bool]]:
        """(kind, muted) for every kind that can reach this person."""
        member = actor.require_member()
        muted = await self._repos.work.muted(member.id)
        return [(kind, kind.value in muted) for kind in kinds_for(effective_roles(actor.roles))]

    async def toggle(self, actor: Identity, kind: NoticeKind) -> bool:
        """Mute or unmute one kind; returns whether it is muted now."""
        member = actor.require_member()
        if kind not in kinds_for(effective_roles(actor.roles)):
            raise DomainError(N_("This button is no longer valid."))
        muted = kind.value not in await self._repos.work.muted(member.id)
        await self._repos.work.set_muted(member.id, kind.value, muted)
        await self._repos.commit()
        return muted


async def send_held_notices(repos: HeldNoticeRepos, now: datetime) -> dict[str, int]:
    """The notice sweep: held work notices go out, merged per recipient and kind."""
    released = await repos.outbox.release_held(now)
    await repos.commit()
    return {"released": released}
