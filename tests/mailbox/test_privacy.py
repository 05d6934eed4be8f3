"""The mailbox's promises, proven on every table and the logs after real conversations.

- Anonymous: nothing links the letter to the sender's Telegram account or member record — no
  id in any row written during the conversation, no conversation state, times at day
  precision, and the logs carry no identifier.
- Confidential: the letters' tables hold no readable link; recipients' views and the export
  never show who wrote; the sealed link opens only with the installation's key.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, time
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest

from bot.config import parse_config
from bot.logs import QUIET_LIBRARIES, configure_logging
from bot.scheduler import sweep_mailbox
from bot.services import Services
from handlers.callbacks import InboxAction, InboxCB, MailboxAction, MailboxCB
from mailboxes.export import export_box
from mailboxes.sealing import Sealer
from storage.uow import unit_of_work
from tests.conftest import make_config
from tests.dbdump import dump_with_columns, names_number, new_rows
from tests.mailbox.conftest import (
    PRINCIPAL,
    SECRETARY,
    SENDER,
    letter_id_in,
    receipt_code_in,
    release_sender_notices,
    write_letter,
)

# What an anonymous conversation may write: the letter, its thread and files, the recipients'
# audit and notices, and processed update ids (which Telegram alone can map to people).
ANONYMOUS_MAY_WRITE = {
    "mailbox_letters",
    "mailbox_messages",
    "mailbox_attachments",
    "mailbox_audit",
    "outbox_messages",
    "processed_updates",
}
IDENTITY_COLUMNS = {"member_id", "actor_id", "recipient_id", "chat_id", "telegram_id"}


def member_ids(dumped: dict) -> dict[int, int]:
    """telegram id → member id."""
    return {row["telegram_id"]: row["id"] for row in dumped["members"] if row["telegram_id"]}


def midnight_utc(moment: datetime | str, tz: ZoneInfo) -> bool:
    """A stored time (naive UTC text on SQLite, aware on PostgreSQL) is midnight in `tz`."""
    moment = datetime.fromisoformat(str(moment))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(tz).time() == time(0, 0)


@pytest.fixture
def production_logging(caplog):
    """Logging as `unionvoice run` sets it up, at DEBUG, captured by caplog."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in QUIET_LIBRARIES}
    configure_logging(parse_config({"logging": {"level": "DEBUG"}}))
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    yield caplog
    root.handlers[:], level, quiet = saved
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


async def test_anonymous_letter_cannot_be_linked_to_its_sender(
    people, db_url, database, production_logging
):
    app = people
    before = await dump_with_columns(database)
    sender_member = member_ids(before)[SENDER.id]

    await app.send(SENDER, "/menu")
    sent = await write_letter(app, SENDER, "The canteen manager takes kickbacks.", mode="anonymous")
    letter_id = letter_id_in(sent.text)
    code = receipt_code_in(sent.text)
    assert "shown only this once" in sent.text
    await app.send_file(SENDER, "ignored.pdf", b"x")  # after sending: no session, no effect
    assert not (await app.flush_outbox()).requests, "recipients hear of it from the sweep only"

    config = make_config(db_url)
    counts = await sweep_mailbox(Services(config), database)
    assert counts["notified"] == 1
    notice = (await app.flush_outbox()).sent_to(PRINCIPAL.id)
    assert f"new letter #{letter_id}" in notice[0].text

    card = await app.press(PRINCIPAL, InboxCB(action=InboxAction.OPEN, letter_id=letter_id))
    assert "From: an anonymous sender" in card.text
    await app.press(PRINCIPAL, InboxCB(action=InboxAction.ASK, letter_id=letter_id))
    await app.send(PRINCIPAL, "Which canteen?")
    await app.press(PRINCIPAL, InboxCB(action=InboxAction.SEND, letter_id=letter_id))
    assert not (await app.flush_outbox()).sent_to(SENDER.id), "an anonymous sender is never told"

    opened = await app.send(SENDER, f"/receipt {code}")
    assert "Which canteen?" in opened.text
    await app.press(SENDER, opened.button("Add a message"))
    assert "Added" in (await app.send(SENDER, "The north canteen.")).text
    await sweep_mailbox(Services(config), database)
    assert (await app.flush_outbox()).sent_to(PRINCIPAL.id), "the follow-up is announced"

    await app.press(PRINCIPAL, InboxCB(action=InboxAction.HANDLE, letter_id=letter_id))
    await app.send(PRINCIPAL, "Referred to the discipline office.")
    reread = await app.send(SENDER, "/receipt")
    assert "receipt code" in reread.text
    thread = await app.send(SENDER, code.replace(" ", "-"))
    assert "Referred to the discipline office." in thread.text
    rated = await app.press(SENDER, thread.button("★★★★"))
    assert "Thank you" in rated.text

    after = await dump_with_columns(database)
    written = new_rows(before, after)
    assert set(written) <= ANONYMOUS_MAY_WRITE, set(written) - ANONYMOUS_MAY_WRITE
    sender_ids = {SENDER.id, sender_member}
    names_sender = names_number(SENDER.id)
    for table, rows in written.items():
        for row in rows:
            for column, value in row.items():
                if column in IDENTITY_COLUMNS:
                    assert value not in sender_ids, (table, column)
                assert not (isinstance(value, str) and names_sender(value)), (table, column)
    assert not [r for r in after["fsm_states"] if str(SENDER.id) in r["key"]]

    letter = next(r for r in after["mailbox_letters"] if r["id"] == letter_id)
    assert letter["member_id"] is None and letter["sender_tag"] is None
    assert letter["sender_seal"] is None and letter["receipt_hash"] != code
    assert code.replace(" ", "") not in str(after)
    tz = ZoneInfo("Asia/Shanghai")
    assert midnight_utc(letter["created_at"], tz)
    for message in after["mailbox_messages"]:
        if message["author"] == "sender":
            assert midnight_utc(message["created_at"], tz)
    assert "Update id=" in production_logging.text  # the logs were captured
    assert str(SENDER.id) not in production_logging.text


async def test_confidential_sender_is_sealed_and_never_shown(people, db_url, database):
    app = people
    before = await dump_with_columns(database)
    sender_member = member_ids(before)[SENDER.id]
    sent = await write_letter(
        app, SENDER, "Our dean ignores safety rules.", box="secretary", mode="confidential"
    )
    letter_id = letter_id_in(sent.text)
    seen_by_recipient = (await app.flush_outbox()).sent_to(SECRETARY.id)
    card = await app.press(SECRETARY, InboxCB(action=InboxAction.OPEN, letter_id=letter_id))
    await app.press(SECRETARY, InboxCB(action=InboxAction.REPLY, letter_id=letter_id))
    await app.send(SECRETARY, "Thank you, we will check.")
    await app.press(SECRETARY, InboxCB(action=InboxAction.SEND, letter_id=letter_id))
    assert not (await app.flush_outbox()).sent_to(SENDER.id), "not at the reply's moment"
    await release_sender_notices(database, db_url)
    assert (await app.flush_outbox()).sent_to(SENDER.id), "the sealed link delivers replies"

    recipient_texts = " ".join([m.text for m in seen_by_recipient] + card.texts)
    for secret in ("Mei", "Physics", "M1", str(SENDER.id)):
        assert secret not in recipient_texts

    after = await dump_with_columns(database)
    letter = next(r for r in after["mailbox_letters"] if r["id"] == letter_id)
    assert letter["member_id"] is None and letter["receipt_hash"] is None
    for table in ("mailbox_letters", "mailbox_messages", "mailbox_attachments", "mailbox_audit"):
        for row in after[table]:
            for column, value in row.items():
                if column in IDENTITY_COLUMNS:
                    assert value != sender_member or table == "mailbox_audit", (table, column)
                assert value != SENDER.id
    # The seal opens with the installation's key only.
    key_holder = Services(make_config(db_url)).mailbox_context.sealer
    assert key_holder.unseal(letter_id, letter["sender_seal"]) == sender_member
    assert Sealer(secrets.token_bytes(32)).unseal(letter_id, letter["sender_seal"]) is None
    assert letter["sender_tag"] == key_holder.sender_tag(sender_member)

    exported = BytesIO()
    async with unit_of_work(database.sessions) as repos:
        assert await export_box(repos, "secretary", "csv", exported, "Asia/Shanghai") == 1
    text = exported.getvalue().decode("utf-8-sig")
    assert "Our dean ignores safety rules." in text and "保密" in text
    assert "Mei" not in text and "Physics" not in text


async def test_anonymous_letters_are_limited_per_day_without_a_trace(people, app):
    config_limit = 3
    for number in range(config_limit):
        sent = await write_letter(app, SENDER, f"Letter {number}", mode="anonymous")
        letter_id_in(sent.text)
    refused = await write_letter(app, SENDER, "One too many", mode="anonymous")
    assert "at most 3 anonymous letters a day" in refused.text
    # Another person is not affected.
    assert "Sent anonymously" in (await write_letter(app, PRINCIPAL, "Mine", mode="anonymous")).text


async def test_receipt_codes_cannot_be_guessed(people, app):
    sent = await write_letter(app, SENDER, "Something happened.", mode="anonymous")
    code = receipt_code_in(sent.text)
    wrong = "1234 5678 9012 3456 7890"
    first = await app.send(OTHER_GUESSER, f"/receipt {wrong}")
    assert "No letter matches this code" in first.text
    assert "No letter matches this code" in (await app.send(OTHER_GUESSER, "/receipt 12")).text
    for _ in range(3):
        await app.send(OTHER_GUESSER, f"/receipt {wrong}")
    blocked = await app.send(OTHER_GUESSER, f"/receipt {code}")
    assert "Too many wrong codes" in blocked.text and "Something happened." not in blocked.text
    assert "Something happened." in (await app.send(SENDER, f"/receipt {code}")).text
    # Receipt buttons act on the session's letter: without one, nothing is reachable.
    stray = await app.press(
        OTHER_GUESSER, MailboxCB(action=MailboxAction.RECEIPT_RATE, letter_id=1, value=5)
    )
    assert "receipt session has ended" in stray.text


OTHER_GUESSER = SECRETARY
