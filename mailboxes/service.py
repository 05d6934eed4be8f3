"""Mailbox service: sending letters in three identity modes, the recipients' inbox and work,
the sender's side (own letters, receipt codes), SLA reminders.

Which code may learn who wrote a letter is deliberately narrow: recipients' methods work on
LetterDTO, which carries a name only for named letters; only `_sender_chat` unseals a
confidential sender, and only to queue a notice to them.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from common.clock import Clock, system_clock
from common.errors import N_, DomainError, PermissionDenied
from mailboxes import notifications as templates
from mailboxes.delivery import LetterNotices
from mailboxes.model import (
    Attachment,
    Author,
    Draft,
    IdentityMode,
    InboxPage,
    LetterDTO,
    LetterStatus,
    LetterType,
    MessageKind,
    ThreadMessage,
)
from mailboxes.ports import MailboxRepos
from mailboxes.settings import Box, MailboxContext, Sent
from members.dto import Identity

LETTER_MAX, MESSAGE_MAX, OUTCOME_MAX, NOTE_MAX = 10_000, 4_000, 2_000, 500
ATTACHMENTS_MAX = 10
RATINGS = range(1, 6)
NOT_FOUND = N_("This letter does not exist or is not in your mailbox.")
# Times of the batched notices to confidential senders are rounded down to this.
NOTICE_GRAIN = timedelta(minutes=10)


class MailboxService:
    def __init__(
        self,
        repos: MailboxRepos,
        context: MailboxContext,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._repos = repos
        self._letters = repos.mailbox
        self.settings = context.settings
        self._sealer = context.sealer
        self._guards = context.guards
        self._context = context
        self._clock = clock
        self._tz = ZoneInfo(context.settings.timezone)

    @property
    def tz(self) -> ZoneInfo:
        """The union's time zone: letters show their times in it."""
        return self._tz

    @cached_property
    def _notices(self) -> LetterNotices:
        # Built on first use: a service is built for every update, few of them send letters.
        return LetterNotices(self._repos, self._context)

    # -- boxes ------------------------------------------------------------------------------------
    def box(self, key: str) -> Box:
        found = next((b for b in self.settings.boxes if b.key == key), None)
        if found is None:
            raise DomainError(N_("This button is no longer valid."))
        return found

    def recipient_boxes(self, actor: Identity | None) -> list[str]:
        """Boxes whose letters this person receives (registered members only)."""
        if actor is None or actor.member is None:
            return []
        return [
            box.key
            for box in self.settings.boxes
            if actor.telegram_id in box.telegram_ids or any(r in actor.roles for r in box.roles)
        ]

    # -- sending ----------------------------------------------------------------------------------
    async def send(
        self, actor: Identity, box_key: str, type: LetterType, mode: IdentityMode, draft: Draft
    ) -> Sent:
        member = actor.require_member()
        box = self.box(box_key)
        body = _text(draft, LETTER_MAX)
        now = self._clock()
        if mode is IdentityMode.ANONYMOUS:
            return await self._send_anonymous(actor, box, type, body, draft)
        letter_id = await self._letters.create(
            box=box.key,
            type=type,
            mode=mode,
            body=body,
            created_at=now,
            member_id=member.id if mode is IdentityMode.NAMED else None,
            sender_tag=self._sealer.sender_tag(member.id)
            if mode is IdentityMode.CONFIDENTIAL
            else None,
        )
        if mode is IdentityMode.CONFIDENTIAL:
            await self._letters.seal_sender(letter_id, self._sealer.seal(letter_id, member.id))
        await self._letters.add_attachments(letter_id, 0, draft.attachments)
        await self._notices.tell_recipients(
            box, letter_id, templates.LETTER_NEW, "new", type=type.value
        )
        await self._repos.commit()
        return Sent(letter_id)

    async def _send_anonymous(
        self, actor: Identity, box: Box, type: LetterType, body: str, draft: Draft
    ) -> Sent:
        limit = self._guards.anonymous_letters
        if await limit.exhausted(actor.telegram_id):
            raise DomainError(
                N_("You can send at most {limit} anonymous letters a day. Please try tomorrow."),
                limit=limit.limit,
            )
        code = self._sealer.new_receipt_code()
        letter_id = await self._letters.create(
            box=box.key,
            type=type,
            mode=IdentityMode.ANONYMOUS,
            body=body,
            created_at=self._today(),
            receipt_hash=await self._receipt_hash(code),
            pending_notice=True,  # recipients hear of it from the sweep, not at this moment
        )
        await self._letters.add_attachments(letter_id, 0, draft.attachments)
        await self._repos.commit()
        await limit.hit(actor.telegram_id)
        return Sent(letter_id, receipt_code=code)

    # -- the sender's side ------------------------------------------------------------------------
    async def sent_letters(self, actor: Identity) -> list[LetterDTO]:
        member = actor.require_member()
        return await self._letters.sent_by(member.id, self._sealer.sender_tag(member.id))

    async def own_letter(
        self, actor: Identity, letter_id: int
    ) -> tuple[LetterDTO, list[ThreadMessage]]:
        member = actor.require_member()
        if not await self._letters.is_sender(
            letter_id, member.id, self._sealer.sender_tag(member.id)
        ):
            raise DomainError(NOT_FOUND)
        return await self._letter_and_thread(letter_id)

    async def open_receipt(self, actor: Identity, code: str) -> int:
        """The letter of a receipt code. Failures are limited per person (in memory or Redis)
        and say the same whatever the reason, so guessing learns nothing."""
        failures = self._guards.receipt_failures
        if await failures.exhausted(actor.telegram_id):
            raise DomainError(N_("Too many wrong codes. Please wait 15 minutes and try again."))
        normalized = self._sealer.normalize_code(code)
        letter_id = (
            await self._letters.by_receipt(await self._receipt_hash(normalized))
            if normalized
            else None
        )
        if letter_id is None:
            await failures.hit(actor.telegram_id)
            raise DomainError(N_("No letter matches this code. Check the digits and try again."))
        return letter_id

    async def _receipt_hash(self, code: str) -> str:
        # scrypt takes tens of milliseconds: in a worker thread, so other updates go on.
        return await asyncio.to_thread(self._sealer.receipt_hash, code)

    async def receipt_letter(self, letter_id: int) -> tuple[LetterDTO, list[ThreadMessage]]:
        """An anonymous letter opened with its receipt (the caller holds the checked id)."""
        return await self._letter_and_thread(letter_id)

    async def follow_up(self, actor: Identity, letter_id: int, draft: Draft) -> None:
        """The sender of a named or confidential letter answers back."""
        await self.own_letter(actor, letter_id)
        await self._sender_message(letter_id, draft, anonymous=False)

    async def follow_up_anonymous(self, letter_id: int, draft: Draft) -> None:
        await self._sender_message(letter_id, draft, anonymous=True)

    async def _sender_message(self, letter_id: int, draft: Draft, *, anonymous: bool) -> None:
        letter = await self._get(letter_id)
        if letter.status is LetterStatus.HANDLED:
            raise DomainError(N_("This letter has been handled; you can rate the handling."))
        text = _text(draft, MESSAGE_MAX)
        created_at = self._today() if anonymous else self._clock()
        seq = await self._letters.add_message(
            letter_id, Author.SENDER, MessageKind.LETTER, text, created_at
        )
        await self._letters.add_attachments(letter_id, seq, draft.attachments)
        await self._letters.sender_wrote(letter_id, pending_notice=anonymous)
        if not anonymous:
            await self._notices.tell_recipients(
                self.box(letter.box), letter_id, templates.LETTER_ACTIVITY, f"m{seq}"
            )
        await self._repos.commit()

    async def thread_files(self, letter_id: int) -> list[Attachment]:
        """Every file of a letter and its thread. Callers have checked the reader's right:
        `own_letter` for senders, a receipt session for anonymous ones."""
        return await self._letters.attachments(letter_id)

    async def rate(self, letter_id: int, rating: int, actor: Identity | None = None) -> None:
        """Rate the handling; `actor` proves ownership, or None for a receipt-opened letter."""
        if actor is not None:
            await self.own_letter(actor, letter_id)
        letter = await self._get(letter_id)
        if rating not in RATINGS:
            raise DomainError(N_("This button is no longer valid."))
        if letter.status is not LetterStatus.HANDLED:
            raise DomainError(N_("You can rate the handling once the letter has been handled."))
        if letter.rating is not None:
            raise DomainError(N_("You have already rated this letter."))
        await self._letters.rate(letter_id, rating)
        await self._repos.commit()

    # -- recipients -------------------------------------------------------------------------------
    async def inbox(
        self,
        actor: Identity,
        *,
        unread: bool = False,
        open_only: bool = True,
        page: int = 0,
        per_page: int = 6,
    ) -> InboxPage:
        boxes = self._require_recipient(actor)
        page = max(page, 0)
        letters, total = await self._letters.inbox(
            boxes, unread=unread, open_only=open_only, offset=page * per_page, limit=per_page
        )
        return InboxPage(letters, total, page, per_page)

    async def open_letter(
        self, actor: Identity, letter_id: int
    ) -> tuple[LetterDTO, list[ThreadMessage]]:
        letter = await self._received(actor, letter_id)
        await self._letters.mark_read(letter_id, opened=letter.status is LetterStatus.NEW)
        await self._audit(actor, letter_id, "read")
        await self._repos.commit()
        return await self._letter_and_thread(letter_id)

    async def letter_files(self, actor: Identity, letter_id: int) -> list[Attachment]:
        await self._received(actor, letter_id)
        await self._audit(actor, letter_id, "files")
        await self._repos.commit()
        return await self._letters.attachments(letter_id)

    async def reply(
        self, actor: Identity, letter_id: int, draft: Draft, *, question: bool = False
    ) -> None:
        letter = await self._received(actor, letter_id)
        if letter.status is LetterStatus.HANDLED:
            raise DomainError(N_("This letter has been handled already."))
        kind = MessageKind.QUESTION if question else MessageKind.REPLY
        now = self._clock()
        seq = await self._letters.add_message(
            letter_id,
            Author.RECIPIENT,
            kind,
            _text(draft, MESSAGE_MAX),
            now,
            actor.require_member().id,
        )
        await self._letters.add_attachments(letter_id, seq, draft.attachments)
        await self._letters.mark_replied(letter_id, now, first=letter.first_reply_at is None)
        await self._audit(actor, letter_id, kind.value)
        await self._notices.tell_sender(letter, kind.value, f"m{seq}")
        await self._repos.commit()

    async def mark_handled(self, actor: Identity, letter_id: int, outcome: str) -> None:
        letter = await self._received(actor, letter_id)
        if letter.status is LetterStatus.HANDLED:
            raise DomainError(N_("This letter has been handled already."))
        outcome = _text(Draft(outcome), OUTCOME_MAX)
        now = self._clock()
        seq = await self._letters.add_message(
            letter_id,
            Author.RECIPIENT,
            MessageKind.OUTCOME,
            outcome,
            now,
            actor.require_member().id,
        )
        await self._letters.mark_handled(letter_id, outcome, now, letter.first_reply_at or now)
        await self._audit(actor, letter_id, "handled")
        await self._notices.tell_sender(letter, MessageKind.OUTCOME.value, f"m{seq}")
        await self._repos.commit()

    async def transfer(self, actor: Identity, letter_id: int, to_box: str, note: str) -> None:
        letter = await self._received(actor, letter_id)
        target = self.box(to_box)
        if target.key == letter.box:
            raise DomainError(N_("The letter is already in this mailbox."))
        if letter.status is LetterStatus.HANDLED:
            raise DomainError(N_("This letter has been handled already."))
        seq = await self._letters.add_message(
            letter_id,
            Author.SYSTEM,
            MessageKind.TRANSFER,
            _text(Draft(note), NOTE_MAX),
            self._clock(),
            actor.require_member().id,
            box=target.key,
        )
        await self._letters.move_to_box(letter_id, target.key)
        await self._audit(actor, letter_id, "transfer", f"{letter.box}->{target.key}")
        await self._notices.tell_recipients(target, letter_id, templates.LETTER_ACTIVITY, f"m{seq}")
        await self._notices.tell_sender(
            letter, MessageKind.TRANSFER.value, f"m{seq}", box=target.key
        )
        await self._repos.commit()

    async def check_received(self, actor: Identity, letter_id: int) -> LetterDTO:
        """The letter if it is in one of this person's boxes (nothing recorded)."""
        return await self._received(actor, letter_id)

    async def improvement_done(self, letter_ids: list[int], text: str) -> set[int]:
        """An improvement action linked to these letters closed: "you said, we did" joins
        each thread (anonymous senders read it with their receipt). Returns the member ids of
        the named senders, to be told now; confidential senders hear of it from the sweep's
        next batch, never anyone of an anonymous letter."""
        senders: set[int] = set()
        for letter_id in letter_ids:
            letter = await self._letters.get(letter_id)
            if letter is None:
                continue
            await self._letters.add_message(
                letter_id, Author.SYSTEM, MessageKind.IMPROVEMENT, text, self._clock()
            )
            if letter.mode is IdentityMode.CONFIDENTIAL:
                await self._notices.tell_sender(letter, MessageKind.IMPROVEMENT.value, "")
                continue
            member_id = await self._notices.sender_id(letter)
            if member_id is not None:
                senders.add(member_id)
        return senders

    def notice_key(self, *parts: object) -> str:
        """A keyed hash for outbox keys that must not name members or letters."""
        return self._sealer.notice_key(*parts)

    async def audit_log(self, actor: Identity, letter_id: int) -> list:
        await self._received(actor, letter_id)
        return await self._letters.audit_log(letter_id)

    # -- scheduled --------------------------------------------------------------------------------
    async def sweep(self, *, release_senders: bool = False) -> dict[str, int]:
        """Tell recipients of anonymous activity (batched, so its time is not the sender's),
        confidential senders of news (batched, so its time is not the recipient's action:
        when enough wait, or always with `release_senders`), and remind recipients of
        letters without a first reply after `reply_days`."""
        counts = {"notified": 0, "reminded": 0}
        now = self._clock()
        counts["senders"] = await self._notices.release_sender_notices(
            now - (now - datetime.min.replace(tzinfo=now.tzinfo)) % NOTICE_GRAIN,
            batch=self.settings.sender_batch,
            force=release_senders,
        )
        for letter in await self._letters.with_pending_notice():
            version = await self._letters.last_seq(letter.id)
            template = templates.LETTER_NEW if version == 0 else templates.LETTER_ACTIVITY
            await self._notices.tell_recipients(
                self.box(letter.box), letter.id, template, f"p{version}", type=letter.type.value
            )
            await self._letters.clear_pending_notice(letter.id)
            counts["notified"] += 1
        cutoff = self._clock() - timedelta(days=self.settings.reply_days)
        for letter in await self._letters.awaiting_first_reply(cutoff):
            await self._notices.tell_recipients(
                self.box(letter.box),
                letter.id,
                templates.LETTER_OVERDUE,
                "overdue",
                days=self.settings.reply_days,
            )
            await self._letters.set_reminded(letter.id, self._clock())
            counts["reminded"] += 1
        await self._repos.commit()
        return counts

    # -- internals --------------------------------------------------------------------------------
    def _require_recipient(self, actor: Identity) -> list[str]:
        boxes = self.recipient_boxes(actor)
        if not boxes:
            raise PermissionDenied()
        return boxes

    async def _received(self, actor: Identity, letter_id: int) -> LetterDTO:
        """The letter, if it is in one of this person's boxes; otherwise 'not found', the same
        answer as for an id that does not exist."""
        boxes = self._require_recipient(actor)
        letter = await self._letters.get(letter_id)
        if letter is None or letter.box not in boxes:
            raise DomainError(NOT_FOUND)
        return letter

    async def _get(self, letter_id: int) -> LetterDTO:
        letter = await self._letters.get(letter_id)
        if letter is None:
            raise DomainError(NOT_FOUND)
        return letter

    async def _letter_and_thread(self, letter_id: int) -> tuple[LetterDTO, list[ThreadMessage]]:
        return await self._get(letter_id), await self._letters.thread(letter_id)

    async def _audit(
        self, actor: Identity, letter_id: int, action: str, detail: str | None = None
    ) -> None:
        await self._letters.audit(letter_id, actor.require_member().id, action, detail)

    def _today(self) -> datetime:
        """Midnight today in the union's time zone: the precision of anonymous times."""
        local = self._clock().astimezone(self._tz)
        return datetime.combine(local.date(), time(), tzinfo=self._tz)


def _text(draft: Draft, limit: int) -> str:
    text = draft.text.strip()
    if not text and not draft.attachments:
        raise DomainError(N_("The message is empty. Please write something."))
    if len(text) > limit:
        raise DomainError(
            N_("The text is too long: at most {limit} characters in all."), limit=limit
        )
    if len(draft.attachments) > ATTACHMENTS_MAX:
        raise DomainError(N_("At most {limit} files per message."), limit=ATTACHMENTS_MAX)
    return text
