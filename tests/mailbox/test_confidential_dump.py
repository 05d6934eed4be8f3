"""A copy of every table, without the key, after a whole confidential conversation: the letter,
a reply, a question, the sender's follow-up, the outcome and its rating, an improvement action
linked to the letter and closed. The attacker joins times, keys and ids; none may name the
sender. Copies are taken at the worst moments too: while the sender's "add a message" step is
open, and right after the sweep queued the notices, before they were delivered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram.fsm.storage.base import StorageKey

from bot.scheduler import sweep_mailbox
from bot.services import Services
from handlers.callbacks import (
    ImprovementAction,
    ImprovementCB,
    InboxAction,
    InboxCB,
    MailboxAction,
    MailboxCB,
)
from members.roles import Role
from storage.uow import unit_of_work
from tests.conftest import make_config
from tests.dbdump import dump_with_columns, new_rows
from tests.harness import BotDriver, TgUser
from tests.mailbox.conftest import (
    OFFICER,
    OTHER,
    PRINCIPAL,
    SECRETARY,
    SENDER,
    letter_id_in,
    release_sender_notices,
    write_letter,
)

JOIN_WINDOW = timedelta(seconds=60)
BATCH = 3  # the default `sender_batch`: a release mixes at least this many senders
# Columns that name a person.
IDENTITY_COLUMNS = {
    "member_id",
    "actor_id",
    "recipient_id",
    "chat_id",
    "telegram_id",
    "owner_id",
    "opened_by_id",
}
Dump = dict[str, list[dict[str, Any]]]


def inbox(action: InboxAction, letter_id: int) -> InboxCB:
    return InboxCB(action=action, letter_id=letter_id)


def moment(value: Any) -> datetime | None:
    """A stored time as an aware datetime (text on SQLite, aware on PostgreSQL)."""
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in " T":
        try:
            found = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def times(row: dict[str, Any]) -> list[datetime]:
    return [t for t in (moment(v) for v in row.values()) if t is not None]


def words(value: Any) -> set[str]:
    """The parts of a key or a JSON text an attacker would try as ids."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    for separator in ':,{}[]"/ ':
        text = text.replace(separator, " ")
    return set(text.split())


class Attacker:
    """Holds a copy of every table and knows the letter; wants the sender's chat."""

    def __init__(self, dumped: Dump, fresh: Dump, letter_id: int) -> None:
        self.dumped, self.fresh, self.letter_id = dumped, fresh, letter_id
        self.chat_of = {r["id"]: r["telegram_id"] for r in dumped["members"] if r["telegram_id"]}
        links = dumped.get("improvement_links", [])
        self.actions = {r["action_id"] for r in links if r["ref_id"] == letter_id}

    def about_letter(self) -> list[tuple[str, dict[str, Any]]]:
        """Every row the copy ties to the letter: its own tables, the actions linked to it,
        and outbox rows whose key or parameters name the letter or those actions."""
        ids = {str(self.letter_id)} | {str(a) for a in self.actions}
        rows = []
        for table, table_rows in self.dumped.items():
            for row in table_rows:
                tied = (
                    (table == "mailbox_letters" and row["id"] == self.letter_id)
                    or row.get("letter_id") == self.letter_id
                    or (table == "improvement_links" and row["ref_id"] == self.letter_id)
                    or (table == "improvement_actions" and row["id"] in self.actions)
                    or (
                        table == "outbox_messages"
                        and (words(row["idempotency_key"]) | words(row["params"])) & ids
                    )
                )
                if tied:
                    rows.append((table, row))
        return rows

    def people_in(self, table: str, row: dict[str, Any]) -> set[int]:
        """Who a row names: Telegram ids, and member ids read as their Telegram ids."""
        chats = {self.chat_of.get(v, v) for c, v in row.items() if c in IDENTITY_COLUMNS and v}
        if table == "fsm_states":  # the key is "fsm:<bot>:<chat>:<user>…"
            chats |= {int(part) for part in row["key"].split(":") if part.isdigit()}
        return chats

    def nearest_people(self, readers: set[int]) -> list[set[int]]:
        """For each time of a row tied to the letter: the people named by the rows written
        during the conversation (any table) with the nearest time within the window; the
        box's readers are known and left out. A one-person answer names that person."""
        tied = {id(row) for _table, row in self.about_letter()}
        candidates = [
            (t, person)
            for table, rows in self.fresh.items()
            for row in rows
            if id(row) not in tied
            for person in self.people_in(table, row) - readers
            for t in times(row)
        ]
        answers = []
        for _table, row in self.about_letter():
            for at in times(row):
                near = [(abs(t - at), who) for t, who in candidates if abs(t - at) <= JOIN_WINDOW]
                if near:
                    best = min(distance for distance, _who in near)
                    answers.append({who for distance, who in near if distance == best})
        return answers


def assert_names_nobody(
    dumped: Dump, fresh: Dump, letter_id: int, sender: TgUser, member_id: int, readers: set[int]
) -> None:
    attacker = Attacker(dumped, fresh, letter_id)
    secret = {sender.id, member_id}
    for table, row in attacker.about_letter():
        for column, value in row.items():
            if column in IDENTITY_COLUMNS:
                assert value not in secret, (table, column)
            if isinstance(value, str):
                assert str(sender.id) not in words(value), (table, column)
            else:
                assert value != sender.id, (table, column)
        if table == "outbox_messages":
            assert str(member_id) not in words(row["idempotency_key"]), row["idempotency_key"]
    # Keys of rows to the sender's chat name no letter, action or member.
    letter_words = {str(letter_id)} | {str(a) for a in attacker.actions} | {str(member_id)}
    for row in dumped["outbox_messages"]:
        if row["chat_id"] == sender.id:
            assert not words(row["idempotency_key"]) & letter_words, row["idempotency_key"]
            assert not words(row["params"]) & letter_words, row["params"]
    # The closing notice's keys are keyed hashes, never a member id.
    for row in dumped["outbox_messages"]:
        if row["idempotency_key"].startswith("improvement:"):
            *_head, last = row["idempotency_key"].split(":")
            assert len(last) == 40 and int(last, 16) >= 0, row["idempotency_key"]
    # No conversation state points at the letter.
    for row in dumped.get("fsm_states", []):
        assert str(letter_id) not in row["data"], row
    # The timing join: the nearest row either names someone else, or a whole batch.
    for people in attacker.nearest_people(readers):
        assert sender.id not in people or len(people) >= BATCH, people


async def fsm_data(app: BotDriver, user: TgUser) -> dict[str, Any]:
    """The conversation state of a user wherever it is kept (the database or Redis)."""
    key = StorageKey(bot_id=app.bot.id, chat_id=user.id, user_id=user.id)
    return await app.dispatcher.storage.get_data(key)


async def reply(app: BotDriver, letter_id: int, text: str, *, ask: bool = False) -> None:
    await app.press(PRINCIPAL, inbox(InboxAction.ASK if ask else InboxAction.REPLY, letter_id))
    await app.send(PRINCIPAL, text)
    sent = await app.press(PRINCIPAL, inbox(InboxAction.SEND, letter_id))
    assert "Sent to the sender" in sent.text, sent.text


async def act_on(app: BotDriver, letter_id: int) -> str:
    """The principal (also an officer) opens an improvement action from the letter, records
    its effect and closes it; the closing alert."""
    await app.press(
        PRINCIPAL,
        ImprovementCB(action=ImprovementAction.NEW, kind="l", ref_id=letter_id),
    )
    for answer in ("Unpaid overtime", "No time sheets", "Time sheets", "Lab office", "-"):
        await app.send(PRINCIPAL, answer)
    card = await app.send(PRINCIPAL, "Overtime paid")
    effect = await app.press(PRINCIPAL, card.button("Record the effect"))
    assert "effect" in effect.text
    recorded = await app.send(PRINCIPAL, "Paid since November")
    closed = await app.press(PRINCIPAL, recorded.button("Close and tell members"))
    return closed.text


async def test_a_copy_of_the_tables_names_no_confidential_sender(people, database, db_url):
    app = people
    async with unit_of_work(database.sessions) as repos:  # the principal also acts (诊改)
        principal = await repos.members.get_by_telegram_id(PRINCIPAL.id)
        assert principal is not None
        await repos.members.set_roles(principal.id, [Role.PRINCIPAL, Role.OFFICER])
        await repos.commit()
    before = await dump_with_columns(database)
    members = {r["telegram_id"]: r["id"] for r in before["members"] if r["telegram_id"]}
    readers = {PRINCIPAL.id}  # the attacker knows who reads the box

    def check(dumped: Dump) -> None:
        fresh = new_rows(before, dumped)
        assert_names_nobody(dumped, fresh, letter_id, SENDER, members[SENDER.id], readers)

    sent = await write_letter(app, SENDER, "Overtime in our lab is not paid.", mode="confidential")
    letter_id = letter_id_in(sent.text)
    await app.flush_outbox()
    await reply(app, letter_id, "Thank you, we are looking into it.")
    await reply(app, letter_id, "Since which month?", ask=True)
    assert not (await app.flush_outbox()).sent_to(SENDER.id), "nothing at the reply's moment"
    services = Services(make_config(db_url))
    held = await sweep_mailbox(services, database)
    assert held["senders"] == 0, "one sender waiting: the batch waits for more"
    check(await dump_with_columns(database))

    # The sender opens "add a message" and leaves it open: the state names no letter.
    mine = await app.press(SENDER, MailboxCB(action=MailboxAction.MINE))
    opened = await app.press(SENDER, mine.button(f"#{letter_id}"))
    assert "Since which month?" in opened.text
    prompt = await app.press(SENDER, opened.button("Add a message"))
    assert "Send your message" in prompt.text
    assert await fsm_data(app, SENDER) == {}, "the step is kept in memory, not under the id"
    check(await dump_with_columns(database))
    added = await app.send(SENDER, "Since September.")
    assert "Added to your letter" in added.text

    # Two more confidential senders get replies: the sweep releases one batch of three.
    for other in (OTHER, OFFICER):
        other_letter = letter_id_in(
            (await write_letter(app, other, f"From {other.first_name}", mode="confidential")).text
        )
        await reply(app, other_letter, "Noted.")
    await app.flush_outbox()
    released = await sweep_mailbox(services, database)
    assert released["senders"] == BATCH
    in_flight = await dump_with_columns(database)  # copied before the notices went out
    batch = [r for r in in_flight["outbox_messages"] if r["template"] == "mailbox.confidential"]
    assert {r["chat_id"] for r in batch} == {SENDER.id, OTHER.id, OFFICER.id}
    assert len({(r["created_at"], r["next_attempt_at"]) for r in batch}) == 1, "one coarse time"
    queued_at = moment(batch[0]["created_at"])
    assert queued_at is not None and queued_at.minute % 10 == 0 and queued_at.second == 0
    check(in_flight)
    told = (await app.flush_outbox()).sent_to(SENDER.id)
    assert len(told) == 1 and "news on your confidential letter" in told[0].text
    assert str(letter_id) not in told[0].text

    # Handled, rated, and an improvement action linked to the letter is closed.
    await app.press(PRINCIPAL, inbox(InboxAction.HANDLE, letter_id))
    await app.send(PRINCIPAL, "Overtime will be paid with the December salary.")
    assert "Closed" in await act_on(app, letter_id)
    assert not (await app.flush_outbox()).sent_to(SENDER.id), "the sweep tells them"
    await release_sender_notices(database, db_url)
    assert (await app.flush_outbox()).sent_to(SENDER.id)
    mine = await app.press(SENDER, MailboxCB(action=MailboxAction.MINE))
    thread = await app.press(SENDER, mine.button(f"#{letter_id}"))
    assert "Paid since November" in thread.text  # "you said, we did" is in the thread
    rated = await app.press(SENDER, thread.button("★★★★★"))
    assert "Thank you" in rated.text

    after = await dump_with_columns(database)
    check(after)
    # Delivered notices to confidential senders leave no row at all.
    assert not [r for r in after["outbox_messages"] if r["template"] == "mailbox.confidential"]
    async with unit_of_work(database.sessions) as repos:
        assert (await repos.mailbox.get(letter_id)).rating == 5  # type: ignore[union-attr]


async def test_closing_an_action_keys_its_notices_with_a_keyed_hash(people, database):
    """Named senders are told at once, under a key that names no member."""
    app = people
    async with unit_of_work(database.sessions) as repos:
        principal = await repos.members.get_by_telegram_id(PRINCIPAL.id)
        assert principal is not None
        await repos.members.set_roles(principal.id, [Role.PRINCIPAL, Role.OFFICER])
        await repos.commit()
    letter_id = letter_id_in((await write_letter(app, SECRETARY, "The lab is cold.")).text)
    await app.flush_outbox()
    assert "1 member(s)" in await act_on(app, letter_id)
    dumped = await dump_with_columns(database)
    secretary = next(r["id"] for r in dumped["members"] if r["telegram_id"] == SECRETARY.id)
    done = [r for r in dumped["outbox_messages"] if r["template"] == "improvement.done"]
    assert [r["chat_id"] for r in done] == [SECRETARY.id]
    *_head, hashed = done[0]["idempotency_key"].split(":")
    assert len(hashed) == 40 and str(secretary) != hashed
    assert "You said, we did" in (await app.flush_outbox()).sent_to(SECRETARY.id)[0].text


async def test_a_lone_confidential_sender_is_told_at_the_fixed_release_time(
    people, database, db_url
):
    """Fewer than `sender_batch` senders waiting: the regular sweep holds the notice, the
    scheduler's fixed-time job ("mailbox-senders", on the hour every few hours) sends it."""
    from bot.scheduler import create_scheduler

    app = people
    sent = await write_letter(app, SENDER, "The lab has no heating.", mode="confidential")
    letter_id = letter_id_in(sent.text)
    await reply(app, letter_id, "We will check the boiler.")
    scheduler = create_scheduler(Services(make_config(db_url)), database)
    regular, fixed = scheduler.get_job("mailbox"), scheduler.get_job("mailbox-senders")
    assert regular is not None and fixed is not None
    assert str(fixed.trigger.fields[5]) == "*/3" and str(fixed.trigger.fields[6]) == "0"
    await regular.func()
    assert not (await app.flush_outbox()).sent_to(SENDER.id)
    await fixed.func()
    told = (await app.flush_outbox()).sent_to(SENDER.id)
    assert len(told) == 1 and "news on your confidential letter" in told[0].text
    await fixed.func()
    assert not (await app.flush_outbox()).sent_to(SENDER.id), "told once"


async def test_the_upgrade_forgets_letter_pointers_left_in_conversation_state(database):
    """Before this release "add a message" kept {"letter_id": …} under the sender's Telegram
    id; the migration deletes those rows."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from storage import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config())
    before = script.get_revision("0011").down_revision
    assert isinstance(before, str)
    await migrate.downgrade(database.engine, before)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO fsm_states (key, state, data, updated_at) VALUES"
                    " (:key, :state, :data, :at), (:other, 'Writing:letter', '{}', :at)"
                ),
                {
                    "key": f"fsm:42:{SENDER.id}:{SENDER.id}",
                    "other": f"fsm:42:{OTHER.id}:{OTHER.id}",
                    "state": "Writing:follow_up",
                    "data": '{"letter_id": 123456789}',
                    "at": datetime.now(UTC),
                },
            )
    finally:
        await migrate.upgrade(database.engine, "head")
    async with database.engine.connect() as connection:
        left = (await connection.execute(text("SELECT key, data FROM fsm_states"))).all()
    assert [row[0] for row in left] == [f"fsm:42:{OTHER.id}:{OTHER.id}"]
