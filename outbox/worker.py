"""The sender: claims due outbox rows, sends them at Telegram's pace, records each outcome.

Crash safety: a row is 'sending' from its claim until its outcome is committed. A sender that
dies leaves such rows behind; `recover()` at the next start puts them back in the queue. Only
those whose HTTP request had already reached Telegram are then sent twice, so duplicates after
a kill are bounded by `max_in_flight` (requests open at once).

Several senders (instances on one PostgreSQL database) claim with FOR UPDATE SKIP LOCKED, so
no row is claimed twice; each renews its claims every `claim_lease / 3` seconds, and any of
them requeues claims older than `claim_lease`: the rows of an instance that died. The renewal
runs in a task of its own (a sender whose every slot waits on a database that is away must
not let its claims lapse), and a sender that could not renew a claim for 2/3 of the lease
does not send it: another sender may have taken it back, and it would go out twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from common.ports import UnitOfWorkFactory
from outbox.budget import SendBudget
from outbox.model import ClaimedMessage, Outcome, SendResult, Status
from outbox.pacing import Pacer
from outbox.ports import SenderRepos
from outbox.settings import SenderSettings

logger = logging.getLogger(__name__)


class Transport(Protocol):
    async def send(self, message: ClaimedMessage) -> SendResult: ...


class OutboxWorker:
    def __init__(
        self,
        units: UnitOfWorkFactory[SenderRepos],  # storage.database.Database
        transport: Transport,
        settings: SenderSettings | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wakeup: asyncio.Event | None = None,
        budget: SendBudget | None = None,
    ) -> None:
        self._units = units
        self._budget = budget  # shared with other instances; None: this one sends alone
        self._transport = transport
        self.settings = settings or SenderSettings()
        self._monotonic = monotonic
        self._pacer = Pacer(self.settings.rate_per_second, self.settings.chat_interval, monotonic)
        self._slots = asyncio.Semaphore(self.settings.max_in_flight)
        self._tasks: set[asyncio.Task[None]] = set()
        # Set by whoever enqueues in this process, so the sender need not wait for its poll.
        self._wakeup = wakeup or asyncio.Event()
        self._stopping = False
        # Claimed here, outcome not yet recorded: id -> when it was claimed (monotonic).
        self._held: dict[int, float] = {}
        self._renewed_at = -float("inf")  # when the last renewal of every claim held began
        self._claimer = uuid.uuid4().hex  # names this process's claims in the database

    @property
    def pacer(self) -> Pacer:
        """This process's send pace: replies in chat count in it too (bot/flood.py)."""
        return self._pacer

    @property
    def budget(self) -> SendBudget | None:
        return self._budget

    def wake(self) -> None:
        """Something was enqueued in this process: look now instead of at the next poll."""
        self._wakeup.set()

    async def recover(self) -> int:
        lease = self.settings.claim_lease
        before = None if lease is None else _utcnow() - timedelta(seconds=lease)
        async with self._units.unit_of_work() as repos:
            count = await repos.outbox.recover(claimed_before=before)
            await repos.commit()
        if count:
            logger.warning("outbox: %d message(s) claimed by a stopped sender requeued", count)
        return count

    async def _keep_claims(self, stop: asyncio.Event) -> None:
        """Several senders: renew ours, take back a dead sender's, every `claim_lease / 3`."""
        lease = self.settings.claim_lease
        assert lease is not None
        while not stop.is_set():
            began = self._monotonic()
            held = sorted(self._held)
            try:
                async with self._units.unit_of_work() as repos:
                    kept = await repos.outbox.touch(held, _utcnow(), self._claimer)
                    await repos.commit()
                lost = [message_id for message_id in held if message_id not in kept]
                for message_id in lost:
                    self._held.pop(message_id, None)
                if lost:
                    logger.warning("outbox: %d claim(s) taken back by another sender", len(lost))
                self._renewed_at = began
                await self.recover()
            except Exception:  # the database may be briefly away: the next round tries again
                logger.warning("outbox: could not renew claims", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), lease / 3)

    def _still_ours(self, message_id: int) -> bool:
        """False when this sender's claim may have lapsed and another sender taken it back."""
        lease = self.settings.claim_lease
        if lease is None:
            return True
        if message_id not in self._held:
            return False  # taken back by another sender
        claimed = self._held[message_id]
        return self._monotonic() - max(claimed, self._renewed_at) < lease * 2 / 3

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; then finish what is in flight and requeue the rest."""
        await self.recover()
        keeper = None
        if self.settings.claim_lease is not None:
            keeper = asyncio.create_task(self._keep_claims(stop))
        try:
            while not stop.is_set():
                try:
                    sent = await self.send_due()
                except Exception:
                    # The database is away (restarting, failing over): the sender must outlive
                    # it, or this instance never sends again. Queued rows wait in the database.
                    logger.warning("outbox: cannot claim messages; trying again", exc_info=True)
                    sent = False
                if not sent:
                    await self._idle(stop)
        finally:
            self._stopping = True
            await self._wait_for_tasks()
            if keeper is not None:
                keeper.cancel()

    async def drain(self, timeout: float = 60.0) -> None:
        """Send until nothing is queued or in flight (tests, CLI)."""
        deadline = self._monotonic() + timeout
        while self._monotonic() < deadline:
            if not await self.send_due():
                await self._wait_for_tasks()
                if not await self._has_queued():
                    return
                await asyncio.sleep(min(0.05, self.settings.idle_poll))
        raise TimeoutError("outbox not drained in time")

    async def send_due(self) -> int:
        """Claim what can start within about a second and schedule it. Returns how many."""
        if self._pacer.is_paused():
            return 0
        # About one second of work: claimed rows wait in memory for their slot.
        limit = int(self.settings.rate_per_second) + 1
        claimed_at = self._monotonic()
        async with self._units.unit_of_work() as repos:
            messages = await repos.outbox.claim(
                limit, _utcnow(), chat_gap=self.settings.chat_interval, claimer=self._claimer
            )
            await repos.commit()
        self._held.update((message.id, claimed_at) for message in messages)
        unscheduled = {message.id for message in messages}
        try:
            for message in messages:
                wait = self._pacer.chat_free_at(message.chat_id) - self._monotonic()
                if wait > self.settings.chat_interval / 4:
                    # Back to the queue until its chat is free: it must not hold up other chats.
                    await self._requeue(message, after=wait)
                    unscheduled.discard(message.id)
                    continue
                start = self._pacer.reserve(message.chat_id)
                await self._slots.acquire()
                task = asyncio.create_task(self._deliver(message, start))
                unscheduled.discard(message.id)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            # The database went away halfway (a requeue failed): claims nobody will send must
            # not be renewed, or they stay 'sending' for good and their chats wait behind them
            # (found by the 15-minute soak: 18 rows renewed for half an hour after a PostgreSQL
            # restart, and 90 messages queued behind them). Unrenewed, they are recovered.
            for message_id in unscheduled:
                self._held.pop(message_id, None)
        return len(messages)

    async def _deliver(self, message: ClaimedMessage, start: float) -> None:
        try:
            # A 429 seen by another task moves every later start: re-book until clear. Then
            # check what really went out in the last second (late wake-ups bunch up).
            while True:
                delay = start - self._monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self._pacer.is_paused():
                    start = self._pacer.reserve(message.chat_id)
                    continue
                crowded = self._pacer.window_wait()
                if crowded <= 0:
                    break
                start = self._monotonic() + crowded
            if self._stopping:
                await self._requeue(message)
                return
            if self._budget is not None and not await self._wait_for_shared_slot(message):
                return
            if not self._still_ours(message.id):
                # Left 'sending': whichever sender recovers stale claims queues it again.
                logger.warning("outbox: claim on message %s lapsed; not sending it", message.id)
                return
            self._pacer.record_send()
            try:
                result = await self._transport.send(message)
            except Exception as exc:  # a bug in rendering must not kill the sender
                logger.exception("outbox: message %s could not be rendered", message.id)
                result = SendResult(Outcome.PERMANENT, error=f"render error: {type(exc).__name__}")
            await self._record_durably(message, result)
        finally:
            # Outcome recorded, message requeued, or neither (the outcome could not be
            # recorded, a requeue failed, the claim lapsed): no longer renewed either way, so
            # a row left 'sending' is recovered.
            self._held.pop(message.id, None)
            self._slots.release()

    async def _wait_for_shared_slot(self, message: ClaimedMessage) -> bool:
        """Book a bot-wide slot with the other instances; False if the message went back."""
        assert self._budget is not None
        try:
            wait = await self._budget.reserve()
        except Exception:
            logger.warning("outbox: shared send budget unreachable; retrying", exc_info=True)
            await self._requeue(message, after=1.0)
            return False
        if wait > 0:
            await asyncio.sleep(wait)
        return True

    async def _record_durably(self, message: ClaimedMessage, result: SendResult) -> None:
        """A lost outcome would leave the row 'sending' (and resent after a restart)."""
        deadline = self._monotonic() + self.settings.record_for
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._record(message, result)
                return
            except Exception:  # e.g. "database is locked" under a long write elsewhere
                logger.warning(
                    "outbox: could not record message %s (try %d)",
                    message.id,
                    attempt,
                    exc_info=attempt == 1,
                )
            if self._monotonic() >= deadline:
                break
            await asyncio.sleep(min(2.0, self.settings.record_backoff * 2 ** (attempt - 1)))
        logger.error(
            "outbox: outcome of message %s not recorded; it stays 'sending' until the next "
            "start requeues it",
            message.id,
        )

    async def _record(self, message: ClaimedMessage, result: SendResult) -> None:
        now = _utcnow()
        async with self._units.unit_of_work() as repos:
            outbox = repos.outbox
            if result.outcome is Outcome.SENT:
                await outbox.mark_sent(
                    message, now, result.telegram_message_id, result.telegram_file_id
                )
            elif result.outcome is Outcome.UNREACHABLE:
                await outbox.mark_unreachable(message, result.error or "unreachable", now)
            elif result.outcome is Outcome.PERMANENT:
                await outbox.mark_failed(message, result.error or "refused")
            elif result.outcome is Outcome.RETRY_AFTER:
                pause = (result.retry_after or 1.0) + self.settings.retry_after_margin
                self._pacer.pause(pause)
                logger.warning("outbox: flood wait, pausing all sends for %.1f s", pause)
                if self._budget is not None:
                    await self._budget.pause(pause)  # every instance, not just this one
                # Not the message's fault: no attempt is counted.
                await outbox.reschedule(
                    message.id,
                    now + timedelta(seconds=pause),
                    attempts=message.attempts,
                    error="429 retry_after",
                )
            else:
                attempts = message.attempts + 1
                if attempts >= self.settings.max_attempts:
                    await outbox.mark_failed(
                        message, f"gave up after {attempts} attempts: {result.error}"
                    )
                else:
                    backoff = min(
                        self.settings.backoff_cap, self.settings.backoff_base * 2 ** (attempts - 1)
                    )
                    await outbox.reschedule(
                        message.id,
                        now + timedelta(seconds=backoff),
                        attempts=attempts,
                        error=result.error,
                    )
            await repos.commit()

    async def _requeue(self, message: ClaimedMessage, after: float = 0.0) -> None:
        async with self._units.unit_of_work() as repos:
            await repos.outbox.reschedule(
                message.id,
                _utcnow() + timedelta(seconds=after),
                attempts=message.attempts,
                error=None,
            )
            await repos.commit()
        self._held.pop(message.id, None)

    async def _idle(self, stop: asyncio.Event) -> None:
        wait = self.settings.idle_poll
        if self._pacer.is_paused():
            wait = max(0.01, self._pacer.paused_until - self._monotonic())
        self._wakeup.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wakeup.wait())]
        try:
            await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _has_queued(self) -> bool:
        async with self._units.unit_of_work() as repos:
            counts = await repos.outbox.counts()
        return bool(counts[Status.QUEUED] or counts[Status.SENDING])

    async def _wait_for_tasks(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _utcnow() -> datetime:
    return datetime.now(UTC)
