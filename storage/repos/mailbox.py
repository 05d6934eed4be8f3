# Longer than 400 lines on purpose: the letters' SQL for all three identity modes, so the
# anonymous-mode columns are written in one file.
"""Letters, their threads, attachments and the recipients' audit log.

`get`, `inbox` and `thread` never select the sender columns (tag, seal, receipt hash): the
recipients' code paths cannot leak what they never read. Only `sealed_sender`, `by_receipt`
and `sent_by` touch them, for the sender's own paths.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from mailboxes.model import (
    Attachment,
    Author,
    IdentityMode,
    LetterDTO,
    LetterStatus,
    LetterType,
    MessageKind,
    SenderView,
    ThreadMessage,
)
from storage.models import Member
from storage.models_mailbox import Letter, LetterAttachment, LetterMessage, MailboxAudit

# Random ids: nine-digit ticket numbers for letters, wide ones for the rest.
_TICKET_RANGE = (100_000_000, 999_999_999)
_ROW_ID_MAX = 2**62

_LETTER_COLUMNS = (
    Letter.id,
    Letter.box,
    Letter.type,
    Letter.mode,
    Letter.status,
    Letter.body,
    Letter.created_at,
    Letter.unread,
    Letter.first_reply_at,
    Letter.handled_at,
    Letter.outcome,
    Letter.rating,
    Member.name,
    Member.department,
)


def _attachment_count() -> Any:
    return (
        select(func.count())
        .where(LetterAttachment.letter_id == Letter.id, LetterAttachment.seq == 0)
        .scalar_subquery()
    )


def _letters() -> Any:
    # Outer join on member_id, which only named letters have.
    return select(*_LETTER_COLUMNS, _attachment_count()).outerjoin(
        Member, Member.id == Letter.member_id
    )


def _hours(session: AsyncSession, later: Any, earlier: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def _dto(row: Any) -> LetterDTO:
    mode = IdentityMode(row.mode)
    named = mode is IdentityMode.NAMED
    return LetterDTO(
        id=row.id,
        box=row.box,
        type=LetterType(row.type),
        mode=mode,
        status=LetterStatus(row.status),
        body=row.body,
        created_at=row.created_at,
        unread=row.unread,
        first_reply_at=row.first_reply_at,
        handled_at=row.handled_at,
        outcome=row.outcome,
        rating=row.rating,
        sender=SenderView(row.name, row.department) if named else SenderView(),
        attachments=row[-1],
    )


class MailboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _free_id(self, model: type[Letter] | type[LetterAttachment] | type[LetterMessage]):
        low, high = _TICKET_RANGE if model is Letter else (1, _ROW_ID_MAX)
        while True:
            candidate = low + secrets.randbelow(high - low)
            if await self._session.get(model, candidate) is None:
                return candidate

    # -- writing ----------------------------------------------------------------------------------
    async def create(
        self,
        *,
        box: str,
        type: LetterType,
        mode: IdentityMode,
        body: str,
        created_at: datetime,
        member_id: int | None = None,
        sender_tag: str | None = None,
        receipt_hash: str | None = None,
        pending_notice: bool = False,
    ) -> int:
        letter_id = await self._free_id(Letter)
        self._session.add(
            Letter(
                id=letter_id,
                box=box,
                type=type.value,
                mode=mode.value,
                status=LetterStatus.NEW.value,
                body=body,
                member_id=member_id,
                sender_tag=sender_tag,
                receipt_hash=receipt_hash,
                created_at=created_at,
                unread=True,
                pending_notice=pending_notice,
            )
        )
        await self._session.flush()
        return letter_id

    async def seal_sender(self, letter_id: int, seal: bytes) -> None:
        await self._update(letter_id, sender_seal=seal)

    # -- what happens to a letter: one method per event, so each caller's change is named --
    async def sender_wrote(self, letter_id: int, *, pending_notice: bool) -> None:
        """The sender added to the thread: unread again; `pending_notice` for the sweep."""
        await self._update(letter_id, unread=True, pending_notice=pending_notice)

    async def rate(self, letter_id: int, rating: int) -> None:
        await self._update(letter_id, rating=rating)

    async def mark_read(self, letter_id: int, *, opened: bool) -> None:
        """A recipient read it; `opened`: a new letter becomes open."""
        if opened:
            await self._update(letter_id, unread=False, status=LetterStatus.OPEN.value)
        else:
            await self._update(letter_id, unread=False)

    async def mark_replied(self, letter_id: int, at: datetime, *, first: bool) -> None:
        """A recipient replied or asked: open and read; `first` records the first reply."""
        if first:
            await self._update(
                letter_id, status=LetterStatus.OPEN.value, unread=False, first_reply_at=at
            )
        else:
            await self._update(letter_id, status=LetterStatus.OPEN.value, unread=False)

    async def mark_handled(
        self, letter_id: int, outcome: str, at: datetime, first_reply_at: datetime
    ) -> None:
        await self._update(
            letter_id,
            status=LetterStatus.HANDLED.value,
            outcome=outcome,
            handled_at=at,
            unread=False,
            first_reply_at=first_reply_at,
        )

    async def move_to_box(self, letter_id: int, box: str) -> None:
        """Transferred: unread in the new box, its overdue reminder due again."""
        await self._update(letter_id, box=box, unread=True, reminded_at=None)

    async def clear_pending_notice(self, letter_id: int) -> None:
        await self._update(letter_id, pending_notice=False)

    async def set_reminded(self, letter_id: int, at: datetime) -> None:
        await self._update(letter_id, reminded_at=at)

    async def flag_sender_notice(self, letter_id: int) -> None:
        """A confidential sender has news, told by the next batched sweep."""
        await self._update(letter_id, sender_notice=True)

    async def _update(self, letter_id: int, **values: Any) -> None:
        await self._session.execute(update(Letter).where(Letter.id == letter_id).values(**values))

    async def add_message(
        self,
        letter_id: int,
        author: Author,
        kind: MessageKind,
        text: str,
        created_at: datetime,
        recipient_id: int | None = None,
        box: str | None = None,
    ) -> int:
        # The sender and a recipient may write to one thread at the same moment: take the
        # letter's row first (a write, so SQLite's write lock too), then number the message,
        # so the second waits for the first to commit instead of taking the same number.
        await self._update(letter_id, id=Letter.id)
        seq = 1 + await self.last_seq(letter_id)
        self._session.add(
            LetterMessage(
                id=await self._free_id(LetterMessage),
                letter_id=letter_id,
                seq=seq,
                author=author.value,
                kind=kind.value,
                text=text,
                recipient_id=recipient_id,
                box=box,
                created_at=created_at,
            )
        )
        await self._session.flush()
        return seq

    async def last_seq(self, letter_id: int) -> int:
        """The number of the thread's last message (0: no message after the letter yet)."""
        last = await self._session.scalar(
            select(func.max(LetterMessage.seq)).where(LetterMessage.letter_id == letter_id)
        )
        return int(last or 0)

    async def add_attachments(
        self, letter_id: int, seq: int, attachments: Iterable[Attachment]
    ) -> None:
        for attachment in attachments:
            self._session.add(
                LetterAttachment(
                    id=await self._free_id(LetterAttachment),
                    letter_id=letter_id,
                    seq=seq,
                    kind=attachment.kind,
                    telegram_file_id=attachment.telegram_file_id,
                    file_name=attachment.file_name,
                )
            )
        await self._session.flush()

    async def audit(
        self, letter_id: int, actor_id: int | None, action: str, detail: str | None = None
    ) -> None:
        self._session.add(
            MailboxAudit(letter_id=letter_id, actor_id=actor_id, action=action, detail=detail)
        )

    # -- reading: recipients' paths ---------------------------------------------------------------
    async def get(self, letter_id: int) -> LetterDTO | None:
        row = (await self._session.execute(_letters().where(Letter.id == letter_id))).first()
        return _dto(row) if row else None

    async def inbox(
        self, boxes: Iterable[str], *, unread: bool, open_only: bool, offset: int, limit: int
    ) -> tuple[list[LetterDTO], int]:
        conditions: list[ColumnElement[bool]] = [Letter.box.in_(list(boxes))]
        if unread:
            conditions.append(Letter.unread.is_(True))
        if open_only:
            conditions.append(Letter.status != LetterStatus.HANDLED.value)
        where = and_(*conditions)
        total = await self._session.scalar(select(func.count()).select_from(Letter).where(where))
        rows = await self._session.execute(
            _letters()
            .where(where)
            .order_by(Letter.unread.desc(), Letter.created_at.desc(), Letter.id)
            .offset(offset)
            .limit(limit)
        )
        return [_dto(row) for row in rows], int(total or 0)

    async def thread(self, letter_id: int) -> list[ThreadMessage]:
        files: dict[int, list[Attachment]] = {}
        for row in await self._session.execute(
            select(LetterAttachment)
            .where(LetterAttachment.letter_id == letter_id)
            .order_by(LetterAttachment.seq, LetterAttachment.id)
        ):
            a = row[0]
            files.setdefault(a.seq, []).append(Attachment(a.kind, a.telegram_file_id, a.file_name))
        messages = await self._session.scalars(
            select(LetterMessage)
            .where(LetterMessage.letter_id == letter_id)
            .order_by(LetterMessage.seq)
        )
        return [
            ThreadMessage(
                seq=m.seq,
                author=Author(m.author),
                kind=MessageKind(m.kind),
                text=m.text,
                box=m.box,
                created_at=m.created_at,
                attachments=tuple(files.get(m.seq, ())),
            )
            for m in messages
        ]

    async def attachments(self, letter_id: int, seq: int | None = None) -> list[Attachment]:
        query = select(LetterAttachment).where(LetterAttachment.letter_id == letter_id)
        if seq is not None:
            query = query.where(LetterAttachment.seq == seq)
        rows = await self._session.scalars(query.order_by(LetterAttachment.seq))
        return [Attachment(a.kind, a.telegram_file_id, a.file_name) for a in rows]

    async def audit_log(self, letter_id: int) -> list[tuple[int | None, str, datetime]]:
        rows = await self._session.execute(
            select(MailboxAudit.actor_id, MailboxAudit.action, MailboxAudit.at)
            .where(MailboxAudit.letter_id == letter_id)
            .order_by(MailboxAudit.id)
        )
        return [(r.actor_id, r.action, r.at) for r in rows]

    async def awaiting_first_reply(self, created_before: datetime) -> list[LetterDTO]:
        rows = await self._session.execute(
            _letters().where(
                Letter.first_reply_at.is_(None),
                Letter.status != LetterStatus.HANDLED.value,
                Letter.reminded_at.is_(None),
                Letter.created_at < created_before,
            )
        )
        return [_dto(row) for row in rows]

    async def with_pending_notice(self) -> list[LetterDTO]:
        rows = await self._session.execute(_letters().where(Letter.pending_notice.is_(True)))
        return [_dto(row) for row in rows]

    async def with_sender_notice(self) -> list[LetterDTO]:
        """Confidential letters whose sender has news waiting for the sweep's batch."""
        rows = await self._session.execute(
            _letters().where(Letter.sender_notice.is_(True)).order_by(Letter.id)
        )
        return [_dto(row) for row in rows]

    async def clear_sender_notices(self, letter_ids: list[int]) -> None:
        if letter_ids:
            await self._session.execute(
                update(Letter).where(Letter.id.in_(letter_ids)).values(sender_notice=False)
            )

    # -- figures for the digest (aggregated here, never rows in Python) --------------------------
    async def figures(
        self, start: datetime, end: datetime, box: str | None, *, reply_days: int
    ) -> tuple[dict[str, dict[str, int]], int, int, float | None]:
        """(letters of [start, end) by box and type, unanswered at `end`, of those overdue,
        median hours to the first reply of letters first answered in [start, end)).
        Anonymous letters count from the start of their day (that is all that is stored)."""
        in_box = [Letter.box == box] if box is not None else []
        received: dict[str, dict[str, int]] = {}
        for row in await self._session.execute(
            select(Letter.box, Letter.type, func.count())
            .where(Letter.created_at >= start, Letter.created_at < end, *in_box)
            .group_by(Letter.box, Letter.type)
        ):
            received.setdefault(row[0], {})[row[1]] = row[2]
        # Waiting at `end`: no first reply yet, or only after `end` (a handled letter always
        # has one). Two ranges of the (first_reply_at, created_at) index, counted there.
        unanswered = overdue = 0
        overdue_before = end - timedelta(days=reply_days)
        for replied in (Letter.first_reply_at.is_(None), Letter.first_reply_at >= end):
            waiting, late = (
                await self._session.execute(
                    select(
                        func.count(),
                        func.sum(case((Letter.created_at < overdue_before, 1), else_=0)),
                    ).where(replied, Letter.created_at < end, *in_box)
                )
            ).one()
            unanswered += int(waiting or 0)
            overdue += int(late or 0)
        hours = _hours(self._session, Letter.first_reply_at, Letter.created_at)
        answered = (Letter.first_reply_at >= start, Letter.first_reply_at < end, *in_box)
        count = int(await self._session.scalar(select(func.count()).where(*answered)) or 0)
        median = None
        if count:
            ordered = select(hours).where(*answered).order_by(hours)
            middle = [
                float(v)
                for v in await self._session.scalars(
                    ordered.offset((count - 1) // 2).limit(2 - count % 2)
                )
            ]
            median = round(sum(middle) / len(middle), 1)
        return received, unanswered, overdue, median

    async def texts(
        self, start: datetime, end: datetime, box: str, *, limit: int, page: int = 500
    ) -> AsyncIterator[str]:
        """Bodies of a box's letters received in [start, end), a page at a time."""
        last_id, seen = 0, 0
        while seen < limit:
            rows = (
                await self._session.execute(
                    select(Letter.id, Letter.body)
                    .where(
                        Letter.box == box,
                        Letter.created_at >= start,
                        Letter.created_at < end,
                        Letter.id > last_id,
                    )
                    .order_by(Letter.id)
                    .limit(min(page, limit - seen))
                )
            ).all()
            for row in rows:
                yield row.body
            seen += len(rows)
            if len(rows) < page:
                return
            last_id = rows[-1].id

    # -- reading: the sender's own paths ----------------------------------------------------------
    async def sent_by(self, member_id: int, sender_tag: str) -> list[LetterDTO]:
        rows = await self._session.execute(
            _letters()
            .where(or_(Letter.member_id == member_id, Letter.sender_tag == sender_tag))
            .order_by(Letter.created_at.desc())
            .limit(20)
        )
        return [_dto(row) for row in rows]

    async def is_sender(self, letter_id: int, member_id: int, sender_tag: str) -> bool:
        found = await self._session.scalar(
            select(Letter.id).where(
                Letter.id == letter_id,
                or_(Letter.member_id == member_id, Letter.sender_tag == sender_tag),
            )
        )
        return found is not None

    async def sealed_sender(self, letter_id: int) -> tuple[int | None, bytes | None]:
        """(member id of a named letter, seal of a confidential one): to deliver replies."""
        row = (
            await self._session.execute(
                select(Letter.member_id, Letter.sender_seal).where(Letter.id == letter_id)
            )
        ).first()
        return (row.member_id, row.sender_seal) if row else (None, None)

    async def by_receipt(self, receipt_hash: str) -> int | None:
        return await self._session.scalar(
            select(Letter.id).where(Letter.receipt_hash == receipt_hash)
        )
