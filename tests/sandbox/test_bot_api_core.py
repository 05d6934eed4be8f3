"""The getUpdates queue both Bot API emulators share (the sandbox's and the tests' fake)."""

from __future__ import annotations

import asyncio

from sandbox.bot_api_core import UpdateQueue, decode


async def test_ids_grow_from_the_first_and_a_given_id_moves_them_on() -> None:
    queue = UpdateQueue(first_id=1000)
    assert queue.push({"message": {}}) == 1000
    assert queue.push({"update_id": 5000, "message": {}}) == 5000
    assert queue.push({"message": {}}) == 5001


async def test_an_update_stays_until_a_later_offset_confirms_it() -> None:
    queue = UpdateQueue()
    for _ in range(3):
        queue.push({"message": {}})
    assert [u["update_id"] for u in await queue.get_updates({})] == [1, 2, 3]
    assert [u["update_id"] for u in await queue.get_updates({})] == [1, 2, 3]
    assert [u["update_id"] for u in await queue.get_updates({"offset": 3})] == [3]
    assert [u["update_id"] for u in await queue.get_updates({"limit": 1})] == [3]


async def test_a_negative_offset_keeps_only_the_last_updates() -> None:
    queue = UpdateQueue()
    for _ in range(5):
        queue.push({"message": {}})
    assert [u["update_id"] for u in await queue.get_updates({"offset": -2})] == [4, 5]


async def test_a_push_or_close_releases_a_waiting_long_poll() -> None:
    queue = UpdateQueue()
    waiting = asyncio.create_task(queue.get_updates({"timeout": 60}))
    await asyncio.sleep(0)
    queue.push({"message": {}})
    assert [u["update_id"] for u in await asyncio.wait_for(waiting, 10)] == [1]

    empty = UpdateQueue()
    waiting = asyncio.create_task(empty.get_updates({"timeout": 60}))
    await asyncio.sleep(0)
    empty.close()
    assert await asyncio.wait_for(waiting, 10) == []


def test_free_text_is_never_json_decoded() -> None:
    assert decode("text", "42") == "42"
    assert decode("chat_id", "42") == 42
    assert decode("chat_id", "@channel") == "@channel"
