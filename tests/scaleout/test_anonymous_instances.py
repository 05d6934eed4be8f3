"""Anonymous letters on two instances sharing one Redis and one database, as behind a
reverse proxy that sends each update to either: drafts, receipt sessions, the own-letter
follow-up step and the anonymous limits live in Redis (under keyed-hash names, encrypted),
so the next message may reach the other instance, a restart loses nothing, limits count
each person once, and a dump of Redis and the database links nobody to a letter.

Two dispatchers built by the app factory in this process stand for the two instances; each
has its own Redis client, database engine and (for the in-memory path) its own memory."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis

from bot.config import Config, parse_config
from bot.factory import create_dispatcher, create_renderers
from bot.telegram_transport import TelegramTransport
from handlers.callbacks import InboxAction, InboxCB, MailboxAction, MailboxCB, MenuAction, MenuCB
from mailboxes.memory import AnonymousSession, Stage
from mailboxes.model import Draft
from mailboxes.redis_memory import PREFIX, RedisAnonymousSessions
from outbox.worker import OutboxWorker
from storage.database import Database, create_database
from tests.conftest import UNPACED, make_config, register, seed_roster
from tests.dbdump import dump_with_columns, names_number, new_rows
from tests.fakes.session import RecordingSession
from tests.harness import BotDriver, Outcome, TgUser
from tests.mailbox.conftest import (
    BOX_BUTTONS,
    MODE_BUTTONS,
    OTHER,
    PEOPLE,
    PRINCIPAL,
    ROSTER,
    SECRETARY,
    SENDER,
    TYPE_BUTTONS,
    letter_id_in,
    receipt_code_in,
)

PARTS = (
    "The canteen manager takes kickbacks.",
    "It happens every Friday.",
    "Ask the suppliers of vegetables.",
)
FOLLOW_UP = "The north canteen, near gate 3."
IDENTITY_COLUMNS = {"member_id", "actor_id", "recipient_id", "chat_id", "telegram_id"}


class Instance:
    """One `unionvoice run` as the factory builds it: its own engine, Redis client, memory."""

    def __init__(self, name: str, config: Config, i18n: I18n) -> None:
        self.name = name
        self.database: Database = create_database(config.database.url)
        assert config.fsm.redis_url is not None
        self.redis = Redis.from_url(config.fsm.redis_url)
        session = RecordingSession()
        bot = Bot(token="42:TEST", session=session)
        dispatcher = create_dispatcher(config, self.database, i18n=i18n, redis=self.redis)
        transport = TelegramTransport(bot, i18n, create_renderers())
        outbox = OutboxWorker(self.database, transport, UNPACED)
        self.driver = BotDriver(dispatcher, bot, session, outbox)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.database.dispose()


class RoundRobin:
    """A reverse proxy: each update goes to the next instance in turn."""

    def __init__(self, *instances: Instance) -> None:
        self.instances = list(instances)
        self.turn = 0
        self.served: list[str] = []  # which instance handled each update, in order

    def next(self) -> BotDriver:
        instance = self.instances[self.turn % len(self.instances)]
        self.turn += 1
        self.served.append(instance.name)
        return instance.driver

    async def send(self, user: TgUser, text: str) -> Outcome:
        return await self.next().send(user, text)

    async def press(self, user: TgUser, data: str | CallbackData) -> Outcome:
        return await self.next().press(user, data)


def shared_config(db_url: str, redis_url: str, **mailbox: Any) -> Config:
    config = make_config(db_url)
    data = config.model_dump()
    data["fsm"] = {"redis_url": redis_url}
    data["mailbox"] = {**data["mailbox"], **mailbox}
    data["mailbox"]["secret_key"] = config.mailbox.secret_key.get_secret_value()  # type: ignore[union-attr]
    return parse_config(data)


@pytest.fixture
async def pair(db_url: str, redis_url: str, i18n: I18n) -> AsyncIterator[RoundRobin]:
    config = shared_config(db_url, redis_url)
    first, second = Instance("A", config, i18n), Instance("B", config, i18n)
    await seed_roster(first.database, ROSTER)
    for user, (employee_id, name, *_rest) in zip(PEOPLE, ROSTER, strict=True):
        await register(first.driver, user, employee_id, name)
    await first.driver.flush_outbox()
    proxy = RoundRobin(first, second)
    yield proxy
    for instance in proxy.instances:
        await instance.close()


async def start_anonymous(proxy: RoundRobin, user: TgUser) -> Outcome:
    """Mailbox → box → type → Anonymous, one update per step, alternating instances."""
    menu = await proxy.press(user, MenuCB(action=MenuAction.MAILBOX))
    types = await proxy.press(user, menu.button(BOX_BUTTONS["principal"]))
    modes = await proxy.press(user, types.button(TYPE_BUTTONS["report"]))
    chosen = await proxy.press(user, modes.button(MODE_BUTTONS["anonymous"]))
    assert "Anonymous letter" in chosen.text, chosen.text
    return chosen


async def send_anonymous(proxy: RoundRobin, user: TgUser, *parts: str) -> Outcome:
    await start_anonymous(proxy, user)
    for part in parts:
        assert "Received" in (await proxy.send(user, part)).text
    preview = await proxy.press(user, MailboxCB(action=MailboxAction.PREVIEW))
    return await proxy.press(user, preview.button("Send"))


async def test_an_anonymous_letter_alternating_between_instances_works_end_to_end(pair):
    proxy = pair
    await start_anonymous(proxy, SENDER)
    for part in PARTS:
        assert "Received" in (await proxy.send(SENDER, part)).text
    preview = await proxy.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))
    assert all(part in preview.text for part in PARTS), preview.text
    sent = await proxy.press(SENDER, preview.button("Send"))
    assert "Sent anonymously" in sent.text, sent.text
    letter_id, code = letter_id_in(sent.text), receipt_code_in(sent.text)
    assert set(proxy.served[:8]) == {"A", "B"}

    card = await proxy.press(PRINCIPAL, InboxCB(action=InboxAction.OPEN, letter_id=letter_id))
    assert all(part in card.text for part in PARTS), "no part lost between instances"
    await proxy.press(PRINCIPAL, InboxCB(action=InboxAction.ASK, letter_id=letter_id))
    await proxy.send(PRINCIPAL, "Which canteen?")
    await proxy.press(PRINCIPAL, InboxCB(action=InboxAction.SEND, letter_id=letter_id))

    # /receipt on one instance, the code on the other, the follow-up across both.
    assert "receipt code" in (await proxy.send(SENDER, "/receipt")).text
    opened = await proxy.send(SENDER, code)
    assert "Which canteen?" in opened.text, opened.text
    await proxy.press(SENDER, opened.button("Add a message"))
    assert "Added to your letter" in (await proxy.send(SENDER, FOLLOW_UP)).text
    reread = await proxy.press(PRINCIPAL, InboxCB(action=InboxAction.OPEN, letter_id=letter_id))
    assert FOLLOW_UP in reread.text
    # The receipt session lives on: its Files/Add buttons work on either instance.
    again = await proxy.press(SENDER, MailboxCB(action=MailboxAction.RECEIPT_FOLLOW))
    assert "Send your message" in again.text

    # Answering back on one's own named letter: the pointer is in Redis too.
    named = await proxy.press(OTHER, MenuCB(action=MenuAction.MAILBOX))
    types = await proxy.press(OTHER, named.button(BOX_BUTTONS["principal"]))
    modes = await proxy.press(OTHER, types.button(TYPE_BUTTONS["report"]))
    await proxy.press(OTHER, modes.button(MODE_BUTTONS["named"]))
    await proxy.send(OTHER, "The library closes too early.")
    preview = await proxy.press(OTHER, MailboxCB(action=MailboxAction.PREVIEW))
    own_id = letter_id_in((await proxy.press(OTHER, preview.button("Send"))).text)
    await proxy.press(OTHER, MailboxCB(action=MailboxAction.FOLLOW, letter_id=own_id))
    assert "Added to your letter" in (await proxy.send(OTHER, "Even on exam weeks.")).text


async def test_restarting_an_instance_does_not_lose_a_draft_started_on_it(
    pair, db_url, redis_url, i18n
):
    proxy = pair
    first = proxy.instances[0]
    await start_anonymous(proxy, SENDER)
    proxy.turn = 0  # the first part lands on A
    await proxy.send(SENDER, PARTS[0])
    await first.close()  # A goes down (its process memory with it) and comes back
    proxy.instances[0] = Instance("A", shared_config(db_url, redis_url), i18n)
    proxy.turn = 0
    assert "Received" in (await proxy.send(SENDER, PARTS[1])).text  # on the new A
    preview = await proxy.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))  # on B
    assert PARTS[0] in preview.text and PARTS[1] in preview.text
    sent = await proxy.press(SENDER, preview.button("Send"))
    assert "Sent anonymously" in sent.text


async def test_limits_count_each_person_once_across_instances(pair):
    proxy = pair
    for number in range(3):  # anonymous_per_day = 3 (the default)
        sent = await send_anonymous(proxy, SENDER, f"Letter {number}")
        assert "Sent anonymously" in sent.text, sent.text
    sends = [proxy.served[i] for i in range(len(proxy.served)) if (i + 1) % 7 == 0]
    assert set(sends) == {"A", "B"}, "both instances took sends"
    for _ in range(2):  # on either instance
        refused = await send_anonymous(proxy, SENDER, "One too many")
        assert "at most 3 anonymous letters a day" in refused.text

    code = receipt_code_in(sent.text)
    wrong = "1234 5678 9012 3456 7890"
    for _ in range(5):  # 5 wrong codes allowed in all, not 5 per instance
        assert "No letter matches" in (await proxy.send(SECRETARY, f"/receipt {wrong}")).text
    for _ in range(2):
        blocked = await proxy.send(SECRETARY, f"/receipt {code}")
        assert "Too many wrong codes" in blocked.text and "Letter 2" not in blocked.text
    await proxy.press(SENDER, MailboxCB(action=MailboxAction.DISCARD))  # the refused draft
    assert "Letter 2" in (await proxy.send(SENDER, f"/receipt {code}")).text


def id_forms(telegram_id: int) -> list[bytes]:
    """A Telegram id as text or as packed integers, the ways a store could hold it."""
    forms = [str(telegram_id).encode()]
    for fmt in ("<i", ">i", "<q", ">q"):
        forms.append(struct.pack(fmt, telegram_id))
    return forms


async def redis_dump(redis: Redis) -> list[tuple[bytes, list[bytes], int]]:
    """Every key in the test's Redis database: (name, values, TTL in seconds)."""
    dumped = []
    async for name in redis.scan_iter():
        kind = (await redis.type(name)).decode()
        if kind == "string":
            values = [await redis.get(name)]
        elif kind == "list":
            values = await redis.lrange(name, 0, -1)
        elif kind == "hash":
            values = [b for pair in (await redis.hgetall(name)).items() for b in pair]
        else:
            values = [str(await redis.dump(name)).encode()]
        dumped.append((name, values, await redis.ttl(name)))
    return dumped


async def test_a_dump_of_redis_and_the_database_links_nobody_to_a_letter(pair):
    proxy = pair
    database = proxy.instances[0].database
    redis = proxy.instances[0].redis
    before = await dump_with_columns(database)
    sender_member = next(r["id"] for r in before["members"] if r["telegram_id"] == SENDER.id)

    await start_anonymous(proxy, SENDER)
    for part in PARTS:
        await proxy.send(SENDER, part)
    during_draft = await redis_dump(redis)
    preview = await proxy.press(SENDER, MailboxCB(action=MailboxAction.PREVIEW))
    sent = await proxy.press(SENDER, preview.button("Send"))
    code = receipt_code_in(sent.text)
    await proxy.send(OTHER, "/receipt 1234 5678 9012 3456 7890")  # a failure counted
    opened = await proxy.send(SENDER, f"/receipt {code}")
    await proxy.press(SENDER, opened.button("Add a message"))  # the session holds the letter
    during_session = await redis_dump(redis)
    await proxy.send(SENDER, FOLLOW_UP)

    ours = [entry for entry in during_draft + during_session if entry[0].startswith(b"unionv")]
    assert any(b":session:" in name for name, _values, _ttl in ours), "the draft is in Redis"
    assert any(b":limit:" in name for name, _values, _ttl in ours), "the limits are in Redis"
    forbidden = [text.encode() for text in (*PARTS, FOLLOW_UP, "canteen")]
    forbidden += [code.encode(), code.replace(" ", "").encode(), b"letter_id", b"stage"]
    forbidden += [form for user in PEOPLE for form in id_forms(user.id)]
    for name, values, ttl in during_draft + during_session:
        blob = name + b"\x00" + b"\x00".join(values)
        for secret in forbidden:
            assert secret not in blob, (name, secret)
        if name.startswith(PREFIX.encode()):
            assert ttl > 0, f"{name!r} never expires"

    after = await dump_with_columns(database)
    assert code.replace(" ", "") not in str(after) and code not in str(after)
    names_sender = names_number(SENDER.id)
    for table, rows in new_rows(before, after).items():
        for row in rows:
            for column, value in row.items():
                if column in IDENTITY_COLUMNS:
                    assert value not in (SENDER.id, sender_member), (table, column)
                assert not (isinstance(value, str) and names_sender(value)), (table, column)
    assert not any(PARTS[0] in str(row) for row in after.get("fsm_states", []))


async def test_parts_appended_at_once_on_two_instances_are_all_kept(redis_url):
    """No read-modify-write: two instances appending to one draft at the same moment (a
    double delivery, or no per-user isolation) lose nothing."""
    key = b"k" * 32
    clients = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    try:
        stores = [RedisAnonymousSessions(client, key) for client in clients]
        await stores[0].start(SENDER.id, AnonymousSession(Stage.WRITING, "principal"))
        await asyncio.gather(
            *(stores[n % 2].append(SENDER.id, Draft(f"part {n}")) for n in range(40))
        )
        session = await stores[1].get(SENDER.id)
        assert session is not None
        assert {f"part {n}" for n in range(40)} == set(session.draft.text.split("\n\n"))
        # A session ended elsewhere takes no late part, and expiry needs no sweep.
        await stores[1].end(SENDER.id)
        await stores[0].append(SENDER.id, Draft("late"))
        assert await stores[0].get(SENDER.id) is None
        assert not [name async for name in clients[0].scan_iter(f"{PREFIX}:*")]
        assert await stores[0].sweep() == 0
    finally:
        for client in clients:
            await client.aclose()


async def test_activity_keeps_a_shared_session_alive_and_a_wrong_key_reads_nothing(redis_url):
    key = b"k" * 32
    client = Redis.from_url(redis_url)
    try:
        store = RedisAnonymousSessions(client, key, ttl=600)
        await store.start(SENDER.id, AnonymousSession(Stage.CODE))
        names = [name async for name in client.scan_iter(f"{PREFIX}:*")]
        assert len(names) == 1
        await client.expire(names[0], 5)  # almost forgotten
        assert (await store.get(SENDER.id)) is not None  # ...then the sender acts
        assert await client.ttl(names[0]) > 5
        stranger = RedisAnonymousSessions(client, b"x" * 32)
        assert await stranger.get(SENDER.id) is None  # other names, and could not decrypt
        # A blob moved under another person's name does not open there.
        await store.start(OTHER.id, AnonymousSession(Stage.CODE))
        (other,) = [n async for n in client.scan_iter(f"{PREFIX}:*") if n != names[0]]
        await client.set(other, await client.get(names[0]))
        assert await store.get(OTHER.id) is None
    finally:
        await client.aclose()
