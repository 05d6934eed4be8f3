# Longer than 400 lines on purpose: the outbox's whole state machine in SQL (enqueue, claim,
# lease, record, requeue, prune), so every status move and its guard read together.
"""The outbox table: enqueue idempotently, claim atomically, record what Telegram said."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from outbox.model import BroadcastDTO, ClaimedMessage, Kind, Media, Notification, Progress, Status
from storage.base import dialect_insert, rowcount, utcnow
from storage.models import Broadcast, Member, NoticeMute, OutboxMedia, OutboxMessage
from todo.notices import BATCHED, NOTICE_BATCH, TEMPLATE_KINDS

CHUNK = 500  # rows per multi-row insert (SQLite allows 32,766 bound values)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.enqueued = 0  # in this unit of work: lets the caller wake the sender

    # -- enqueueing -----------------------------------------------------------------------------
    async def enqueue(self, notification: Notification) -> bool:
        """Queue one message; False if its key was queued before (it is sent once) or the
        recipient muted this kind of notice."""
        member = (
            await self._session.execute(
                select(Member.id, Member.unreachable_since).where(
                    Member.telegram_id == notification.chat_id
                )
            )
        ).first()
        kind = TEMPLATE_KINDS.get(notification.template)
        if member is not None and kind is not None and await self._muted(member.id, kind):
            return False
        unreachable = member is not None and member.unreachable_since is not None
        statement = (
            dialect_insert(self._session)(OutboxMessage)
            .values(self._row(notification, unreachable=unreachable))
            .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
        )
        result = await self._session.execute(statement)
        added = rowcount(result) == 1
        self.enqueued += added
        return added

    async def enqueue_many(self, notifications: Sequence[Notification]) -> int:
        """Queue many at once (a broadcast): one lookup and one multi-row insert per chunk,
        so a 10,000-recipient broadcast holds SQLite's write lock for a moment, not seconds.
        Returns how many were new."""
        added = 0
        for start in range(0, len(notifications), CHUNK):
            chunk = notifications[start : start + CHUNK]
            chat_ids = {n.chat_id for n in chunk}
            unreachable = set(
                await self._session.scalars(
                    select(Member.telegram_id).where(
                        Member.telegram_id.in_(chat_ids), Member.unreachable_since.is_not(None)
                    )
                )
            )
            keys = [n.key for n in chunk]
            existing = set(
                await self._session.scalars(
                    select(OutboxMessage.idempotency_key).where(
                        OutboxMessage.idempotency_key.in_(keys)
                    )
                )
            )
            rows = [
                self._row(n, unreachable=n.chat_id in unreachable)
                for n in dict((n.key, n) for n in chunk if n.key not in existing).values()
            ]
            if rows:
                await self._session.execute(
                    dialect_insert(self._session)(OutboxMessage)
                    .values(rows)
                    .on_conflict_do_nothing(index_elements=[OutboxMessage.idempotency_key])
                )
            added += len(rows)
        self.enqueued += added
        return added

    @staticmethod
    def _row(notification: Notification, *, unreachable: bool) -> dict[str, Any]:
        return {
            "idempotency_key": notification.key,
            "chat_id": notification.chat_id,
            "locale": notification.locale,
            "template": notification.template,
            "params": json.dumps(notification.params, ensure_ascii=False),
            "kind": notification.kind.value,
            "media_id": notification.media_id,
            "broadcast_id": notification.broadcast_id,
            "forget": notification.forget,
            # Known unreachable: recorded (so progress adds up), never sent.
            "status": (
                Status.UNREACHABLE
                if unreachable
                else Status.HELD
                if notification.template in BATCHED
                else Status.QUEUED
            ),
            "last_error": "unreachable when queued" if unreachable else None,
            "attempts": 0,
            "next_attempt_at": notification.at or utcnow(),
            "created_at": notification.at or utcnow(),
        }

    async def _muted(self, member_id: int, kind: str) -> bool:
        found = await self._session.scalar(
            select(NoticeMute.member_id).where(
                NoticeMute.member_id == member_id, NoticeMute.kind == kind
            )
        )
        return found is not None

    async def release_held(self, now: datetime) -> int:
        """The notice sweep: held work notices go out, one message per chat and template.

        A lone notice is queued as it is; several become one NOTICE_BATCH message carrying
        their params, and are marked BATCHED (their keys stay, so a sweep that made them never
        makes them again). Run by one scheduler (the leader), inside one transaction.
        Returns how many messages were queued."""
        rows = (
            await self._session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.chat_id,
                    OutboxMessage.locale,
                    OutboxMessage.template,
                    OutboxMessage.params,
                )
                .where(OutboxMessage.status == Status.HELD)
                .order_by(OutboxMessage.id)
            )
        ).all()
        groups: dict[tuple[int, str], list[Any]] = {}
        for row in rows:
            groups.setdefault((row.chat_id, row.template), []).append(row)
        released = 0
        for (chat_id, template), group in groups.items():
            ids = [row.id for row in group]
            if len(group) == 1:
                await self._session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == ids[0], OutboxMessage.status == Status.HELD)
                    .values(status=Status.QUEUED, next_attempt_at=now)
                )
                self.enqueued += 1
            else:
                await self._session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids), OutboxMessage.status == Status.HELD)
                    .values(status=Status.BATCHED, last_error=f"sent within batch of {ids[0]}")
                )
                await self.enqueue(
                    Notification(
                        key=f"batch:{ids[0]}:{len(ids)}",
                        chat_id=chat_id,
                        locale=group[-1].locale,
                        template=NOTICE_BATCH,
                        params={
                            "template": template,
                            "items": [json.loads(row.params) for row in group],
                        },
                    )
                )
            released += 1
        return released

    async def add_media(self, filename: str, content: bytes) -> int:
        """Store a file once (by content hash) and return its id."""
        digest = hashlib.sha256(content).hexdigest()
        await self._session.execute(
            dialect_insert(self._session)(OutboxMedia)
            .values(sha256=digest, filename=filename, content=content)
            .on_conflict_do_nothing(index_elements=[OutboxMedia.sha256])
        )
        media_id = await self._session.scalar(
            select(OutboxMedia.id).where(OutboxMedia.sha256 == digest)
        )
        assert media_id is not None
        return media_id

    async def create_broadcast(
        self, title: str, progress_chat_id: int | None, progress_locale: str | None
    ) -> int:
        broadcast = Broadcast(
            title=title, progress_chat_id=progress_chat_id, progress_locale=progress_locale
        )
        self._session.add(broadcast)
        await self._session.flush()
        return broadcast.id

    async def set_broadcast_total(self, broadcast_id: int, total: int) -> None:
        await self._session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(total=total)
        )

    # -- the sender -----------------------------------------------------------------------------
    async def claim(
        self, limit: int, now: datetime, chat_gap: float = 0.0, claimer: str | None = None
    ) -> list[ClaimedMessage]:
        """Atomically move up to `limit` due messages to 'sending' and return them.

        On PostgreSQL (several senders) a chat is skipped while another message to it is being
        sent, or was sent less than `chat_gap` seconds ago."""
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == Status.QUEUED, OutboxMessage.next_attempt_at <= now)
            # Personal notices (no broadcast) first: an approval must not wait behind a
            # 10,000-message invitation run.
            .order_by(
                OutboxMessage.broadcast_id.is_not(None),
                OutboxMessage.next_attempt_at,
                OutboxMessage.id,
            )
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            # Several senders: a chat another one is sending to, or sent to within Telegram's
            # one-message-a-second, waits (each sender's own pacer knows only its own sends).
            other = aliased(OutboxMessage)
            busy = select(other.id).where(
                other.chat_id == OutboxMessage.chat_id,
                (other.status == Status.SENDING)
                | (other.sent_at > now - timedelta(seconds=chat_gap)),
            )
            due = due.where(~busy.exists()).with_for_update(skip_locked=True)
        rows = (
            await self._session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(status=Status.SENDING, claimed_at=now, claimed_by=claimer)
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.chat_id,
                    OutboxMessage.locale,
                    OutboxMessage.template,
                    OutboxMessage.params,
                    OutboxMessage.kind,
                    OutboxMessage.attempts,
                    OutboxMessage.media_id,
                    OutboxMessage.next_attempt_at,
                    OutboxMessage.broadcast_id,
                    OutboxMessage.forget,
                )
            )
        ).all()
        rows = sorted(rows, key=lambda r: (r.broadcast_id is not None, r.next_attempt_at, r.id))
        media = await self._media({r.media_id for r in rows if r.media_id is not None})
        return [
            ClaimedMessage(
                id=r.id,
                chat_id=r.chat_id,
                locale=r.locale,
                template=r.template,
                params=json.loads(r.params),
                kind=Kind(r.kind),
                attempts=r.attempts,
                media_id=r.media_id,
                media=media.get(r.media_id) if r.media_id is not None else None,
                forget=r.forget,
            )
            for r in rows
        ]

    async def _media(self, ids: set[int]) -> dict[int, Media]:
        if not ids:
            return {}
        rows = await self._session.scalars(select(OutboxMedia).where(OutboxMedia.id.in_(ids)))
        return {
            m.id: Media(filename=m.filename, content=m.content, telegram_file_id=m.telegram_file_id)
            for m in rows
        }

    async def mark_sent(
        self,
        message: ClaimedMessage,
        now: datetime,
        telegram_message_id: int | None,
        telegram_file_id: str | None,
    ) -> None:
        if message.forget:
            await self._forget(message.id)
            return
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                status=Status.SENT,
                sent_at=now,
                telegram_message_id=telegram_message_id,
                attempts=message.attempts + 1,
                last_error=None,
            )
        )
        if telegram_file_id and message.media_id is not None:
            await self._session.execute(
                update(OutboxMedia)
                .where(OutboxMedia.id == message.media_id, OutboxMedia.telegram_file_id.is_(None))
                .values(telegram_file_id=telegram_file_id)
            )

    async def mark_unreachable(self, message: ClaimedMessage, error: str, now: datetime) -> None:
        if message.forget:
            await self._forget(message.id)
        else:
            await self._finish(message.id, Status.UNREACHABLE, error, message.attempts + 1)
        await self._session.execute(
            update(Member)
            .where(Member.telegram_id == message.chat_id, Member.unreachable_since.is_(None))
            .values(unreachable_since=now)
        )

    async def mark_failed(self, message: ClaimedMessage, error: str) -> None:
        if message.forget:
            await self._forget(message.id)
        else:
            await self._finish(message.id, Status.FAILED, error, message.attempts + 1)

    async def _forget(self, message_id: int) -> None:
        await self._session.execute(delete(OutboxMessage).where(OutboxMessage.id == message_id))

    async def _finish(self, message_id: int, status: Status, error: str, attempts: int) -> None:
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status=status, last_error=error[:300], attempts=attempts)
        )

    async def reschedule(
        self, message_id: int, at: datetime, *, attempts: int, error: str | None
    ) -> None:
        """Back to the queue, due at `at` (a retry, or a flood-wait pause)."""
        await self._session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status=Status.QUEUED,
                next_attempt_at=at,
                attempts=attempts,
                last_error=error[:300] if error else None,
                claimed_at=None,
                claimed_by=None,
            )
        )

    async def recover(self, claimed_before: datetime | None = None) -> int:
        """Messages a dead sender had claimed go back to the queue (they may have been sent:
        this is the documented at-most-in-flight duplicate bound). With several senders only
        claims older than `claimed_before` are taken: live senders keep theirs fresh."""
        statement = update(OutboxMessage).where(OutboxMessage.status == Status.SENDING)
        if claimed_before is not None:
            statement = statement.where(OutboxMessage.claimed_at < claimed_before)
        result = await self._session.execute(
            statement.values(status=Status.QUEUED, claimed_at=None, claimed_by=None)
        )
        return rowcount(result)

    async def touch(self, message_ids: Sequence[int], now: datetime, claimer: str) -> set[int]:
        """Renew this sender's claims, so no other sender takes them for abandoned. Returns
        the ids still held: the others were taken back while this sender could not renew."""
        if not message_ids:
            return set()
        renewed = await self._session.scalars(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(message_ids),
                OutboxMessage.status == Status.SENDING,
                OutboxMessage.claimed_by == claimer,
            )
            .values(claimed_at=now)
            .returning(OutboxMessage.id)
        )
        return set(renewed)

    async def next_due_at(self) -> datetime | None:
        return await self._session.scalar(
            select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == Status.QUEUED
            )
        )

    # -- reporting -----------------------------------------------------------------------------
    async def counts(self, broadcast_id: int | None = None) -> dict[Status, int]:
        statement = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if broadcast_id is not None:
            statement = statement.where(OutboxMessage.broadcast_id == broadcast_id)
        counts = {status: 0 for status in Status}
        for status, count in (await self._session.execute(statement)).all():
            counts[Status(status)] = count
        return counts

    async def progress(self, broadcast_id: int) -> Progress:
        counts = await self.counts(broadcast_id)
        return Progress(
            total=sum(counts.values()),
            sent=counts[Status.SENT],
            unreachable=counts[Status.UNREACHABLE],
            failed=counts[Status.FAILED],
        )

    async def unfinished_broadcasts(self) -> list[BroadcastDTO]:
        rows = await self._session.scalars(
            select(Broadcast).where(Broadcast.finished_at.is_(None)).order_by(Broadcast.id)
        )
        return [
            BroadcastDTO(
                b.id,
                b.title,
                b.total,
                b.progress_chat_id,
                b.progress_message_id,
                b.progress_locale,
                b.created_at,
            )
            for b in rows
        ]

    async def set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        await self._session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(progress_message_id=message_id)
        )

    async def finish_broadcast(self, broadcast_id: int, now: datetime) -> None:
        await self._session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(finished_at=now)
        )
