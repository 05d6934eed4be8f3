"""Views are pure functions from data to text and keyboard: checked here without a bot."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from handlers.callbacks import InboxFilter, ProposalCB
from handlers.mailbox.inbox_views import inbox_view, transfer_view
from handlers.mailbox.views import boxes_view
from handlers.members.views import language_keyboard, privacy_notice
from handlers.proposals.views import categories_view, menu_view
from handlers.proposals.work_views import due_date_view, unhandled_department_view
from handlers.survey_callbacks import ScheduleCB, SurveyCB
from handlers.surveys.schedule_views import closes_view, reminders_view
from handlers.surveys.summary_views import summary_text
from handlers.surveys.views import question_keyboard, question_text
from handlers.ui import main_menu_for_roles
from mailboxes.model import InboxPage
from members.roles import Role
from surveys.answering import Step
from surveys.definition import parse_definition
from surveys.service import SurveyInfo

SURVEY = """\
id = "canteen"
title = { zh = "食堂满意度", en = "Canteen <satisfaction>" }
anonymous = true

[[questions]]
id = "dish"
type = "single"
text = { zh = "最喜欢哪道菜？", en = "Favourite dish?" }
options = [{ key = "a", zh = "面条", en = "Noodles" }, { key = "b", zh = "米饭", en = "Rice" }]
other = true

[[questions]]
id = "comment"
type = "text"
text = "Anything else?"
required = false
max_length = 200
"""


@pytest.fixture(autouse=True)
def english(i18n: I18n) -> Iterator[None]:
    with i18n.context(), i18n.use_locale("en"):
        yield


def texts(markup: InlineKeyboardMarkup | None) -> list[str]:
    assert markup is not None
    return [button.text for row in markup.inline_keyboard for button in row]


def datas(markup: InlineKeyboardMarkup) -> list[str]:
    return [button.callback_data or "" for row in markup.inline_keyboard for button in row]


def survey() -> SurveyInfo:
    definition = parse_definition(SURVEY, "canteen.toml", ZoneInfo("Asia/Shanghai"))
    return SurveyInfo(
        id=7, slug="canteen", definition=definition, status="open", opened_at=None, closed_at=None
    )


def test_a_question_escapes_the_title_and_offers_its_options_and_other() -> None:
    info = survey()
    step = Step(question=info.definition.questions[0], position=1, total=2)
    text = question_text(info, step)
    assert "Canteen &lt;satisfaction&gt;" in text and "1/2" in text and "Favourite dish?" in text
    markup = question_keyboard(info, step)
    assert texts(markup) == ["Noodles", "Rice", "Other…"]
    first = SurveyCB.unpack(datas(markup)[0])
    assert (first.survey_id, first.position, first.value) == (7, 1, 0)


def test_an_optional_text_question_says_so_and_can_be_skipped() -> None:
    info = survey()
    step = Step(question=info.definition.questions[1], position=2, total=2)
    assert "(optional)" in question_text(info, step)
    assert "at most 200 characters" in question_text(info, step)
    assert texts(question_keyboard(info, step)) == ["⬅️ Back", "Skip ➡️"]


def test_the_summary_lists_the_answers_and_the_anonymity_promise() -> None:
    info = survey()
    questions = info.definition.questions
    text = summary_text(info, [(questions[0], {"choice": "b"}), (questions[1], None)])
    assert "→ Rice" in text and "(skipped)" in text and "Anonymous" in text


def test_the_main_menu_shows_officer_entries_to_officers_only() -> None:
    member = texts(main_menu_for_roles(frozenset({Role.MEMBER})))
    officer = texts(main_menu_for_roles(frozenset({Role.OFFICER})))
    assert "🛂 Registration requests" not in member
    assert "🛂 Registration requests" in officer and "📊 Manage surveys" in officer


def test_registration_screens() -> None:
    assert "<b>Before you register</b>" in privacy_notice()
    assert texts(language_keyboard()) == ["中文", "English"]


def test_proposal_buttons_carry_positions_not_names() -> None:
    text, markup = categories_view("p", ["食堂", "宿舍"])
    assert text == "Choose a category:"
    assert [ProposalCB.unpack(d).value for d in datas(markup)] == ["p-0", "p-1"]
    assert "📝 File a proposal" not in texts(menu_view(may_file_proposals=False)[1])


def test_department_and_due_date_choices() -> None:
    text, markup = unhandled_department_view(5, "后勤<处>")
    assert "后勤&lt;处&gt;" in text and len(texts(markup)) == 2
    text, markup = due_date_view(5, "后勤处", datetime(2026, 12, 1, tzinfo=UTC).date(), 14)
    assert texts(markup)[0] == "2026-12-15 (default)"
    assert "Proposal #5 → 后勤处" in text


def test_schedule_screens_carry_the_survey_id() -> None:
    text, markup = closes_view(9, ZoneInfo("Asia/Shanghai"))
    assert "Asia/Shanghai" in text
    assert {ScheduleCB.unpack(d).survey_id for d in datas(markup)} == {9}
    assert len(texts(reminders_view(9)[1])) == 3  # yes, no, cancel


def test_the_mailbox_screens() -> None:
    text, markup = boxes_view([("principal", "院长信箱")])
    assert "Which mailbox?" in text and texts(markup)[0] == "✉️ 院长信箱"
    page = InboxPage(letters=[], total=0, page=0, per_page=10)
    text, markup = inbox_view(page, "院长信箱", InboxFilter.OPEN, 0)
    assert "0 letters (open), page 1/1" in text
    assert len(texts(markup)) == len(InboxFilter)  # no paging on one page
    assert texts(transfer_view(3, [("secretary", "书记信箱")])[1]) == ["书记信箱"]
