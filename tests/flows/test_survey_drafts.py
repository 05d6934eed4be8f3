"""An officer goes from nothing to an open survey without a text editor: a ready-made survey,
try it (nothing stored), schedule it, open it; the Excel round trip and bad files in chat."""

from __future__ import annotations

import io
import zipfile

from aiogram.methods import SendDocument
from sqlalchemy import func, select

from handlers.callbacks import DraftAction, DraftCB, MenuAction, MenuCB
from storage.models import (
    FsmRecord,
    OutboxMessage,
    Survey,
    SurveyAnswer,
    SurveyDraft,
    SurveyParticipant,
    SurveyResponse,
)
from surveys.definition import parse_definition
from tests.conftest import register, seed_roster
from tests.harness import TgUser

OFFICER = TgUser(id=8101, first_name="王五")
MEMBERS = [TgUser(id=8102 + i) for i in range(3)]
LIBRARIAN = TgUser(id=8110)
ROSTER = [
    ("O1", "王五", "工会办公室", "officer"),
    *[(f"M{i}", f"会员{i}", "机电学院", "") for i in range(3)],
    ("L1", "馆员", "图书馆", ""),
]


async def setup(app, database) -> None:
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "O1", "王五")
    for i, member in enumerate(MEMBERS):
        await register(app, member, f"M{i}", f"会员{i}")
    await register(app, LIBRARIAN, "L1", "馆员")


async def count(database, model) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_from_template_through_try_it_and_scheduling_to_an_open_survey(app, database):
    await setup(app, database)
    menu = await app.send(OFFICER, "/newsurvey")
    assert "从模板" in menu.text or "模板" in menu.text
    templates = await app.press(OFFICER, menu.button("从模板开始"))
    names = [text for text, _data in templates.buttons()]
    assert len(names) == 5 and "工会会员年度满意度调查" in names and "教代会提案征集意见" in names
    created = await app.press(OFFICER, templates.button("工会会员年度满意度调查"))
    assert "已根据模板创建草稿" in created.text and "草稿" in created.text

    # Rename it.
    await app.press(OFFICER, created.button("改名"))
    renamed = await app.send(OFFICER, "2026 年会员满意度调查")
    assert "已改名" in renamed.text and "2026 年会员满意度调查" in renamed.text

    # Try it: branching included, nothing stored.
    intro = await app.press(OFFICER, renamed.button("试填"))
    assert "试填" in intro.text and "匿名" in intro.text
    first = await app.press(OFFICER, intro.button("开始"))
    assert "1/8" in first.text and "总体而言" in first.text
    low = await app.press(OFFICER, first.button("2"))
    assert "哪些方面不满意" in low.text  # shown because the score was low
    services = await app.send(OFFICER, "活动太少")
    assert "使用过哪些工会服务" in services.text
    ticked = await app.press(OFFICER, services.button("文体活动"))
    rating = await app.press(OFFICER, ticked.button("完成"))
    assert "服务的质量" in rating.text  # shown because a service was ticked
    voice = await app.press(OFFICER, rating.button("4"))
    priority = await app.press(OFFICER, voice.button("3"))
    recommend = await app.press(OFFICER, priority.button("福利待遇"))
    suggestion = await app.press(OFFICER, recommend.button("跳过"))
    summary = await app.press(OFFICER, suggestion.button("跳过"))
    assert "请核对" in summary.text and "活动太少" in summary.text
    assert "匿名" in summary.text  # the members' summary screen, with its promise
    ended = await app.press(OFFICER, summary.button("提交"))
    assert "试填结束" in ended.text and "没有保存" in ended.text
    for model in (SurveyResponse, SurveyAnswer, SurveyDraft, SurveyParticipant):
        assert await count(database, model) == 0, model.__tablename__
    async with database.sessions() as session:
        states = (await session.scalars(select(FsmRecord.data))).all()
    assert not any("活动太少" in (data or "") for data in states)  # the try left no trace

    # Schedule: now, a week, reminders, one department.
    when = await app.press(OFFICER, ended.button("安排时间"))
    assert "什么时候开放" in when.text and "Asia/Shanghai" in when.text
    closes = await app.press(OFFICER, when.button("现在"))
    reminders = await app.press(OFFICER, closes.button("一周后"))
    audience = await app.press(OFFICER, reminders.button("1 天和 3 小时"))
    by_department = await app.press(OFFICER, audience.button("按部门"))
    departments = [text for text, _data in by_department.buttons()]
    assert departments[:3] == ["⬜️ 图书馆", "⬜️ 工会办公室", "⬜️ 机电学院"]
    ticked = await app.press(OFFICER, by_department.button("机电学院"))
    assert "☑️ 机电学院" in [text for text, _ in ticked.buttons()]
    summary = await app.press(OFFICER, by_department.button("完成"))
    assert "现在向 3 名会员开放" in summary.text and "截止前 1 天和 3 小时" in summary.text
    assert "机电学院" in summary.text
    opened = await app.press(OFFICER, summary.button("立即开放"))
    assert "已开启" in opened.text or "正在邀请 3" in opened.text

    async with database.sessions() as session:
        survey = await session.scalar(select(Survey))
        invitations = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "survey.invitation")
        )
    assert survey.status == "open" and invitations == 3
    definition = parse_definition(survey.definition)
    assert definition.audience == ("机电学院",) and len(definition.reminders) == 2
    assert (
        definition.closes_at is not None and definition.title.get("zh") == "2026 年会员满意度调查"
    )
    delivered = await app.flush_outbox()
    for member in MEMBERS:
        assert "2026 年会员满意度调查" in delivered.sent_to(member.id)[0].text
    assert not delivered.sent_to(LIBRARIAN.id)


async def test_scheduled_for_later_and_typed_times(app, database):
    await setup(app, database)
    await app.press(OFFICER, DraftCB(action=DraftAction.TEMPLATES))
    created = await app.press(OFFICER, DraftCB(action=DraftAction.PICK, value=4))
    when = await app.press(OFFICER, created.button("安排时间"))
    assert "请输入时间" in (await app.send(OFFICER, "下周某天")).text
    assert "已经过去" in (await app.send(OFFICER, "2020-01-01 08:00")).text
    closes = await app.press(OFFICER, when.button("明天 08:00"))
    assert "什么时候截止" in closes.text
    reminders = await app.send(OFFICER, "2099-12-14 18:00")
    assert "2099-12-14 18:00" in reminders.text
    audience = await app.press(OFFICER, reminders.button("不提醒"))
    by_role = await app.press(OFFICER, audience.button("按角色"))
    await app.press(OFFICER, by_role.button("工会干部"))
    summary = await app.press(OFFICER, by_role.button("完成"))
    assert "向 1 名会员开放" in summary.text and "不发提醒" in summary.text
    scheduled = await app.press(OFFICER, summary.button("确认"))
    assert "已安排" in scheduled.text
    async with database.sessions() as session:
        survey = await session.scalar(select(Survey))
    assert survey.status == "draft" and survey.opens_at is not None
    definition = parse_definition(survey.definition)
    assert definition.audience == ("officer",) and definition.reminders == ()
    assert await count(database, OutboxMessage) == 0


async def test_template_and_excel_round_trip_in_chat(app, database):
    await setup(app, database)
    listing = await app.press(OFFICER, MenuCB(action=MenuAction.SURVEY_ADMIN))
    template = await app.press(OFFICER, listing.button("模板"))
    (document,) = [r for r in template.requests if isinstance(r, SendDocument)]
    workbook = document.document.data
    imported = await app.send_file(OFFICER, "问卷.xlsx", workbook)
    assert "已导入" in imported.text and "示例问卷" in imported.text

    exported = await app.press(OFFICER, imported.button("用 Excel 编辑"))
    (document,) = [r for r in exported.requests if isinstance(r, SendDocument)]
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(document.document.data))
    book.worksheets[1]["C2"] = "您对今年的工会活动满意吗？"
    buffer = io.BytesIO()
    book.save(buffer)
    updated = await app.send_file(OFFICER, "example-2026.xlsx", buffer.getvalue())
    assert "已更新" in updated.text
    async with database.sessions() as session:
        survey = await session.scalar(select(Survey))
    assert "您对今年的工会活动满意吗？" in survey.definition
    assert await count(database, Survey) == 1


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def test_wrong_files_sent_by_mistake_are_named_and_nothing_is_stored(app, database):
    await setup(app, database)
    new = await app.press(OFFICER, DraftCB(action=DraftAction.NEW))
    await app.press(OFFICER, new.button("上传文件"))
    cases = [
        ("名单.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel"),
        ("问卷.csv", "题号,题型\nq1,单选\n".encode(), "CSV"),
        ("通知.docx", _docx(), "Word"),
        ("大文件.xlsx", b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024), "20.0 MB"),
        ("图片.png", b"\x89PNG\r\n", "不是 Excel"),
    ]
    for name, content, expected in cases:
        answer = await app.send_file(OFFICER, name, content)
        assert "没有保存" in answer.text and expected in answer.text, (name, answer.text)
    assert "以文件形式" in (await app.send(OFFICER, "在吗")).text
    assert await count(database, Survey) == 0


async def test_members_cannot_use_the_draft_tools(app, database):
    await setup(app, database)
    member = MEMBERS[0]
    assert "没有权限" in (await app.send(member, "/newsurvey")).text
    forged = DraftCB(action=DraftAction.PICK, value=0)
    assert "没有权限" in (await app.press(member, forged)).text
    assert await count(database, Survey) == 0
