"""People of the mailbox tests, and writing a letter through the real chat."""

from __future__ import annotations

import re

import pytest

from bot.scheduler import sweep_mailbox
from bot.services import Services
from handlers.callbacks import MailboxAction, MailboxCB, MenuAction, MenuCB
from storage.database import Database
from tests.conftest import make_config, register, seed_roster
from tests.harness import BotDriver, Outcome, TgUser

SENDER = TgUser(id=8101, first_name="Mei", language_code="en")
PRINCIPAL = TgUser(id=8102, first_name="Wang", language_code="en")
SECRETARY = TgUser(id=8103, first_name="Li", language_code="en")
OFFICER = TgUser(id=8104, first_name="Zhao", language_code="en")
OTHER = TgUser(id=8105, first_name="Qian", language_code="en")
ROSTER = [
    ("M1", "Mei Lin", "Physics", ""),
    ("P1", "Wang Principal", "President's Office", "principal"),
    ("S1", "Li Secretary", "Party Office", "secretary"),
    ("O1", "Zhao Officer", "Union Office", "officer"),
    ("M2", "Qian Member", "Chemistry", ""),
]
PEOPLE = (SENDER, PRINCIPAL, SECRETARY, OFFICER, OTHER)
BOX_BUTTONS = {"principal": "Principal", "secretary": "secretary"}
TYPE_BUTTONS = {
    "report": "Report a situation",
    "suggestion": "suggestion",
    "misconduct": "misconduct",
}
MODE_BUTTONS = {"named": "Named", "confidential": "Confidential", "anonymous": "Anonymous"}


@pytest.fixture
async def people(app: BotDriver, database) -> BotDriver:
    await seed_roster(database, ROSTER)
    for user, (employee_id, name, *_rest) in zip(PEOPLE, ROSTER, strict=True):
        await register(app, user, employee_id, name)
    await app.flush_outbox()
    return app


async def write_letter(
    app: BotDriver,
    user: TgUser,
    *parts: str,
    box: str = "principal",
    type: str = "report",
    mode: str = "named",
) -> Outcome:
    """Mailbox → box → type → mode → text parts → preview → send; the outcome of Send."""
    menu = await app.press(user, MenuCB(action=MenuAction.MAILBOX))
    types = await app.press(user, menu.button(BOX_BUTTONS[box]))
    modes = await app.press(user, types.button(TYPE_BUTTONS[type]))
    await app.press(user, modes.button(MODE_BUTTONS[mode]))
    for part in parts:
        await app.send(user, part)
    preview = await app.press(user, MailboxCB(action=MailboxAction.PREVIEW))
    assert "Preview" in preview.text, preview.text
    return await app.press(user, preview.button("Send"))


def letter_id_in(text: str) -> int:
    found = re.search(r"letter #(\d+)", text)
    assert found, text
    return int(found.group(1))


def receipt_code_in(text: str) -> str:
    found = re.search(r"<code>([\d ]+)</code>", text)
    assert found, text
    return found.group(1)


async def release_sender_notices(database: Database, db_url: str) -> dict[str, int]:
    """The scheduler's fixed-time release: every confidential sender with news is told."""
    return await sweep_mailbox(Services(make_config(db_url)), database, release_senders=True)
