"""Taking over a roster row, tried as a colleague would: employee ids and names are no secret.

A row holding any role beyond member/representative links only by invite link or an admin's
approval; a linked row never re-links, and its owner hears of the attempt; guessing is slowed."""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path

from sqlalchemy import func, select

from handlers.callbacks import ApprovalCB, ConsentCB, MenuAction, MenuCB
from storage.models import Member, RegistrationRequest
from tests.conftest import ADMIN, make_config, make_driver, register, seed_roster
from tests.harness import BotDriver, Outcome, TgUser
from tests.mailbox.conftest import write_letter
from tests.unit.test_cli import INVITE_LINK, Cli, cfg, cli, load  # noqa: F401  (fixtures)

PRINCIPAL = TgUser(id=3001, first_name="院长")
OFFICER = TgUser(id=3002, first_name="王五")
MEMBER = TgUser(id=3003, first_name="张三", language_code="en")
STRANGER = TgUser(id=3666, first_name="Mallory")
ROSTER = [
    ("P1", "赵国强", "校长办公室", "principal"),
    ("O1", "王五", "工会办公室", "officer"),
    ("M1", "张三", "机电学院", ""),
]
LETTER = "Canteen prices went up twice this term."
PENDING_REPLY = "没有找到您"  # "We could not find you on the union roster. … sent to officers"


async def attempt(app: BotDriver, user: TgUser, employee_id: str, name: str) -> Outcome:
    await app.send(user, "/start")
    await app.press(user, ConsentCB(accept=True))
    await app.send(user, employee_id)
    return await app.send(user, name)


async def linked(database, employee_id: str) -> int | None:
    async with database.sessions() as session:
        return await session.scalar(
            select(Member.telegram_id).where(Member.employee_id == employee_id)
        )


async def request_id_of(database, telegram_id: int) -> int:
    async with database.sessions() as session:
        found = await session.scalar(
            select(func.max(RegistrationRequest.id)).where(
                RegistrationRequest.telegram_id == telegram_id
            )
        )
    assert found is not None
    return found


async def test_stranger_with_the_principals_id_and_name_gets_no_role_and_no_letter(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "O1", "王五")
    await register(app, MEMBER, "M1", "张三")
    await write_letter(app, MEMBER, LETTER, box="principal", mode="named")
    await app.flush_outbox()
    start = len(app.session.requests)
    outcome = await attempt(app, STRANGER, "P1", "赵国强")
    # The usual "sent to the officers" answer: nothing tells the row is privileged.
    assert PENDING_REPLY in outcome.text
    assert "欢迎" not in outcome.text and "院长信箱" not in outcome.text
    assert await linked(database, "P1") is None
    inbox = await app.send(STRANGER, "/inbox")
    assert "请先注册" in inbox.text
    assert "📥" not in str(inbox.buttons())
    assert "请先注册" in (await app.press(STRANGER, MenuCB(action=MenuAction.INBOX))).text
    seen = app.session.requests[start:] + (await app.flush_outbox()).requests
    assert not [r for r in seen if LETTER in str(r) or "张三" in str(r)]


async def test_privileged_request_goes_to_admins_with_the_roles_in_bold_and_only_an_admin_approves(
    app, database
):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "O1", "王五")
    await app.flush_outbox()
    await attempt(app, STRANGER, "P1", "赵国强")
    notices = await app.flush_outbox()
    assert not notices.sent_to(OFFICER.id), "officers cannot approve it: only admins are asked"
    card = notices.sent_to(ADMIN.id)[0].text
    assert "<b>赵国强</b>" in card and "<b>校长办公室</b>" in card and "<b>院长</b>" in card
    assert "只能由管理员通过" in card
    request_id = await request_id_of(database, STRANGER.id)
    approve = ApprovalCB(request_id=request_id, approve=True)
    # The officer finds it in the list and presses approve (or forges the button): refused.
    listed = await app.press(OFFICER, MenuCB(action=MenuAction.APPROVALS))
    assert "<b>院长</b>" in listed.text
    assert "没有权限" in (await app.press(OFFICER, approve)).text
    assert await linked(database, "P1") is None
    # The admin, who sees the roles, may decide to let them in.
    assert "已通过" in (await app.press(ADMIN, approve)).text
    assert await linked(database, "P1") == STRANGER.id


async def test_privileged_row_registers_with_its_invite_link(app, database, config):
    await seed_roster(database, ROSTER)
    await register(app, PRINCIPAL, "P1", "赵国强")  # the helper uses an invite for this row
    assert await linked(database, "P1") == PRINCIPAL.id
    menu = await app.send(PRINCIPAL, "/menu")
    assert "📥" in str(menu.buttons())


async def test_linked_row_is_never_relinked_and_its_owner_is_told_in_their_language(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "O1", "王五")
    await register(app, MEMBER, "M1", "张三")
    await app.flush_outbox()
    outcome = await attempt(app, STRANGER, "M1", "张三")
    assert PENDING_REPLY in outcome.text  # same answer as for an unknown id
    assert await linked(database, "M1") == MEMBER.id
    notices = await app.flush_outbox()
    told = notices.sent_to(MEMBER.id)
    assert told and "tried to register in this bot with your employee id M1" in told[0].text
    card = notices.sent_to(OFFICER.id)
    assert card and "已绑定另一个 Telegram 账号" in card[0].text
    assert not [b for b, _ in notices.buttons(OFFICER.id) if "通过" in b and "不" not in b]
    request_id = await request_id_of(database, STRANGER.id)
    refused = await app.press(OFFICER, ApprovalCB(request_id=request_id, approve=True))
    assert "已绑定" in refused.text
    assert await linked(database, "M1") == MEMBER.id


async def test_plain_member_registers_by_name_unless_match_by_name_is_off(database, db_url, i18n):
    await seed_roster(database, ROSTER)
    config = make_config(db_url).model_copy(
        update={
            "registration": make_config(db_url).registration.model_copy(
                update={"match_by_name": False}
            )
        }
    )
    app = make_driver(config, database, i18n)
    await register(app, OFFICER, "O1", "王五")
    outcome = await attempt(app, MEMBER, "M1", "张三")
    assert "could not find you" in outcome.text
    assert await linked(database, "M1") is None
    # An officer may approve a plain member's row.
    request_id = await request_id_of(database, MEMBER.id)
    await app.press(OFFICER, ApprovalCB(request_id=request_id, approve=True))
    assert await linked(database, "M1") == MEMBER.id


async def test_repeated_wrong_attempts_are_slowed_down_and_logged_as_counts(app, database, caplog):
    await seed_roster(database, ROSTER)
    for guess in ("X1", "X2", "X3"):
        assert PENDING_REPLY in (await attempt(app, STRANGER, guess, "赵国强")).text
        request_id = await request_id_of(database, STRANGER.id)
        await app.press(ADMIN, ApprovalCB(request_id=request_id, approve=False))
    with caplog.at_level(logging.INFO):
        refused = await attempt(app, STRANGER, "P1", "赵国强")
    assert re.search(r"请 \d+ 分钟后再试", refused.text)
    async with database.sessions() as session:
        filed = await session.scalar(
            select(func.count()).where(RegistrationRequest.telegram_id == STRANGER.id)
        )
    assert filed == 3, "no fourth request, no fourth notice to the admins"
    assert "3 unmatched attempts" in caplog.text
    for secret in ("P1", "X1", "赵国强", str(STRANGER.id)):
        assert secret not in caplog.text


def test_invite_all_prints_a_fresh_spreadsheet_safe_link_for_every_unregistered_member(
    cli: Cli,  # noqa: F811  (the fixture)
    tmp_path: Path,
) -> None:
    load(cli, tmp_path, "1001,张三,教务处,\n1002,=HYPERLINK(1),教务处,\n1003,赵国强,校办,院长\n")
    result = cli("members", "invite", "--all", "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff"))))
    assert [(r["employee_id"], r["name"]) for r in rows] == [
        ("1001", "张三"),
        ("1002", "'=HYPERLINK(1)"),
        ("1003", "赵国强"),
    ]
    codes = [INVITE_LINK.fullmatch(r["link"]) for r in rows]
    assert all(codes) and len({c.group(1) for c in codes if c}) == 3
    again = cli("members", "invite", "--all", "--format", "csv").out
    assert not set(c.group(1) for c in codes if c) & set(INVITE_LINK.findall(again))
    assert cli("members", "invite").code == 2  # neither an id nor --all
