"""Pacer: evenly spaced global starts, a minimum gap per chat, and a bot-wide 429 pause.

Driven by an injected clock, so nothing here sleeps.
"""

from __future__ import annotations

import random
from collections import defaultdict
from itertools import pairwise

import pytest

from outbox.pacing import Pacer
from tests.fakes.telegram_limits import ManualClock, max_in_window

RATE = 25.0
GAP = 1.0 / RATE


def test_starts_are_evenly_spaced_at_one_over_rate() -> None:
    clock = ManualClock(100.0)
    pacer = Pacer(RATE, chat_interval=1.0, clock=clock)

    starts = [pacer.reserve(chat_id) for chat_id in range(1, 51)]

    assert starts[0] == pytest.approx(100.0)
    for i, start in enumerate(starts):
        assert start == pytest.approx(100.0 + i * GAP)
    assert max_in_window(starts, 1.0) <= RATE + 1


def test_an_idle_pacer_starts_now_without_a_backlog() -> None:
    clock = ManualClock(100.0)
    pacer = Pacer(RATE, chat_interval=1.0, clock=clock)
    pacer.reserve(1)
    clock.advance(60.0)  # long idle: no burst of "saved up" slots, no waiting either

    assert pacer.reserve(2) == pytest.approx(160.0)
    assert pacer.reserve(3) == pytest.approx(160.0 + GAP)


def test_a_chat_never_gets_two_starts_closer_than_chat_interval() -> None:
    clock = ManualClock(100.0)
    pacer = Pacer(RATE, chat_interval=1.05, clock=clock)

    by_chat: defaultdict[int, list[float]] = defaultdict(list)
    # Chat 7 again and again, mixed with others, with the clock barely moving.
    for i in range(60):
        chat_id = 7 if i % 3 == 0 else 1000 + i
        by_chat[chat_id].append(pacer.reserve(chat_id))
        clock.advance(0.01)

    sevens = by_chat[7]
    assert len(sevens) == 20
    for earlier, later in pairwise(sevens):
        assert later - earlier >= 1.05 - 1e-9


def test_pause_moves_every_later_start_past_the_pause() -> None:
    clock = ManualClock(100.0)
    pacer = Pacer(RATE, chat_interval=1.0, clock=clock)
    before = [pacer.reserve(chat_id) for chat_id in range(1, 6)]
    assert not pacer.is_paused()

    clock.advance(0.1)
    pacer.pause(2.5)  # a 429 said: nothing before 102.6
    assert pacer.is_paused()
    assert pacer.paused_until == pytest.approx(102.6)

    after = [pacer.reserve(chat_id) for chat_id in range(1, 30)]
    assert min(after) >= pacer.paused_until
    assert after[0] == pytest.approx(102.6)
    # Still evenly spaced after the pause, and the per-chat gap still holds.
    for i, start in enumerate(after):
        assert start == pytest.approx(102.6 + i * GAP)
    assert max(before) < 102.6

    # A shorter pause never shortens a longer one.
    pacer.pause(0.5)
    assert pacer.paused_until == pytest.approx(102.6)

    clock.advance(2.5)
    assert not pacer.is_paused()


@pytest.mark.parametrize("rate", [25.0, 30.0, 7.5])
def test_no_one_second_window_holds_more_than_rate_plus_one(rate: float) -> None:
    rng = random.Random(20240501)
    clock = ManualClock(1000.0)
    chat_interval = 1.05
    pacer = Pacer(rate, chat_interval=chat_interval, clock=clock)

    starts: list[float] = []
    by_chat: defaultdict[int, list[float]] = defaultdict(list)
    # (reservations made before it, when it began, when it ends)
    pauses: list[tuple[int, float, float]] = []
    for _ in range(1_000):
        roll = rng.random()
        if roll < 0.5:
            pass  # a burst: many reservations at the same instant
        elif roll < 0.95:
            clock.advance(rng.uniform(0.0, 0.2))
        else:
            clock.advance(rng.uniform(0.5, 3.0))  # idle for a while
        if rng.random() < 0.01:
            paused_from = clock()
            pacer.pause(rng.uniform(0.5, 2.0))
            pauses.append((len(starts), paused_from, pacer.paused_until))
        # Mostly a broadcast to distinct chats, sometimes a chat seen shortly before.
        chat_id = rng.randrange(20) if rng.random() < 0.05 else rng.randrange(100, 100_000)
        start = pacer.reserve(chat_id)
        assert start >= clock()  # never in the past
        starts.append(start)
        by_chat[chat_id].append(start)

    assert pauses, "the seed should exercise pause()"
    # The exact brute force: every window [t, t + 1) that starts at a start time.
    ordered = sorted(starts)
    worst = max(sum(1 for s in ordered if t <= s < t + 1.0) for t in ordered)
    assert worst <= rate + 1
    assert worst == max_in_window(starts, 1.0)
    assert worst >= 0.8 * rate  # bursts really did fill windows: the check has teeth
    for chat_starts in by_chat.values():
        for earlier, later in pairwise(chat_starts):
            assert later - earlier >= chat_interval - 1e-9
    # Starts booked before a pause keep their time (the worker re-books them when it sees
    # is_paused()); every one booked after it lies past the pause.
    for booked_before, paused_from, paused_until in pauses:
        later = starts[booked_before:]
        assert not [s for s in later if paused_from <= s < paused_until - 1e-9], (
            "a start was booked inside a pause"
        )
