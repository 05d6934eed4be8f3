"""Invites, language, roles, groups, special ids, errors and concurrency through the Dispatcher."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiogram.methods import AnswerCallbackQuery, SetMyCommands
from aiogram.types import Chat
from sqlalchemy import select

from bot.app import set_commands
from handlers.callbacks import ApprovalCB, ConsentCB, LanguageCB, MenuAction, MenuCB, RoleCB
from members.roles import Role
from members.service import MembershipService
from storage.models import Member, MemberRole, RegistrationRequest
from storage.uow import unit_of_work
from tests.conftest import ADMIN, make_config, make_driver, register, seed_roster
from tests.harness import TgUser

ZHANG = TgUser(id=2001, first_name="张三")
OFFICER = TgUser(id=2002, first_name="王五")
ROSTER = [("T1", "张三", "机电学院", ""), ("T2", "王五", "工会办公室", "officer")]


async def make_invite(database, employee_id: str, ttl=timedelta(days=1)) -> str:
    async with unit_of_work(database.sessions) as repos:
        return await MembershipService(repos).create_invite(employee_id, ttl)


async def roles_of(database, employee_id: str) -> set[str]:
    async with database.sessions() as session:
        rows = await session.scalars(
            select(MemberRole.role).join(Member).where(Member.employee_id == employee_id)
        )
        return set(rows)


async def test_invite_link_registers_in_one_tap_and_only_once(app, database):
    await seed_roster(database, ROSTER)
    code = await make_invite(database, "T1")
    notice = await app.send(ZHANG, f"/start inv_{code}")
    assert "注册前请阅读" in notice.text  # consent is asked even with an invite
    welcome = await app.press(ZHANG, ConsentCB(accept=True))
    assert "欢迎您，张三" in welcome.text

    stranger = TgUser(id=2999)
    await app.send(stranger, f"/start inv_{code}")
    reused = await app.press(stranger, ConsentCB(accept=True))
    assert "已被使用或已过期" in reused.text


async def test_expired_invite_is_refused(app, database):
    await seed_roster(database, ROSTER)
    code = await make_invite(database, "T1", ttl=timedelta(seconds=-1))
    await app.send(ZHANG, f"/start inv_{code}")
    assert "已过期" in (await app.press(ZHANG, ConsentCB(accept=True))).text


async def test_language_choice_is_stored_and_used(app, database):
    await seed_roster(database, ROSTER)
    await register(app, ZHANG, "T1", "张三")
    assert "请选择语言" in (await app.send(ZHANG, "/lang")).text
    switched = await app.press(ZHANG, LanguageCB(locale="en"))
    assert "Language set to English" in switched.text
    assert "What would you like to do?" in (await app.send(ZHANG, "/menu")).text
    async with database.sessions() as session:
        assert await session.scalar(select(Member.locale).where(Member.employee_id == "T1")) == "en"
    assert "已失效" in (await app.press(ZHANG, LanguageCB(locale="fr"))).text.replace(
        "This button is no longer valid.", "已失效"
    )


async def test_language_chosen_before_registering_carries_over(app, database):
    await seed_roster(database, ROSTER)
    await app.press(ZHANG, LanguageCB(locale="en"))
    assert "Before you register" in (await app.send(ZHANG, "/start")).text
    await app.press(ZHANG, ConsentCB(accept=True))
    await app.send(ZHANG, "T1")
    assert "Welcome, 张三" in (await app.send(ZHANG, "张三")).text


async def test_telegram_language_code_picks_english(app):
    english = TgUser(id=2100, language_code="en-US")
    assert "Send /start to register" in (await app.send(english, "hello")).text
    french = TgUser(id=2101, language_code="fr")
    assert "请发送 /start 注册" in (await app.send(french, "bonjour")).text


async def test_officer_changes_roles_from_the_bot(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "T2", "王五")
    await register(app, ZHANG, "T1", "张三")
    asked = await app.press(OFFICER, MenuCB(action=MenuAction.ROLES))
    assert "工号" in asked.text
    card = await app.send(OFFICER, "T1")
    assert "机电学院" in card.text
    toggle = card.button("代表")
    updated = await app.press(OFFICER, toggle)
    assert "角色已更新" in updated.text
    assert await roles_of(database, "T1") == {"member", "representative"}

    # A plain member replaying the same button is refused; nothing changes.
    assert "没有权限" in (await app.press(ZHANG, toggle)).text
    # Officers cannot make admins, nor change their own roles.
    grant_admin = RoleCB(member_id=1, role=Role.ADMIN)
    assert "没有权限" in (await app.press(OFFICER, grant_admin)).text
    own = await app.send(OFFICER, "/menu")
    assert own.requests
    async with database.sessions() as session:
        officer_id = await session.scalar(select(Member.id).where(Member.employee_id == "T2"))
    refused = await app.press(OFFICER, RoleCB(member_id=officer_id, role=Role.OFFICER))
    assert "不能修改自己的角色" in refused.text
    assert await roles_of(database, "T2") == {"officer"}


async def test_role_is_rechecked_on_every_press(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "T2", "王五")
    card = await app.send(OFFICER, "/menu")
    approvals = card.button("注册审核")
    assert "没有待审核" in (await app.press(OFFICER, approvals)).text
    # The admin revokes the officer role; the old menu button no longer works.
    async with database.sessions() as session:
        officer_id = await session.scalar(select(Member.id).where(Member.employee_id == "T2"))
    await app.press(ADMIN, RoleCB(member_id=officer_id, role=Role.OFFICER))
    assert "没有权限" in (await app.press(OFFICER, approvals)).text


async def test_unknown_employee_id_in_role_editor(app, database):
    await seed_roster(database, ROSTER)
    await app.press(ADMIN, MenuCB(action=MenuAction.ROLES))
    assert "没有工号为 NOPE 的会员" in (await app.send(ADMIN, "NOPE")).text
    assert "请发送文字" in (await app.send(ADMIN, sticker=True)).text


async def test_service_accounts_never_get_a_role(database, db_url, i18n):
    for special in (1087968824, 777000):
        config = make_config(db_url, admins=[special])
        app = make_driver(config, database, i18n)
        ghost = TgUser(id=special)
        await seed_roster(database, ROSTER)
        refused = await app.press(ghost, MenuCB(action=MenuAction.APPROVALS))
        assert "没有权限" in refused.text
        await app.send(ghost, "/start")
        await app.press(ghost, ConsentCB(accept=True))
        await app.send(ghost, "T1")
        assert "此账号不能注册" in (await app.send(ghost, "张三")).text


async def test_group_chats_are_pointed_to_the_private_chat(app, database):
    group = Chat(id=-100123, type="supergroup", title="教工群")
    pointed = await app.send(ZHANG, "/start", chat=group)
    assert "t.me/unionvoice_test_bot" in pointed.text
    assert not (await app.send(ZHANG, "大家好", chat=group)).requests
    async with database.sessions() as session:
        assert await session.scalar(select(Member.id)) is None


async def test_handler_error_is_logged_without_content_and_user_is_told(
    app, database, monkeypatch, caplog
):
    await seed_roster(database, ROSTER)
    await register(app, ZHANG, "T1", "张三")

    async def broken(self, actor, locale):
        raise RuntimeError("boom")

    monkeypatch.setattr(MembershipService, "set_locale", broken)
    with caplog.at_level(logging.ERROR):
        outcome = await app.press(ZHANG, LanguageCB(locale="en"))
    assert "抱歉，系统出了点问题" in outcome.text
    assert "handler failed on update" in caplog.text and "42:TEST" not in caplog.text
    # The dispatcher keeps working afterwards.
    assert (await app.send(ZHANG, "/menu")).requests


async def test_two_quick_taps_are_handled_one_after_the_other(app, database):
    await seed_roster(database, ROSTER)
    await register(app, TgUser(id=2500), "T77", "赵六")
    async with database.sessions() as session:
        request_id = await session.scalar(select(RegistrationRequest.id))
    approve = ApprovalCB(request_id=request_id, approve=True)
    start = len(app.session.requests)
    await asyncio.gather(app.press(ADMIN, approve), app.press(ADMIN, approve))
    answers = [r.text for r in app.session.requests[start:] if isinstance(r, AnswerCallbackQuery)]
    assert sorted(answers) == ["申请 #1 已通过。", "该申请已被处理。"]


async def test_commands_are_set_per_language(app, i18n):
    await set_commands(app.bot, i18n, "zh")
    calls = [r for r in app.session.requests if isinstance(r, SetMyCommands)]
    by_language = {c.language_code: [cmd.description for cmd in c.commands] for c in calls}
    assert set(by_language) == {"zh", "en", None}
    assert "主菜单" in by_language["zh"] and "Main menu" in by_language["en"]
    assert by_language[None] == by_language["zh"]
