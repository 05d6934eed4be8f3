"""Survey results: counts and percentages, mean/median, NPS, the small-group rule for
departments, response rate, free texts (named vs anonymous) and the Telegram summary.

Helpers at the top are shared with test_export.py and test_charts.py."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime

import pytest

from storage.database import Database
from storage.repos.survey_results import SurveyResultsRepository
from storage.uow import Repositories, unit_of_work
from surveys.model import AnswerRow, DepartmentFigures
from surveys.results import (
    MESSAGE_LIMIT,
    QuestionResult,
    SurveyResults,
    compute_results,
    department_results,
    median_of,
    nps_score,
    render_results_text,
    round_half_up,
    summarize_nps,
    summarize_numbers,
)
from surveys.service import SurveyInfo, SurveyService
from tests.conftest import seed_roster

SOURCE = """
id = "{slug}"
title = {{ zh = "教职工满意度", en = "Staff satisfaction" }}
anonymous = {anonymous}

[[questions]]
id = "canteen"
type = "single"
text = {{ zh = "最常吃什么？", en = "What do you eat most?" }}
options = [
  {{ zh = "米饭", en = "Rice" }},
  {{ zh = "面条", en = "Noodles" }},
  {{ zh = "饺子", en = "Dumplings" }},
]
other = true
required = false

[[questions]]
id = "dishes"
type = "multi"
text = {{ zh = "喜欢哪些？", en = "Which do you like?" }}
options = [
  {{ zh = "米饭", en = "Rice" }},
  {{ zh = "面条", en = "Noodles" }},
  {{ zh = "饺子", en = "Dumplings" }},
]
other = true
required = false

[[questions]]
id = "overall"
type = "scale"
text = {{ zh = "总体满意度？", en = "Overall satisfaction?" }}
min = 1
max = 5
required = false

[[questions]]
id = "nps"
type = "nps"
text = {{ zh = "推荐给同事的可能性？", en = "Recommend to a colleague?" }}
required = false

[[questions]]
id = "years"
type = "number"
text = {{ zh = "工龄（年）", en = "Years of service" }}
min = 0
max = 60
integer = true
required = false

[[questions]]
id = "comment"
type = "text"
text = {{ zh = "其他意见？", en = "Anything else?" }}
required = false
"""

ROSTER = [
    ("T01", "张三", "教务处", ""),
    ("T02", "李四", "教务处", ""),
    ("T03", "王五", "外语学院", ""),
    ("T04", "赵六", "外语学院", ""),
    ("T05", "钱七", "机电学院", ""),
]
DAY = date(2026, 11, 20)


def source(*, anonymous: bool) -> str:
    slug = "anon" if anonymous else "named"
    return SOURCE.format(slug=slug, anonymous="true" if anonymous else "false")


async def create_survey(database: Database, *, anonymous: bool) -> SurveyInfo:
    async with unit_of_work(database.sessions) as repos:
        survey, _ = await SurveyService(repos).import_definition(
            source(anonymous=anonymous), "x.toml"
        )
    return survey


async def member_ids(database: Database) -> dict[str, int]:
    """{employee id: member id} of the seeded roster."""
    await seed_roster(database, ROSTER)
    result = {}
    async with unit_of_work(database.sessions) as repos:
        for employee_id, *_ in ROSTER:
            member = await repos.members.get_by_employee_id(employee_id)
            assert member is not None
            result[employee_id] = member.id
    return result


async def respond(
    database: Database,
    survey: SurveyInfo,
    answers: Sequence[AnswerRow],
    *,
    department: str | None = None,
    member_id: int | None = None,
    day: date = DAY,
    at: datetime | None = None,
) -> None:
    """A submitted response, stored as SurveyService.submit stores one (named surveys get a
    submission time, anonymous ones only the day)."""
    if not survey.anonymous and at is None:
        at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
    async with unit_of_work(database.sessions) as repos:
        await repos.surveys.add_response(
            survey.id,
            member_id=member_id,
            department=department,
            submitted_on=day,
            submitted_at=at,
            answers=list(answers),
        )
        await repos.commit()


def value(number: float, question: str = "overall") -> AnswerRow:
    return AnswerRow(question, number=float(number))


def choice(question: str, *keys: str, other: str | None = None) -> list[AnswerRow]:
    """Rows of a single/multi answer, as service._rows writes them."""
    rows = [AnswerRow(question, position=i, option=key) for i, key in enumerate(keys)]
    if other is not None:
        rows.append(AnswerRow(question, position=len(keys), option="other", text=other))
    return rows


async def results_of(database: Database, survey: SurveyInfo, **options) -> SurveyResults:
    async with database.sessions() as session:
        return await compute_results(Repositories(session), survey, **options)


def question(results: SurveyResults, question_id: str) -> QuestionResult:
    return next(q for q in results.questions if q.question.id == question_id)


def identity(message: str) -> str:
    return message


# --- counts and percentages ----------------------------------------------------------------------


async def test_option_counts_and_percent_in_definition_order_with_other(database):
    survey = await create_survey(database, anonymous=True)
    await respond(database, survey, [*choice("canteen", "米饭"), *choice("dishes", "米饭", "饺子")])
    await respond(database, survey, [*choice("canteen", "米饭"), *choice("dishes", "米饭")])
    await respond(database, survey, [*choice("canteen", "面条"), *choice("dishes", other="包子")])
    await respond(database, survey, choice("canteen", other="粥"))
    await respond(database, survey, [value(3)])  # skipped both choice questions

    results = await results_of(database, survey)
    assert results.respondents == 5

    canteen = question(results, "canteen")
    assert canteen.answered == 4
    assert [(o.key, o.count, o.percent) for o in canteen.options] == [
        ("米饭", 2, 50.0),
        ("面条", 1, 25.0),
        ("饺子", 0, 0.0),
        ("other", 1, 25.0),
    ]
    assert [o.label("en", identity) for o in canteen.options] == [
        "Rice",
        "Noodles",
        "Dumplings",
        "Other",
    ]

    dishes = question(results, "dishes")  # multi: a response counts once per question
    assert dishes.answered == 3
    assert {o.key: o.count for o in dishes.options} == {"米饭": 2, "面条": 0, "饺子": 1, "other": 1}
    assert {o.key: round(o.percent, 1) for o in dishes.options}["米饭"] == 66.7
    assert question(results, "comment").answered == 0


async def test_repository_aggregates_in_sql(database):
    survey = await create_survey(database, anonymous=True)
    for number in (1, 2, 2, 5):
        await respond(database, survey, [value(number), value(number * 3, "years")])
    async with database.sessions() as session:
        repo = SurveyResultsRepository(session)
        assert await repo.respondent_count(survey.id) == 4
        assert await repo.answered_counts(survey.id) == {"overall": 4, "years": 4}
        assert await repo.number_counts(survey.id, ["overall"]) == {
            "overall": {1.0: 1, 2.0: 2, 5.0: 1}
        }
        assert await repo.option_counts(survey.id) == {}


# --- mean, median, NPS ---------------------------------------------------------------------------


async def test_mean_and_median_from_the_distribution(database):
    survey = await create_survey(database, anonymous=True)
    for number, years in ((1, 1), (2, 10), (2, 30), (5, None)):
        rows = [value(number)] + ([value(years, "years")] if years is not None else [])
        await respond(database, survey, rows)

    results = await results_of(database, survey)
    overall = question(results, "overall").numbers
    assert overall is not None
    assert (overall.count, overall.mean, overall.median) == (4, 2.5, 2.0)
    assert (overall.minimum, overall.maximum) == (1.0, 5.0)
    assert overall.distribution == ((1.0, 1), (2.0, 2), (5.0, 1))
    years = question(results, "years").numbers
    assert years is not None
    assert years.median == 10.0 and years.mean == pytest.approx(41 / 3)


def test_median_odd_even_and_repeated_values():
    assert median_of([(3.0, 1)]) == 3.0
    assert median_of([(1.0, 1), (3.0, 1), (5.0, 1)]) == 3.0
    assert median_of([(1.0, 1), (2.0, 1), (3.0, 1), (5.0, 1)]) == 2.5
    assert median_of([(1.0, 5), (4.0, 5)]) == 2.5  # the middle falls between two values
    assert median_of([(1.0, 5), (4.0, 6)]) == 4.0
    assert summarize_numbers({}) is None


def test_nps_math():
    # 10, 10, 9 promoters; 8, 7 passives; 6 detractor: (3 − 1) / 6 = 33.3 % → 33
    nps = summarize_nps({10.0: 2, 9.0: 1, 8.0: 1, 7.0: 1, 6.0: 1})
    assert nps is not None
    assert (nps.promoters, nps.passives, nps.detractors, nps.score) == (3, 2, 1, 33)
    assert nps_score(1, 0, 8) == 13  # 12.5 rounds up, not to even
    assert nps_score(0, 1, 8) == -13
    assert nps_score(0, 4, 4) == -100 and nps_score(4, 0, 4) == 100
    assert nps_score(0, 0, 0) == 0
    assert round_half_up(2.5) == 3 and round_half_up(-2.5) == -3 and round_half_up(2.4) == 2


async def test_nps_question_from_the_database(database):
    survey = await create_survey(database, anonymous=True)
    for number in (10, 9, 9, 8, 7, 6, 0, 3, 10, 10):
        await respond(database, survey, [value(number, "nps")])
    nps = question(await results_of(database, survey), "nps")
    assert nps.nps is not None
    # promoters 5, detractors 3 of 10: +20
    assert (nps.nps.promoters, nps.nps.passives, nps.nps.detractors) == (5, 2, 3)
    assert nps.nps.score == 20


# --- departments: the small-group rule -----------------------------------------------------------


async def add_departments(database, survey, sizes: dict[str | None, int], question="overall"):
    for department, size in sizes.items():
        for i in range(size):
            await respond(database, survey, [value(1 + i % 5, question)], department=department)


async def test_departments_below_k_are_merged_and_the_merged_group_hidden_below_k(database):
    survey = await create_survey(database, anonymous=True)
    await add_departments(database, survey, {"教务处": 6, "外语学院": 5, "机电学院": 2, "后勤": 1})
    overall = question(await results_of(database, survey, small_group=5), "overall")
    # 6 and 5 shown (by name); 2 + 1 = 3 merged, below 5: not shown at all
    assert [(d.department, d.respondents) for d in overall.departments] == [
        ("外语学院", 5),
        ("教务处", 6),
    ]


async def test_merged_group_is_shown_once_it_reaches_k(database):
    survey = await create_survey(database, anonymous=True)
    sizes = {"教务处": 6, "外语学院": 5, "机电学院": 2, "后勤": 1, "图书馆": 3}
    await add_departments(database, survey, sizes)
    overall = question(await results_of(database, survey, small_group=5), "overall")
    assert [(d.department, d.respondents) for d in overall.departments] == [
        ("外语学院", 5),
        ("教务处", 6),
        (None, 6),  # 2 + 1 + 3: "Other departments"
    ]
    merged = overall.departments[-1]
    # values 1,2 / 1 / 1,2,3 → mean 10 / 6
    assert merged.mean == pytest.approx(10 / 6)


async def test_responses_without_department_count_into_the_merged_group(database):
    survey = await create_survey(database, anonymous=True)
    await add_departments(database, survey, {"教务处": 6, None: 3, "机电学院": 2})
    overall = question(await results_of(database, survey, small_group=5), "overall")
    assert [(d.department, d.respondents) for d in overall.departments] == [
        ("教务处", 6),
        (None, 5),
    ]


async def test_nps_departments_get_an_nps_per_group(database):
    survey = await create_survey(database, anonymous=False)
    for number in (10, 10, 9, 8, 0):
        await respond(database, survey, [value(number, "nps")], department="教务处")
    nps = question(await results_of(database, survey, small_group=5), "nps")
    assert [(d.department, d.respondents, d.nps) for d in nps.departments] == [("教务处", 5, 40)]


async def test_summary_says_when_every_department_group_is_too_small(database):
    survey = await create_survey(database, anonymous=True)
    await add_departments(database, survey, {"教务处": 3, "外语学院": 1})
    results = await results_of(database, survey, small_group=5)
    assert question(results, "overall").departments == ()
    text = "\n".join(render_results_text(results, survey, "en", identity))
    assert "By department: not shown (no group of 5 or more)." in text
    assert "教务处" not in text and "外语学院" not in text


def test_department_rule_on_plain_figures():
    figures = [
        DepartmentFigures("A", 6, 24.0),
        DepartmentFigures("B", 5, 10.0),
        DepartmentFigures("C", 2, 8.0),
        DepartmentFigures("D", 1, 5.0),
    ]
    assert [d.department for d in department_results(figures, 5, nps=False)] == ["A", "B"]
    with_e = [*figures, DepartmentFigures("E", 3, 3.0)]
    shown = department_results(with_e, 5, nps=False)
    assert [(d.department, d.respondents, d.mean) for d in shown] == [
        ("A", 6, 4.0),
        ("B", 5, 2.0),
        (None, 6, 16.0 / 6),
    ]
    assert department_results(figures, 1, nps=False)[-1].department == "D"  # k=1: all shown
    assert department_results([], 5, nps=False) == ()


# --- response rate -------------------------------------------------------------------------------


async def test_response_rate_is_finished_over_invited(database):
    ids = await member_ids(database)
    survey = await create_survey(database, anonymous=True)
    async with unit_of_work(database.sessions) as repos:
        await repos.surveys.add_participants(survey.id, ids.values())
        for employee_id in ("T01", "T02"):
            assert await repos.surveys.mark_done(survey.id, ids[employee_id])
        await repos.commit()
    for number in (4, 5):
        await respond(database, survey, [value(number)], department="教务处")

    results = await results_of(database, survey)
    assert (results.invited, results.finished, results.respondents) == (5, 2, 2)
    assert results.response_rate == pytest.approx(0.4)
    text = "\n".join(render_results_text(results, survey, "en", identity))
    assert "Responses: 2 of 5 invited (40%)" in text


async def test_no_invitations_means_no_rate(database):
    survey = await create_survey(database, anonymous=True)
    results = await results_of(database, survey)
    assert results.response_rate is None and results.respondents == 0
    parts = render_results_text(results, survey, "zh", identity)
    assert "Responses: 0" in parts[0]


# --- free texts ----------------------------------------------------------------------------------


async def test_named_free_texts_carry_name_and_department(database):
    ids = await member_ids(database)
    survey = await create_survey(database, anonymous=False)
    await respond(
        database,
        survey,
        [AnswerRow("comment", text="食堂排队太久"), *choice("canteen", other="粥")],
        member_id=ids["T01"],
        department="教务处",
    )
    await respond(database, survey, [value(4)], member_id=ids["T03"], department="外语学院")

    results = await results_of(database, survey)
    comment = question(results, "comment")
    assert comment.texts_total == 1
    assert [(t.text, t.name, t.department) for t in comment.texts] == [
        ("食堂排队太久", "张三", "教务处")
    ]
    canteen = question(results, "canteen")
    assert [(t.text, t.option, t.name) for t in canteen.texts] == [("粥", "other", "张三")]
    text = "\n".join(render_results_text(results, survey, "zh", identity))
    assert "食堂排队太久 <i>(张三 · 教务处)</i>" in text


async def test_anonymous_free_texts_are_text_only(database):
    ids = await member_ids(database)
    survey = await create_survey(database, anonymous=True)
    await respond(
        database, survey, [AnswerRow("comment", text="希望延长开放时间")], department="教务处"
    )
    # Even a response wrongly tied to a member does not give a name away.
    await respond(database, survey, [AnswerRow("comment", text="第二条")], member_id=ids["T02"])

    async with database.sessions() as session:
        rows = await SurveyResultsRepository(session).free_texts(survey.id, "comment")
    assert sorted(r.text for r in rows) == ["希望延长开放时间", "第二条"]
    assert all(r.name is None and r.department is None for r in rows)

    results = await results_of(database, survey)
    comment = question(results, "comment")
    assert {t.text for t in comment.texts} == {"希望延长开放时间", "第二条"}
    assert all(t.name is None and t.department is None for t in comment.texts)
    text = "\n".join(render_results_text(results, survey, "zh", identity))
    assert "李四" not in text and "教务处" not in text


async def test_free_texts_are_paged_and_counted(database):
    survey = await create_survey(database, anonymous=True)
    for i in range(7):
        await respond(database, survey, [AnswerRow("comment", text=f"意见{i}")])
    async with database.sessions() as session:
        repo = SurveyResultsRepository(session)
        first = await repo.free_texts(survey.id, "comment", limit=4)
        rest = await repo.free_texts(survey.id, "comment", limit=4, offset=4)
        assert await repo.free_text_count(survey.id, "comment") == 7
    assert len(first) == 4 and len(rest) == 3
    assert sorted(t.text for t in first + rest) == [f"意见{i}" for i in range(7)]

    comment = question(await results_of(database, survey, text_limit=5), "comment")
    assert comment.texts_total == 7 and len(comment.texts) == 5


# --- the Telegram summary ------------------------------------------------------------------------


async def test_summary_mentions_the_numbers_and_escapes_user_text(database):
    survey = await create_survey(database, anonymous=True)
    await respond(
        database,
        survey,
        [
            *choice("canteen", "米饭"),
            value(4),
            value(10, "nps"),
            value(12, "years"),
            AnswerRow("comment", text="<b>hi</b> & <script>"),
        ],
    )
    await respond(database, survey, [*choice("canteen", other="<i>粥</i>"), value(2)])
    results = await results_of(database, survey)
    parts = render_results_text(results, survey, "zh", identity)
    text = "\n".join(parts)

    assert "<b>教职工满意度</b>" in text
    assert "• 米饭: 1 (50%)" in text and "• 饺子: 0 (0%)" in text
    assert "Mean 3 · median 3 (min 2, max 4)" in text
    assert "NPS +100" in text
    assert "&lt;b&gt;hi&lt;/b&gt; &amp; &lt;script&gt;" in text
    assert "<b>hi</b>" not in text and "<script>" not in text
    assert "Other: &lt;i&gt;粥&lt;/i&gt;" in text
    assert all(len(part) <= MESSAGE_LIMIT for part in parts)


async def test_every_literal_goes_through_gettext(database):
    survey = await create_survey(database, anonymous=True)
    await respond(database, survey, [*choice("canteen", other="粥"), value(4)])
    for _ in range(5):
        await respond(database, survey, [value(3)], department="教务处")
    results = await results_of(database, survey)
    seen: list[str] = []

    def gettext(message: str) -> str:
        seen.append(message)
        return "§" + message

    parts = render_results_text(results, survey, "zh", gettext)
    assert {"Other", "Answered: {count}", "By department:", "Anonymous survey."} <= set(seen)
    for part in parts:
        for line in part.split("\n"):
            stripped = re.sub(r"<[^>]+>", "", line).strip()
            # Lines are either translated, or user/definition text (title, question, texts).
            assert not stripped or "§" in stripped or not re.search(r"[A-Za-z]{3}", stripped), line


async def test_long_results_are_split_into_messages_under_the_limit(database):
    survey = await create_survey(database, anonymous=True)
    for i in range(40):
        await respond(database, survey, [AnswerRow("comment", text=f"{i}:" + "很长的意见&" * 60)])
    results = await results_of(database, survey, text_limit=40)
    parts = render_results_text(results, survey, "zh", identity)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= MESSAGE_LIMIT
        assert part.count("<b>") == part.count("</b>")
        assert part.count("<i>") == part.count("</i>")
        assert html.unescape(re.sub(r"<[^>]+>", "", part))  # well-formed enough to unescape
    joined = "\n".join(parts)
    assert all(f"— {i}:" in joined for i in range(40))
