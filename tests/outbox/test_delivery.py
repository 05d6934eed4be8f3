"""The real sender against a local Telegram that enforces Telegram's limits.

OutboxWorker + TelegramTransport + aiogram's real HTTP session + FakeBotAPI, with
TelegramLimits as its responder: 30 sends/s bot-wide and 1/s per chat (429 + retry_after past
that), 403/400 for chats that cannot be reached, seeded 500s. Real clock throughout; no test
asserts how long anything took.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy import select

from bot.factory import create_renderers
from bot.telegram_transport import TelegramTransport
from outbox.model import Kind, Notification, Status
from outbox.worker import OutboxWorker, SenderSettings
from storage.database import Database
from storage.models import Member, OutboxMedia, OutboxMessage
from storage.uow import Repositories
from tests.conftest import seed_roster
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_limits import TelegramLimits

SETTINGS = SenderSettings(rate_per_second=25, max_in_flight=8, backoff_base=0.05, max_attempts=6)
FIRST_CHAT = 5001


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with fake.make_bot() as bot:
        yield bot


def make_worker(
    database: Database, bot: Bot, i18n: I18n, settings: SenderSettings = SETTINGS
) -> OutboxWorker:
    return OutboxWorker(database, TelegramTransport(bot, i18n, create_renderers()), settings)


def text(key: str, chat_id: int, body: str | None = None) -> Notification:
    return Notification(
        key=key, chat_id=chat_id, template="text", params={"text": body or f"hello {chat_id}"}
    )


async def enqueue(database: Database, notifications: list[Notification]) -> list[bool]:
    async with database.sessions() as session:
        repos = Repositories(session)
        added = [await repos.outbox.enqueue(n) for n in notifications]
        await repos.commit()
    return added


async def rows(database: Database) -> list[OutboxMessage]:
    async with database.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def status_by_chat(database: Database) -> dict[int, str]:
    return {row.chat_id: row.status for row in await rows(database)}


async def counts(database: Database) -> dict[Status, int]:
    async with database.sessions() as session:
        return await Repositories(session).outbox.counts()


async def add_members(database: Database, chat_to_employee: dict[int, str]) -> None:
    """Roster members registered with these Telegram ids."""
    rows = [(emp, f"Member {emp}", "Maths", "") for emp in chat_to_employee.values()]
    await seed_roster(database, rows)
    async with database.sessions() as session:
        repos = Repositories(session)
        for chat_id, employee_id in chat_to_employee.items():
            member = await repos.members.get_by_employee_id(employee_id)
            assert member is not None
            linked = await repos.members.link_telegram(
                member.id, chat_id, locale="zh", consent_version=1, now=datetime.now(UTC)
            )
            assert linked
        await repos.commit()


async def unreachable_members(database: Database) -> dict[int | None, datetime | None]:
    async with database.sessions() as session:
        members = await session.scalars(select(Member))
        return {m.telegram_id: m.unreachable_since for m in members}


def send_calls_to(fake: FakeBotAPI, chat_id: int, method: str = "sendMessage") -> int:
    return sum(1 for call in fake.calls_of(method) if call.params.get("chat_id") == chat_id)


def rate_of(times: list[float]) -> float:
    times = sorted(times)
    if len(times) < 2 or times[-1] == times[0]:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


# ----------------------------------------------------------------- a realistic broadcast
async def test_broadcast_paced_with_unreachable_chats_and_server_errors(
    fake: FakeBotAPI, bot: Bot, database: Database, i18n: I18n
) -> None:
    chats = list(range(FIRST_CHAT, FIRST_CHAT + 60))
    forbidden = {chats[3], chats[17], chats[41]}
    missing = {chats[8], chats[33]}
    reachable = [c for c in chats if c not in forbidden | missing]
    fake.responder = limits = TelegramLimits(
        forbidden_chats=forbidden, missing_chats=missing, server_error_rate=0.1, seed=1234
    )
    # Some recipients are roster members: being unreachable is recorded on them too.
    members = {chats[3]: "E03", chats[8]: "E08", chats[10]: "E10"}
    await add_members(database, members)

    added = await enqueue(database, [text(f"bc:1:{c}", c) for c in chats])
    assert all(added)

    await make_worker(database, bot, i18n).drain(timeout=45)

    # Telegram's side: one message per reachable chat, and never over a limit.
    assert dict(limits.delivered_to) == dict.fromkeys(reachable, 1)
    assert limits.duplicates() == {}
    assert limits.violations == []
    assert limits.rejected["429"] == 0
    assert limits.rejected["500"] > 0, "the seed should produce some server errors"
    assert limits.max_in_any_window() <= 30
    assert limits.max_in_any_window() <= SETTINGS.rate_per_second + 1
    assert limits.max_per_chat_in_any_window() <= 1
    for chat_id in forbidden | missing:  # tried once, never again
        assert send_calls_to(fake, chat_id) == 1, limits.outcomes_for(chat_id)

    # Our side: every row has its final status and the counts add up.
    statuses = await status_by_chat(database)
    assert {c: statuses[c] for c in reachable} == dict.fromkeys(reachable, Status.SENT)
    assert {c: statuses[c] for c in forbidden | missing} == dict.fromkeys(
        forbidden | missing, Status.UNREACHABLE
    )
    by_status = await counts(database)
    assert by_status[Status.SENT] == len(reachable)
    assert by_status[Status.UNREACHABLE] == len(forbidden) + len(missing)
    assert by_status[Status.QUEUED] == by_status[Status.SENDING] == by_status[Status.FAILED] == 0
    assert sum(by_status.values()) == len(chats)
    for row in await rows(database):
        if row.status == Status.SENT:
            assert row.telegram_message_id is not None and row.sent_at is not None
            assert row.last_error is None
        else:
            assert row.last_error and ("blocked" in row.last_error or "not found" in row.last_error)

    unreachable_since = await unreachable_members(database)
    assert unreachable_since[chats[3]] is not None  # 403
    assert unreachable_since[chats[8]] is not None  # 400 chat not found
    assert unreachable_since[chats[10]] is None  # delivered

    # Measured, not asserted (see the report): python -m pytest -s prints it.
    accepted = [at for at, _ in limits.accepted]
    requests = [event.at for event in limits.events]
    print(
        f"\n2a: {len(accepted)} accepted at {rate_of(accepted):.1f}/s overall;"
        f" {len(requests)} requests at {rate_of(requests):.1f}/s;"
        f" first attempts at {rate_of(requests[: len(chats)]):.1f}/s;"
        f" max {limits.max_in_any_window()} accepted in any 1 s window;"
        f" rejected {dict(limits.rejected)}"
    )


# ----------------------------------------------------------------- idempotency
async def test_the_same_key_is_queued_and_sent_once(
    fake: FakeBotAPI, bot: Bot, database: Database, i18n: I18n
) -> None:
    fake.responder = limits = TelegramLimits()
    # Twice in one transaction, then again in a second one (a retried handler, a re-run job).
    assert await enqueue(database, [text("once", 7001), text("once", 7001)]) == [True, False]
    assert await enqueue(database, [text("once", 7001, "different text, same key")]) == [False]
    assert len(await rows(database)) == 1

    await make_worker(database, bot, i18n).drain(timeout=10)

    # Enqueued again after it was sent: still nothing new.
    assert await enqueue(database, [text("once", 7001)]) == [False]
    await make_worker(database, bot, i18n).drain(timeout=10)

    assert limits.delivered_to == {7001: 1}
    (call,) = fake.calls_of("sendMessage")
    assert call.params["text"] == "hello 7001"
    (row,) = await rows(database)
    assert row.status == Status.SENT and row.attempts == 1


# ----------------------------------------------------------------- flood wait
async def test_retry_after_is_honoured(
    fake: FakeBotAPI, bot: Bot, database: Database, i18n: I18n
) -> None:
    # Telegram allows less than the sender's pace: it must obey every 429 it gets.
    fake.responder = limits = TelegramLimits(global_per_second=10, retry_after=1)
    chats = list(range(FIRST_CHAT, FIRST_CHAT + 24))
    await enqueue(database, [text(f"flood:{c}", c) for c in chats])

    await make_worker(database, bot, i18n).drain(timeout=45)

    assert limits.rejected["429"] > 0
    assert limits.violations == []  # nothing was sent while a retry_after was running
    assert dict(limits.delivered_to) == dict.fromkeys(chats, 1)
    assert limits.max_in_any_window() <= 10
    by_status = await counts(database)
    assert by_status[Status.SENT] == len(chats)
    assert sum(by_status.values()) == len(chats)
    # A 429 is not the message's fault: it costs no attempt.
    assert {row.attempts for row in await rows(database)} == {1}
    print(
        f"\n2c: {limits.rejected['429']} x 429 for {len(chats)} messages, "
        f"{len(limits.violations)} violations, rejected {dict(limits.rejected)}"
    )


# ----------------------------------------------------------------- giving up
async def test_server_errors_give_up_after_max_attempts(
    fake: FakeBotAPI, bot: Bot, database: Database, i18n: I18n
) -> None:
    fake.responder = limits = TelegramLimits(server_error_rate=1.0)
    settings = SenderSettings(
        rate_per_second=25, max_in_flight=8, backoff_base=0.01, max_attempts=3
    )
    chats = [7101, 7102, 7103]
    await enqueue(database, [text(f"down:{c}", c) for c in chats])

    await make_worker(database, bot, i18n, settings).drain(timeout=30)

    for row in await rows(database):
        assert row.status == Status.FAILED
        assert row.attempts == 3
        assert row.last_error is not None and "gave up after 3 attempts" in row.last_error
        assert "ServerError" in row.last_error
    for chat_id in chats:
        assert send_calls_to(fake, chat_id) == 3
        assert limits.outcomes_for(chat_id) == ["500"] * 3
    assert limits.delivered_to == {}

    # Nothing is retried later either: a fresh sender finds no work.
    limits.server_error_rate = 0.0
    await make_worker(database, bot, i18n, settings).drain(timeout=5)
    assert len(fake.calls_of("sendMessage")) == 3 * len(chats)


# ----------------------------------------------------------------- refused message
async def test_a_refused_message_fails_at_once(
    fake: FakeBotAPI, bot: Bot, database: Database, i18n: I18n
) -> None:
    limits = TelegramLimits()
    too_long = 7201

    async def responder(method: str, params: dict[str, Any]) -> web.Response | None:
        if method.lower() == "sendmessage" and params.get("chat_id") == too_long:
            body = {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message is too long",
            }
            return web.json_response(body, status=400)
        return await limits(method, params)

    fake.responder = responder
    await add_members(database, {too_long: "E-LONG"})
    await enqueue(database, [text("long", too_long), text("fine", 7202)])

    await make_worker(database, bot, i18n).drain(timeout=10)

    statuses = await status_by_chat(database)
    assert statuses == {too_long: Status.FAILED, 7202: Status.SENT}
    (failed,) = [row for row in await rows(database) if row.chat_id == too_long]
    assert failed.last_error is not None and "message is too long" in failed.last_error
    assert failed.attempts == 1
    assert send_calls_to(fake, too_long) == 1  # not retried
    # Not the person's fault: they stay reachable for the next message.
    assert (await unreachable_members(database))[too_long] is None


# ----------------------------------------------------------------- media
async def _add_media(database: Database, content: bytes) -> int:
    async with database.sessions() as session:
        repos = Repositories(session)
        media_id = await repos.outbox.add_media("report.xlsx", content)
        await repos.commit()
    return media_id


def document(key: str, chat_id: int, media_id: int) -> Notification:
    return Notification(
        key=key,
        chat_id=chat_id,
        template="text",
        params={"text": "Weekly report"},
        kind=Kind.DOCUMENT,
        media_id=media_id,
    )


async def _stored_file_id(database: Database, media_id: int) -> str | None:
    async with database.sessions() as session:
        media = await session.get(OutboxMedia, media_id)
        assert media is not None
        return media.telegram_file_id


async def test_a_document_is_uploaded_once_then_sent_by_file_id(
    fake: FakeBotAPI, bot: Bot, database: Database, i18n: I18n
) -> None:
    fake.responder = limits = TelegramLimits()
    content = b"PK\x03\x04 fake xlsx " * 100
    media_id = await _add_media(database, content)
    assert await _add_media(database, content) == media_id  # stored once, by content
    worker = make_worker(database, bot, i18n)

    await enqueue(database, [document("doc:1", 7301, media_id)])
    await worker.drain(timeout=10)
    file_id = await _stored_file_id(database, media_id)
    assert file_id is not None

    await enqueue(database, [document("doc:2", 7302, media_id)])
    await worker.drain(timeout=10)

    first, second = fake.calls_of("sendDocument")
    assert first.params["chat_id"] == 7301
    assert first.params["document"] == {"filename": "report.xlsx", "size": len(content)}
    assert first.params["caption"] == "Weekly report"
    assert first.result["document"]["file_id"] == file_id
    assert second.params["chat_id"] == 7302
    assert second.params["document"] == file_id  # no upload
    assert second.params["caption"] == "Weekly report"
    assert dict(limits.delivered_to) == {7301: 1, 7302: 1}
    assert set((await status_by_chat(database)).values()) == {Status.SENT}
    assert await _stored_file_id(database, media_id) == file_id


async def test_a_document_queued_for_many_chats_at_once_is_uploaded_once(
    fake: FakeBotAPI, bot: Bot, database: Database, i18n: I18n
) -> None:
    fake.responder = TelegramLimits()
    content = b"PK\x03\x04 big export " * 1000
    media_id = await _add_media(database, content)
    chats = list(range(7401, 7411))
    await enqueue(database, [document(f"docs:{c}", c, media_id) for c in chats])

    await make_worker(database, bot, i18n).drain(timeout=20)

    uploads = [c for c in fake.calls_of("sendDocument") if isinstance(c.params["document"], dict)]
    assert len(fake.calls_of("sendDocument")) == len(chats)
    print(f"\nmedia: {len(uploads)} uploads for {len(chats)} chats")
    assert len(uploads) == 1
