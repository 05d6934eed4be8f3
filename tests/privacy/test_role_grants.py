"""Who may make someone a mailbox recipient, and the audit of every role change.

Attacker: an officer who gives their own second account the principal's role to read the box.
Recipient roles (principal, secretary, any role a box names) and admin are an admin's to give;
every change is recorded; a box's recipients hear when someone joins them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlalchemy import select

from bot.config import parse_config
from handlers.callbacks import MenuAction, MenuCB, RoleCB
from members.roles import Role
from members.service import MembershipService
from storage.models import Member
from storage.uow import unit_of_work
from tests.conftest import ADMIN, TEST_MAILBOX_KEY, make_config, make_driver, register, seed_roster
from tests.harness import BotDriver, TgUser
from tests.unit.test_cli import Cli, cfg, cli, load  # noqa: F401  (fixtures)

PRINCIPAL = TgUser(id=4001, first_name="赵")
OFFICER = TgUser(id=4002, first_name="王五")
SECOND = TgUser(id=4003, first_name="小号")  # the officer's second account
ROSTER = [
    ("P1", "赵国强", "校长办公室", "principal"),
    ("O1", "王五", "工会办公室", "officer"),
    ("M1", "王五五", "机电学院", ""),
]
GUARDED_BUTTONS = ("院长", "书记", "管理员")


async def member_id(database, employee_id: str) -> int:
    async with database.sessions() as session:
        found = await session.scalar(select(Member.id).where(Member.employee_id == employee_id))
    assert found is not None
    return found


async def roles(database, employee_id: str) -> frozenset[Role]:
    async with unit_of_work(database.sessions) as repos:
        member = await repos.members.get_by_employee_id(employee_id)
    assert member is not None
    return member.roles


async def audit(database) -> list[tuple[str, str | None, str, str]]:
    async with unit_of_work(database.sessions) as repos:
        rows = await MembershipService(repos).role_audit()
    return [(r.actor_kind, r.employee_id, r.role, r.change) for r in rows]


async def people(app: BotDriver, database) -> None:
    await seed_roster(database, ROSTER)
    for user, (employee_id, name, *_rest) in zip((PRINCIPAL, OFFICER, SECOND), ROSTER, strict=True):
        await register(app, user, employee_id, name)
    await app.flush_outbox()


async def test_officer_cannot_make_their_second_account_the_principal(app, database):
    await people(app, database)
    await app.press(OFFICER, MenuCB(action=MenuAction.ROLES))
    card = await app.send(OFFICER, "M1")
    buttons = [text for text, _ in card.buttons()]
    assert any("代表" in b for b in buttons), "officers still manage the other roles"
    assert not [b for b in buttons if any(g in b for g in GUARDED_BUTTONS)]
    second = await member_id(database, "M1")
    before = await audit(database)
    for role in (Role.PRINCIPAL, Role.SECRETARY, Role.ADMIN):
        forged = await app.press(OFFICER, RoleCB(member_id=second, role=role))
        assert "没有权限" in forged.text
    # Nor take the role from the principal (and give it back to someone else).
    principal = await member_id(database, "P1")
    assert (
        "没有权限"
        in (await app.press(OFFICER, RoleCB(member_id=principal, role=Role.PRINCIPAL))).text
    )
    assert await roles(database, "M1") == {Role.MEMBER}
    assert await roles(database, "P1") == {Role.PRINCIPAL}
    assert "请先注册" not in (inbox := await app.send(SECOND, "/inbox")).text
    assert "院长信箱" not in inbox.text
    assert await audit(database) == before, "refused presses change nothing"


async def test_a_role_a_box_names_is_an_admins_to_give(database, db_url, i18n):
    boxes = [
        {"key": "principal", "name": "院长信箱", "roles": ["principal"]},
        {"key": "welfare", "name": "福利信箱", "roles": ["handler"]},
    ]
    config = parse_config(
        {
            **make_config(db_url).model_dump(),
            "mailbox": {"secret_key": TEST_MAILBOX_KEY, "boxes": boxes},
        }
    )
    app = make_driver(config, database, i18n)
    await people(app, database)
    await app.press(OFFICER, MenuCB(action=MenuAction.ROLES))
    card = await app.send(OFFICER, "M1")
    assert not [t for t, _ in card.buttons() if "承办人" in t]
    second = await member_id(database, "M1")
    assert (
        "没有权限" in (await app.press(OFFICER, RoleCB(member_id=second, role=Role.HANDLER))).text
    )
    assert (
        "角色已更新" in (await app.press(ADMIN, RoleCB(member_id=second, role=Role.HANDLER))).text
    )
    assert await roles(database, "M1") == {Role.MEMBER, Role.HANDLER}


async def test_admin_grant_is_audited_and_the_boxs_recipients_are_told(app, database):
    await people(app, database)
    await app.press(ADMIN, MenuCB(action=MenuAction.ROLES))
    card = await app.send(ADMIN, "M1")
    grant = card.button("院长")  # an admin sees the recipient roles
    assert "角色已更新" in (await app.press(ADMIN, grant)).text
    assert Role.PRINCIPAL in await roles(database, "M1")
    notices = await app.flush_outbox()
    told = notices.sent_to(PRINCIPAL.id)
    assert told and "<b>王五五</b>" in told[0].text and "院长信箱" in told[0].text
    assert not notices.sent_to(SECOND.id), "the new recipient is not told about themselves"
    assert ("admin", "M1", "principal", "granted") in await audit(database)
    # Revoking is recorded too; an officer's change of another role as well.
    await app.press(ADMIN, grant)
    await app.press(
        OFFICER, RoleCB(member_id=await member_id(database, "M1"), role=Role.REPRESENTATIVE)
    )
    log = await audit(database)
    assert ("admin", "M1", "principal", "revoked") in log
    assert ("member", "M1", "representative", "granted") in log
    # Linking the principal's row (its invite) was recorded as well.
    assert ("invite", "P1", "principal", "linked") in log


def test_audit_repository_can_only_add_and_read() -> None:
    from storage.repos.role_audit import RoleAuditRepository

    public = {name for name in vars(RoleAuditRepository) if not name.startswith("_")}
    assert public == {"record", "list_all"}


def test_members_audit_prints_roster_changes_with_names_spreadsheet_safe(
    cli: Cli,  # noqa: F811  (the fixture)
    tmp_path: Path,
) -> None:
    load(cli, tmp_path, "1001,=cmd|' /C calc'!A0,校办,院长\n")
    load(cli, tmp_path, "1001,=cmd|' /C calc'!A0,校办,会员\n", name="again.csv")
    result = cli("members", "audit")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out.removeprefix("\ufeff"))))
    changes = [(r["actor"], r["employee_id"], r["role"], r["change"]) for r in rows]
    assert changes == [
        ("roster", "1001", "principal", "granted"),
        ("roster", "1001", "member", "granted"),
        ("roster", "1001", "principal", "revoked"),
    ]
    assert {r["name"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    as_json = json.loads(cli("members", "audit", "--format", "json").out)
    assert as_json[0]["name"] == "=cmd|' /C calc'!A0" and as_json[0]["actor"] == "roster"
