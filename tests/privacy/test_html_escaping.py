"""A member's name and department are their own text: every HTML message escapes them.

Attacker: a member whose roster name is `Eve <a href="x">` (or a department with tags) who
wants a link or formatting to appear in officers' and recipients' chats."""

from __future__ import annotations

from typing import Any

from aiogram.methods import EditMessageText, SendMessage

from handlers.callbacks import ConsentCB, InboxAction, InboxCB, MenuAction, MenuCB, RoleCB
from members.roles import Role
from sandbox.telegram_html import parse_html, plain_text
from tests.conftest import ADMIN, register, seed_roster
from tests.harness import Outcome, TgUser
from tests.mailbox.conftest import letter_id_in, write_letter
from tests.privacy.test_role_grants import member_id

EVE = TgUser(id=5001, first_name="Eve", language_code="en")
OFFICER = TgUser(id=5002, first_name="王五")
PRINCIPAL = TgUser(id=5003, first_name="赵")
COPYCAT = TgUser(id=5004, first_name="Mallory")
NAME, DEPARTMENT = 'Eve <a href="x">', "R&D <b>lab</b>"
ROSTER = [
    ("E1", NAME, DEPARTMENT, ""),
    ("O1", "王五", "工会办公室", "officer"),
    ("P1", "赵国强", "校长办公室", "principal"),
]


def links(nodes: list[Any]) -> list[Any]:
    found = []
    for node in nodes:
        if isinstance(node, dict):
            if node.get("tag") == "a":
                found.append(node)
            found += links(node.get("children", []))
    return found


def shows_the_name_as_text(outcome: Outcome, *, department: bool = False) -> None:
    """The screen shows the name escaped, and Telegram would show it as typed, not as a link."""
    texts = [
        r.text
        for r in outcome.requests
        if isinstance(r, SendMessage | EditMessageText) and "Eve" in r.text
    ]
    assert texts, outcome.text
    for text in texts:
        assert "&lt;a" in text and '<a href="x">' not in text
        nodes = parse_html(text)  # Telegram's parser accepts it …
        assert not links(nodes)  # … and finds no link in it
        assert NAME in plain_text(nodes)
        assert "<b>lab" not in text
    if department:
        assert any("&lt;b&gt;lab" in t and DEPARTMENT in plain_text(parse_html(t)) for t in texts)


async def test_every_screen_that_shows_a_name_escapes_it(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "O1", "王五")
    await register(app, PRINCIPAL, "P1", "赵国强")
    await app.flush_outbox()

    # Welcome and menu.
    await app.send(EVE, "/start")
    await app.press(EVE, ConsentCB(accept=True))
    await app.send(EVE, "E1")
    shows_the_name_as_text(await app.send(EVE, NAME), department=True)
    shows_the_name_as_text(await app.send(EVE, "/menu"))
    # Own data.
    shows_the_name_as_text(await app.send(EVE, "/mydata"), department=True)
    # The member card in 👥 Roles, and after a change.
    await app.press(OFFICER, MenuCB(action=MenuAction.ROLES))
    shows_the_name_as_text(await app.send(OFFICER, "E1"), department=True)
    eve = await member_id(database, "E1")
    shows_the_name_as_text(
        await app.press(OFFICER, RoleCB(member_id=eve, role=Role.REPRESENTATIVE)), department=True
    )
    # The approval card: the typed name, and the roster's name and department.
    await app.send(COPYCAT, "/start")
    await app.press(COPYCAT, ConsentCB(accept=True))
    await app.send(COPYCAT, "E1")
    await app.send(COPYCAT, NAME)
    notices = await app.flush_outbox()
    shows_the_name_as_text(Outcome(notices.sent_to(OFFICER.id)), department=True)
    shows_the_name_as_text(await app.press(OFFICER, MenuCB(action=MenuAction.APPROVALS)))
    # A named letter as its recipient reads it.
    sent = await write_letter(app, EVE, "The lab door is broken.", box="principal", mode="named")
    letter_id = letter_id_in(sent.text)
    await app.flush_outbox()
    shows_the_name_as_text(
        await app.press(PRINCIPAL, InboxCB(action=InboxAction.OPEN, letter_id=letter_id)),
        department=True,
    )
    # The box's recipients told that Eve now reads the box.
    await app.press(ADMIN, RoleCB(member_id=eve, role=Role.PRINCIPAL))
    shows_the_name_as_text(Outcome((await app.flush_outbox()).sent_to(PRINCIPAL.id)))


async def test_refusals_quote_what_the_person_typed(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "O1", "王五")
    await app.press(OFFICER, MenuCB(action=MenuAction.ROLES))
    refused = await app.send(OFFICER, '<a href="x">E1')
    text = refused.text
    assert "&lt;a" in text and '<a href="x">' not in text
    assert not links(parse_html(text))
