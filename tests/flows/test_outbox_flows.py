"""Outbox seen from the bot: reachability from my_chat_member, broadcast progress, status."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import Chat, ChatMemberBanned, ChatMemberMember, ChatMemberUpdated, Update
from sqlalchemy import select

from bot.progress import BroadcastProgressReporter
from outbox.broadcasts import start_broadcast
from outbox.model import Notification
from storage.models import Broadcast, Member, OutboxMessage
from storage.uow import unit_of_work
from tests.conftest import register, seed_roster
from tests.harness import TgUser

ZHANG = TgUser(id=3001, first_name="张三")
OFFICER = TgUser(id=3002, first_name="王五")
ROSTER = [("T1", "张三", "机电学院", ""), ("T2", "王五", "工会办公室", "officer")]


def chat_member_update(user: TgUser, *, blocked: bool, update_id: int) -> Update:
    bot_user = {"id": 42, "is_bot": True, "first_name": "UnionVoice"}
    kicked = ChatMemberBanned(user=bot_user, until_date=0)
    member = ChatMemberMember(user=bot_user)
    event = ChatMemberUpdated(
        chat=Chat(id=user.id, type="private"),
        from_user=user.as_user(),
        date=datetime.now(UTC),
        old_chat_member=member if blocked else kicked,
        new_chat_member=kicked if blocked else member,
    )
    return Update(update_id=update_id, my_chat_member=event)


async def unreachable_since(database, employee_id: str):
    async with database.sessions() as session:
        return await session.scalar(
            select(Member.unreachable_since).where(Member.employee_id == employee_id)
        )


async def notify(database, key: str, chat_id: int, text: str) -> None:
    async with unit_of_work(database.sessions) as repos:
        await repos.outbox.enqueue(
            Notification(key=key, chat_id=chat_id, template="text", params={"text": text})
        )
        await repos.commit()


async def test_blocking_the_bot_stops_messages_and_unblocking_resumes(app, database):
    await seed_roster(database, ROSTER)
    await register(app, ZHANG, "T1", "张三")
    await app.feed(chat_member_update(ZHANG, blocked=True, update_id=900_001))
    assert await unreachable_since(database, "T1") is not None

    await notify(database, "while-blocked", ZHANG.id, "通知一")
    assert not (await app.flush_outbox()).sent_to(ZHANG.id)
    async with database.sessions() as session:
        status = await session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.idempotency_key == "while-blocked")
        )
    assert status == "unreachable"

    await app.feed(chat_member_update(ZHANG, blocked=False, update_id=900_002))
    assert await unreachable_since(database, "T1") is None
    await notify(database, "after-unblock", ZHANG.id, "通知二")
    assert "通知二" in (await app.flush_outbox()).sent_to(ZHANG.id)[0].text


async def test_the_same_notification_queued_twice_is_sent_once(app, database):
    await notify(database, "once", ZHANG.id, "只发一次")
    await notify(database, "once", ZHANG.id, "只发一次")
    assert len((await app.flush_outbox()).sent_to(ZHANG.id)) == 1
    await notify(database, "once", ZHANG.id, "只发一次")
    assert not (await app.flush_outbox()).requests


async def test_broadcast_progress_is_one_message_edited_to_a_final_report(app, database, i18n):
    recipients = [5000 + i for i in range(5)]
    async with unit_of_work(database.sessions) as repos:
        broadcast_id = await start_broadcast(
            repos,
            title="工会服务满意度调查",
            notifications=[
                Notification(
                    key=f"b:{chat}", chat_id=chat, template="text", params={"text": "邀请"}
                )
                for chat in recipients
            ],
            progress_chat_id=OFFICER.id,
            progress_locale="zh",
        )
    reporter = BroadcastProgressReporter(app.bot, database, i18n, interval=1, rate_per_second=25)
    start = len(app.session.requests)
    await reporter.tick()
    first = [r for r in app.session.requests[start:] if isinstance(r, SendMessage)]
    assert len(first) == 1 and "已发送 0 / 5 · 无法送达 0 · 预计剩余 不到 1 分钟" in first[0].text

    await app.flush_outbox()
    start = len(app.session.requests)
    await reporter.tick()
    edits = [r for r in app.session.requests[start:] if isinstance(r, EditMessageText)]
    assert len(edits) == 1 and "发送完成：已发送 5 / 5" in edits[0].text
    assert not [r for r in app.session.requests[start:] if isinstance(r, SendMessage)]
    async with database.sessions() as session:
        finished = await session.scalar(
            select(Broadcast.finished_at).where(Broadcast.id == broadcast_id)
        )
    assert finished is not None
