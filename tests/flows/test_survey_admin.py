"""Officers manage surveys from the bot: upload a definition, open with live progress, close."""

from __future__ import annotations

from pathlib import Path

from aiogram.methods import SendMessage
from sqlalchemy import func, select

from bot.progress import BroadcastProgressReporter
from handlers.callbacks import MenuAction, MenuCB, SurveyAdminAction, SurveyAdminCB
from storage.models import OutboxMessage, Survey
from tests.conftest import register, seed_roster
from tests.harness import TgUser

OFFICER = TgUser(id=8001, first_name="王五")
MEMBERS = [TgUser(id=8002 + i) for i in range(3)]
ROSTER = [("O1", "王五", "工会办公室", "officer")] + [
    (f"M{i}", f"会员{i}", "机电学院", "") for i in range(3)
]
EXAMPLE = (Path(__file__).parents[2] / "docs" / "examples" / "service-2026q4.toml").read_bytes()


async def setup(app, database) -> None:
    await seed_roster(database, ROSTER)
    await register(app, OFFICER, "O1", "王五")
    for i, member in enumerate(MEMBERS):
        await register(app, member, f"M{i}", f"会员{i}")


async def test_officer_uploads_opens_with_progress_and_closes(app, database, i18n):
    await setup(app, database)
    listing = await app.press(OFFICER, MenuCB(action=MenuAction.SURVEY_ADMIN))
    assert "TOML" in listing.text

    imported = await app.send_file(OFFICER, "service-2026q4.toml", EXAMPLE)
    assert "已导入" in imported.text and "草稿" in imported.text
    open_button = imported.button("开启")

    await app.press(OFFICER, open_button)
    async with database.sessions() as session:
        queued = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "survey.invitation")
        )
    assert queued == 4  # the officer is a member of the audience too

    reporter = BroadcastProgressReporter(app.bot, database, i18n, interval=1, rate_per_second=25)
    start = len(app.session.requests)
    await reporter.tick()
    progress = [r for r in app.session.requests[start:] if isinstance(r, SendMessage)]
    assert progress[0].chat_id == OFFICER.id and "已发送 0 / 4" in progress[0].text
    delivered = await app.flush_outbox()
    assert all(delivered.sent_to(m.id) for m in MEMBERS)

    card = await app.press(OFFICER, SurveyAdminCB(action=SurveyAdminAction.CARD, survey_id=1))
    assert "进行中" in card.text
    closed = await app.press(OFFICER, card.button("关闭"))
    assert "已关闭" in closed.text
    async with database.sessions() as session:
        assert await session.scalar(select(Survey.status)) == "closed"


async def test_a_broken_definition_is_explained_and_nothing_is_stored(app, database):
    await setup(app, database)
    broken = EXAMPLE.replace(b'show_if = "overall <= 2"', b'show_if = "overal <= 2"')
    answer = await app.send_file(OFFICER, "service.toml", broken)
    assert "没有保存" in answer.text and "overal" in answer.text and "service.toml:" in answer.text
    assert "不是 Excel 工作簿" in (await app.send_file(OFFICER, "roster.xlsx", b"PK")).text
    assert "没有看懂" in (await app.send_file(OFFICER, "roster.pdf", b"%PDF")).text
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Survey)) == 0


async def test_members_cannot_manage_surveys(app, database):
    await setup(app, database)
    await app.send_file(OFFICER, "service-2026q4.toml", EXAMPLE)
    member = MEMBERS[0]
    assert "没有权限" in (await app.press(member, MenuCB(action=MenuAction.SURVEY_ADMIN))).text
    forged = SurveyAdminCB(action=SurveyAdminAction.OPEN, survey_id=1)
    assert "没有权限" in (await app.press(member, forged)).text
    upload = await app.send_file(member, "service-2026q4.toml", EXAMPLE)
    assert "没有权限" in upload.text
    async with database.sessions() as session:
        assert await session.scalar(select(Survey.status)) == "draft"


async def test_officer_reads_results_with_charts_and_exports_xlsx(app, database):
    import io

    from aiogram.methods import SendDocument, SendPhoto
    from openpyxl import load_workbook

    from handlers.callbacks import SurveyAction, SurveyCB

    await setup(app, database)
    await app.send_file(OFFICER, "service-2026q4.toml", EXAMPLE)
    await app.press(OFFICER, SurveyAdminCB(action=SurveyAdminAction.OPEN, survey_id=1))
    for score, member in zip((5, 4, 2), MEMBERS, strict=True):

        def press(action, position=0, value=0):
            return SurveyCB(action=action, survey_id=1, position=position, value=value)

        await app.press(member, press(SurveyAction.START))
        await app.press(member, press(SurveyAction.RATE, 1, score))
        if score <= 2:
            await app.send(member, "<b>活动太少</b>")
        await app.press(member, press(SurveyAction.TOGGLE, 3, 0))
        await app.press(member, press(SurveyAction.DONE, 3))
        await app.press(member, press(SurveyAction.CHOOSE, 4, 1))
        await app.send(member, "3")
        await app.press(member, press(SurveyAction.SKIP, 6))
        assert "感谢" in (await app.press(member, press(SurveyAction.SUBMIT))).text

    results = await app.press(OFFICER, SurveyAdminCB(action=SurveyAdminAction.RESULTS, survey_id=1))
    assert "3" in results.text and "&lt;b&gt;活动太少" in results.text  # user text escaped
    photos = [r for r in results.requests if isinstance(r, SendPhoto)]
    assert photos, "a chart per closed question"

    exported = await app.press(OFFICER, SurveyAdminCB(action=SurveyAdminAction.EXPORT, survey_id=1))
    (document,) = [r for r in exported.requests if isinstance(r, SendDocument)]
    workbook = load_workbook(io.BytesIO(document.document.data))
    assert workbook.active.max_row == 4  # header + three responses

    member = MEMBERS[0]
    forged = SurveyAdminCB(action=SurveyAdminAction.RESULTS, survey_id=1)
    assert "没有权限" in (await app.press(member, forged)).text


async def test_a_deeply_nested_condition_is_a_located_problem_in_chinese(app, database):
    await setup(app, database)
    hostile = EXAMPLE.replace(
        b'show_if = "overall <= 2"',
        b'show_if = "' + b"(" * 300 + b"overall <= 2" + b")" * 300 + b'"',
    )
    lines = hostile.decode().splitlines()
    line = next(number for number, text in enumerate(lines, 1) if text.startswith("show_if"))
    answer = await app.send_file(OFFICER, "service.toml", hostile)
    assert "没有保存" in answer.text
    assert f"service.toml:{line}: 问题 'why'：show_if: 嵌套过深：括号、列表或 not 超过 32 层" in (
        answer.text
    )
    assert "出了点问题" not in answer.text
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Survey)) == 0
