"""Registration through the real Dispatcher: roster match, approval, restart, bad input."""

from __future__ import annotations

from sqlalchemy import select

from handlers.callbacks import ApprovalCB, ConsentCB
from storage.models import FsmRecord, Member, RegistrationRequest
from tests.conftest import ADMIN, make_driver, register, seed_roster
from tests.harness import TgUser

ZHANG = TgUser(id=1001, first_name="张三", language_code="zh-hans")
ALICE = TgUser(id=1002, first_name="Alice", language_code="en")
STRANGER = TgUser(id=1003, first_name="李四", language_code="zh-CN")
OFFICER = TgUser(id=1004, first_name="王五", language_code="zh-hans")

ROSTER = [
    ("T1001", "张三", "机电学院", ""),
    ("T1002", "Alice Smith", "外语学院", "member"),
    ("T1004", "王五", "工会办公室", "officer"),
]


async def linked_telegram_id(database, employee_id: str) -> int | None:
    async with database.sessions() as session:
        return await session.scalar(
            select(Member.telegram_id).where(Member.employee_id == employee_id)
        )


async def test_roster_member_registers_in_chinese(app, database):
    await seed_roster(database, ROSTER)
    notice = await app.send(ZHANG, "/start")
    assert "注册前请阅读" in notice.text
    assert notice.button("同意") == ConsentCB(accept=True).pack()

    asked = await app.press(ZHANG, ConsentCB(accept=True))
    assert "请发送您的工号" in asked.text
    assert "姓名" in (await app.send(ZHANG, "T1001")).text
    welcome = await app.send(ZHANG, " 张 三 ")  # spaces as people type them
    assert "欢迎您，张三" in welcome.text and "机电学院" in welcome.text
    assert "问卷" in welcome.buttons()[0][0]
    assert await linked_telegram_id(database, "T1001") == ZHANG.id


async def test_roster_member_registers_in_english(app, database):
    await seed_roster(database, ROSTER)
    assert "Before you register" in (await app.send(ALICE, "/start")).text
    await app.press(ALICE, ConsentCB(accept=True))
    await app.send(ALICE, "T1002")
    welcome = await app.send(ALICE, "alice smith")
    assert "Welcome, Alice Smith" in welcome.text
    assert "📋 Surveys" in [t for t, _ in welcome.buttons()]
    assert await linked_telegram_id(database, "T1002") == ALICE.id


async def test_officer_menu_has_officer_entries_member_menu_does_not(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "T1004", "王五")
    await register(app, ZHANG, "T1001", "张三")
    officer_menu = [t for t, _ in (await app.send(OFFICER, "/menu")).buttons()]
    member_menu = [t for t, _ in (await app.send(ZHANG, "/menu")).buttons()]
    assert "🛂 注册审核" in officer_menu and "🛂 注册审核" not in member_menu


async def test_unknown_person_waits_for_an_officer_who_approves(app, database):
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "T1004", "王五")
    await app.send(STRANGER, "/start")
    await app.press(STRANGER, ConsentCB(accept=True))
    await app.send(STRANGER, "T9999")
    outcome = await app.send(STRANGER, "李四")
    assert "没有找到您" in outcome.sent_to(STRANGER.id)[0].text
    notices = await app.flush_outbox()
    to_officer = notices.sent_to(OFFICER.id)
    assert to_officer and "李四" in to_officer[0].text
    assert notices.sent_to(ADMIN.id), "bootstrap admins are asked too"
    approve = notices.button("通过", chat_id=OFFICER.id)
    assert await linked_telegram_id(database, "T9999") is None

    # Until someone decides, /start says so; a plain member may not decide.
    assert "等待" in (await app.send(STRANGER, "/start")).text
    refused = await app.press(ZHANG, approve)
    assert "没有权限" in refused.text

    decided = await app.press(OFFICER, approve)
    assert "已通过" in decided.text
    told = (await app.flush_outbox()).sent_to(STRANGER.id)
    assert "申请已通过" in told[0].text and "问卷" in str(told[0].reply_markup)
    assert await linked_telegram_id(database, "T9999") == STRANGER.id
    again = await app.press(ADMIN, approve)
    assert "已被处理" in again.text


async def test_officer_rejects_and_the_person_is_told(app, database):
    await seed_roster(database, ROSTER)
    await register(app, STRANGER, "T9999", "李四")
    async with database.sessions() as session:
        request_id = await session.scalar(select(RegistrationRequest.id))
    await app.press(ADMIN, ApprovalCB(request_id=request_id, approve=False))
    assert "未获通过" in (await app.flush_outbox()).sent_to(STRANGER.id)[0].text
    assert await linked_telegram_id(database, "T9999") is None


async def test_registration_survives_a_restart(config, database, i18n):
    await seed_roster(database, ROSTER)
    before = make_driver(config, database, i18n)
    await before.send(ZHANG, "/start")
    await before.press(ZHANG, ConsentCB(accept=True))
    await before.send(ZHANG, "T1001")

    after = make_driver(config, database, i18n)  # new Dispatcher, same database
    welcome = await after.send(ZHANG, "张三")
    assert "欢迎您，张三" in welcome.text


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(app, database):
    await seed_roster(database, ROSTER)
    await app.send(ZHANG, "/start")
    await app.press(ZHANG, ConsentCB(accept=True))
    assert "请发送文字" in (await app.send(ZHANG, sticker=True)).text
    assert "工号最多" in (await app.send(ZHANG, "x" * 10_000)).text
    await app.send(ZHANG, "T1001")
    assert "姓名最多" in (await app.send(ZHANG, "名" * 10_000)).text
    assert "欢迎您" in (await app.send(ZHANG, "张三")).text


async def test_forged_and_stale_buttons_are_refused(app, database):
    await seed_roster(database, ROSTER)
    assert "已失效" in (await app.press(ZHANG, "totally-forged")).text
    assert "已失效" in (await app.press(ZHANG, "a1:notanumber:1")).text
    # A consent button pressed outside the registration conversation.
    assert "已失效" in (await app.press(ZHANG, ConsentCB(accept=True))).text


async def test_same_update_twice_has_no_second_effect(app, database):
    await seed_roster(database, ROSTER)
    update = app.message_update(ZHANG, "/start")
    first = await app.feed(update)
    second = await app.feed(update)
    assert first.requests and not second.requests


async def test_declining_consent_stores_nothing(app, database):
    await seed_roster(database, ROSTER)
    await app.send(ZHANG, "/start")
    outcome = await app.press(ZHANG, ConsentCB(accept=False))
    assert "未经您的同意" in outcome.text
    assert "已失效" in (await app.press(ZHANG, ConsentCB(accept=True))).text
    async with database.sessions() as session:
        assert await session.scalar(select(FsmRecord.key)) is None
        assert await session.scalar(select(RegistrationRequest.id)) is None
    assert await linked_telegram_id(database, "T1001") is None
