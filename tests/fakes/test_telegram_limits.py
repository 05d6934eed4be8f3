"""TelegramLimits: Telegram's flood limits as a FakeBotAPI responder, seen through aiogram."""

from __future__ import annotations

import json
import random

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)

from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.telegram_limits import ManualClock, TelegramLimits, Violation, max_in_window


def _send(limits: TelegramLimits, chat_id: int, method: str = "sendMessage") -> int:
    """Status code the limiter answers with (200 when it lets FakeBotAPI answer)."""
    response = limits.decide(method, {"chat_id": chat_id, "text": "hi"})
    return 200 if response is None else response.status


def _body(limits: TelegramLimits, chat_id: int) -> dict:
    response = limits.decide("sendMessage", {"chat_id": chat_id, "text": "hi"})
    assert response is not None and response.text is not None
    return json.loads(response.text)


# ----------------------------------------------------------------- through aiogram
async def test_31st_quick_send_gets_retry_after(fake: FakeBotAPI) -> None:
    clock = ManualClock()
    fake.responder = limits = TelegramLimits(clock=clock)
    async with fake.make_bot() as bot:
        for chat_id in range(1, 31):
            await bot.send_message(chat_id, "hi")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(31, "hi")
    assert caught.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in caught.value.message
    assert len(limits.accepted) == 30 and limits.rejected == {"429": 1}
    assert limits.max_in_any_window() == 30
    assert len(fake.calls_of("sendMessage")) == 31  # FakeBotAPI still records the rejected one


async def test_same_chat_twice_within_a_second_is_429(fake: FakeBotAPI) -> None:
    clock = ManualClock()
    fake.responder = limits = TelegramLimits(clock=clock, retry_after=2)
    async with fake.make_bot() as bot:
        await bot.send_message(5, "one")
        clock.advance(0.999)
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(5, "two")
    assert caught.value.retry_after == 2
    assert limits.penalty_until == pytest.approx(clock.now + 2)
    assert limits.delivered_to == {5: 1} and limits.violations == []


async def test_sends_are_accepted_again_after_the_penalty(fake: FakeBotAPI) -> None:
    clock = ManualClock()
    fake.responder = limits = TelegramLimits(clock=clock, global_per_second=2)
    async with fake.make_bot() as bot:
        await bot.send_message(1, "a")
        await bot.send_message(2, "b")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(3, "c")
        assert limits.in_penalty()
        clock.advance(1.0)  # exactly retry_after later: the penalty and the window are over
        assert not limits.in_penalty()
        message = await bot.send_message(3, "c")
    assert message.chat.id == 3 and message.text == "c"
    assert [chat for _, chat in limits.accepted] == [1, 2, 3]
    assert limits.violations == []
    assert limits.outcomes_for(3) == ["429", "200"]


async def test_send_during_penalty_is_a_violation(fake: FakeBotAPI) -> None:
    clock = ManualClock()
    fake.responder = limits = TelegramLimits(clock=clock, retry_after=3)
    async with fake.make_bot() as bot:
        await bot.send_message(5, "one")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(5, "two")  # per-chat limit: the flood wait is bot-wide
        clock.advance(0.5)
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(6, "other chat, still too early")
    assert caught.value.retry_after == 3  # 2.5 s left, rounded up
    assert limits.violations == [Violation(clock.now, 6, 2.5, "sendMessage")]
    assert limits.rejected == {"429": 2}
    assert limits.delivered_to == {5: 1}


async def test_forbidden_and_missing_chats(fake: FakeBotAPI) -> None:
    fake.responder = limits = TelegramLimits(forbidden_chats={7}, missing_chats={8})
    async with fake.make_bot() as bot:
        with pytest.raises(TelegramForbiddenError) as forbidden:
            await bot.send_message(7, "hi")
        with pytest.raises(TelegramBadRequest) as missing:
            await bot.send_message(8, "hi")
        await bot.send_message(9, "hi")
    assert forbidden.value.message == "Forbidden: bot was blocked by the user"
    assert missing.value.message == "Bad Request: chat not found"
    assert limits.rejected == {"403": 1, "400": 1}
    assert limits.delivered_to == {9: 1}


async def test_server_errors(fake: FakeBotAPI) -> None:
    fake.responder = limits = TelegramLimits(server_error_rate=1.0)
    async with fake.make_bot() as bot:
        with pytest.raises(TelegramServerError):
            await bot.send_message(1, "hi")
        me = await bot.get_me()  # only sends are affected
    assert me.id == 42
    assert limits.rejected == {"500": 1} and limits.accepted == []


async def test_real_clock_by_default(fake: FakeBotAPI) -> None:
    fake.responder = limits = TelegramLimits()
    async with fake.make_bot() as bot:
        await bot.send_message(1, "a")
        await bot.send_message(2, "b")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(1, "again, well within a second")
    assert limits.delivered_to == {1: 1, 2: 1}


# ----------------------------------------------------------------- unit: decisions
def test_only_send_methods_are_limited() -> None:
    limits = TelegramLimits(clock=ManualClock(), forbidden_chats={7})
    for method in ("getMe", "deleteMessage", "editMessageText", "answerCallbackQuery"):
        assert limits.decide(method, {"chat_id": 7}) is None
    assert limits.events == []
    for method in ("sendPhoto", "senddocument", "copyMessage", "sendMediaGroup"):
        assert _send(limits, 7, method) == 403
    assert limits.rejected == {"403": 4}


def test_penalty_remaining_is_rounded_up_to_at_least_one() -> None:
    clock = ManualClock()
    limits = TelegramLimits(clock=clock, per_chat_per_second=1, retry_after=5)
    assert _send(limits, 1) == 200
    assert _body(limits, 1)["parameters"] == {"retry_after": 5}
    clock.advance(0.2)
    assert _body(limits, 2) == {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 5",
        "parameters": {"retry_after": 5},
    }  # fmt: skip
    clock.advance(4.7)  # 0.1 s left
    assert _body(limits, 2)["parameters"] == {"retry_after": 1}
    assert [round(v.early_by, 6) for v in limits.violations] == [4.8, 0.1]
    clock.advance(0.1)
    assert _send(limits, 2) == 200


def test_violations_do_not_extend_the_penalty() -> None:
    clock = ManualClock()
    limits = TelegramLimits(clock=clock, global_per_second=1, retry_after=1)
    assert (_send(limits, 1), _send(limits, 2)) == (200, 429)
    until = limits.penalty_until
    clock.advance(0.5)
    assert _send(limits, 3) == 429
    assert limits.penalty_until == until
    clock.advance(0.5)
    assert _send(limits, 3) == 200


def test_sliding_window_not_fixed_buckets() -> None:
    clock = ManualClock(0.0)
    limits = TelegramLimits(clock=clock, global_per_second=3, per_chat_per_second=10)
    for at in (0.5, 0.8, 0.9):
        clock.now = at
        assert _send(limits, 1) == 200
    clock.now = 1.2  # a new "second" by the wall clock, but all three are still in the window
    assert _send(limits, 1) == 429
    clock.now = 2.5
    assert _send(limits, 1) == 200


def test_accepted_sends_never_exceed_the_limits() -> None:
    clock = ManualClock(0.0)
    rng = random.Random(1)
    limits = TelegramLimits(clock=clock, global_per_second=5, per_chat_per_second=2, retry_after=0)
    for _ in range(2000):
        clock.advance(rng.random() * 0.05)
        _send(limits, rng.randrange(10))
    assert limits.max_in_any_window() == 5
    assert limits.max_per_chat_in_any_window() == 2
    assert limits.rejected["429"] > 0 and limits.violations == []


def test_server_errors_are_deterministic_for_a_seed() -> None:
    def pattern(seed: int) -> list[int]:
        limits = TelegramLimits(clock=ManualClock(), server_error_rate=0.5, seed=seed)
        return [_send(limits, chat_id) for chat_id in range(25)]

    assert pattern(3) == pattern(3)
    assert set(pattern(3)) == {200, 500}
    assert pattern(3) != pattern(4)


def test_forbidden_chat_can_be_added_mid_run() -> None:
    clock = ManualClock()
    limits = TelegramLimits(clock=clock)
    assert _send(limits, 7) == 200
    limits.forbidden_chats.add(7)
    clock.advance(1)
    assert _send(limits, 7) == 403


# ----------------------------------------------------------------- unit: assertions
def test_max_in_any_window_is_exact() -> None:
    limits = TelegramLimits()
    times = [0.0, 0.5, 0.99, 1.0, 1.2, 1.98, 2.5, 4.0]
    limits.accepted = [(at, i) for i, at in enumerate(times)]
    # [0.5, 1.5) and [0.99, 1.99) both hold 4; 0.0 and 1.0 are exactly 1 s apart, never together.
    assert limits.max_in_any_window() == 4
    assert limits.max_in_any_window(0.5) == 3  # 0.99, 1.0, 1.2
    assert limits.max_in_any_window(0.2) == 2  # 0.99, 1.0 (1.2 - 0.99 > 0.2)
    assert limits.max_in_any_window(0.01) == 1
    assert limits.max_in_any_window(10) == 8
    assert TelegramLimits().max_in_any_window() == 0
    assert max_in_window([3.0, 1.0, 2.0, 1.5, 2.4], 1.0) == 3  # order doesn't matter


def test_max_in_any_window_matches_brute_force() -> None:
    rng = random.Random(7)
    for _ in range(50):
        times = [round(rng.random() * 5, 2) for _ in range(rng.randrange(1, 40))]
        brute = max(sum(1 for t in times if 0 <= t - start < 1.0) for start in times)
        assert max_in_window(times, 1.0) == brute


def test_max_per_chat_in_any_window() -> None:
    limits = TelegramLimits()
    limits.accepted = [(0.0, 1), (0.1, 2), (0.5, 1), (0.9, 1), (1.2, 2), (2.0, 2)]
    assert limits.max_per_chat_in_any_window() == 3  # chat 1 at 0.0, 0.5, 0.9
    assert limits.max_in_any_window() == 4  # 0.0-0.9
    assert TelegramLimits().max_per_chat_in_any_window() == 0


def test_duplicates_finds_a_chat_sent_twice() -> None:
    clock = ManualClock()
    limits = TelegramLimits(clock=clock)
    assert (_send(limits, 5), _send(limits, 6)) == (200, 200)
    clock.advance(1.5)
    assert _send(limits, 5) == 200
    assert limits.duplicates() == {5: 2}
    assert limits.delivered_to == {5: 2, 6: 1}
