"""Answering a survey through the real Dispatcher: invitation, branching, bad input, restart."""

from __future__ import annotations

from sqlalchemy import select

from handlers.survey_callbacks import SurveyAction, SurveyCB
from storage.models import SurveyAnswer, SurveyDraft, SurveyResponse
from storage.uow import unit_of_work
from surveys.service import OTHER_OPTION, SurveyService
from tests.conftest import make_driver, register, seed_roster
from tests.harness import TgUser

ZHANG = TgUser(id=4001, first_name="张三")
LI = TgUser(id=4002, first_name="李四", language_code="en")
ROSTER = [("T1", "张三", "机电学院", ""), ("T2", "李四", "外语学院", "")]

SURVEY = """
id = "canteen"
title = { zh = "食堂满意度", en = "Canteen satisfaction" }
anonymous = false
closes_at = 2099-12-08T18:00:00+08:00

[[questions]]
id = "overall"
type = "scale"
text = { zh = "总体满意度？", en = "Overall satisfaction?" }
min = 1
max = 5
labels = { min = "很不满意", max = "很满意" }

[[questions]]
id = "why"
type = "text"
text = { zh = "不满意的原因？", en = "Why not satisfied?" }
required = false
max_length = 50
show_if = "overall <= 2"

[[questions]]
id = "dishes"
type = "multi"
text = { zh = "常吃哪些？", en = "What do you eat?" }
options = [
  { zh = "米饭", en = "Rice" },
  { zh = "面条", en = "Noodles" },
  { zh = "饺子", en = "Dumplings" },
]
max_choices = 2
other = true

[[questions]]
id = "visits"
type = "number"
text = { zh = "每周去几次？", en = "Visits per week?" }
min = 0
max = 21
integer = true

[[questions]]
id = "nps"
type = "nps"
text = { zh = "推荐给同事的可能性？", en = "Recommend to a colleague?" }
required = false
"""


def cb(action: SurveyAction, position: int = 0, value: int = 0, survey_id: int = 1) -> SurveyCB:
    return SurveyCB(action=action, survey_id=survey_id, position=position, value=value)


async def open_survey(app, database, source: str = SURVEY) -> int:
    async with unit_of_work(database.sessions) as repos:
        survey, _ = await SurveyService(repos).import_definition(source, "canteen.toml")
        await SurveyService(repos).open(survey.slug)
    return survey.id


async def stored(database):
    async with database.sessions() as session:
        responses = (await session.scalars(select(SurveyResponse))).all()
        answers = (
            await session.execute(
                select(
                    SurveyAnswer.question_id,
                    SurveyAnswer.option,
                    SurveyAnswer.number,
                    SurveyAnswer.text,
                ).order_by(SurveyAnswer.question_id, SurveyAnswer.position)
            )
        ).all()
    return responses, answers


async def test_member_is_invited_and_answers_with_branching(app, database):
    await seed_roster(database, ROSTER)
    await register(app, ZHANG, "T1", "张三")
    survey_id = await open_survey(app, database)
    invitation = (await app.flush_outbox()).sent_to(ZHANG.id)
    assert "食堂满意度" in invitation[0].text and "实名" in invitation[0].text

    intro = await app.press(ZHANG, cb(SurveyAction.INTRO, survey_id=survey_id))
    assert "5 个问题" in intro.text
    first = await app.press(ZHANG, cb(SurveyAction.START))
    assert "1/5" in first.text and "1 = 很不满意" in first.text
    assert [t for t, _ in first.buttons()][:5] == ["1", "2", "3", "4", "5"]

    why = await app.press(ZHANG, cb(SurveyAction.RATE, 1, 2))
    assert "2/5" in why.text and "不满意的原因" in why.text
    assert "最多 50 字" in why.text
    too_long = await app.send(ZHANG, "太" * 51)
    assert "答案太长" in too_long.text
    assert "请发送文字" in (await app.send(ZHANG, sticker=True)).text
    dishes = await app.send(ZHANG, "排队太久")
    assert "3/5" in dishes.text

    await app.press(ZHANG, cb(SurveyAction.TOGGLE, 3, 0))
    await app.press(ZHANG, cb(SurveyAction.TOGGLE, 3, 2))
    limit = await app.press(ZHANG, cb(SurveyAction.TOGGLE, 3, 1))
    assert "最多选择 2 项" in limit.text
    visits = await app.press(ZHANG, cb(SurveyAction.DONE, 3))
    assert "4/5" in visits.text
    assert "0 到 21" in (await app.send(ZHANG, "30")).text
    assert "整数" in (await app.send(ZHANG, "2.5")).text
    nps = await app.send(ZHANG, "5")
    assert "5/5" in nps.text and "0 = 完全不可能" in nps.text
    assert [t for t, _ in nps.buttons()] == [*map(str, range(11)), "⬅️ 上一题", "跳过 ➡️"]
    summary = await app.press(ZHANG, cb(SurveyAction.SKIP, 5))
    assert "请核对您的回答" in summary.text and "米饭；饺子" in summary.text
    assert "（已跳过）" in summary.text

    done = await app.press(ZHANG, cb(SurveyAction.SUBMIT))
    assert "感谢" in done.text
    responses, answers = await stored(database)
    assert len(responses) == 1 and responses[0].member_id is not None
    assert ("dishes", "米饭", None, None) in answers and ("visits", None, 5.0, None) in answers
    assert ("why", None, None, "排队太久") in answers
    again = await app.press(ZHANG, cb(SurveyAction.INTRO, survey_id=survey_id))
    assert "已经完成" in again.text


async def test_edit_from_summary_hides_answers_a_branch_no_longer_shows(app, database):
    await seed_roster(database, ROSTER)
    await register(app, ZHANG, "T1", "张三")
    await open_survey(app, database)
    await app.press(ZHANG, cb(SurveyAction.START))
    await app.press(ZHANG, cb(SurveyAction.RATE, 1, 1))
    await app.send(ZHANG, "太咸")
    await app.press(ZHANG, cb(SurveyAction.CHOOSE, 3, 0))  # wrong kind of button: stale
    await app.press(ZHANG, cb(SurveyAction.TOGGLE, 3, 1))
    await app.press(ZHANG, cb(SurveyAction.DONE, 3))
    await app.send(ZHANG, "3")
    summary = await app.press(ZHANG, cb(SurveyAction.RATE, 5, 9))
    assert "太咸" in summary.text
    edit = await app.press(ZHANG, cb(SurveyAction.EDIT, 1))
    assert "1/5" in edit.text
    summary = await app.press(ZHANG, cb(SurveyAction.RATE, 1, 5))
    assert "请核对" in summary.text and "太咸" not in summary.text
    await app.press(ZHANG, cb(SurveyAction.SUBMIT))
    _, answers = await stored(database)
    assert not [a for a in answers if a[0] == "why"]


async def test_stale_buttons_and_other_text(app, database):
    await seed_roster(database, ROSTER)
    await register(app, LI, "T2", "李四")
    await open_survey(app, database)
    first = await app.press(LI, cb(SurveyAction.START))
    assert "Overall satisfaction?" in first.text
    await app.press(LI, cb(SurveyAction.RATE, 1, 4))
    stale = await app.press(LI, cb(SurveyAction.RATE, 1, 1))  # question 1's button again
    assert "another question" in stale.text and "What do you eat?" in stale.text
    forged = await app.press(LI, cb(SurveyAction.TOGGLE, 3, 17))
    assert "no longer valid" in forged.text
    await app.press(LI, cb(SurveyAction.TOGGLE, 3, OTHER_OPTION))
    asked = await app.send(LI, "sandwiches")
    assert "Visits per week?" in asked.text
    typed_where_buttons = await app.send(LI, "4")
    assert "5/5" in typed_where_buttons.text
    assert "buttons" in (await app.send(LI, "ten")).text


async def test_restart_in_the_middle_continues_at_the_next_question(config, database, i18n):
    await seed_roster(database, ROSTER)
    before = make_driver(config, database, i18n)
    await register(before, ZHANG, "T1", "张三")
    await open_survey(before, database)
    await before.press(ZHANG, cb(SurveyAction.START))
    await before.press(ZHANG, cb(SurveyAction.RATE, 1, 4))

    after = make_driver(config, database, i18n)
    # The bot restarted: the member's next message lands in the same question.
    resumed = await after.press(ZHANG, cb(SurveyAction.INTRO))
    assert "继续" in resumed.buttons()[0][0]
    shown = await after.press(ZHANG, cb(SurveyAction.START))
    assert "3/5" in shown.text


async def test_closed_survey_and_wrong_audience_are_refused(app, database):
    await seed_roster(database, ROSTER)
    await register(app, ZHANG, "T1", "张三")
    await register(app, LI, "T2", "李四")
    only_english = SURVEY.replace("anonymous = false", 'anonymous = false\naudience = ["外语学院"]')
    survey_id = await open_survey(app, database, only_english)
    refused = await app.press(ZHANG, cb(SurveyAction.START, survey_id=survey_id))
    assert "不面向您" in refused.text
    await app.press(LI, cb(SurveyAction.START, survey_id=survey_id))
    async with unit_of_work(database.sessions) as repos:
        await SurveyService(repos).close("canteen")
    closed = await app.press(LI, cb(SurveyAction.RATE, 1, 3, survey_id=survey_id))
    assert "closed" in closed.text
    async with database.sessions() as session:
        draft = await session.scalar(select(SurveyDraft))
    assert draft is not None, "what was answered before the close is kept"


async def test_text_after_the_survey_closed_is_answered_once_then_released(app, database):
    await seed_roster(database, ROSTER)
    await register(app, ZHANG, "T1", "张三")
    await open_survey(app, database)
    await app.press(ZHANG, cb(SurveyAction.START))
    await app.press(ZHANG, cb(SurveyAction.RATE, 1, 1))  # now a text question is waiting
    async with unit_of_work(database.sessions) as repos:
        await SurveyService(repos).close("canteen")
    assert "该问卷已关闭" in (await app.send(ZHANG, "太慢")).text
    # The conversation no longer belongs to the survey: plain text gets the normal answer.
    assert "没有看懂" in (await app.send(ZHANG, "还有")).text


async def test_survey_buttons_keep_their_guards_at_the_top_of_the_tree(app, database):
    """The answer buttons are routed first (handlers/routers.answer_lane), yet a stranger is
    still sent to /start and a member whose consent is out of date still meets the new notice
    first."""
    from sqlalchemy import text

    await seed_roster(database, ROSTER)
    await register(app, LI, "T2", "李四")
    survey_id = await open_survey(app, database)
    stranger = TgUser(id=4999, first_name="Eve", language_code="en")
    refused = await app.press(stranger, cb(SurveyAction.START, survey_id=survey_id))
    assert "register first" in refused.text and "/start" in refused.text

    async with database.engine.begin() as connection:
        await connection.execute(
            text("UPDATE members SET consent_version = 1 WHERE telegram_id = :id"), {"id": LI.id}
        )
    asked = await app.press(LI, cb(SurveyAction.START, survey_id=survey_id))
    assert "We have updated how we handle your data" in asked.text
    assert "Overall satisfaction?" not in asked.text
    await app.press(LI, asked.button("I agree"))
    first = await app.press(LI, cb(SurveyAction.START, survey_id=survey_id))
    assert "Overall satisfaction?" in first.text
    _responses, answers = await stored(database)
    assert answers == []
