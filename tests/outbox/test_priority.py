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
