"""A member sees, copies and erases what the bot holds about them; consent is versioned."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import openpyxl
from aiogram.methods import SendDocument
from sqlalchemy import text

from handlers.callbacks import DataAction, DataCB, MenuAction, MenuCB, ProposalAction, ProposalCB
from members.dto import FORMER_MEMBER
from members.service import CONSENT_VERSION
from proposals.service import ProposalService
from storage.uow import unit_of_work
from tests.dbdump import dump, names_number, query, raw_sqlite_bytes
from tests.mailbox.conftest import OFFICER, OTHER, PRINCIPAL, SENDER, write_letter


async def file_a_suggestion(app, user) -> None:
    menu = await app.press(user, MenuCB(action=MenuAction.PROPOSALS))
    await app.press(user, menu.button("suggestion"))
    categories = await app.press(
        user, ProposalCB(action=ProposalAction.NEW, proposal_id=0, value="suggestion")
    )
    await app.press(user, categories.buttons()[0][1])
    await app.send(user, "Longer library hours")
    finish = await app.send(user, "Open until 22:00 in exam weeks.")
    preview = await app.press(user, finish.button("Done"))
    await app.press(user, preview.button("Submit"))


def document(outcome) -> tuple[str, bytes]:
    (request,) = [r for r in outcome.requests if isinstance(r, SendDocument)]
    return request.document.filename, request.document.data


async def test_mydata_shows_and_exports_everything_linked_and_nothing_anonymous(people):
    app = people
    await write_letter(app, SENDER, "Named: the heating is broken.")
    await write_letter(app, SENDER, "Confidential: my boss shouts.", mode="confidential")
    await write_letter(app, SENDER, "Anonymous: the exam leaked.", mode="anonymous")
    overview = await app.send(SENDER, "/mydata")
    assert "Mei Lin" in overview.text and "employee id M1" in overview.text
    assert "1 named, 1 confidential" in overview.text
    assert "Not listed: your anonymous survey answers and anonymous letters" in overview.text

    name, content = document(await app.press(SENDER, DataCB(action=DataAction.JSON)))
    assert name.endswith(".json")
    data = json.loads(content)
    assert data["profile"]["telegram_id"] == SENDER.id
    bodies = [letter["body"] for letter in data["letters"]]
    assert "Named: the heating is broken." in bodies and "Confidential: my boss shouts." in bodies
    assert "exam leaked" not in content.decode()

    name, content = document(await app.press(SENDER, DataCB(action=DataAction.XLSX)))
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    assert {"profile", "letters", "not_included"} <= set(workbook.sheetnames)
    menu = await app.press(SENDER, MenuCB(action=MenuAction.MINE))
    assert "What the bot holds about you" in menu.text


async def test_erasure_leaves_no_trace_of_the_telegram_id(people, database, db_url):
    app = people
    await write_letter(app, SENDER, "Named letter by Mei Lin-Zhou.")
    await write_letter(app, SENDER, "Sealed letter.", mode="confidential", box="secretary")
    async with unit_of_work(database.sessions) as repos:
        from members.service import MembershipService

        me = await MembershipService(repos).identify(SENDER.id)
        service = ProposalService(repos)
        from proposals.model import Kind

        proposal_id = await service.start(me, Kind.SUGGESTION, "后勤服务")
        await service.set_title(me, proposal_id, "Canteen hours")
        await service.add_text(me, proposal_id, "Open earlier.")
        await service.submit(me, proposal_id)
        draft_id = await service.start(me, Kind.SUGGESTION, "其他")
    async with database.engine.begin() as connection:  # an improvement action they own
        await connection.execute(
            text(
                "INSERT INTO improvement_actions (problem, cause, measures, owner, owner_id,"
                " department, expected_effect, status, created_at, updated_at)"
                " VALUES ('照明', '', '', 'Mei Lin', :member, '后勤处', '', 'open', :now, :now)"
            ),
            {"member": me.member.id, "now": datetime.now(UTC)},
        )
    await app.flush_outbox()
    await app.send(SENDER, "/mydata")  # leaves no conversation state behind either

    explained = await app.press(SENDER, DataCB(action=DataAction.ERASE))
    assert "former member" in explained.text
    asked = await app.press(SENDER, DataCB(action=DataAction.REQUEST))
    assert "sent to the union officers" in asked.text
    again = await app.press(SENDER, DataCB(action=DataAction.REQUEST))
    assert "already waiting" in again.text
    told = (await app.flush_outbox()).sent_to(OFFICER.id)
    assert "Mei Lin (M1) asks for their data to be erased" in told[0].text

    assert "not allowed" in (await app.send(OTHER, "/datarequests")).text
    forged = await app.press(OTHER, DataCB(action=DataAction.ERASE_NOW, member_id=1))
    assert "not allowed" in forged.text
    listed = await app.send(OFFICER, "/datarequests")
    confirm = await app.press(OFFICER, listed.button("Mei Lin"))
    assert "cannot be undone" in confirm.text
    # An officer cannot erase someone who did not ask.
    principal_id = (await dump(database))["members"]
    not_asked = await app.press(OFFICER, DataCB(action=DataAction.ERASE_NOW, member_id=2))
    assert "no pending request" in not_asked.text
    erased = await app.press(OFFICER, confirm.button("Erase now"))
    assert "Erased" in erased.text
    assert principal_id

    after = await dump(database)
    names_sender = names_number(SENDER.id)
    for table, rows in after.items():
        for row in rows:
            for value in row:
                assert value != SENDER.id, table
                assert not (isinstance(value, str) and names_sender(value)), table
                assert not (isinstance(value, str) and value == "Mei Lin"), table
    proposal = await query(
        database, "SELECT proposer_id, title FROM proposals WHERE id = :id", id=proposal_id
    )
    assert proposal == [(None, "Canteen hours")]  # kept, as from a former member
    assert await query(database, "SELECT 1 FROM proposals WHERE id = :id", id=draft_id) == []
    letters = await query(
        database,
        "SELECT member_id, sender_tag, sender_seal, body FROM mailbox_letters ORDER BY body",
    )
    assert letters == [
        (None, None, None, "Named letter by Mei Lin-Zhou."),
        (None, None, None, "Sealed letter."),
    ]
    assert await query(database, "SELECT owner, owner_id FROM improvement_actions") == [
        (FORMER_MEMBER, None)
    ]
    # On SQLite the erased rows are not left in the file or its write-ahead log either.
    raw = raw_sqlite_bytes(db_url)
    if raw is not None:
        assert b"Physics" not in raw and b"Mei Lin\x00" not in raw

    # The person is a stranger now: /start begins a new registration.
    assert "Before you register" in (await app.send(SENDER, "/start")).text


async def test_withdrawing_a_request(people):
    app = people
    await app.press(SENDER, DataCB(action=DataAction.REQUEST))
    assert "withdrawn" in (await app.press(SENDER, DataCB(action=DataAction.CANCEL))).text
    assert "No deletion requests" in (await app.send(OFFICER, "/datarequests")).text


async def test_members_are_asked_again_when_the_notice_changes(people, database, db_url):
    app = people
    async with database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE members SET consent_version = 1 WHERE telegram_id = :id"),
            {"id": SENDER.id},
        )
    asked = await app.press(SENDER, MenuCB(action=MenuAction.PROPOSALS))
    assert "We have updated how we handle your data" in asked.text
    assert "/mydata" in asked.text  # the new notice names the data rights
    assert "What the bot holds about you" in (await app.send(SENDER, "/mydata")).text
    assert "updated how we handle" in (await app.send(SENDER, "hello")).text
    declined = await app.press(SENDER, asked.button("Decline"))
    assert "Without your consent you cannot use the bot" in declined.text
    accepted = await app.press(SENDER, asked.button("I agree"))
    assert "consent has been recorded" in accepted.text
    ((version, at),) = await query(
        database,
        "SELECT consent_version, consented_at FROM members WHERE telegram_id = :id",
        id=SENDER.id,
    )
    assert version == CONSENT_VERSION and at is not None
    assert (
        "updated how we handle"
        not in (await app.press(SENDER, MenuCB(action=MenuAction.PROPOSALS))).text
    )
    assert PRINCIPAL  # others were never asked


async def test_erasure_also_removes_the_notices_that_named_them(people, database, db_url):
    """Found by the soak (bench/soak): the officers' notice "X (employee id) asks for their
    data to be erased" stayed in the outbox, with the name and employee id, for 30 days."""
    app = people
    await app.flush_outbox()
    await app.press(SENDER, DataCB(action=DataAction.REQUEST))
    told = (await app.flush_outbox()).sent_to(OFFICER.id)
    assert "Mei Lin (M1)" in told[0].text
    listed = await app.send(OFFICER, "/datarequests")
    confirm = await app.press(OFFICER, listed.button("Mei Lin"))
    assert "Erased" in (await app.press(OFFICER, confirm.button("Erase now"))).text

    for table, rows in (await dump(database)).items():
        for row in rows:
            for value in row:
                shown = str(value)
                assert "Mei Lin" not in shown and '"M1"' not in shown, (table, row)
    raw = raw_sqlite_bytes(db_url)
    if raw is not None:
        assert b"Mei Lin" not in raw
