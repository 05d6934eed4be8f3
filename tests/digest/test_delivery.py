"""Delivery: what each recipient gets through the outbox (HTML parts, chart, workbook), exactly
once per member and period — twice run, two instances at once, a restart — the catch-up after
downtime, and re-sends that show the stored digest unchanged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from sqlalchemy import func, select

from bot.scheduler import send_digests, translator
from bot.services import Services
from digest.period import Period, latest_due
from digest.service import DigestService, english
from digest.settings import DigestSettings
from storage.models import OutboxMessage
from storage.models_digest import DigestDelivery
from storage.uow import Repositories, unit_of_work
from tests.conftest import make_driver
from tests.digest.world import (
    NOW,
    TELEGRAM,
    W48_DAY,
    Clock,
    add_survey,
    answer,
    file_suggestion,
    make_world,
)

W48 = Period(2026, 48)
SHANGHAI = ZoneInfo("Asia/Shanghai")
RECIPIENTS = ("O1", "Z1", "PR", "SE", "H1")


@pytest.fixture
async def world(database):
    async with database.sessions() as session:
        world = await make_world(database, Repositories(session))
        survey_id = await add_survey(world)
        for _ in range(5):
            await answer(world, survey_id, W48_DAY, 4, 9, "食堂<b>排队</b>时间太长")
        await file_suggestion(
            world, "M1", "食堂排队", "午餐排队太久", datetime(2026, 11, 24, 3, tzinfo=UTC)
        )
        yield world


async def _outbox(repos: Repositories) -> list[OutboxMessage]:
    """The digest's messages (the world's proposal also notified its proposer)."""
    return list(
        await repos.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.idempotency_key.startswith("digest:"))
            .order_by(OutboxMessage.id)
        )
    )


async def test_every_recipient_gets_text_chart_and_workbook_once(world) -> None:
    service = DigestService(world.repos, DigestSettings(), clock=world.clock)
    counts = await service.deliver(W48, english)
    assert counts == {"queued": 5, "already": 0, "resent": 0}
    rows = await _outbox(world.repos)
    chats = {TELEGRAM[e] for e in RECIPIENTS}
    assert {row.chat_id for row in rows} == chats  # members without a role get nothing
    for chat_id in chats:
        kinds = [row.kind for row in rows if row.chat_id == chat_id]
        assert kinds[-2:] == ["photo", "document"] and set(kinds[:-2]) == {"text"}

    again = await service.deliver(W48, english)
    assert again == {"queued": 0, "already": 5, "resent": 0}
    assert len(await _outbox(world.repos)) == len(rows)


async def test_two_instances_at_once_send_once(world, database) -> None:
    async def instance() -> dict[str, int]:
        async with unit_of_work(database.sessions) as repos:
            return await DigestService(repos, DigestSettings(), clock=Clock()).deliver(W48, english)

    first, second = await asyncio.gather(instance(), instance())
    assert first["queued"] + second["queued"] == 5
    async with unit_of_work(database.sessions) as repos:
        deliveries = await repos.session.scalar(select(func.count()).select_from(DigestDelivery))
        digests = {row.digest_id for row in await repos.session.scalars(select(DigestDelivery))}
        texts = await repos.session.scalar(
            select(func.count()).where(
                OutboxMessage.chat_id == TELEGRAM["O1"], OutboxMessage.kind == "photo"
            )
        )
    assert deliveries == 5
    assert len(digests) == 4  # officers (with the chair), two boxes, one department
    assert texts == 1


async def test_restart_mid_run_sends_the_rest_only(world, database) -> None:
    service = DigestService(world.repos, DigestSettings(), clock=world.clock)
    recipients = await service.recipients()
    # As if the process died after the first two members' transactions committed.
    digest = await service.build(W48, recipients[0][1])
    await world.repos.digests.claim_delivery(recipients[0][0].member_id, W48.key, digest.id)
    await world.repos.commit()
    counts = await service.deliver(W48, english)
    assert counts == {"queued": 4, "already": 1, "resent": 0}


async def test_catch_up_sends_the_missed_digest_at_start(world, database, config) -> None:
    # Before Monday 08:30 the latest due is two weeks back; from then on, last week.
    monday = datetime(2026, 11, 30, 8, 29, tzinfo=SHANGHAI)
    assert latest_due(monday, 1, time(8, 30), SHANGHAI) == Period(2026, 47)
    assert latest_due(monday.replace(minute=30), 1, time(8, 30), SHANGHAI) == W48
    # The bot was down on Monday and starts on Tuesday: the job's first run sends W48 …
    tuesday = Clock(NOW)
    assert (await send_digests(Services(config, clock=tuesday), database, english))["queued"] == 5
    # … and its runs every few minutes, or a second instance, send nothing more.
    assert (await send_digests(Services(config, clock=tuesday), database, english))["queued"] == 0
    next_monday = Clock(datetime(2026, 12, 7, 8, 29, tzinfo=SHANGHAI))
    assert (await send_digests(Services(config, clock=next_monday), database, english))[
        "queued"
    ] == 0
    next_monday.now = next_monday.now.replace(minute=30)
    assert (await send_digests(Services(config, clock=next_monday), database, english))[
        "queued"
    ] == 5
    async with unit_of_work(database.sessions) as repos:
        periods = set(await repos.session.scalars(select(DigestDelivery.period)))
    assert periods == {"2026-W48", "2026-W49"}


async def test_resend_shows_the_stored_digest(world) -> None:
    service = DigestService(world.repos, DigestSettings(), clock=world.clock)
    await service.deliver(W48, english)
    first = [r.params for r in await _outbox(world.repos) if r.chat_id == TELEGRAM["O1"]]
    # New answers for that week arrive after it was sent: the re-send does not change.
    survey_id = (await world.repos.digests.active_surveys(W48.start(SHANGHAI), NOW))[0].id
    await answer(world, survey_id, W48_DAY, 1, 0)
    assert await service.resend_to(world.member_id("O1"), W48, english)
    counts = await service.deliver(W48, english, resend=True)
    assert counts["resent"] == 5
    rows = [r for r in await _outbox(world.repos) if r.chat_id == TELEGRAM["O1"]]
    texts = [r.params for r in rows if r.template == "digest.text"]
    assert len(texts) == 3 * len([p for p in first if '"digest_id"' in p])
    assert len({p for p in texts}) == len([p for p in first if '"digest_id"' in p])


async def test_recipients_read_it_in_telegram(world, config, database, i18n) -> None:
    service = DigestService(world.repos, DigestSettings(), clock=world.clock)
    await service.deliver(W48, translator(config))
    app = make_driver(config, database, i18n)
    sent = (await app.flush_outbox()).requests
    officer = TELEGRAM["O1"]
    texts = [r for r in sent if isinstance(r, SendMessage) and r.chat_id == officer]
    body = "\n".join(r.text for r in texts)
    assert "2026-W48" in body and "&lt;b&gt;排队&lt;/b&gt;" in body  # quotes escaped
    assert all(len(r.text) <= 4096 for r in texts)
    assert "ia1:n" in str(texts[-1].reply_markup)  # themes → open an improvement action
    assert any(isinstance(r, SendPhoto) and r.chat_id == officer for r in sent)
    documents = [r for r in sent if isinstance(r, SendDocument) and r.chat_id == officer]
    assert documents and documents[0].document.filename.endswith(".xlsx")
    handler = [r for r in sent if isinstance(r, SendMessage) and r.chat_id == TELEGRAM["H1"]]
    assert handler and "ia1:n" not in str(handler[-1].reply_markup)
