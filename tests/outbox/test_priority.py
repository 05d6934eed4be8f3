"""A personal notice queued during a big broadcast goes out next, not after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outbox.broadcasts import start_broadcast
from outbox.model import Notification
from outbox.pacing import Pacer
from storage.uow import unit_of_work
from tests.fakes.telegram_limits import ManualClock


async def test_personal_notices_are_claimed_before_broadcast_messages(database):
    async with unit_of_work(database.sessions) as repos:
        await start_broadcast(
            repos,
            title="邀请",
            notifications=[
                Notification(key=f"b{i}", chat_id=100 + i, template="text", params={"text": "x"})
                for i in range(50)
            ],
        )
        await repos.outbox.enqueue(
            Notification(key="approval", chat_id=9, template="text", params={"text": "通过"})
        )
        await repos.commit()
        claimed = await repos.outbox.claim(5, datetime.now(UTC) + timedelta(seconds=1))
    assert [m.chat_id for m in claimed] == [9, 100, 101, 102, 103]


def test_the_window_counts_sends_that_really_went_out():
    clock = ManualClock()
    pacer = Pacer(rate_per_second=3, clock=clock)
    for _ in range(3):
        assert pacer.window_wait() == 0
        pacer.record_send()
        clock.advance(0.1)
    # Three sends in the last 0.3 s: the fourth waits until the first leaves the window.
    assert abs(pacer.window_wait() - 0.7) < 1e-9
    clock.advance(0.7)
    assert pacer.window_wait() == 0


async def test_a_broadcast_is_queued_in_bulk_once_per_key_with_unreachable_members_marked(
    database,
):
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from storage.models import OutboxMessage
    from tests.conftest import seed_roster

    await seed_roster(database, [("U1", "甲", "部门", "")])
    async with unit_of_work(database.sessions) as repos:
        member = await repos.members.get_by_employee_id("U1")
        assert member is not None
        await repos.members.link_telegram(
            member.id, 555, locale="zh", consent_version=1, now=datetime.now(UTC)
        )
        await repos.members.set_reachable(555, False, datetime.now(UTC))
        await repos.commit()
        notifications = [
            Notification(
                key=f"k{i % 1200}",
                chat_id=555 if i == 0 else 1000 + i,
                template="text",
                params={"text": "邀请"},
            )
            for i in range(1300)  # 100 repeated keys, across chunks
        ]
        await start_broadcast(repos, title="批量", notifications=notifications)
    async with database.sessions() as session:
        counts = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
    assert counts == {"queued": 1199, "unreachable": 1}


async def test_several_senders_keep_telegrams_pace_in_one_chat(database, db_url):
    """On PostgreSQL (several senders) a chat being sent to, or sent to within the gap, waits;
    one process on SQLite paces chats itself."""
    now = datetime.now(UTC)
    async with unit_of_work(database.sessions) as repos:
        for key, chat in (("a1", 1), ("a2", 1), ("b1", 2)):
            await repos.outbox.enqueue(
                Notification(key=key, chat_id=chat, template="text", params={"text": key})
            )
        await repos.commit()
        first = await repos.outbox.claim(1, now + timedelta(seconds=1), chat_gap=1.05)
        await repos.commit()
        rest = await repos.outbox.claim(10, now + timedelta(seconds=1), chat_gap=1.05)
        await repos.commit()
    assert [m.chat_id for m in first] == [1]
    if db_url.startswith("postgresql"):
        assert [m.chat_id for m in rest] == [2]  # chat 1 is busy with the first message
    else:
        assert sorted(m.chat_id for m in rest) == [1, 2]
