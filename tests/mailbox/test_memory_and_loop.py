"""What the mailbox keeps in memory is forgotten on schedule, and its slow hash does not stall
the bot: abandoned anonymous drafts are swept by a scheduled job, and receipt codes are hashed
(scrypt, tens of milliseconds) in a worker thread while other updates go on."""

from __future__ import annotations

import asyncio
import threading

from bot import scheduler as jobs
from bot.services import Services
from mailboxes.memory import AnonymousSession, AnonymousSessions, Stage
from mailboxes.model import Draft, LetterType
from mailboxes.sealing import Sealer
from tests.conftest import make_config
from tests.mailbox.conftest import OTHER, SENDER, receipt_code_in, write_letter

TTL = 3600.0


async def test_abandoned_anonymous_drafts_are_swept_by_a_scheduled_job(db_url, database):
    now = [0.0]  # a fake monotonic clock
    sessions = AnonymousSessions(ttl=TTL, clock=lambda: now[0])
    await sessions.start(
        SENDER.id,
        AnonymousSession(Stage.WRITING, "principal", LetterType.REPORT, Draft("The dean...")),
    )
    await sessions.start(OTHER.id, AnonymousSession(Stage.CODE))
    scheduler = jobs.create_scheduler(
        Services(make_config(db_url)), database, anonymous_sessions=sessions
    )
    job = scheduler.get_job("anonymous-sessions")
    assert job is not None
    assert job.trigger.interval.total_seconds() == jobs.ANONYMOUS_SWEEP_MINUTES * 60 < TTL

    await job.func()
    assert len(sessions) == 2, "nothing has expired yet"
    now[0] += TTL / 2
    await sessions.get(OTHER.id)  # activity keeps a session alive for another TTL
    now[0] += TTL / 2 + 1
    await job.func()  # nobody looked the abandoned draft up: only the job forgets it
    assert len(sessions) == 1 and await sessions.get(SENDER.id) is None
    now[0] += TTL
    await job.func()
    assert len(sessions) == 0


async def test_receipt_codes_are_hashed_off_the_event_loop(people, monkeypatch):
    app = people
    loop_thread = threading.get_ident()
    ticks = 0
    hashed: list[tuple[int, int]] = []  # (thread, ticks of the loop during the hash)
    original = Sealer.receipt_hash

    def watched(self: Sealer, code: str) -> str:
        start = ticks
        digest = original(self, code)
        hashed.append((threading.get_ident(), ticks - start))
        return digest

    monkeypatch.setattr(Sealer, "receipt_hash", watched)
    stop = asyncio.Event()

    async def ticker() -> None:  # another update's work: it must keep running
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    try:
        sent = await write_letter(app, SENDER, "The canteen is dirty.", mode="anonymous")
        opened = await app.send(SENDER, f"/receipt {receipt_code_in(sent.text)}")
    finally:
        stop.set()
        await task
    assert "The canteen is dirty." in opened.text
    assert len(hashed) == 2  # sending, then opening with the code
    for thread, loop_ticks in hashed:
        assert thread != loop_thread
        assert loop_ticks > 0, "the event loop kept turning while scrypt ran"
