"""Held work notices: merged per chat and template by the notice sweep, exactly once; muted
kinds are not queued at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from outbox.model import Notification, Status
from proposals import notifications as proposals
from storage.models import Member
from storage.uow import unit_of_work
from tests.conftest import seed_roster
from todo.notices import NOTICE_BATCH, NoticeKind
from todo.service import send_held_notices


def review(proposal_id: int, chat_id: int) -> Notification:
    return Notification(
        key=f"proposal:{proposal_id}:review:{chat_id}",
        chat_id=chat_id,
        template=proposals.PROPOSAL_REVIEW,
        params={"proposal_id": proposal_id, "title": f"t{proposal_id}"},
    )


async def test_held_notices_are_merged_per_chat_once(database):
    later = datetime.now(UTC) + timedelta(seconds=1)
    async with unit_of_work(database.sessions) as repos:
        for notification in (review(1, 10), review(2, 10), review(3, 10), review(1, 20)):
            assert await repos.outbox.enqueue(notification)
        await repos.commit()
        assert await repos.outbox.claim(10, later) == [], "held: the sender does not see them"
        assert await send_held_notices(repos, datetime.now(UTC)) == {"released": 2}
        assert await send_held_notices(repos, datetime.now(UTC)) == {"released": 0}
        assert not await repos.outbox.enqueue(review(2, 10)), "its key is still taken"
        claimed = {m.chat_id: m for m in await repos.outbox.claim(10, later)}
        counts = await repos.outbox.counts()
    assert claimed[10].template == NOTICE_BATCH
    assert [item["proposal_id"] for item in claimed[10].params["items"]] == [1, 2, 3]
    assert claimed[20].template == proposals.PROPOSAL_REVIEW  # alone: sent as it is
    assert counts[Status.BATCHED] == 3 and counts[Status.HELD] == 0


async def test_a_muted_kind_is_not_queued(database):
    await seed_roster(database, [("O1", "干部丁", "工会办公室", "officer")])
    async with unit_of_work(database.sessions) as repos:
        member = await repos.members.get_by_employee_id("O1")
        assert member is not None
        await repos.session.execute(
            update(Member).where(Member.id == member.id).values(telegram_id=30)
        )
        await repos.work.set_muted(member.id, NoticeKind.REVIEW.value, True)
        assert not await repos.outbox.enqueue(review(1, 30))
        assert await repos.outbox.enqueue(review(1, 31)), "someone else's chat"
        await repos.work.set_muted(member.id, NoticeKind.REVIEW.value, False)
        assert await repos.outbox.enqueue(review(1, 30))
